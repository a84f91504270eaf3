"""What the detectors share: the per-outlet sides of an event, cue lookups, evidence spans, and the two
detector shapes (a cue some outlets carry and others do not; values that disagree)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from compare.cues.names import name_key
from compare.model import (
    Cue,
    CueType,
    Difference,
    DifferenceType,
    Event,
    Evidence,
    Statement,
)

# Per outlet: its statements in the event.
Sides = dict[str, list[Statement]]


def cues_of(statements: Iterable[Statement], kind: CueType) -> list[tuple[Statement, Cue]]:
    return [(s, c) for s in statements for c in s.cues if c.type == kind]


def statement_evidence(statement: Statement, cue: Cue | None = None) -> Evidence:
    if cue is None:
        return Evidence(statement.doc_id, statement.index, statement.start, statement.end, statement.text)
    return Evidence(statement.doc_id, statement.index, statement.start + cue.start,
                    statement.start + cue.end, cue.text)


def quoted(cues: Sequence[tuple[Statement, Cue]]) -> str:
    seen: list[str] = []
    for _, c in cues:
        if c.text not in seen:
            seen.append(c.text)
    return ", ".join(f"“{t}”" for t in seen)


def cue_key(cue: Cue) -> str:
    value = cue.value if isinstance(cue.value, dict) else {}
    return name_key(str(value.get("canonical") or cue.text))


def inside_any(cue: Cue, others: Iterable[Cue]) -> bool:
    return any(o.start <= cue.start and cue.end <= o.end for o in others)


def presence(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], verb: str,
              keep: Callable[[Statement, Cue], bool] = lambda s, c: True) -> list[Difference]:
    """Some outlets' statements carry a cue of `kind`, others' do not."""
    with_cue = {d: [(s, c) for s, c in cues_of(st, kind) if keep(s, c)] for d, st in sides.items()}
    carrying = sorted(d for d, cues in with_cue.items() if cues)
    silent = sorted(d for d, cues in with_cue.items() if not cues)
    if not carrying or not silent:
        return []
    evidence = [statement_evidence(s, c) for d in carrying for s, c in with_cue[d]]
    evidence += [statement_evidence(s) for d in silent for s in sides[d]]
    words = "; ".join(f"{outlets[d]}: {quoted(with_cue[d])}" for d in carrying)
    explanation = (f"{words} — {verb}; " + ", ".join(outlets[d] for d in silent)
                   + (" states" if len(silent) == 1 else " state") + " it without that.")
    return [make_difference(dtype, event, carrying + silent, evidence, explanation)]


def cue_conflict(sides: Sides, kind: CueType, dtype: DifferenceType, event: Event,
              outlets: dict[str, str], key: Callable[[Cue], str | None], noun: str,
              keep: Callable[[Statement, Cue], bool] = lambda s, c: True) -> list[Difference]:
    """Two outlets both give a value of `kind`, and each gives one the other does not."""
    values: dict[str, dict[str, list[tuple[Statement, Cue]]]] = {}
    for doc, statements in sides.items():
        found: dict[str, list[tuple[Statement, Cue]]] = defaultdict(list)
        for s, c in cues_of(statements, kind):
            k = key(c)
            if k is not None and keep(s, c):
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
        evidence += [statement_evidence(s, c) for s, c in own]
        parts.append(f"{outlets[doc]}: {quoted(own)}")
    return [make_difference(dtype, event, involved_docs, evidence, f"{noun} differ — " + "; ".join(parts) + ".")]


def make_difference(dtype: DifferenceType, event: Event | None, doc_ids: Sequence[str],
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
