"""Type the differences between the statements of each event, with evidence spans on every side.

Each detector compares the cues (see `cues.py`) that the outlets' statements in one event carry and
returns at most one Difference of its type per event (per unit, for numbers). Omissions come from
coverage: an event some outlets carry and others do not, and factual statements only one outlet has.
Word-level highlights mark what a statement says that its counterparts do not.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Document,
    Event,
    Evidence,
    Highlight,
    Statement,
    StatementRef,
)

FACTUAL_CUES = {CueType.NUMBER, CueType.DATE, CueType.PLACE, CueType.ENTITY}

# Per outlet: its statements in the event.
Sides = dict[str, list[Statement]]


def _cues(statements: Iterable[Statement], kind: CueType) -> list[tuple[Statement, Cue]]:
    return [(s, c) for s in statements for c in s.cues if c.type == kind]


def _evidence(statement: Statement, cue: Cue | None = None) -> Evidence:
    if cue is None:
        return Evidence(statement.doc_id, statement.index, statement.start, statement.end, statement.text)
    return Evidence(statement.doc_id, statement.index, statement.start + cue.start,
                    statement.start + cue.end, cue.text)


def _key(cue: Cue) -> str:
    value = cue.value if isinstance(cue.value, dict) else {}
    return str(value.get("canonical") or cue.text).lower()


def _presence(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], verb: str) -> list[Difference]:
    """Some outlets' statements carry a cue of `kind`, others' do not."""
    with_cue = {d: _cues(st, kind) for d, st in sides.items()}
    carrying = sorted(d for d, cues in with_cue.items() if cues)
    silent = sorted(d for d, cues in with_cue.items() if not cues)
    if not carrying or not silent:
        return []
    evidence = [_evidence(s, c) for d in carrying for s, c in with_cue[d]]
    evidence += [_evidence(s) for d in silent for s in sides[d]]
    words = "; ".join(f"{outlets[d]}: " + ", ".join(f"“{c.text}”" for _, c in with_cue[d])
                      for d in carrying)
    explanation = (f"{words} — {verb}; " + ", ".join(outlets[d] for d in silent)
                   + " state it without that.")
    return [_difference(dtype, event, carrying + silent, evidence, explanation)]


def detect_hedging(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return _presence(sides, CueType.HEDGE, DifferenceType.HEDGING, event, outlets, "hedged")


def detect_negation(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return _presence(sides, CueType.NEGATION, DifferenceType.NEGATION, event, outlets,
                     "denied or negated")


def detect_attribution(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Outlets attribute the claim to different sources, or some attribute it and others do not."""
    sources: dict[str, set[str]] = {}
    for doc, statements in sides.items():
        sources[doc] = {_source_key(c) for _, c in _cues(statements, CueType.ATTRIBUTION)} - {""}
    if len({frozenset(v) for v in sources.values()}) < 2:
        return []
    if not any(sources.values()):
        return []
    # Different sets, but one outlet citing a superset of another's sources is not a conflict.
    docs = sorted(sources)
    conflict = any(
        not (sources[a] <= sources[b] or sources[b] <= sources[a]) or bool(sources[a]) != bool(sources[b])
        for i, a in enumerate(docs) for b in docs[i + 1:]
    )
    if not conflict:
        return []
    evidence = []
    parts = []
    for doc in docs:
        cues = _cues(sides[doc], CueType.ATTRIBUTION)
        if cues:
            evidence += [_evidence(s, c) for s, c in cues]
            parts.append(f"{outlets[doc]} cites " + ", ".join(f"“{c.source or c.text}”" for _, c in cues))
        else:
            evidence += [_evidence(s) for s in sides[doc]]
            parts.append(f"{outlets[doc]} gives no source")
    return [_difference(DifferenceType.ATTRIBUTION, event, docs, evidence, "; ".join(parts) + ".")]


def _source_key(cue: Cue) -> str:
    source = (cue.source or "").lower()
    source = re.sub(r"^(the|a|an)\s+", "", source)
    return source.strip()


def _conflict(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], key: Callable[[Cue], str | None], noun: str) -> list[Difference]:
    """Two outlets both give a value of `kind`, and each gives one the other does not."""
    values: dict[str, dict[str, list[tuple[Statement, Cue]]]] = {}
    for doc, statements in sides.items():
        found: dict[str, list[tuple[Statement, Cue]]] = defaultdict(list)
        for s, c in _cues(statements, kind):
            k = key(c)
            if k is not None:
                found[k].append((s, c))
        if found:
            values[doc] = found
    docs = sorted(values)
    involved: set[str] = set()
    for i, a in enumerate(docs):
        for b in docs[i + 1:]:
            only_a = set(values[a]) - set(values[b])
            only_b = set(values[b]) - set(values[a])
            if only_a and only_b:
                involved |= {a, b}
    if not involved:
        return []
    involved_docs = sorted(involved)
    shared = set.intersection(*(set(values[d]) for d in involved_docs))
    evidence = []
    parts = []
    for doc in involved_docs:
        own = [(s, c) for k, pairs in values[doc].items() if k not in shared for s, c in pairs]
        evidence += [_evidence(s, c) for s, c in own]
        parts.append(f"{outlets[doc]}: " + ", ".join(f"“{c.text}”" for _, c in own))
    return [_difference(dtype, event, involved_docs, evidence, f"{noun} differ — " + "; ".join(parts) + ".")]


def _number_key(cue: Cue) -> str | None:
    value = cue.value if isinstance(cue.value, dict) else {}
    return f"{value.get('value')}|{value.get('unit')}"


def detect_number(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Conflicting quantities of the same unit ("over 80%" vs "about 70%", "12 civilians" vs "15")."""
    differences = []
    units = {(c.value or {}).get("unit") for st in sides.values() for s in st for c in s.cues
             if c.type == CueType.NUMBER}
    for unit in sorted(units, key=str):
        narrowed: Sides = {}
        for doc, statements in sides.items():
            kept = []
            for s in statements:
                cues = tuple(c for c in s.cues if c.type != CueType.NUMBER
                             or (c.value or {}).get("unit") == unit)
                kept.append(_with_cues(s, cues))
            narrowed[doc] = kept
        differences += _conflict(narrowed, CueType.NUMBER, DifferenceType.NUMBER, event, outlets,
                                 _number_key, "figures" + (f" ({unit})" if unit else ""))
    return differences


def _with_cues(statement: Statement, cues: tuple[Cue, ...]) -> Statement:
    return Statement(statement.doc_id, statement.index, statement.start, statement.end,
                     statement.text, statement.language, cues)


def _date_key(cue: Cue) -> str | None:
    value = cue.value if isinstance(cue.value, dict) else {}
    if "iso" in value:
        return str(value["iso"])
    if "weekday" in value:
        return str(value["weekday"])
    if "month" in value and "day" in value:
        return f"{value['month']}-{value['day']}"
    if "month" in value:
        return f"month:{value['month']}:{value.get('part')}"
    return None


def detect_date(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return _conflict(sides, CueType.DATE, DifferenceType.DATE, event, outlets, _date_key, "dates")


def detect_place(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    return _conflict(sides, CueType.PLACE, DifferenceType.PLACE, event, outlets, _key, "places")


def detect_entity(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Different people, units or organisations in the same role (sources cited are attribution)."""
    narrowed: Sides = {}
    for doc, statements in sides.items():
        kept = []
        for s in statements:
            sources = [c for c in s.cues if c.type == CueType.ATTRIBUTION]
            cues = tuple(c for c in s.cues if c.type != CueType.ENTITY
                         or not any(a.start <= c.start and c.end <= a.end for a in sources))
            kept.append(_with_cues(s, cues))
        narrowed[doc] = kept
    return _conflict(narrowed, CueType.ENTITY, DifferenceType.ENTITY, event, outlets, _key, "names")


def detect_wording(event: Event, sides: Sides, outlets: dict[str, str]) -> list[Difference]:
    """Outlets frame the same event with loaded terms of different frames ("liberated" vs "captured")."""
    def frame(cue: Cue) -> str | None:
        return (cue.value or {}).get("frame") if isinstance(cue.value, dict) else None

    return _conflict(sides, CueType.LOADED, DifferenceType.WORDING, event, outlets, frame, "framing terms")


DETECTORS: tuple[Callable[[Event, Sides, dict[str, str]], list[Difference]], ...] = (
    detect_number, detect_date, detect_place, detect_entity, detect_attribution, detect_hedging,
    detect_negation, detect_wording,
)


def _difference(dtype: DifferenceType, event: Event | None, doc_ids: Sequence[str],
                evidence: Sequence[Evidence], explanation: str,
                missing: Sequence[str] = ()) -> Difference:
    return Difference(
        difference_id="",  # numbered once all differences are known
        type=dtype,
        event_id=event.event_id if event else None,
        doc_ids=tuple(sorted(set(doc_ids))),
        evidence=tuple(sorted(set(evidence), key=lambda e: (e.doc_id, e.index, e.start, e.end))),
        explanation=explanation,
        missing=tuple(sorted(missing)),
    )


def find_differences(documents: Sequence[Document], statements: Sequence[Statement],
                     events: Sequence[Event], unique: Sequence[StatementRef]) -> tuple[Difference, ...]:
    """All typed differences of a comparison, numbered D1.. in event order."""
    by_ref = {s.ref: s for s in statements}
    outlets = {d.doc_id: d.outlet for d in documents}
    all_docs = sorted(outlets)
    found: list[Difference] = []
    for event in events:
        sides: Sides = defaultdict(list)
        for ref in event.members:
            sides[ref.doc_id].append(by_ref[ref])
        sides = dict(sides)
        missing = [d for d in all_docs if d not in sides]
        if missing:
            evidence = [_evidence(s) for st in sides.values() for s in st]
            found.append(_difference(
                DifferenceType.OMISSION, event, sorted(sides) + missing, evidence,
                f"Reported by {', '.join(outlets[d] for d in sorted(sides))}; "
                f"not by {', '.join(outlets[d] for d in missing)}.",
                missing=missing,
            ))
        for detector in DETECTORS:
            found += detector(event, sides, outlets)
    for ref in unique:
        statement = by_ref[ref]
        if not any(c.type in FACTUAL_CUES for c in statement.cues):
            continue
        missing = [d for d in all_docs if d != ref.doc_id]
        found.append(_difference(
            DifferenceType.OMISSION, None, [ref.doc_id, *missing], [_evidence(statement)],
            f"Only {outlets[ref.doc_id]} reports this.", missing=missing,
        ))
    return tuple(
        Difference(f"D{n}", d.type, d.event_id, d.doc_ids, d.evidence, d.explanation, d.missing,
                   d.confidence)
        for n, d in enumerate(found, start=1)
    )


# ------------------------------------------------------------------------------ word highlights

_TOKEN = re.compile(r"[\w'ʼ’%-]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been has have had it its this "
    "that these those which who whom whose he she they them his her their there said says told also after "
    "before over into than then so such not no".split()
)


def _stem(token: str) -> str:
    token = token.lower().strip("'ʼ’-")
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


def find_highlights(statements: Sequence[Statement], events: Sequence[Event],
                    differences: Sequence[Difference]) -> tuple[Highlight, ...]:
    """Word spans to highlight: evidence of typed differences, then words no counterpart shares."""
    by_ref = {s.ref: s for s in statements}
    highlights: list[Highlight] = []
    typed: dict[StatementRef, list[tuple[int, int]]] = defaultdict(list)
    for diff in differences:
        if diff.type == DifferenceType.OMISSION:
            continue
        for ev in diff.evidence:
            statement = by_ref.get(StatementRef(ev.doc_id, ev.index))
            if statement is None or (ev.start == statement.start and ev.end == statement.end):
                continue
            start, end = ev.start - statement.start, ev.end - statement.start
            highlights.append(Highlight(ev.doc_id, ev.index, start, end, diff.type, diff.difference_id))
            typed[statement.ref].append((start, end))
    for event in events:
        members = [by_ref[m] for m in event.members]
        for statement in members:
            others = set()
            for other in members:
                if other.doc_id != statement.doc_id:
                    others |= {_stem(t) for t in _TOKEN.findall(other.text)}
            for m in _TOKEN.finditer(statement.text):
                word = m.group(0)
                if word.lower() in STOPWORDS or _stem(word) in others or len(word) < 2:
                    continue
                if any(s <= m.start() < e for s, e in typed[statement.ref]):
                    continue
                highlights.append(Highlight(statement.doc_id, statement.index, m.start(), m.end()))
    highlights.sort(key=lambda h: (h.doc_id, h.index, h.start, h.end, str(h.type)))
    return tuple(highlights)
