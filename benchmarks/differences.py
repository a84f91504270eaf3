"""Score typed differences against the demo gold files (`corpora/*/gold.toml`), per difference type.

Run: `.venv/bin/python benchmarks/differences.py [--errors]`. Each story goes through the real pipeline
(`compare.corpus.story.load_story` + `compare.pipeline.compare_story`, default settings), so alignment and
differ are measured together, and every error is attributed to one of them.

Matching. A predicted difference matches a gold one when the types agree and, for every outlet the gold
names in `sides`, the prediction has evidence in that outlet's document overlapping the gold `words`
(whole-statement evidence, as for the unhedged side of a hedging difference, overlaps its words). A
prediction may cover several outlets at once and so match several pairwise gold differences. Omission:
the gold `missing` outlets must all be among the prediction's missing ones, none of the gold's carrying
outlets may be, and the evidence must overlap at least one carrying side's words.

Recall = gold differences matched / gold differences. Precision = predictions that match a gold
difference / predictions that can be judged: those whose evidence lies entirely in statements the gold
file assigns to events (the gold lists every difference inside its events, pairwise for the salient
pairs, so a prediction there that matches nothing is a false positive; predictions about sentences the
gold does not cover are counted apart as "unjudged").

Alignment errors (the aligner, `compare/align/events.py`, is owned separately) are counted, not hidden: a missed
gold difference is an alignment miss when its statements are not in one predicted event (for omission:
when the carrying statements are not linked, or a missing outlet's statement was linked in); a false
positive is an alignment error when its evidence joins statements from different gold events or its
event contains a statement the gold puts in another event; a miss is also an alignment miss when the
predicted event holding its statements also holds statements of other gold events (over-merging).
Scores are given both overall and with alignment errors excluded ("differ only").
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compare.model import Comparison, Difference, DifferenceType, StatementRef  # noqa: E402

CORPORA = ROOT / "corpora"
TYPES = [t.value for t in DifferenceType]


@dataclass(frozen=True)
class GoldSide:
    doc_id: str
    refs: tuple[StatementRef, ...]
    span: tuple[int, int] | None  # offsets of `words` in the document text


@dataclass(frozen=True)
class GoldDifference:
    story: str
    index: int
    type: str
    event: str
    sides: tuple[GoldSide, ...]
    missing: tuple[str, ...]  # doc ids
    words: tuple[str, ...]


@dataclass
class TypeScore:
    gold: int = 0
    found: int = 0
    missed_alignment: int = 0
    predicted: int = 0  # judgeable predictions
    correct: int = 0
    fp_alignment: int = 0
    unjudged: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision_differ(self) -> float:
        judged = self.predicted - self.fp_alignment
        return self.correct / judged if judged else 1.0

    @property
    def recall_differ(self) -> float:
        gold = self.gold - self.missed_alignment
        return self.found / gold if gold else 1.0


@dataclass
class StoryResult:
    story: str
    scores: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    errors: list[str] = field(default_factory=list)


def _locate(comparison: Comparison, outlet: str, contains: str) -> StatementRef | None:
    """The one statement of `outlet` containing `contains`; None when the story has no such outlet (the
    gold may already describe an article the story does not list yet). A gold error otherwise."""
    doc_ids = [d.doc_id for d in comparison.documents if d.outlet == outlet]
    if not doc_ids:
        return None
    hits = [s.ref for s in comparison.statements if s.doc_id in doc_ids and contains in s.text]
    if len(hits) != 1:
        raise ValueError(f"gold: {outlet!r} {contains!r} matches {len(hits)} statements")
    return hits[0]


def load_gold(story_dir: Path, comparison: Comparison) -> tuple[dict[str, set[StatementRef]], list[GoldDifference]]:
    """Gold events (id -> statement refs) and gold differences resolved to documents and offsets."""
    data = tomllib.loads((story_dir / "gold.toml").read_text("utf-8"))
    doc_of = {d.outlet: d.doc_id for d in comparison.documents}
    events: dict[str, set[StatementRef]] = {}
    for event in data.get("events", []):
        refs = {_locate(comparison, s["outlet"], s["contains"]) for s in event["statements"]}
        events[event["id"]] = {r for r in refs if r is not None}
    by_ref = {s.ref: s for s in comparison.statements}
    golds = []
    for i, diff in enumerate(data.get("differences", [])):
        refs = events.get(diff["event"], set())
        # Outlets the story does not include (yet) are left out of the gold difference.
        present = [side for side in diff.get("sides", []) if side["outlet"] in doc_of]
        missing = [o for o in diff.get("missing", []) if o in doc_of]
        if diff["type"] == DifferenceType.OMISSION.value and (not present or not missing):
            continue
        if diff["type"] != DifferenceType.OMISSION.value and len(present) < 2:
            continue
        diff = dict(diff, sides=present, missing=missing)
        sides = []
        for side in diff.get("sides", []):
            doc_id = doc_of[side["outlet"]]
            own = tuple(sorted(r for r in refs if r.doc_id == doc_id))
            span = None
            for ref in own:
                statement = by_ref[ref]
                at = statement.text.find(side["words"])
                if at >= 0:
                    span = (statement.start + at, statement.start + at + len(side["words"]))
                    break
            if span is None:
                raise ValueError(f"{story_dir.name}: difference {i} words {side['words']!r} not in "
                                 f"{side['outlet']}'s statements of event {diff['event']!r}")
            sides.append(GoldSide(doc_id, own, span))
        golds.append(GoldDifference(story_dir.name, i, diff["type"], diff["event"], tuple(sides),
                                    tuple(doc_of[o] for o in diff.get("missing", [])),
                                    tuple(s["words"] for s in diff.get("sides", []))))
    return events, golds


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def matches(pred: Difference, gold: GoldDifference) -> bool:
    if pred.type.value != gold.type:
        return False
    if gold.type == DifferenceType.OMISSION.value:
        if not set(gold.missing) <= set(pred.missing):
            return False
        if any(side.doc_id in pred.missing for side in gold.sides):
            return False
        return any(ev.doc_id == side.doc_id and side.span and _overlaps((ev.start, ev.end), side.span)
                   for side in gold.sides for ev in pred.evidence)
    return all(any(ev.doc_id == side.doc_id and side.span and _overlaps((ev.start, ev.end), side.span)
                   for ev in pred.evidence) for side in gold.sides)


def _pred_refs(pred: Difference) -> set[StatementRef]:
    return {StatementRef(ev.doc_id, ev.index) for ev in pred.evidence}


def score_story(story_dir: Path, comparison: Comparison) -> StoryResult:
    events, golds = load_gold(story_dir, comparison)
    result = StoryResult(story_dir.name)
    event_of: dict[StatementRef, str] = {r: e for e, refs in events.items() for r in refs}
    predicted_event: dict[StatementRef, str] = {m: ev.event_id for ev in comparison.events for m in ev.members}
    members = {ev.event_id: set(ev.members) for ev in comparison.events}
    by_ref = {s.ref: s for s in comparison.statements}
    outlet = {d.doc_id: d.outlet for d in comparison.documents}
    for gold in golds:
        score = result.scores[gold.type]
        score.gold += 1
        if any(matches(p, gold) for p in comparison.differences):
            score.found += 1
            continue
        refs = {r for side in gold.sides for r in side.refs if side.span and _in_span(by_ref[r], side.span)}
        aligned_events = {predicted_event.get(r) for r in refs}
        if gold.type == DifferenceType.OMISSION.value:
            event_id = next(iter(aligned_events)) if len(aligned_events) == 1 else None
            alignment = event_id is None or any(m.doc_id in gold.missing for m in members.get(event_id, ()))
        else:
            alignment = len(aligned_events) != 1 or None in aligned_events
        if not alignment:
            # Over-merged: the predicted event also holds statements the gold puts in other events.
            (event_id,) = aligned_events
            alignment = any(m in event_of and event_of[m] != gold.event for m in members.get(event_id or "", ()))
        if alignment:
            score.missed_alignment += 1
        cause = "alignment" if alignment else "differ"
        result.errors.append(f"MISS [{cause}] {gold.type} {gold.event}: "
                             + "; ".join(f"{outlet[s.doc_id]}: “{w}”" for s, w in zip(gold.sides, gold.words,
                                                                                        strict=True))
                             + (f" (missing: {', '.join(outlet[d] for d in gold.missing)})" if gold.missing else ""))
    for pred in comparison.differences:
        score = result.scores[pred.type.value]
        refs = _pred_refs(pred)
        if not refs or not all(r in event_of for r in refs):
            score.unjudged += 1
            continue
        score.predicted += 1
        if any(matches(pred, g) for g in golds):
            score.correct += 1
            continue
        gold_events = {event_of[r] for r in refs}
        event_members = members.get(pred.event_id or "", set())
        alignment = len(gold_events) > 1 or any(m in event_of and event_of[m] not in gold_events
                                                for m in event_members)
        if pred.type == DifferenceType.OMISSION and pred.event_id is None:
            # A statement judged unique although the gold links it to other outlets' statements.
            (ref,) = refs
            alignment = len({r.doc_id for r in events[event_of[ref]]}) > 1
        if alignment:
            score.fp_alignment += 1
        result.errors.append(f"FP [{'alignment' if alignment else 'differ'}] {pred.type.value} "
                             f"(gold events {sorted(gold_events)}): {pred.explanation}")
    return result


def _in_span(statement: object, span: tuple[int, int]) -> bool:
    return statement.start <= span[0] < statement.end  # type: ignore[attr-defined]


def with_gold_alignment(story_dir: Path, comparison: Comparison) -> Comparison:
    """The same comparison with the gold events in place of the aligner's, and the differ rerun on them:
    measures the differ alone."""
    from compare.differ.detect import find_differences, find_highlights
    from compare.model import Event

    events, _ = load_gold(story_dir, comparison)
    gold_events = tuple(Event(f"gold-{name}", tuple(sorted(refs)), tuple(sorted({r.doc_id for r in refs})), 1.0)
                        for name, refs in events.items())
    differences = find_differences(comparison.documents, comparison.statements, gold_events, ())
    highlights = find_highlights(comparison.statements, gold_events, differences)
    return Comparison(comparison.story_id, comparison.title, comparison.description, comparison.documents,
                      comparison.statements, comparison.links, gold_events, differences, (), highlights,
                      dict(comparison.meta))


def run(stories: Sequence[Path] | None = None) -> tuple[list[StoryResult], list[StoryResult]]:
    """Per story: scores of the real pipeline, and of the differ on the gold alignment."""
    from compare.config import Settings
    from compare.corpus.story import load_story
    from compare.pipeline import compare_story

    stories = stories or sorted(p.parent for p in CORPORA.glob("*/gold.toml"))
    pipeline, oracle = [], []
    for story_dir in stories:
        comparison = compare_story(load_story(story_dir), Settings())
        pipeline.append(score_story(story_dir, comparison))
        oracle.append(score_story(story_dir, with_gold_alignment(story_dir, comparison)))
    return pipeline, oracle


def total(results: Sequence[StoryResult]) -> dict[str, TypeScore]:
    out: dict[str, TypeScore] = {t: TypeScore() for t in TYPES}
    for result in results:
        for name, s in result.scores.items():
            t = out[name]
            for attr in ("gold", "found", "missed_alignment", "predicted", "correct", "fp_alignment", "unjudged"):
                setattr(t, attr, getattr(t, attr) + getattr(s, attr))
    return out


def table(scores: dict[str, TypeScore]) -> str:
    lines = ["| type | gold | found | precision | recall | alignment misses | alignment FPs | "
             "P (differ only) | R (differ only) | unjudged predictions |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in TYPES:
        s = scores[name]
        lines.append(f"| {name} | {s.gold} | {s.found} | {s.precision:.2f} ({s.correct}/{s.predicted}) | "
                     f"{s.recall:.2f} | {s.missed_alignment} | {s.fp_alignment} | {s.precision_differ:.2f} | "
                     f"{s.recall_differ:.2f} | {s.unjudged} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every miss and false positive")
    args = parser.parse_args(argv)
    pipeline, oracle = run()
    print("stories: " + ", ".join(r.story for r in pipeline) + "\n")
    print("Full pipeline (aligner + differ), default settings:\n")
    print(table(total(pipeline)))
    print("\nDiffer on the gold alignment (the gold events given to `find_differences`):\n")
    print(table(total(oracle)))
    if args.errors:
        for label, results in (("pipeline", pipeline), ("gold alignment", oracle)):
            for r in results:
                print(f"\n## {r.story} ({label})\n" + "\n".join(r.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
