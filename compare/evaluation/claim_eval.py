"""Claim-level gold: load it, fit the claim scorer, and measure it out of fold by story.

The gold format is the one of `../shared/eval/claims_dev.jsonl` and `corpora/claim_gold/` (described in
`docs/claim-gold.md`): per story, documents with their sentences and two or more independent annotators'
lists of same-claim pairs. Scoring follows `../shared/eval/claims-guide.md`: sure pairs are listed by every
annotator, possible pairs by any; link precision is against possible pairs, recall against sure ones.

Every figure here is out of fold: for each story, the scorer (and its threshold) is fitted on the other
stories only, and the baselines' thresholds are chosen the same way, in the same run.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    pair_blocks,
)
from compare.corpus.story import Story, story_from_json
from compare.errors import CorpusError
from compare.model import Link, Statement, StatementRef

Pair = tuple[StatementRef, StatementRef]
DIFFERENCE_TYPES = ("number", "date", "place", "entity", "attribution", "hedging", "negation", "wording")


@dataclass(frozen=True)
class GoldPair:
    a: StatementRef
    b: StatementRef
    annotators: frozenset[str]
    differences: frozenset[str]  # difference types any annotator listed on this pair
    words: tuple[tuple[str, str, str], ...] = ()  # (type, a_words, b_words) as annotated


@dataclass(frozen=True)
class ClaimStory:
    """A story with its claim gold: `pairs` keyed (a, b) with a < b."""

    story: Story
    annotators: frozenset[str]
    pairs: dict[Pair, GoldPair]

    @property
    def sure(self) -> frozenset[Pair]:
        return frozenset(k for k, g in self.pairs.items() if g.annotators >= self.annotators)

    @property
    def possible(self) -> frozenset[Pair]:
        return frozenset(self.pairs)


def _ref(value: Any, sizes: dict[str, int | None], where: str) -> StatementRef:
    """A pair end [doc_id, sentence index]; `sizes` gives each document's sentence count (None: not known
    before segmentation)."""
    if not (isinstance(value, list) and len(value) == 2 and value[0] in sizes and isinstance(value[1], int)
            and not isinstance(value[1], bool)):
        raise CorpusError(f"{where}: a pair end must be [doc_id, sentence index], got {value!r}.")
    size = sizes[value[0]]
    if value[1] < 0 or (size is not None and value[1] >= size):
        raise CorpusError(f"{where}: pair end {value!r}: document {value[0]!r} has no sentence {value[1]} "
                          f"({size} sentences, numbered from 0).")
    return StatementRef(str(value[0]), int(value[1]))


def claim_story_from_json(data: dict[str, Any], *, source: str) -> ClaimStory:
    story = story_from_json(data, source=source)
    sizes = {d.doc_id: len(d.sentences) if d.sentences is not None else None for d in story.documents}
    annotations = data.get("annotations")
    if not isinstance(annotations, list) or len(annotations) < 2:
        raise CorpusError(f"{source}: claim gold needs 'annotations' from at least two annotators.")
    names: set[str] = set()
    merged: dict[Pair, dict[str, Any]] = {}
    for n, annotation in enumerate(annotations):
        if not isinstance(annotation, dict) or not isinstance(annotation.get("pairs") or [], list):
            raise CorpusError(f"{source}: annotations[{n}] must be an object with a 'pairs' list.")
        name = str(annotation.get("annotator", n))
        if name in names:
            raise CorpusError(f"{source}: annotator {name!r} is listed twice; claim gold needs two or more "
                              "different annotators.")
        names.add(name)
        for entry in annotation.get("pairs") or []:
            differences = (entry.get("differences") or []) if isinstance(entry, dict) else None
            if not isinstance(differences, list) or not all(isinstance(d, dict) for d in differences):
                raise CorpusError(f"{source}: annotations[{n}]: each pair must be an object with 'a', 'b' and "
                                  f"an optional 'differences' list of objects, got {entry!r}.")
            a = _ref(entry.get("a"), sizes, source)
            b = _ref(entry.get("b"), sizes, source)
            if a.doc_id == b.doc_id:
                continue
            key = (a, b) if a < b else (b, a)
            slot = merged.setdefault(key, {"annotators": set(), "types": set(), "words": []})
            slot["annotators"].add(name)
            for diff in differences:
                kind = str(diff.get("type", ""))
                if kind not in DIFFERENCE_TYPES:
                    raise CorpusError(f"{source}: unknown difference type {kind!r}; use one of {DIFFERENCE_TYPES}.")
                slot["types"].add(kind)
                aw, bw = str(diff.get("a_words", "")), str(diff.get("b_words", ""))
                slot["words"].append((kind, aw, bw) if key[0] == a else (kind, bw, aw))
    pairs = {k: GoldPair(k[0], k[1], frozenset(v["annotators"]), frozenset(v["types"]), tuple(v["words"]))
             for k, v in merged.items()}
    return ClaimStory(story, frozenset(names), pairs)


def load_claim_gold(path: str | Path) -> list[ClaimStory]:
    """Every story of a claim-gold JSON Lines file."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file. Pass a claim-gold JSON Lines file.")
    out = []
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}: invalid JSON at line {lineno}, column {exc.colno}: {exc.msg}.") from exc
        out.append(claim_story_from_json(data, source=f"{path}:{lineno}"))
    if not out:
        raise CorpusError(f"{path}: no stories in this file.")
    return out


def is_claim_gold(path: str | Path) -> bool:
    """Whether the first story of a JSON Lines file carries claim annotations (not ECB+ gold_pairs)."""
    try:
        with Path(path).open("rb") as handle:
            first = handle.readline(64 * 1024 * 1024)
        return "annotations" in json.loads(first.decode("utf-8-sig"))
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------------------------ agreement

def annotator_agreement(stories: Sequence[ClaimStory]) -> dict[str, float]:
    """Pair F1 of one annotator's list against the other's (micro over stories; first two annotators)."""
    tp = n_first = n_second = 0
    for item in stories:
        names = sorted(item.annotators)[:2]
        first = {k for k, g in item.pairs.items() if names[0] in g.annotators}
        second = {k for k, g in item.pairs.items() if names[1] in g.annotators}
        tp += len(first & second)
        n_first += len(first)
        n_second += len(second)
    p = tp / n_second if n_second else 0.0
    r = tp / n_first if n_first else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "pairs_first": n_first, "pairs_second": n_second,
            "pairs_both": tp}


# ---------------------------------------------------------------------------------- the features

@dataclass
class StoryPairs:
    """Every cross-document pair of one story with features, and its gold labels."""

    story_id: str
    statements: tuple[Statement, ...]
    pos_a: np.ndarray
    pos_b: np.ndarray
    features: dict[str, np.ndarray]
    crosslingual: np.ndarray
    claimless: np.ndarray
    candidate: np.ndarray  # among the pairs the aligner scores (CANDIDATES_PER_SIDE)
    block: np.ndarray  # which document pair
    sure: np.ndarray
    possible: np.ndarray
    n_sure: int
    gold: ClaimStory = field(repr=False)

    def refs(self, k: int) -> Pair:
        return self.statements[int(self.pos_a[k])].ref, self.statements[int(self.pos_b[k])].ref


def story_pairs(item: ClaimStory, embedder: Any, cache: Any = None) -> StoryPairs:
    """Segment and embed one gold story as the pipeline does, and featurise every cross-document pair."""
    from compare.align.claims import CANDIDATES_PER_SIDE
    from compare.pipeline import embed_statements, segment_documents

    statements = segment_documents(item.story.documents)
    vectors = embed_statements(statements, embedder, cache)
    full = list(pair_blocks(statements, vectors, per_side=None))
    cand = {(int(x), int(y)) for b in pair_blocks(statements, vectors, per_side=CANDIDATES_PER_SIDE)
            for x, y in zip(b.pos_a, b.pos_b, strict=True)}
    pos_a = np.concatenate([b.pos_a for b in full]) if full else np.zeros(0, dtype=np.int64)
    pos_b = np.concatenate([b.pos_b for b in full]) if full else np.zeros(0, dtype=np.int64)
    feats = {f: np.concatenate([b.features[f] for b in full]) for f in CLAIM_FEATURES} if full else {}
    block = np.concatenate([np.full(len(b.pos_a), n) for n, b in enumerate(full)]) if full else np.zeros(0)
    cross = np.concatenate([b.crosslingual for b in full]) if full else np.zeros(0, dtype=bool)
    claimless = np.concatenate([b.claimless for b in full]) if full else np.zeros(0, dtype=bool)
    refs = [(statements[int(x)].ref, statements[int(y)].ref) for x, y in zip(pos_a, pos_b, strict=True)]
    keys = [(a, b) if a < b else (b, a) for a, b in refs]
    sure, possible = item.sure, item.possible
    return StoryPairs(
        story_id=item.story.story_id, statements=statements, pos_a=pos_a, pos_b=pos_b, features=feats,
        crosslingual=cross, claimless=claimless,
        candidate=np.array([(int(x), int(y)) in cand for x, y in zip(pos_a, pos_b, strict=True)], dtype=bool),
        block=block, sure=np.array([k in sure for k in keys], dtype=bool),
        possible=np.array([k in possible for k in keys], dtype=bool), n_sure=len(sure), gold=item,
    )


# ------------------------------------------------------------------------------- fitting, scoring

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


# ------------------------------------------------------------------------------ cross-validation

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


# ------------------------------------------------------------------------------------- differences

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
