"""Claim-level gold: load it, fit the claim scorer, and measure it out of fold by story.

The gold format is the one of `../shared/eval/claims_dev.jsonl` and `corpora/claim_gold/` (described in
`docs/claim-gold.md`): per story, documents with their sentences and two or more independent annotators'
lists of same-claim pairs. Scoring follows `../shared/eval/claims-guide.md`: sure pairs are listed by every
annotator, possible pairs by any; link precision is against possible pairs, recall against sure ones.

Every figure here is out of fold: for each story, the scorer (and its threshold) is fitted on the other
stories only, and the baselines' thresholds are chosen the same way, in the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from compare.align.claims import (
    ClaimWeights,
)
from compare.evaluation.claim_differences import difference_report
from compare.evaluation.claim_gold import ClaimStory, StoryPairs, annotator_agreement, story_pairs
from compare.evaluation.claim_metrics import (
    THRESHOLD_BETA,
    baselines,
    cross_validate,
    decide,
    event_pair_precision,
    link_metrics,
    scorer_scores,
)

# ------------------------------------------------------------------------------------------ report

def shipped_metrics(parts: Sequence[StoryPairs], weights: ClaimWeights) -> dict[str, Any]:
    """The packaged scorer as it is (fitted on the shipped gold: on that gold, not an accuracy figure)."""
    scores = [scorer_scores(p, weights.monolingual, weights.crosslingual) for p in parts]
    linked = [decide(p, s, weights.threshold) for p, s in zip(parts, scores, strict=True)]
    return {"method": f"shipped scorer {weights.version} (threshold {weights.threshold:.3f})",
            **link_metrics(parts, linked), **event_pair_precision(parts, scores, weights.threshold)}


def claim_summary(stories: Sequence[ClaimStory], embedder: Any, *, cache: Any = None,
                  on_story: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Everything `storydiff eval` prints for claim gold: agreement, out-of-fold scorer, baselines."""
    from compare.align.claims import default_claim_weights

    parts = []
    for n, item in enumerate(stories, start=1):
        parts.append(story_pairs(item, embedder, cache))
        if on_story:
            on_story(n, 2 * len(stories))
    cv = cross_validate(parts, on_fold=(lambda d, t: on_story(len(stories) + d, 2 * len(stories)))
                        if on_story else None)
    from compare.config import DEFAULT_MIN_CONFIDENCE

    differences = difference_report(parts, cv, min_confidence=DEFAULT_MIN_CONFIDENCE)
    differences.pop("_judged")
    for key in ("_linked", "_scores", "_thresholds"):
        cv.pop(key)
    rows = [cv, *baselines(parts), shipped_metrics(parts, default_claim_weights(embedder.name))]
    return {
        "kind": "claim",
        "model": embedder.name,
        "stories": len(stories),
        "statements": sum(len(p.statements) for p in parts),
        "sure_pairs": sum(p.n_sure for p in parts),
        "possible_pairs": sum(int(p.possible.sum()) for p in parts),
        "agreement": annotator_agreement(stories),
        "threshold_rule": f"F{THRESHOLD_BETA:g} on the training stories",
        "methods": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows],
        "differences": differences,
    }


def format_claim_summary(s: dict[str, Any]) -> str:
    agreement = s["agreement"]
    lines = [
        f"{s.get('dataset', '')}: {s['stories']} stories, {s['statements']} statements, "
        f"{s['sure_pairs']} sure / {s['possible_pairs']} possible same-claim pairs",
        f"annotator agreement (pair F1): {agreement['f1']:.3f}",
        f"model {s['model']}; thresholds chosen by {s['threshold_rule']}; leave-one-story-out",
        "",
        f"{'method':<72} {'P':>6} {'R':>6} {'F1':>6} {'links/stmt':>10}",
    ]
    for row in s["methods"]:
        lines.append(f"{row['method'][:72]:<72} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f} "
                     f"{row['links_per_statement']:>10.2f}")
    cv = s["methods"][0]
    lines += ["", "P: links that are possible gold pairs; R: sure gold pairs linked (Och & Ney).",
              f"claim events (out of fold): {cv['events']}, pairs inside them that are gold pairs: "
              f"{cv['event_pair_precision']:.3f} of {cv['event_pairs']}",
              "the shipped scorer's row is fitted on the shipped gold: on that gold it is not an accuracy figure.",
              "", "per story (out of fold):"]
    for row in cv["per_story"]:
        lines.append(f"  {row['story']:<16} statements {row['statements']:>4}  sure {row['sure']:>4}  "
                     f"P {row['precision']:.2f}  R {row['recall']:.2f}  F1 {row['f1']:.2f}")
    diff = s.get("differences")
    if diff:
        lines += ["", f"differences (claim scorer and confidence model both out of fold): {diff['differences']} "
                      f"reported, right {diff['precision']}; shown at --min-confidence {diff['min_confidence']}: "
                      f"{diff['shown']}, right {diff['shown_precision']}; calibration error (ECE) {diff['ece']}",
                  f"  {'type':<12} {'reported':>8} {'right':>6} {'shown':>6} {'right':>6} {'recall':>7} {'gold':>5}"]
        for row in diff["per_type"]:
            def fmt(value: Any) -> str:
                return "-" if value is None else f"{value:.2f}"
            lines.append(f"  {row['type']:<12} {row['reported']:>8} {fmt(row['precision']):>6} {row['shown']:>6} "
                         f"{fmt(row['shown_precision']):>6} {fmt(row['recall']):>7} {row['gold']:>5}")
        lines += ["  reliability (confidence bin: mean confidence, share right):"]
        lines += [f"    {r['bin']}  n={r['n']:>4}  {r['confidence']:.3f}  {r['right']:.3f}"
                  for r in diff["reliability"]]
        lines += ["right: by ../shared/eval/claims-guide.md section 4; recall: sure gold (pair, type) items covered."]
    return "\n".join(lines)
