"""Differences on claim gold: judging each difference against the annotation, fitting the difference
confidence and its reliability."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare.align.claims import (
    EVENT_FLOOR_SHARE,
    claim_events,
)
from compare.evaluation.claim_gold import DIFFERENCE_TYPES, ClaimStory, StoryPairs
from compare.model import Link, StatementRef


@dataclass(frozen=True)
class JudgedDifference:
    """A reported difference on a gold story, judged by the guide's rules (section 4)."""

    story_id: str
    difference: Any  # compare.model.Difference
    right: bool
    features: dict[str, float]  # compare.differ.confidence.CONFIDENCE_FEATURES


def _evidence_refs(difference: Any) -> list[StatementRef]:
    return sorted({StatementRef(e.doc_id, e.index) for e in difference.evidence})


def judge_difference(difference: Any, gold: ClaimStory) -> bool:
    """Right when two evidence statements of different outlets are a possible gold pair listing the type;
    an omission is right when no evidence statement has a possible partner in an outlet named missing."""
    refs = _evidence_refs(difference)
    if difference.type.value == "omission":
        missing = set(difference.missing)
        return all(not ((a in refs and b.doc_id in missing) or (b in refs and a.doc_id in missing))
                   for a, b in gold.pairs)
    kind = difference.type.value
    for i, x in enumerate(refs):
        for y in refs[i + 1:]:
            if x.doc_id == y.doc_id:
                continue
            pair = gold.pairs.get((x, y) if x < y else (y, x))
            if pair is not None and kind in pair.differences:
                return True
    return False


def story_differences(part: StoryPairs, score: np.ndarray, threshold: float
                      ) -> tuple[tuple[Any, ...], tuple[Any, ...], dict[frozenset[StatementRef], float]]:
    """Events, differences and the kept pair scores of one gold story, as the pipeline makes them."""
    from compare.align.events import unique_statements
    from compare.differ.detect import find_differences

    floor = EVENT_FLOOR_SHARE * threshold
    keep = np.flatnonzero(part.candidate & ~part.claimless & (score >= floor))
    pairs = [Link(*part.refs(int(i)), score=float(score[i]), cosine=0.0, fuzzy=0.0) for i in keep]
    events = claim_events(part.statements, pairs, threshold=threshold, floor=floor)
    unique = unique_statements(part.statements, events)
    differences = find_differences(part.gold.story.documents, part.statements, events, unique)
    return events, differences, {frozenset((lk.a, lk.b)): lk.score for lk in pairs}


def judged_differences(parts: Sequence[StoryPairs], scores: Sequence[np.ndarray],
                       thresholds: Sequence[float]) -> tuple[list[JudgedDifference], dict[str, int]]:
    """Every difference reported on the gold stories, judged; and per type, gold (sure pair, type) items
    covered by a reported difference of that type, with the number of such gold items (recall)."""
    judged: list[JudgedDifference] = []
    covered: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    from compare.differ.confidence import difference_features

    for part, score, t in zip(parts, scores, thresholds, strict=True):
        events, differences, pair_scores = story_differences(part, score, t)
        by_id = {e.event_id: e for e in events}
        doc_refs: dict[str, list[StatementRef]] = defaultdict(list)
        for statement in part.statements:
            doc_refs[statement.doc_id].append(statement.ref)
        for d in differences:
            feats = difference_features(d, by_id.get(d.event_id or ""), pair_scores, doc_refs, len(doc_refs))
            judged.append(JudgedDifference(part.story_id, d, judge_difference(d, part.gold), feats))
        sure = part.gold.sure
        for key, pair in part.gold.pairs.items():
            if key not in sure:
                continue
            for kind in pair.differences:
                total[kind] += 1
                if any(d.type.value == kind and {key[0], key[1]} <= set(_evidence_refs(d)) for d in differences):
                    covered[kind] += 1
    return judged, {**{f"covered:{k}": v for k, v in covered.items()}, **{f"gold:{k}": v for k, v in total.items()}}


def fit_confidence(judged: Sequence[JudgedDifference], *, c: float = 1.0) -> Any:
    """Logistic P(right) over CONFIDENCE_FEATURES (compare.differ.confidence)."""
    from sklearn.linear_model import LogisticRegression

    from compare.differ.confidence import CONFIDENCE_FEATURES, ConfidenceModel

    x = np.array([[j.features[f] for f in CONFIDENCE_FEATURES] for j in judged])
    y = np.array([j.right for j in judged])
    if len(set(y.tolist())) < 2:
        return ConfidenceModel(CONFIDENCE_FEATURES, (0.0,) * len(CONFIDENCE_FEATURES), 0.0 if y.all() else -5.0)
    model = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    return ConfidenceModel(CONFIDENCE_FEATURES, tuple(float(v) for v in model.coef_[0]),
                           float(model.intercept_[0]))


def reliability(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error (equal-width bins, weighted by count) and the reliability table."""
    table, ece = [], 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for k, (lo, hi) in enumerate(itertools.pairwise(edges)):
        sel = (confidence >= lo) & ((confidence < hi) if k < bins - 1 else (confidence <= hi))
        if not sel.any():
            continue
        mean_conf, share_right = float(confidence[sel].mean()), float(right[sel].mean())
        ece += sel.sum() / len(confidence) * abs(mean_conf - share_right)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(sel.sum()), "confidence": round(mean_conf, 3),
                      "right": round(share_right, 3)})
    return ece, table


def difference_report(parts: Sequence[StoryPairs], cv: dict[str, Any], *, min_confidence: float
                      ) -> dict[str, Any]:
    """Differences on the gold, from out-of-fold claim scores: precision and recall per type, and the
    confidence model fitted leave-one-story-out (its calibration, and what passes `min_confidence`)."""
    judged, counts = judged_differences(parts, cv["_scores"], cv["_thresholds"])
    stories = sorted({j.story_id for j in judged})
    confidence = np.zeros(len(judged))
    for story in stories:
        train = [j for j in judged if j.story_id != story]
        model = fit_confidence(train)
        for k, j in enumerate(judged):
            if j.story_id == story:
                confidence[k] = model.probability(j.features)
    right = np.array([j.right for j in judged], dtype=bool)
    ece, table = reliability(confidence, right) if len(judged) else (0.0, [])
    per_type = []
    for kind in (*DIFFERENCE_TYPES, "omission"):
        sel = np.array([j.difference.type.value == kind for j in judged], dtype=bool)
        shown = sel & (confidence >= min_confidence)
        gold = counts.get(f"gold:{kind}", 0)
        per_type.append({
            "type": kind, "reported": int(sel.sum()), "right": int((sel & right).sum()),
            "precision": round(float(right[sel].mean()), 3) if sel.any() else None,
            "shown": int(shown.sum()),
            "shown_precision": round(float(right[shown].mean()), 3) if shown.any() else None,
            "gold": gold, "recall": round(counts.get(f"covered:{kind}", 0) / gold, 3) if gold else None,
        })
    shown = confidence >= min_confidence
    return {"differences": len(judged), "precision": round(float(right.mean()), 3) if len(judged) else None,
            "shown": int(shown.sum()), "min_confidence": min_confidence,
            "shown_precision": round(float(right[shown].mean()), 3) if shown.any() else None,
            "ece": round(ece, 4), "reliability": table, "per_type": per_type, "_judged": judged}
