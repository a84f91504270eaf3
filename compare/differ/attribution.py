"""Attribution: the outlets credit a claim to different sources, or one names a source the other does not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from compare.cues.names import name_key
from compare.differ.common import Sides, cues_of, make_difference, statement_evidence
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Event,
    Statement,
)

_GENERIC_SOURCE_WORDS = {"the", "a", "an", "of", "for", "from", "in", "at", "its", "their", "his", "her",
                         "provisional", "figures", "official", "officials", "statement", "sources", "source",
                         "spokesman", "spokeswoman", "spokesperson", "press", "service", "update", "evening",
                         "morning", "daily", "latest", "own", "local", "senior", "unnamed", "reportedly",
                         "allegedly", "also", "в", "у", "по", "за", "данным", "даними", "словам", "словами"}

# Pronouns say nothing about who the source is (English, Russian, Ukrainian).
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you", "this", "that", "он", "она", "они", "оно", "мы", "я",
             "він", "вона", "вони", "воно", "ми"}

# The outlet speaking in its own voice ("By our assessment", "we geolocated it", "We estimate") cites itself.
_FIRST_PERSON = re.compile(r"(?<![\w'’])(?:we|our|us)(?![\w'’])", re.IGNORECASE)

_OWN_VOICE = frozenset({"\x00outlet"})


@lru_cache(maxsize=1)
def _source_aliases() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(actor, pattern) per `[[source]]` entry of the English lexicon (aliases in any language)."""
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("compare.lexicons").joinpath("en.toml").read_text("utf-8"))
    out = []
    for entry in data.get("source", []):
        aliases = sorted({a for a in entry.get("aliases", []) if a.strip()}, key=len, reverse=True)
        if aliases:
            body = "|".join(r"\s+".join(re.escape(w) for w in a.split()) for a in aliases)
            out.append((entry["actor"], re.compile(rf"(?<![\w'’ʼ-])(?:{body})\w{{0,3}}(?![\w])", re.IGNORECASE)))
    return tuple(out)


def actors_in(text: str) -> frozenset[str]:
    """Actors a source or a statement names under any of their aliases ("Moscow" -> Russian state)."""
    return frozenset(actor for actor, pattern in _source_aliases() if pattern.search(text))


def _source_tokens(cue: Cue) -> frozenset[str]:
    source = (cue.source or "").lower()
    source = re.sub(r"['’]s\b", "", source)
    return frozenset(w for w in re.findall(r"[\w-]+", source) if w not in _GENERIC_SOURCE_WORDS)


def _known_source(cue: Cue) -> bool:
    tokens = _source_tokens(cue)
    return bool(tokens) and not tokens <= _PRONOUNS


def _same_source(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a & b) or a <= b or b <= a


SourceKey = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _source_names(source: str) -> frozenset[str]:
    """Proper names inside a cited source ("the rail operator Northline Freight" -> {"northline freight"})."""
    names = re.findall(r"(?<![\w'’])[A-Z][\w'’-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'’-]*)*", source)
    return frozenset(name_key(re.sub(r"['’]s$", "", n)) for n in names
                     if n not in ("The", "A", "An", "According") and n.lower() not in _PRONOUNS)


def _source_key(cue: Cue) -> SourceKey:
    """(content words, actors, proper names) of a cited source."""
    return _source_tokens(cue), actors_in(cue.source or ""), _source_names(cue.source or "")


def _keys_agree(x: SourceKey, y: SourceKey) -> bool:
    """One source under two descriptions: a shared actor, or shared words — unless both name their source
    and the names differ ("the rail operator Northline Freight" is not "a report by the Rail Accident Branch",
    though both say "rail")."""
    if x[1] & y[1]:
        return True
    if x[2] and y[2] and not (x[2] & y[2]) and not any(a in b or b in a for a in x[2] for b in y[2]):
        return False
    return _same_source(x[0], y[0])


def _names_source(statements: Sequence[Statement], key: SourceKey) -> bool:
    """Whether an outlet's unattributed statement names the cited source as the actor ("Ukraine's General
    Staff rejected the claim" against "Ukraine's General Staff has denied", "Кремль називає" against
    "Moscow has described"): it reports what the source did, not a bare fact."""
    tokens, actors, _ = key
    for statement in statements:
        words = {w for w in re.findall(r"[\w-]+", re.sub(r"['’]s\b", "", statement.text.lower()))}
        if tokens and tokens <= words:
            return True
        if actors & actors_in(statement.text):
            return True
    return False


def detect_attribution(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Outlets attribute the claim to different sources.

    Sources compare by their content words ("the Aske River Authority" and "provisional figures from
    the Aske River Authority" are one source) and by the actor they name (`[[source]]` in en.toml: "Moscow",
    "Russia's Defence Ministry", "Минобороны"); a pronoun or a verb without a subject says nothing. An
    outlet writing in its own voice ("we geolocated it") cites itself. A statement without any source is
    not compared: outlets often give the source in a neighbouring sentence ("..., the ministry said. It
    added that..."), which a statement-level comparison cannot see, so "one cites, one does not" was
    mostly wrong on the demo gold (a source in one outlet and none in another, where the other names that
    source as the actor, is never a difference: `_names_source`).
    """
    cited: dict[str, list[tuple[Statement, Cue]]] = {}
    own: dict[str, list[Statement]] = {}
    bare: set[str] = set()  # stays empty: see the docstring
    third: set[str] = set()
    for doc, statements in sides.items():
        cues = cues_of(statements, CueType.ATTRIBUTION)
        known = [(s, c) for s, c in cues if _known_source(c)]
        voiced = [s for s in statements if _FIRST_PERSON.search(s.text) and not s.text.lstrip().startswith(("“", '"'))]
        if known:
            cited[doc] = known
        elif voiced:
            own[doc] = voiced
        elif cues:
            third.add(doc)  # "he said": someone other than the outlet, name unknown
    keys = {d: [_source_key(c) for _, c in cues] for d, cues in cited.items()}
    keys |= {d: [(_OWN_VOICE, frozenset(), frozenset())] for d in own}
    docs = sorted(set(keys) | bare)
    involved: set[str] = set()
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            if a in keys and b in keys:
                if not any(_keys_agree(x, y) for x in keys[a] for y in keys[b]):
                    involved |= {a, b}
            elif (a in keys) != (b in keys):
                source_doc, bare_doc = (a, b) if a in keys else (b, a)
                if not any(_names_source(sides[bare_doc], k) for k in keys[source_doc]):
                    involved |= {a, b}
    involved |= {d for d in third if own} | (set(own) if third else set())
    if not involved or not (involved & (set(keys) | third)):
        return []
    evidence = []
    parts = []
    for doc in sorted(involved):
        if doc in cited:
            evidence += [statement_evidence(s, c) for s, c in cited[doc]]
            sources = []
            for _, c in cited[doc]:
                if c.source and c.source not in sources:
                    sources.append(c.source)
            parts.append(f"{outlets[doc]} cites " + ", ".join(f"“{src}”" for src in sources))
        elif doc in own:
            evidence += [statement_evidence(s) for s in own[doc]]
            parts.append(f"{outlets[doc]} speaks in its own voice")
        elif doc in third:
            evidence += [statement_evidence(s, c) for s, c in cues_of(sides[doc], CueType.ATTRIBUTION)]
            parts.append(f"{outlets[doc]} cites someone it does not name here")
        else:
            evidence += [statement_evidence(s) for s in sides[doc]]
            parts.append(f"{outlets[doc]} gives no source")
    return [make_difference(DifferenceType.ATTRIBUTION, event, sorted(involved), evidence, "; ".join(parts) + ".")]
