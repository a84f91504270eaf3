"""Measure alignment accuracy on human-annotated stories (`storydiff eval`).

Each story of a JSON Lines file goes through the same stages as `storydiff compare` (segment -> cues ->
embed -> link), and its cross-document statement pairs are scored against `gold_pairs`. Metrics are
micro-averaged over all stories: pair precision/recall/F1 of the links, average precision of the link
score, and precision@1 (for a sentence with a gold partner in another document, is that document's
best-scoring sentence a gold partner?). Where documents carry `annotated`, only pairs of two annotated
sentences count: the annotators said nothing about the rest.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compare.corpus.base import Story
from compare.corpus.json_input import load_jsonl
from compare.errors import CorpusError
from compare.model import StatementRef

CURVE_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 20))
Pair = tuple[StatementRef, StatementRef]


@dataclass(frozen=True)
class EvalStory:
    """A story with its gold links. `scorable` None means every statement counts."""

    story: Story
    gold: frozenset[Pair]  # (a, b) with a < b
    scorable: frozenset[StatementRef] | None


def canonical(a: StatementRef, b: StatementRef) -> Pair:
    return (a, b) if a < b else (b, a)


def load_eval_stories(path: str | Path) -> list[EvalStory]:
    """Stories plus gold pairs from an evaluation JSON Lines file (see ../shared/eval/README.md)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file. Pass an evaluation JSON Lines file.")
    stories = load_jsonl(path)
    raw_lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    out = []
    for lineno, (story, line) in enumerate(zip(stories, raw_lines, strict=True), start=1):
        data = json.loads(line.decode("utf-8-sig"))
        docs = data["documents"]
        doc_ids = [d.doc_id for d in story.documents]
        gold = set()
        for entry in data.get("gold_pairs") or []:
            if not isinstance(entry, list) or len(entry) < 4:
                raise CorpusError(f"{path}:{lineno}: gold_pairs entries must be [doc, sent, doc, sent, ...].")
            da, sa, db, sb = (int(x) for x in entry[:4])
            if da == db:
                continue
            gold.add(canonical(StatementRef(doc_ids[da], sa), StatementRef(doc_ids[db], sb)))
        scorable = None
        if any("annotated" in d for d in docs):
            scorable = frozenset(
                StatementRef(doc_ids[n], i)
                for n, d in enumerate(docs)
                for i, flag in enumerate(d.get("annotated") or [True] * len(d.get("sentences") or []))
                if flag
            )
        out.append(EvalStory(story, frozenset(gold), scorable))
    if not out:
        raise CorpusError(f"{path}: no stories in this file.")
    return out


# ----------------------------------------------------------------------------------------- metrics

def prf(predicted: Sequence[bool] | np.ndarray, gold: Sequence[bool] | np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of boolean predictions (0 where undefined)."""
    predicted = np.asarray(predicted, dtype=bool)
    gold = np.asarray(gold, dtype=bool)
    tp = int((predicted & gold).sum())
    p = tp / int(predicted.sum()) if predicted.any() else 0.0
    r = tp / int(gold.sum()) if gold.any() else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def average_precision(scores: Sequence[float] | np.ndarray, gold: Sequence[bool] | np.ndarray) -> float:
    """Area under the step precision/recall curve, tied scores taken together (as scikit-learn does)."""
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=bool)
    n_pos = int(gold.sum())
    if n_pos == 0:
        return 0.0
    order = np.argsort(-scores, kind="mergesort")
    s, g = scores[order], gold[order]
    tp = np.cumsum(g)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # end of each group of tied scores
    tp_at, n_at = tp[last], last + 1
    precision = tp_at / n_at
    recall = tp_at / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def precision_at_1(pairs: Sequence[Pair], scores: Sequence[float] | np.ndarray,
                   gold: Sequence[bool] | np.ndarray) -> tuple[float, int]:
    """Share of (sentence, other document) with a gold partner there whose best-scoring sentence is gold.

    Ties at the top count fractionally (the share of tied sentences that are gold). Returns (P@1, n).
    """
    groups: dict[tuple[StatementRef, str], list[tuple[float, bool]]] = defaultdict(list)
    for (a, b), score, is_gold in zip(pairs, scores, gold, strict=True):
        groups[(a, b.doc_id)].append((float(score), bool(is_gold)))
        groups[(b, a.doc_id)].append((float(score), bool(is_gold)))
    hits = 0.0
    n = 0
    for members in groups.values():
        if not any(g for _, g in members):
            continue
        best = max(s for s, _ in members)
        top = [g for s, g in members if s == best]
        hits += sum(top) / len(top)
        n += 1
    return (hits / n if n else 0.0), n


def best_threshold(scores: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """The score cut-off with the best F1 (and that F1): how baselines get their dev threshold."""
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    s, g = scores[order], gold[order]
    tp = np.cumsum(g)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    p = tp[last] / (last + 1)
    r = tp[last] / max(int(gold.sum()), 1)
    f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    k = int(np.argmax(f))
    return float(s[last[k]]), float(f[k])


# ------------------------------------------------------------------------------------------ scoring

@dataclass
class StoryResult:
    """Every scorable cross-document pair of one story with its score, link decision and gold label."""

    story_id: str
    pairs: list[Pair]
    scores: np.ndarray
    linked: np.ndarray
    gold: np.ndarray
    texts: dict[StatementRef, str] = field(repr=False, default_factory=dict)
    events: int = 0
    statements: int = 0
    claim_linked: np.ndarray | None = None  # the claim aligner's links over the same pairs
    cosines: np.ndarray | None = None  # embedding cosine of the same pairs (the baseline)


def evaluate_story(item: EvalStory, embedder: Any, *, threshold: float | None = None, weights: Any = None,
                   cache: Any = None) -> StoryResult:
    """Run the compare pipeline's stages on one story and score its pairs against the gold."""
    from compare.align.claims import align_claims, default_claim_weights
    from compare.align.context import story_context
    from compare.align.events import build_events
    from compare.align.features import score_block
    from compare.align.links import link_statements
    from compare.align.scorer import default_weights
    from compare.pipeline import embed_statements, segment_documents

    weights = weights or default_weights(embedder.name)
    threshold = weights.threshold if threshold is None else threshold
    statements = segment_documents(item.story.documents)
    vectors = embed_statements(statements, embedder, cache)
    ctx = story_context(statements, vectors)
    links = link_statements(statements, vectors, threshold=threshold, weights=weights, context=ctx)
    events = build_events(statements, links, merge_threshold=weights.merge_threshold)
    linked_set = {(lk.a, lk.b) for lk in links}
    keep = item.scorable
    pairs: list[Pair] = []
    chunks = []
    for a, b in ctx.doc_pairs():
        ra, rb = ctx.rows[ctx.doc_ids[a]], ctx.rows[ctx.doc_ids[b]]
        left = [statements[p].ref for p in ra]
        right = [statements[p].ref for p in rb]
        li = [i for i, r in enumerate(left) if keep is None or r in keep]
        rj = [j for j, r in enumerate(right) if keep is None or r in keep]
        if not li or not rj:
            continue
        score, _ = score_block(ctx, a, b, weights)
        chunks.append(score[np.ix_(li, rj)].ravel())
        pairs.extend((left[i], right[j]) for i in li for j in rj)
    scores = np.concatenate(chunks) if chunks else np.zeros(0)
    claim_weights = default_claim_weights(embedder.name)
    claim_set = {(lk.a, lk.b) for lk in align_claims(statements, vectors, weights=claim_weights).links}
    position = {s.ref: k for k, s in enumerate(statements)}
    vec = np.asarray(vectors, dtype=np.float32)
    cosines = np.array([float(vec[position[a]] @ vec[position[b]]) for a, b in pairs], dtype=np.float64)
    return StoryResult(
        story_id=item.story.story_id, pairs=pairs, scores=scores,
        linked=np.array([p in linked_set for p in pairs], dtype=bool),
        gold=np.array([p in item.gold for p in pairs], dtype=bool),
        texts={s.ref: s.text for s in statements}, events=len(events), statements=len(statements),
        claim_linked=np.array([p in claim_set for p in pairs], dtype=bool), cosines=cosines,
    )


def summarise(results: Sequence[StoryResult], *, threshold: float, errors: int = 5) -> dict[str, Any]:
    """Micro metrics over all stories, a P/R curve, and the worst false and missed links."""
    scores = np.concatenate([r.scores for r in results]) if results else np.zeros(0)
    gold = np.concatenate([r.gold for r in results]) if results else np.zeros(0, dtype=bool)
    linked = np.concatenate([r.linked for r in results]) if results else np.zeros(0, dtype=bool)
    p, r, f = prf(linked, gold)
    hits = n_p1 = 0.0
    for res in results:
        value, n = precision_at_1(res.pairs, res.scores, res.gold)
        hits += value * n
        n_p1 += n
    curve = []
    for t in CURVE_THRESHOLDS:
        cp, cr, cf = prf(scores >= t, gold)
        curve.append({"threshold": t, "precision": round(cp, 4), "recall": round(cr, 4), "f1": round(cf, 4)})
    best_t, best_f = best_threshold(scores, gold) if len(scores) else (threshold, 0.0)
    false_links, missed = [], []
    for res in results:
        for k in np.flatnonzero(res.linked & ~res.gold):
            false_links.append((float(res.scores[k]), res, int(k)))
        for k in np.flatnonzero(res.gold & ~res.linked):
            missed.append((float(res.scores[k]), res, int(k)))
    false_links.sort(key=lambda x: (-x[0], x[1].story_id, x[1].pairs[x[2]]))
    missed.sort(key=lambda x: (x[0], x[1].story_id, x[1].pairs[x[2]]))

    def describe(entry: tuple[float, StoryResult, int]) -> dict[str, Any]:
        score, res, k = entry
        a, b = res.pairs[k]
        return {"story": res.story_id, "score": round(score, 4),
                "a": {"doc_id": a.doc_id, "index": a.index, "text": res.texts.get(a, "")},
                "b": {"doc_id": b.doc_id, "index": b.index, "text": res.texts.get(b, "")}}

    n_statements = sum(r.statements for r in results)
    claim = np.concatenate([r.claim_linked for r in results if r.claim_linked is not None]) \
        if any(r.claim_linked is not None for r in results) else np.zeros(0, dtype=bool)
    cosines = np.concatenate([r.cosines for r in results if r.cosines is not None]) \
        if any(r.cosines is not None for r in results) else np.zeros(0)
    claim_level: dict[str, Any] = {}
    if len(claim) == len(gold) and len(cosines) == len(gold) and len(gold):
        cp, cr, cf = prf(claim, gold)
        cos_t, cos_f = best_threshold(cosines, gold)
        claim_level = {
            "claim_links": int(claim.sum()),
            "claim_links_per_statement": round(int(claim.sum()) / max(n_statements, 1), 4),
            "claim_precision": round(cp, 4), "claim_recall": round(cr, 4), "claim_f1": round(cf, 4),
            "cosine_best_threshold": round(cos_t, 4), "cosine_best_f1": round(cos_f, 4),
            "cosine_links_per_statement": round(int((cosines >= cos_t).sum()) / max(n_statements, 1), 4),
        }
    return {
        **claim_level,
        "stories": len(results),
        "statements": n_statements,
        "pairs": len(scores),
        "gold_pairs": int(gold.sum()),
        "links": int(linked.sum()),
        "events": sum(r.events for r in results),
        "threshold": threshold,
        "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
        "average_precision": round(average_precision(scores, gold), 4),
        "precision_at_1": round(hits / n_p1, 4) if n_p1 else 0.0,
        "precision_at_1_n": int(n_p1),
        "best_threshold": round(best_t, 4), "best_f1": round(best_f, 4),
        "curve": curve,
        "false_links": [describe(e) for e in false_links[:errors]],
        "missed_links": [describe(e) for e in missed[:errors]],
    }


def evaluate(items: Sequence[EvalStory], embedder: Any, *, threshold: float | None = None, weights: Any = None,
             cache: Any = None, on_story: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Evaluate every story; `on_story(done, total)` reports progress."""
    from compare.align.scorer import default_weights

    weights = weights or default_weights(embedder.name)
    threshold = weights.threshold if threshold is None else threshold
    results = []
    for n, item in enumerate(items, start=1):
        results.append(evaluate_story(item, embedder, threshold=threshold, weights=weights, cache=cache))
        if on_story:
            on_story(n, len(items))
    summary = summarise(results, threshold=threshold)
    summary["model"] = embedder.name
    summary["scorer"] = weights.version
    summary["scorer_backend"] = weights.backend
    return summary


def dataset_languages(per_document: Sequence[str], *, min_share: float = 0.02) -> list[str]:
    """Languages of at least `min_share` of the documents: one misdetected page must not switch models."""
    counts: dict[str, int] = defaultdict(int)
    for lang in per_document:
        counts[lang] += 1
    total = max(len(per_document), 1)
    return sorted(lang for lang, n in counts.items() if n / total >= min_share) or sorted(counts)


def format_summary(s: dict[str, Any]) -> str:
    """Plain-text report of `summarise` output."""
    lines = [
        f"{s.get('dataset', '')}: {s['stories']} stories, {s['statements']} statements, "
        f"{s['pairs']} scored pairs ({s['gold_pairs']} gold), {s['links']} links, {s['events']} events",
        f"model {s.get('model')}, scorer {s.get('scorer')}, threshold {s['threshold']}",
        "",
        "event level (--granularity event) against the same-event gold:",
        f"pair precision  {s['precision']:.3f}",
        f"pair recall     {s['recall']:.3f}",
        f"pair F1         {s['f1']:.3f}",
        f"average precision {s['average_precision']:.3f}",
        f"precision@1     {s['precision_at_1']:.3f}  (n={s['precision_at_1_n']})",
        f"best F1 on this data {s['best_f1']:.3f} at threshold {s['best_threshold']}",
        "",
    ]
    if "claim_links_per_statement" in s:
        lines += [
            "claim level (the default aligner) on this event-level gold:",
            f"  claim links per statement {s['claim_links_per_statement']:.2f}  (embedding cosine at its best "
            f"threshold {s['cosine_best_threshold']}: {s['cosine_links_per_statement']:.2f}, "
            f"F1 {s['cosine_best_f1']:.3f})",
            f"  claim links vs same-event gold: P {s['claim_precision']:.3f}  R {s['claim_recall']:.3f}  "
            f"F1 {s['claim_f1']:.3f}  (a claim link is narrower than an event link: low recall is expected)",
            "",
        ]
    lines += [
        "threshold  precision  recall  F1",
    ]
    for row in s["curve"]:
        mark = " <" if abs(row["threshold"] - s["threshold"]) < 1e-9 else ""
        lines.append(f"  {row['threshold']:.2f}     {row['precision']:.3f}    {row['recall']:.3f}  "
                     f"{row['f1']:.3f}{mark}")
    for title, key in (("highest-scoring false links", "false_links"), ("lowest-scoring missed gold pairs",
                                                                          "missed_links")):
        lines += ["", f"{title}:"]
        for e in s[key]:
            lines.append(f"  {e['score']:.3f}  {e['story']}  {e['a']['doc_id']}#{e['a']['index']} ~ "
                         f"{e['b']['doc_id']}#{e['b']['index']}")
            lines.append(f"      A: {_clip(e['a']['text'])}")
            lines.append(f"      B: {_clip(e['b']['text'])}")
        if not s[key]:
            lines.append("  (none)")
    return "\n".join(lines)


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
