"""Places and entities: the outlets put an event in different places, or name different actors."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from compare.cues.names import name_key
from compare.cues.phrases import Location, compatible, contrast_spans, find_actors, find_locations, find_roles
from compare.differ.attribution import actors_in
from compare.differ.common import Sides, cue_key, make_difference
from compare.differ.hedging import in_rebuttal
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Event,
    Evidence,
    Statement,
)


def countries() -> set[str]:
    from compare.cues.names import countries as country_names

    return {name_key(n) for n in country_names()} | {name_key("Russia"), name_key("Ukraine")}


def _mention_text(statements: Sequence[Statement]) -> str:
    """The outlet's statements as one name-key string, without the stretches it names only to deny them
    ("rather than central Kupiansk"), plus the canonical keys of its name cues (other scripts)."""
    parts = []
    for s in statements:
        text = s.text
        for start, end in reversed(contrast_spans(text)):
            text = text[:start] + " " + text[end:]
        parts.append(name_key(text))
        parts += [cue_key(c) for c in s.cues if c.type in (CueType.PLACE, CueType.ENTITY)
                  and not any(a <= c.start < b for a, b in contrast_spans(s.text))]
    return " " + " | ".join(parts) + " "


def _words_of(statements: Sequence[Statement]) -> set[str]:
    from compare.cues.numbers import singular

    return {singular(w) for s in statements for w in re.findall(r"[\w'’-]+", s.text.lower())}


def detect_place(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Different places for the same event. Each outlet's location phrases ("off Cape Larrow", "from streets
    near the market square", "on the outskirts", "в центре Купянска"; `compare/cues/phrases.py`) are compared per
    pair of outlets: a location is disputed when the other outlet gives a location of the same level that
    cannot be the same place (another name, another kind of place, another part of it) and names it nowhere
    else (in any spelling or script; a place it names only to deny it does not count). Places that only
    describe another ("Kupiansk, a rail hub on the Oskil River"), capitals standing for governments and
    affiliations ("analysts at X") are not locations."""
    locations = {d: [(s, loc) for s in st for loc in find_locations(s.text, s.cues, s.language)]
                 for d, st in sides.items()}
    mentions = {d: _mention_text(st) for d, st in sides.items()}
    words = {d: _words_of(st) for d, st in sides.items()}

    def disputed(doc: str, other: str) -> list[tuple[Statement, Location]]:
        out = []
        theirs = [loc for _, loc in locations[other]]
        for s, loc in locations[doc]:
            same_level = [t for t in theirs if t.level == loc.level]
            if loc.generic or not same_level:
                continue
            if any(compatible(loc, t) and (loc.part is None or t.part == loc.part) for t in same_level):
                continue
            if loc.names and any(f" {n} " in mentions[other] or n in mentions[other] for n in loc.names):
                continue
            if not loc.names and loc.head and all(w in words[other] for w in loc.head.split()):
                continue
            out.append((s, loc))
        return out

    docs = sorted(d for d in locations if locations[d])
    involved: dict[str, list[tuple[Statement, Location]]] = defaultdict(list)
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            only_a, only_b = disputed(a, b), disputed(b, a)
            if only_a and only_b:
                for doc, own in ((a, only_a), (b, only_b)):
                    involved[doc] += [x for x in own if x not in involved[doc]]
    if not involved:
        return []
    evidence = [Evidence(s.doc_id, s.index, s.start + loc.start, s.start + loc.end, loc.text)
                for d in sorted(involved) for s, loc in involved[d]]
    parts = [f"{outlets[d]}: " + ", ".join(dict.fromkeys(f"“{loc.text}”" for _, loc in involved[d]))
             for d in sorted(involved)]
    return [make_difference(DifferenceType.PLACE, event, sorted(involved), evidence,
                        "places differ — " + "; ".join(parts) + ".")]


def _entity_class(cue: Cue) -> str | None:
    """What kind of name a cue is, so that only names of one kind are compared: a person, or an
    organisation by its head noun ("union" and "federation" are both labour bodies)."""
    from compare.cues.numbers import singular
    from compare.cues.phrases import _words

    canonical = str((cue.value or {}).get("canonical") if isinstance(cue.value, dict) else "") or cue.text
    words = [w for w in re.findall(r"[\w'’-]+", canonical)]
    classes = _words().get("org_classes", {})
    for w in reversed(words):
        c = classes.get(singular(w.lower().rstrip("'’")))
        if c:
            return str(c)
    if len(words) >= 2 and all(w[:1].isupper() and w[1:].islower() for w in words) and cue.text.isascii():
        return "person"
    return None


# Words that say what kind of body a name is, not which one ("1st Guards Tank Army" vs "6th Combined Arms Army").
_CLASS_WORDS = frozenset({"army", "armi", "group", "forces", "force", "union", "federation", "brigade", "division",
                          "corps", "battalion", "regiment", "guards", "st", "nd", "rd", "th"})


def _specific_actors(text: str) -> frozenset[str]:
    """Actors named under an alias, less whole states ("Ukraine" says which side, not who)."""
    return frozenset(a for a in actors_in(text) if not a.endswith(" state"))


def detect_entity(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Different people, units or organisations in the same role. Three comparisons per pair of outlets:
    who did it (agent phrases: "Police escorted" vs "Private security guards forced", "by police" vs "by
    volunteers from the Safe Road charity"; `compare/cues/phrases.py`), names of one kind ("1st Guards Tank
    Army" vs "6th Combined Arms Army"), and the title one person or body holds ("general secretary" vs
    "president" of the same union). Sources cited for a fact are attribution, not entity; the subject of a
    speech act that is the news ("denied", "praised") is an actor."""
    own_names = {name_key(n) for n in outlets.values()} | {
        "".join(w[0] for w in n.split() if w[:1].isupper()).lower() for n in outlets.values()}
    mentions = {d: _mention_text(st) for d, st in sides.items()}
    texts = {d: " ".join(s.text for s in st) for d, st in sides.items()}
    words = {d: _words_of(st) for d, st in sides.items()}
    # (class, key words, statement, start, end, text) per outlet
    Mention = tuple[str, frozenset[str], Statement, int, int, str]
    found: dict[str, list[Mention]] = defaultdict(list)
    for doc, statements in sides.items():
        for s in statements:
            for actor in find_actors(s.text, s.cues, s.language):
                if actor.key and not in_rebuttal(s, actor.start):
                    found[doc].append(("agent", actor.key, s, actor.start, actor.end, actor.text))
            sources = [c for c in s.cues if c.type == CueType.ATTRIBUTION]
            places = find_locations(s.text, s.cues, s.language)
            for cue in s.cues:
                if cue.type != CueType.ENTITY or (cue.text.isupper() and cue.start == 0):
                    continue
                if any(src.start <= cue.start and cue.end <= src.end and "," not in s.text[src.start:cue.start]
                       for src in sources):
                    continue  # the cited source itself; its affiliation after a comma is kept ("X, head of Y,")
                if any(p.start <= cue.start < p.end for p in places):  # "on Fenwick Road": a place
                    continue
                if cue_key(cue) in own_names or cue.text.lower() in own_names:
                    continue
                kind = _entity_class(cue)
                key = frozenset(cue_key(cue).split()) - _CLASS_WORDS
                if kind and key and not any(m[2] is s and m[3] <= cue.start < m[4] for m in found[doc]):
                    found[doc].append((kind, key, s, cue.start, cue.end, cue.text))

    def covered(m: Mention, other: str) -> bool:
        kind, key = m[0], m[1]
        if any(k == kind and (key & k2) for k, k2, *_ in found[other]):
            return True
        if kind == "agent":
            return key <= words[other] or bool(_specific_actors(m[5]) & _specific_actors(texts[other]))
        return all(w in mentions[other] for w in key) or bool(_specific_actors(m[5]) & _specific_actors(texts[other]))

    involved: dict[str, list[Mention]] = defaultdict(list)
    docs = sorted(found)
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            for kind in sorted({m[0] for m in found[a]} & {m[0] for m in found[b]}):  # not set order: hash-seeded
                only_a = [m for m in found[a] if m[0] == kind and not covered(m, b)]
                only_b = [m for m in found[b] if m[0] == kind and not covered(m, a)]
                if only_a and only_b:
                    for doc, own in ((a, only_a), (b, only_b)):
                        involved[doc] += [m for m in own if m not in involved[doc]]
    # Titles: the same person or body, different titles.
    roles = {d: [(s, r) for s in st for r in find_roles(s.text, s.cues, s.language)] for d, st in sides.items()}
    docs = sorted(d for d in roles if roles[d])
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            for sa, ra in roles[a]:
                for sb, rb in roles[b]:
                    if ra.anchor & rb.anchor and ra.title != rb.title:
                        for doc, s, r in ((a, sa, ra), (b, sb, rb)):
                            m = ("role", r.title, s, r.start, r.end, r.text)
                            if m not in involved[doc]:
                                involved[doc].append(m)
    if not involved:
        return []
    evidence = [Evidence(s.doc_id, s.index, s.start + start, s.start + end, text)
                for d in sorted(involved) for _, _, s, start, end, text in involved[d]]
    parts = [f"{outlets[d]}: " + ", ".join(dict.fromkeys(f"“{m[5]}”" for m in involved[d])) for d in sorted(involved)]
    return [make_difference(DifferenceType.ENTITY, event, sorted(involved), evidence,
                        "names differ — " + "; ".join(parts) + ".")]
