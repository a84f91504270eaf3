"""Claim-level metrics: fitting and scoring the claim scorer, link metrics, thresholds, baselines and
cross-validation (every figure out of fold)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from compare.align.claims import (
    CLAIM_FEATURES,
    CROSSLINGUAL_FEATURES,
    EVENT_FLOOR_SHARE,
    ClaimScorer,
    ClaimWeights,
    block_probability,
    claim_events,
)
from compare.errors import CorpusError
from compare.evaluation.claim_gold import StoryPairs
from compare.model import Link


def fit_scorer(parts: Sequence[StoryPairs], features: Sequence[str], *, c: float = 1.0) -> ClaimScorer:
    """Logistic regression on standardised features over candidate pairs; positives are possible pairs."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([np.column_stack([p.features[f][p.candidate] for f in features]) for p in parts])
    y = np.concatenate([p.possible[p.candidate] for p in parts])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale < 1e-9, 1.0, scale)
    model = LogisticRegression(C=c, max_iter=2000, class_weight=None)
    model.fit((x - mean) / scale, y)
    return ClaimScorer(features=tuple(features), coef=tuple(float(v) for v in model.coef_[0]),
                       bias=float(model.intercept_[0]), mean=tuple(float(v) for v in mean),
                       scale=tuple(float(v) for v in scale))


def decide(part: StoryPairs, score: np.ndarray, threshold: float, *, candidates_only: bool = True) -> np.ndarray:
    """Links: (candidate) pairs at or above `threshold`, as `compare.align.claims.align_claims` decides."""
    linked = (score >= threshold) & ~part.claimless
    return linked & part.candidate if candidates_only else linked


def link_metrics(parts: Sequence[StoryPairs], linked: Sequence[np.ndarray]) -> dict[str, float]:
    """Precision vs possible, recall vs sure (sure pairs outside the scored pairs count as missed)."""
    n_links = sum(int(k.sum()) for k in linked)
    right = sum(int((k & p.possible).sum()) for p, k in zip(parts, linked, strict=True))
    found = sum(int((k & p.sure).sum()) for p, k in zip(parts, linked, strict=True))
    n_sure = sum(p.n_sure for p in parts)
    n_statements = sum(len(p.statements) for p in parts)
    precision = right / n_links if n_links else 0.0
    recall = found / n_sure if n_sure else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "links": n_links,
            "links_per_statement": n_links / n_statements if n_statements else 0.0}


def best_threshold(parts: Sequence[StoryPairs], scores: Sequence[np.ndarray], *,
                   candidates_only: bool = True, beta: float = 1.0) -> float:
    """The cut-off with the best link F-beta on these stories (beta < 1 weighs precision more)."""
    pooled = np.concatenate([s[p.candidate] if candidates_only else s for p, s in zip(parts, scores, strict=True)])
    pooled = pooled[np.isfinite(pooled)]
    grid = np.unique(np.quantile(pooled, np.linspace(0.5, 0.999, 150))) if len(pooled) else np.array([0.5])
    best, best_f = float(grid[0]), -1.0
    for t in grid:
        m = link_metrics(parts, [decide(p, s, float(t), candidates_only=candidates_only)
                                 for p, s in zip(parts, scores, strict=True)])
        p_, r_ = m["precision"], m["recall"]
        f = (1 + beta**2) * p_ * r_ / (beta**2 * p_ + r_) if p_ + r_ else 0.0
        if f > best_f:
            best, best_f = float(t), f
    return best


def scorer_scores(part: StoryPairs, mono: ClaimScorer, cross: ClaimScorer) -> np.ndarray:
    weights = ClaimWeights(mono, cross, 0.5, "cv", "cv")
    return block_probability(_as_block(part), weights)


def _as_block(part: StoryPairs) -> Any:
    from compare.align.claims import PairBlock

    return PairBlock(part.pos_a, part.pos_b, part.features, part.crosslingual, part.claimless)


# The threshold maximises F-beta on the training stories with beta < 1: an editor forgives a missed pair
# sooner than an invented one, so precision weighs more than recall.
THRESHOLD_BETA = 0.5


def fit_weights(parts: Sequence[StoryPairs], *, backend: str, version: str, beta: float = THRESHOLD_BETA
                ) -> ClaimWeights:
    """Both sections and the threshold, fitted on `parts`."""
    mono = fit_scorer(parts, CLAIM_FEATURES)
    cross = fit_scorer(parts, CROSSLINGUAL_FEATURES)
    scores = [scorer_scores(p, mono, cross) for p in parts]
    threshold = best_threshold(parts, scores, beta=beta)
    return ClaimWeights(mono, cross, threshold, backend, version)


def weights_json(weights: ClaimWeights) -> dict[str, Any]:
    def section(s: ClaimScorer) -> dict[str, Any]:
        return {"features": list(s.features), "coef": [round(v, 6) for v in s.coef], "bias": round(s.bias, 6),
                "mean": [round(v, 6) for v in s.mean], "scale": [round(v, 6) for v in s.scale]}

    return {"monolingual": section(weights.monolingual), "crosslingual": section(weights.crosslingual),
            "threshold": round(weights.threshold, 6)}


def _baseline(name: str, parts: Sequence[StoryPairs], feature: str, *, mutual: bool, beta: float
              ) -> dict[str, Any]:
    """A single similarity, mutual best (or best in either direction) per document pair, threshold out of fold."""
    def scores(p: StoryPairs) -> np.ndarray:
        s = p.features[feature].astype(np.float64).copy()
        if mutual:
            s = np.where(p.features["mutual"] > 0 if feature == "cosine" else _mutual(p, feature), s, -np.inf)
        return s

    all_scores = [scores(p) for p in parts]
    linked = []
    for k, p in enumerate(parts):
        train = [q for j, q in enumerate(parts) if j != k]
        train_scores = [s for j, s in enumerate(all_scores) if j != k]
        finite = [np.where(np.isfinite(s), s, -1e9) for s in train_scores]
        t = best_threshold(train, finite, candidates_only=False, beta=beta)
        linked.append(decide(p, np.where(np.isfinite(all_scores[k]), all_scores[k], -1e9), t,
                             candidates_only=False))
    return {"method": name, **link_metrics(parts, linked)}


def _mutual(p: StoryPairs, feature: str) -> np.ndarray:
    out = np.zeros(len(p.pos_a), dtype=bool)
    s = p.features[feature]
    for blk in np.unique(p.block):
        idx = np.flatnonzero(p.block == blk)
        a, b, v = p.pos_a[idx], p.pos_b[idx], s[idx]
        best_a: dict[int, float] = {}
        best_b: dict[int, float] = {}
        for x, y, val in zip(a.tolist(), b.tolist(), v.tolist(), strict=True):
            best_a[x] = max(best_a.get(x, -1e9), val)
            best_b[y] = max(best_b.get(y, -1e9), val)
        out[idx] = [val >= best_a[x] and val >= best_b[y] for x, y, val in zip(a.tolist(), b.tolist(), v.tolist(),
                                                                               strict=True)]
    return out


def event_pair_precision(parts: Sequence[StoryPairs], scores: Sequence[np.ndarray], threshold: float | Sequence[float],
                         *, floor_share: float = EVENT_FLOOR_SHARE) -> dict[str, float]:
    """Claim events built as the pipeline builds them: the share of cross-outlet member pairs that are
    possible gold pairs, and the share of sure gold pairs that end up in one event."""
    thresholds = [threshold] * len(parts) if isinstance(threshold, float) else list(threshold)
    right = total = covered = events = 0
    for p, score, t in zip(parts, scores, thresholds, strict=True):
        keep = np.flatnonzero(p.candidate & ~p.claimless & (score >= floor_share * t))
        pairs = [Link(*p.refs(int(i)), score=float(score[i]), cosine=0.0, fuzzy=0.0) for i in keep]
        for event in claim_events(p.statements, pairs, threshold=t, floor=floor_share * t):
            events += 1
            members = sorted(event.members)
            for i, x in enumerate(members):
                for y in members[i + 1:]:
                    if x.doc_id != y.doc_id:
                        total += 1
                        right += (x, y) in p.gold.pairs
                        covered += (x, y) in p.gold.sure
    n_sure = sum(p.n_sure for p in parts)
    return {"events": events, "event_pair_precision": right / total if total else 0.0, "event_pairs": total,
            "event_pair_recall": covered / n_sure if n_sure else 0.0}


def cross_validate(parts: Sequence[StoryPairs], *, beta: float = THRESHOLD_BETA,
                   on_fold: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Leave-one-story-out: the claim scorer and its threshold fitted on the other stories."""
    if len(parts) < 2:
        raise CorpusError("claim evaluation fits the scorer on the other stories (leave one story out): "
                          f"pass at least two stories, got {len(parts)}.")
    linked, oof_scores, thresholds = [], [], []
    for k, p in enumerate(parts):
        train = [q for j, q in enumerate(parts) if j != k]
        weights = fit_weights(train, backend="cv", version="cv", beta=beta)
        score = scorer_scores(p, weights.monolingual, weights.crosslingual)
        oof_scores.append(score)
        thresholds.append(weights.threshold)
        linked.append(decide(p, score, weights.threshold))
        if on_fold:
            on_fold(k + 1, len(parts))
    result: dict[str, Any] = {"method": "storydiff claim scorer (out of fold)", **link_metrics(parts, linked)}
    result.update(event_pair_precision(parts, oof_scores, thresholds))
    per_story = []
    for p, story_links in zip(parts, linked, strict=True):
        m = link_metrics([p], [story_links])
        per_story.append({"story": p.story_id, "statements": len(p.statements), "sure": p.n_sure,
                          **{x: round(v, 4) if isinstance(v, float) else v for x, v in m.items()}})
    result["per_story"] = per_story
    result["_linked"] = linked
    result["_scores"] = oof_scores
    result["_thresholds"] = thresholds
    return result


def baselines(parts: Sequence[StoryPairs], *, beta: float = THRESHOLD_BETA) -> list[dict[str, Any]]:
    """Single similarities with a threshold chosen out of fold by the same rule as the scorer's."""
    return [
        _baseline("embedding cosine, mutual best", parts, "cosine", mutual=True, beta=beta),
        _baseline("TF-IDF cosine, mutual best", parts, "tfidf", mutual=True, beta=beta),
        _baseline("embedding cosine", parts, "cosine", mutual=False, beta=beta),
        _baseline("TF-IDF cosine", parts, "tfidf", mutual=False, beta=beta),
    ]
