"""Type the differences between the statements of each event, with evidence spans on every side.

Each detector compares the cues (see `cues.py`) that the outlets' statements in one event carry and
returns at most one Difference of its type per event (per unit, for numbers). Omissions come from
coverage: an event some outlets carry and others do not, and factual statements only one outlet has.
Word-level highlights mark what a statement says that its counterparts do not.
The detectors live one family per module (numbers, places, attribution, hedging, wording); this module
runs them (`find_differences`) and finds the highlights.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

from compare.differ.attribution import detect_attribution
from compare.differ.common import Sides, make_difference, statement_evidence
from compare.differ.hedging import detect_hedging, detect_negation
from compare.differ.numbers import detect_date, detect_number
from compare.differ.places import detect_entity, detect_place
from compare.differ.wording import detect_wording
from compare.model import (
    CueType,
    Difference,
    DifferenceType,
    Document,
    Event,
    Highlight,
    Statement,
    StatementRef,
)

FACTUAL_CUES = {CueType.NUMBER, CueType.DATE, CueType.PLACE, CueType.ENTITY}


DETECTORS: tuple[Callable[[Event, Sides, dict[str, str]], list[Difference]], ...] = (
    detect_number, detect_date, detect_place, detect_entity, detect_attribution, detect_hedging,
    detect_negation, detect_wording,
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
            evidence = [statement_evidence(s) for st in sides.values() for s in st]
            found.append(make_difference(
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
        found.append(make_difference(
            DifferenceType.OMISSION, None, [ref.doc_id, *missing], [statement_evidence(statement)],
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


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    token = token.lower().strip("'ʼ’-")
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


# A substitution longer than this on either side is a different clause, not a word that differs.
MAX_SUBSTITUTION_WORDS = 3


def _substitutions(left: Statement, right: Statement) -> list[tuple[Statement, int, int]]:
    """Content words that one statement has where the other has different words, found by aligning the two
    statements word by word (difflib): "since 2002" against "since 2003", "slams" against "criticized".
    Words only one side has (extra content) are not differences of wording and are not marked."""
    from difflib import SequenceMatcher

    words_l = list(_TOKEN.finditer(left.text))
    words_r = list(_TOKEN.finditer(right.text))
    matcher = SequenceMatcher(None, [_stem(m.group(0)) for m in words_l], [_stem(m.group(0)) for m in words_r],
                              autojunk=False)
    out: list[tuple[Statement, int, int]] = []
    opcodes = matcher.get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        # a run replaced by a run right after words both share ("since 2002, her office said" against "since
        # 2003"): the first words of each side stand against each other, what is left over on the longer
        # side is extra content. Without a shared word before it, a replaced run is a reordering.
        n = min(i2 - i1, j2 - j1)
        if tag != "replace" or n > MAX_SUBSTITUTION_WORDS or k == 0 or opcodes[k - 1][0] != "equal":
            continue
        for statement, run in ((left, words_l[i1:i1 + n]), (right, words_r[j1:j1 + n])):
            out += [(statement, m.start(), m.end()) for m in run
                    if m.group(0).lower() not in STOPWORDS and len(m.group(0)) >= 2]
    return out


def find_highlights(statements: Sequence[Statement], events: Sequence[Event],
                    differences: Sequence[Difference]) -> tuple[Highlight, ...]:
    """Word spans to highlight: the evidence of typed differences, then, inside each pair of statements of
    one event, the words one has where the other has different ones (not every word the other lacks)."""
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
    plain: dict[StatementRef, set[tuple[int, int]]] = defaultdict(set)
    for event in events:
        members = [by_ref[m] for m in sorted(event.members) if m in by_ref]
        for i, left in enumerate(members):
            for right in members[i + 1:]:
                if left.doc_id == right.doc_id or left.language[:2] != right.language[:2]:
                    continue  # across languages no word lines up with another
                for statement, start, end in _substitutions(left, right):
                    if not any(s <= start < e for s, e in typed[statement.ref]):
                        plain[statement.ref].add((start, end))
    for ref, spans in plain.items():
        highlights += [Highlight(ref.doc_id, ref.index, start, end) for start, end in sorted(spans)]
    highlights.sort(key=lambda h: (h.doc_id, h.index, h.start, h.end, str(h.type)))
    return tuple(highlights)
