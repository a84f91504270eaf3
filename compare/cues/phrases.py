"""Who did it and where: actor phrases and location phrases inside one statement, for the differ.

Name cues (`cues.py`) only see proper names, but outlets often disagree in common nouns: "Police escorted
a convoy" against "Private security guards forced a path", "from streets near the market square" against
"on Quay Street", "on the outskirts" against "in central Kupyansk". This module finds

- actor phrases: the agent of a clause — a noun phrase headed by an agent noun ("police", "border guards",
  "coastguard teams") or a name, in subject position before an active verb, or after passive "by";
- location phrases: a locative preposition ("in", "near", "outside", "off", "out of"...) and a noun phrase
  headed by a place noun or a place name, with the part of the place it names ("central X", "the outskirts
  of X", "the north of X") and its kind ("village", "town");

each with a key the differ compares across outlets. Rule-based and English-first (the word lists are in
`compare/lexicons/phrases.toml`); for Russian and Ukrainian, locations come from place cues after a
preposition. Nothing here changes the cues themselves.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from compare.cues.lexicon import APOS, CONTEXT_CHARS
from compare.cues.numbers import singular
from compare.model import Cue, CueType

_WORD = re.compile(rf"[\w{APOS}&-]+(?:\.\w+)*|[,;:!?“”\"()–—]")


@lru_cache(maxsize=1)
def _words() -> dict[str, Any]:
    return tomllib.loads(resources.files("compare.lexicons").joinpath("phrases.toml").read_text("utf-8"))


@lru_cache(maxsize=64)
def _set(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _words().get(name, []))


@dataclass(frozen=True)
class Location:
    """A place the statement locates something at."""

    start: int
    end: int
    text: str
    names: frozenset[str]  # name keys of the place names inside
    head: str | None  # place noun ("village", "square"), singular; None for a bare name
    part: str | None  # "centre", "outskirts", "north"...
    level: str  # "local", or "region" / "river" for containers that only compare with their own kind

    @property
    def generic(self) -> bool:
        """An anaphoric place ("the town", "the region"): it agrees with any named place of its level."""
        return not self.names and not self.part and (
            self.head is None or self.head.split(" ")[-1] in _set("generic_places"))


@dataclass(frozen=True)
class Actor:
    """Who did something: an agent phrase and its comparison key."""

    start: int
    end: int
    text: str
    key: frozenset[str]  # content words, lower case, generic and nationality words dropped


def _cap(token: str) -> bool:
    return token[:1].isupper() and token.lower() not in _set("not_names")


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text))


# ------------------------------------------------------------------------------------------ locations

_PREPS_EN = re.compile(r"(?<![\w-])(?:out\s+of|in|at|near|outside|off|from|inside|on|to|into|towards?|around|"
                       r"across|along|beside|behind|within|opposite)$", re.IGNORECASE)
def contrast_spans(text: str) -> list[tuple[int, int]]:
    """Stretches a statement names only to deny them ("rather than central Kupiansk", "not in the town
    itself", "а не в центре"): another outlet's place there is contradicted, not shared."""
    spans = []
    for m in re.finditer(r"(?:rather\s+than|instead\s+of|,\s*not\s+(?:in|at|from|near)|а\s+не|не\s+в)\s+[^,.;]*",
                         text, re.IGNORECASE):
        spans.append(m.span())
    return spans


def _place_np(text: str, tokens: list[re.Match[str]], i: int, place_cues: Sequence[Cue]) -> tuple[int, int] | None:
    """Token range [i, j) of a place noun phrase starting at token i, or None."""
    place_nouns = _set("place_nouns")
    stop = _set("np_stop")
    j = i
    if j < len(tokens) and tokens[j].group(0).lower() in ("the", "a", "an", "its", "their", "his", "her"):
        j += 1
    start = j
    head_at = None
    k = j
    while k < len(tokens) and k - start < 6:
        tok = tokens[k].group(0)
        low = tok.lower().strip(APOS)
        if not re.match(r"[^\W\d]", tok) or (low in stop and not _cap(tok)):
            break
        if low.endswith("ed") and k + 1 < len(tokens) and tokens[k + 1].group(0).lower() in ("the", "a", "an"):
            break  # "men first reached the outskirts": a verb
        possessive = bool(re.search(rf"[{APOS}]s$", tok))
        if singular(low) in place_nouns and not tok[:1].isupper() and not possessive:
            head_at = k
        elif (tok[:1].isupper() and low in _set("not_names")) or (head_at is not None and not tok[:1].isupper()):
            break
        k += 1
    if head_at is not None:
        end = head_at + 1
        # "the outskirts of Kivsharivka", "the village of Petropavlivka", "villages east of the Oskil River"
        if end + 1 < len(tokens) and tokens[end].group(0) == "of":
            m = end + 1
            if m < len(tokens) and tokens[m].group(0).lower() == "the":
                m += 1
            n = m
            while n < len(tokens) and _cap(tokens[n].group(0)):
                n += 1
            if n > m:
                end = n
        return start, end
    # A bare name: a run of capitalised words (a place cue, or a name of a facility), maybe after a part
    # ("central Kupyansk").
    if start < len(tokens) and tokens[start].group(0).lower() in _words().get("parts", {}) \
            and start + 1 < len(tokens) and _cap(tokens[start + 1].group(0)):
        start += 1
        n = start
        while n < len(tokens) and _cap(tokens[n].group(0)):
            n += 1
        return start - 1, n
    n = start
    while n < len(tokens) and (_cap(tokens[n].group(0)) or (n > start and tokens[n].group(0) in ("of",)
                                                              and n + 1 < len(tokens)
                                                              and _cap(tokens[n + 1].group(0)))):
        n += 1
    if n == start:
        return None
    if re.search(rf"[{APOS}]s$", tokens[n - 1].group(0)):
        return None  # "on Russia's side": the name qualifies another noun
    if n < len(tokens) and singular(tokens[n].group(0).lower()) in _set("org_nouns"):
        return None  # "the Safe Road charity"
    if i >= 2 and singular(tokens[i - 2].group(0).lower()) in _set("affiliation_nouns"):
        return None  # "Analysts at Meridian Shipping Research"
    return start, n


def _describe(text: str, span: tuple[int, int], place_cues: Sequence[Cue],
              entity_cues: Sequence[Cue]) -> Location | None:
    """The Location a place noun phrase names, or None when it is an organisation, a person or no place."""
    from compare.cues.names import looks_like_org, name_key

    start, end = span
    phrase = text[start:end]
    words = phrase.split()
    lows = [w.lower().strip(APOS + ",.") for w in words]
    if any(singular(w) in _set("org_nouns") for w in lows) or (looks_like_org(words) and not any(
            singular(w) in _set("place_nouns") for w in lows)):
        return None  # "from the Safe Road charity", "from the Brannock Rowing Club": an affiliation
    if lows and lows[0] in _set("person_titles"):
        return None  # "to President Vladimir Putin"
    place_nouns = _set("place_nouns")
    parts = _words().get("parts", {})
    kinds = _set("kind_nouns")
    # "the outskirts of X", "the village of X": the part or kind of the place named after "of";
    # "villages east of the Oskil River": the villages, placed relative to a landmark.
    left, _, right = phrase.partition(" of ")
    left_nouns = [singular(re.sub(rf"[{APOS}]s$", "", w.lower().strip(",."))) for w in left.split()]
    left_words = [w.strip(",.") for w in left.split()]
    part = None
    first_head = next((n for n, w in enumerate(left_nouns) if w in place_nouns and w not in parts
                       and not left_words[n][:1].isupper()), len(left_nouns))
    for n, w in enumerate(left_nouns):
        prev = left_nouns[n - 1] if n else ""
        if w not in parts or (n > first_head and not (w in ("centre", "center") and prev in ("town", "city"))):
            continue  # "villages east of the river": a direction after the place is a relation
        if w in ("centre", "center") and prev not in ("town", "city") and " of " not in phrase:
            continue  # "a rest centre" is a building, "the town centre" a part of the town
        part = parts[w]
    heads = [n for n, w in enumerate(left_nouns) if w in place_nouns and w not in parts
             and not left_words[n][:1].isupper()]
    head = None
    if heads:
        n = heads[-1]
        compound = [left_nouns[n]]
        while n > 0 and left_words[n - 1][:1].islower() and left_nouns[n - 1] not in ("the", "a", "an") \
                and left_nouns[n - 1] not in parts:
            n -= 1
            compound.insert(0, left_nouns[n])
        head = " ".join(compound)
        if left_nouns[heads[-1]] in kinds:
            head = left_nouns[heads[-1]]
    named_part = phrase
    if (right and left[:1].islower()) or (right and left.lower().startswith(("the ", "a "))):
        if (head is None or head in kinds or part) and left_nouns[-1] in set(parts) | kinds | {"part"} \
                and first_head >= len(left_nouns) - 1:
            named_part = right  # the place itself is named after "of"
        else:
            named_part = left  # a landmark after "of" ("villages east of the Oskil River") is not the place
        if head is None:
            right_nouns = [singular(w.lower().strip(",.")) for w in right.split() if w[:1].islower()]
            head = next((w for w in reversed(right_nouns) if w in place_nouns), None)
    named_place = singular(lows[-1]) in place_nouns if lows else False  # "Station Road", "Town Hall"
    if any(e.start >= start and e.end <= end and not any(p.start < e.end and e.start < p.end for p in place_cues)
           for e in entity_cues) and head is None and part is None and not named_place:
        return None  # a person's or an organisation's name
    names = set()
    offset = start + phrase.index(named_part)
    for cue in place_cues:
        if offset <= cue.start and cue.end <= offset + len(named_part):
            names.add(name_key(str((cue.value or {}).get("canonical") or cue.text)))
    for cap in re.findall(rf"(?:[A-Z][\w{APOS}-]*)(?:\s+(?:of\s+)?[A-Z][\w{APOS}-]*)*", named_part):
        if cap.lower() in _set("not_names") or cap in ("The", "A", "An"):
            continue
        key = name_key(cap)
        if not any(key in n or n in key for n in names):
            names.add(key)
    names.discard("")
    level = "local"
    if (head or "").split(" ")[-1] in _set("region_nouns") or (not head and names and names <= _countries_keys()):
        level = "region"
    elif head in ("river", "sea", "lake"):
        level = "river"
    if not names and head is None and part is None:
        return None
    return Location(start, end, phrase, frozenset(names), head, part, level)


@lru_cache(maxsize=1)
def _countries_keys() -> frozenset[str]:
    from compare.cues.names import countries, name_key

    return frozenset(name_key(c) for c in countries()) | {"russia", "ukraine"}


def _after_place(text: str, start: int, place_cues: Sequence[Cue]) -> str | None:
    """Whether a location only describes a place just named: "appositive" for "Kupiansk, a rail hub on the
    Oskil River" and "Yampil, near Siversk,"; "container" right after the name ("the town of Kupyansk in the
    Kharkiv region": only a region or river there is a description, "from Eastmere to Brindle" is not)."""
    before = text[:start]
    for cue in place_cues:
        gap = text[cue.end:start]
        if cue.end <= start and len(gap) < 60 and gap.startswith(",") and not re.search(
                r"\b(?:is|are|was|were|has|have|had|said|says)\b|\b\w+ed\b(?!-)|[;.]", gap[1:]):
            return "appositive"  # an appositive after the place, without a verb of its own
        if cue.end <= start and re.fullmatch(r"\s*", gap) is not None and before.rstrip().endswith(cue.text):
            return "container"
    return None


def find_locations(text: str, cues: Sequence[Cue], language: str = "en") -> list[Location]:
    """Location phrases of a statement (see the module docstring)."""
    place_cues = [c for c in cues if c.type == CueType.PLACE]
    entity_cues = [c for c in cues if c.type == CueType.ENTITY]
    if language[:2] in ("ru", "uk"):
        return _find_locations_cyrillic(text, place_cues, language)
    tokens = _tokens(text)
    out: list[Location] = []
    contrast = contrast_spans(text)
    for i, tok in enumerate(tokens):
        low = tok.group(0).lower()
        two = (tokens[i - 1].group(0).lower() + " " + low) if i else low
        if not (_PREPS_EN.search(low) or two == "out of"):
            continue
        if low == "out" or (low == "of" and two != "out of"):
            continue
        span = _place_np(text, tokens, i + 1, place_cues)
        if span is None:
            continue
        a, b = span
        start, end = tokens[a].start(), tokens[b - 1].end()
        if any(s <= start < e for s, e in contrast):
            continue
        descriptor = _after_place(text, tok.start(), place_cues)
        if descriptor == "appositive" or _metonym(text, tok.start(), end):
            continue
        loc = _describe(text, (start, end), place_cues, entity_cues)
        if loc is not None and not (descriptor == "container" and loc.level != "local"):
            out.append(loc)
        # "on Quay Street and Tanners Row": a second place under the same preposition.
        if b + 1 < len(tokens) and tokens[b].group(0) == "and" and _cap(tokens[b + 1].group(0)):
            span2 = _place_np(text, tokens, b + 1, place_cues)
            if span2:
                loc2 = _describe(text, (tokens[span2[0]].start(), tokens[span2[1] - 1].end()), place_cues,
                                 entity_cues)
                if loc2 is not None:
                    out.append(loc2)
    # "picketed the port's headquarters": a facility as the object of an act done at it.
    for m in re.finditer(rf"\b\w+ed\s+(the\s+[\w{APOS}]+\s+(?:{'|'.join(sorted(_set('facility_nouns')))}))\b",
                         text):
        loc = _describe(text, m.span(1), place_cues, entity_cues)
        if loc is not None and not any(o.start <= m.start(1) < o.end for o in out):
            out.append(loc)
    return out


def _metonym(text: str, start: int, end: int) -> bool:
    """"In Kyiv, officials say", "В Москве подчеркивают", "у Києві це вважають": a capital standing for
    its government (a sentence-initial English location before a comma and a speaker, or a Russian/Ukrainian
    one right before a verb of saying or thinking)."""
    after = text[end:end + 40]
    if re.match(r"\s*(?:\w+\s+)?(?:подчеркива|счита|заявля|говор|вважа|назива|кажуть|немає|нет\b)", after,
                re.IGNORECASE):
        return True
    return not text[:start].strip(" \"“") and bool(re.match(r",\s+(?:\w+\s+){0,2}(?:say|said|believe)", after))


_CYR_PREP = re.compile(r"(?<!\w)(?:в|во|у|на|под|возле|около|из|с|з|біля|поблизу|від|от)\s+$", re.IGNORECASE)


def _find_locations_cyrillic(text: str, place_cues: Sequence[Cue], language: str) -> list[Location]:
    from compare.cues.names import name_key

    kinds = _words().get("cyrillic_kinds", {})
    out = []
    contrast = contrast_spans(text)
    for cue in place_cues:
        before = text[:cue.start]
        part = kind = None
        start = cue.start
        m = re.search(r"(?<!\w)(\w+)\s+$", before)
        if m and m.group(1).lower()[:5] in kinds:
            part_or_kind = kinds[m.group(1).lower()[:5]]
            if part_or_kind in _words().get("parts", {}).values():
                part = part_or_kind
            else:
                kind = part_or_kind
            before = before[:m.start()]
            start = m.start()
        if not _CYR_PREP.search(before):
            continue
        if any(s <= start < e for s, e in contrast) or _metonym(text, start, cue.end):
            continue
        key = name_key(str((cue.value or {}).get("canonical") or cue.text))
        region = re.search(r"(?:област|район|регион|регіон)", text[cue.end:cue.end + 12])
        level = "region" if key in _countries_keys() or region else "local"
        out.append(Location(start, cue.end, text[start:cue.end], frozenset({key}), kind, part, level))
    return out


def _names_meet(a: frozenset[str], b: frozenset[str]) -> bool:
    """A shared name, whole or as whole words of a longer one ("Eastmere" in "Port of Eastmere")."""
    return any(x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} " for x in a for y in b)


def compatible(x: Location, y: Location) -> bool:
    """Whether two locations can name the same place: a shared name or the same kind of facility, no
    clashing part ("centre" and "outskirts"); an anaphoric "the town" agrees with any named place."""
    if x.level != y.level:
        return True
    if x.part and y.part and x.part != y.part:
        return False
    if _names_meet(x.names, y.names):
        return True
    if x.head and x.head == y.head and x.head not in _set("kind_nouns"):
        return True  # "the Brannock sports hall" and "the sports hall on Fenwick Road"
    if x.names and y.names:
        return False
    if x.generic or y.generic:
        mine, other = (x, y) if x.generic else (y, x)
        if mine.head and mine.head not in _set("kind_nouns"):
            return mine.head == other.head  # "streets" is not a name for "Quay Street"
        return mine.head is None or other.head is None or bool(other.names) or mine.head == other.head
    return False


# ------------------------------------------------------------------------------------------ actors

_BE = {"is", "are", "was", "were", "be", "been", "being"}
_AFTER_PREP = re.compile(r"\b(?:from|of|to|for|with|on|in|at|into|about|against|between|among)$", re.IGNORECASE)


def _verb_follows(tokens: list[re.Match[str]], k: int) -> tuple[bool, bool, str]:
    """(a verb follows token k, the verb group is passive, the verb) — skipping adverbs and "on Friday"."""
    aux_be = False
    n = k
    steps = 0
    while n < len(tokens) and steps < 6:
        tok = tokens[n].group(0)
        low = tok.lower()
        if low in _set("adverbs") or low in ("have", "has", "had") or re.fullmatch(r"\w+ly", low):
            n += 1
            steps += 1
            continue
        if low in ("on", "late", "early") and n + 1 < len(tokens) and re.fullmatch(
                r"(?:mon|tues|wednes|thurs|fri|satur|sun)day", tokens[n + 1].group(0).lower()):
            n += 2
            steps += 2
            continue
        if low in _BE:
            aux_be = True
            n += 1
            steps += 1
            continue
        if not re.fullmatch(r"[a-z][a-z-]*", tok):
            return False, False, ""
        regular = bool(re.search(r"(?:ed|s)$", low)) and low not in _set("not_verbs")
        verbish = low in _set("verbs") or low in _set("reporting_verbs") or regular \
            or (aux_be and low.endswith("ing"))
        if not verbish:
            return False, False, ""
        passive = aux_be and (low.endswith(("ed", "en")) or low in _set("participles"))
        if passive and low in _set("raising_verbs") and n + 1 < len(tokens) and tokens[n + 1].group(0) == "to":
            passive = False  # "Coastguard teams are believed to have rescued": the teams acted
        return True, passive, low
    return False, False, ""


def find_actors(text: str, cues: Sequence[Cue], language: str = "en") -> list[Actor]:
    """Agent phrases of a statement: subjects of active verbs and "by" agents, headed by an agent noun or a
    name. The subject of a plain reporting verb ("X said") is a source, not an actor (that is attribution),
    unless the statement's act is the speech itself ("denied", "called on", "praised")."""
    if language[:2] != "en":
        return []
    tokens = _tokens(text)
    agents = _set("agent_nouns")
    out: list[Actor] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i].group(0)
        low = singular(re.sub(rf"[{APOS}]s$", "", tok.lower()))
        is_head = low in agents and not tok.endswith(("'s", "’s"))
        if not is_head:
            i += 1
            continue
        # Extend left over modifiers: capitalised words, possessives, agent/modifier words.
        a = i
        while a > 0:
            prev = tokens[a - 1].group(0)
            pl = prev.lower()
            if pl in ("the", "a", "an", "its", "their", "his", "her", "our"):
                a -= 1
                break
            if (prev[:1].isupper() and pl not in _set("not_names")) or pl in _set("modifiers") \
                    or pl in _set("nationalities") \
                    or re.search(rf"[{APOS}]s$", prev) or singular(pl) in agents:
                a -= 1
                continue
            break
        b = i + 1
        # "units of the National Guard", "volunteers from the Safe Road charity", "group of forces".
        if b + 1 < len(tokens) and tokens[b].group(0) in ("of", "from"):
            m = b + 1
            if tokens[m].group(0).lower() in ("the", "its", "their"):
                m += 1
            n = m
            while n < len(tokens) and (_cap(tokens[n].group(0)) or singular(tokens[n].group(0).lower()) in agents
                                       or tokens[n].group(0).lower() in _set("modifiers")
                                       or (tokens[n].group(0) == "of" and n > m)):
                n += 1
            while n > m and tokens[n - 1].group(0) == "of":
                n -= 1
            if n > m:
                b = n
        start, end = tokens[a].start(), tokens[b - 1].end()
        before = text[:start].rstrip()
        by_agent = bool(re.search(r"\b(?:by|with\s+help\s+from)$", before, re.IGNORECASE))
        subject, passive, verb = _verb_follows(tokens, b)
        if _AFTER_PREP.search(before) and not by_agent:
            i = b
            continue
        role_ok = by_agent or (subject and not passive)
        if role_ok and subject and verb in _set("reporting_verbs") and not _speech_is_the_act(text, end):
            role_ok = False
        if role_ok:
            phrase = text[start:end]
            out.append(Actor(start, end, phrase, _actor_key(phrase)))
        i = b
    # Named subjects: a person or organisation name right before an active verb ("Mayor Elin Harrow praised").
    # The token after a name is found by bisection and only CONTEXT_CHARS before it are read: a scan from the
    # start for each name made a long list of names quadratic (issue 16).
    starts = [t.start() for t in tokens]
    for cue in cues:
        if cue.type != CueType.ENTITY or any(o.start <= cue.start < o.end for o in out):
            continue
        k = bisect_left(starts, cue.end)
        if k < len(tokens) and tokens[k].group(0) == ",":
            continue
        subject, passive, verb = _verb_follows(tokens, k)
        before = text[max(0, cue.start - CONTEXT_CHARS):cue.start].rstrip()
        by_agent = bool(re.search(r"\bby(?:\s+the)?$", before, re.IGNORECASE))
        if _AFTER_PREP.search(re.sub(r"(?:\s+(?:the|a|an))$", "", before)) and not by_agent:
            continue
        if not (by_agent or (subject and not passive)):
            continue
        if subject and verb in _set("reporting_verbs") and not _speech_is_the_act(text, cue.end):
            continue
        title = re.search(r"((?:[A-Z][a-z]+\s+)?(?:[a-z]+\s+)?)$", text[max(0, cue.start - CONTEXT_CHARS):cue.start])
        start = cue.start
        if title and title.group(1).strip() and title.group(1).split()[-1].lower() in _set("person_titles"):
            start = cue.start - len(title.group(1))
        out.append(Actor(start, cue.end, text[start:cue.end], _actor_key(cue.text)))
    return out


def _speech_is_the_act(text: str, verb_start: int) -> bool:
    """Whether the speaker also does a speech act that is the news in the same sentence ("said the town
    would need weeks and called on the government"): then the speaker is an actor, not only a source."""
    rest = re.split(r"[.;]", text[verb_start:], maxsplit=1)[0]
    stance = "|".join(sorted(_set("stance_verbs")))
    return bool(re.search(rf"\band\s+(?:also\s+)?(?:{stance})\b", rest, re.IGNORECASE))


def _actor_key(phrase: str) -> frozenset[str]:
    drop = _set("generic_agents") | _set("nationalities") | {"the", "a", "an", "its", "their", "his", "her", "our",
                                                               "of", "from", "and"}
    words = [singular(re.sub(rf"[{APOS}]s$", "", w.lower())) for w in re.findall(rf"[\w{APOS}-]+", phrase)]
    return frozenset(w for w in words if w not in drop and w not in _set("person_titles"))


# ------------------------------------------------------------------------------------------- roles

@dataclass(frozen=True)
class Role:
    """A title held by a person or in an organisation: "general secretary of the Velmora Dockers' Union"."""

    start: int
    end: int
    text: str
    title: frozenset[str]
    anchor: frozenset[str]  # name keys of the person or organisation it attaches to


def find_roles(text: str, cues: Sequence[Cue], language: str = "en") -> list[Role]:
    """Titles attached to a named person or organisation (English): "NAME, TITLE of ORG", "the ORG's TITLE,
    NAME", "TITLE of the ORG", "who commands ORG"."""
    if language[:2] != "en":
        return []
    titles = _set("role_titles")
    verbs = _words().get("role_verbs", {})
    title_re = r"(?i:(?:(?:deputy|vice|acting|assistant|chief|general|first|former)\s+)*(?:" + "|".join(
        sorted(titles, key=len, reverse=True)) + r"))"
    org_re = rf"(?:[\w{APOS}-]+\s+){{0,2}}?[A-Z][\w{APOS}-]*(?:\s+[A-Z][\w{APOS}-]*)*(?:\s+(?:brigade|union|party))?"
    out = []
    entities = [c for c in cues if c.type == CueType.ENTITY]
    for m in re.finditer(rf"\b(?P<title>{title_re})\s+of\s+(?:the\s+)?(?P<org>{org_re})", text):
        out.append(_role(text, m.start("title"), m.end("org"), m.group("title"), m.group("org")))
    for m in re.finditer(rf"\b(?P<org>[A-Za-z{APOS}-]+)['’]s\s+(?P<title>{title_re}),\s+(?P<name>[A-Z][\w{APOS}-]*"
                         rf"(?:\s+[A-Z][\w{APOS}-]*)*)", text):
        out.append(_role(text, m.start("title"), m.end("name"), m.group("title"), m.group("name")))
    for cue in entities:
        after = text[cue.end:]
        titled = re.match(rf",\s+(?:the\s+)?(?P<title>{title_re})\b", after)
        if titled:
            out.append(_role(text, cue.end + titled.start("title"), cue.end + titled.end("title"),
                             titled.group("title"), cue.text))
        who = re.match(rf",\s+who\s+(?P<verb>\w+)\s+(?:the\s+)?(?P<org>{org_re})", after)
        if who and who.group("verb").lower() in verbs:
            title = verbs[who.group("verb").lower()]
            out.append(_role(text, cue.end + who.start("verb"), cue.end + who.end("org"), title, who.group("org")))
            out.append(_role(text, cue.end + who.start("verb"), cue.end + who.end("verb"), title, cue.text))
    return out


def _role(text: str, start: int, end: int, title: str, anchor: str) -> Role:
    anchor_words = {singular(w) for w in re.findall(rf"[\w{APOS}-]+", anchor.lower())
                    if w not in ("the", "of", "a", "an") and singular(w) not in _set("org_nouns")
                    and singular(w) not in _set("generic_agents")}
    title_words = frozenset(w for w in title.lower().split() if w not in ("the",))
    return Role(start, end, text[start:end], title_words, frozenset(anchor_words))
