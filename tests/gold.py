"""Read the gold files beside the demo stories (`corpora/*/gold.toml`) into statement references."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from compare.model import Comparison, StatementRef


@dataclass(frozen=True)
class GoldEvent:
    event_id: str
    refs: tuple[StatementRef, ...]


def locate(comparison: Comparison, outlet: str, contains: str) -> StatementRef:
    """The one statement of `outlet` that contains `contains` (a gold file error otherwise)."""
    doc_ids = [d.doc_id for d in comparison.documents if d.outlet == outlet]
    hits = [s.ref for s in comparison.statements if s.doc_id in doc_ids and contains in s.text]
    if len(hits) != 1:
        raise AssertionError(f"gold: {outlet!r} {contains!r} matches {len(hits)} statements")
    return hits[0]


def gold_events(story_dir: Path, comparison: Comparison) -> list[GoldEvent]:
    data = tomllib.loads((story_dir / "gold.toml").read_text(encoding="utf-8"))
    return [GoldEvent(e["id"], tuple(locate(comparison, s["outlet"], s["contains"]) for s in e["statements"]))
            for e in data.get("events", [])]


def pair_scores(comparison: Comparison, events: list[GoldEvent]) -> tuple[float, float]:
    """Precision and recall of same-event statement pairs, over the statements the gold labels."""
    labelled = {r for e in events for r in e.refs}
    gold = {frozenset(p) for e in events for p in combinations(e.refs, 2) if p[0].doc_id != p[1].doc_id}
    predicted = {frozenset(p) for ev in comparison.events for p in combinations(ev.members, 2)
                 if p[0].doc_id != p[1].doc_id and p[0] in labelled and p[1] in labelled}
    hits = len(gold & predicted)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    return precision, recall
