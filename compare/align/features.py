"""Pair features and scores: the feature block of candidate statement pairs, the candidate search and the
logistic score of a block."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from compare.align.context import (
    StoryContext,
    _doc_profile,
    _doc_rel,
    _incidence,
    one_blas_thread,
    profile_corr,
    row_corr,
)
from compare.align.scorer import FEATURES, SMALL_STORY_DOCS, ScorerWeights


def _anchor_overlap(ctx: StoryContext, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """Jaccard of the anchor sets of every pair (0 when either side has none)."""
    out = np.zeros((len(ra), len(rb)), dtype=np.float32)
    inc = ctx.anchor_matrix if ctx.anchor_matrix is not None else _incidence(ctx.anchor_sets)
    left, right = inc[ra], inc[rb]
    if left.nnz == 0 or right.nnz == 0:
        return out
    inter = np.asarray((left @ right.T).todense(), dtype=np.float32)
    size_a = np.asarray(left.sum(axis=1), dtype=np.float32).reshape(-1, 1)
    size_b = np.asarray(right.sum(axis=1), dtype=np.float32).reshape(1, -1)
    union = size_a + size_b - inter
    np.divide(inter, union, out=out, where=(size_a > 0) & (size_b > 0))
    return out


STRIP_FEATURES = ("tfidf", "overlap")  # sparse-product features computed once per strip, not per block


def strip_features(ctx: StoryContext, ra: np.ndarray, cols: np.ndarray, need: frozenset[str]
                    ) -> dict[str, np.ndarray]:
    """TF-IDF cosine and anchor Jaccard of document a's statements `ra` against all later documents'
    statements `cols`, in one sparse product each (31 small products per document cost 3-4x more in
    row slicing and call overhead). Column slices equal `block_features`' own values exactly: each entry
    is summed over the left row's non-zeros in the same order whatever the other columns are."""
    out: dict[str, np.ndarray] = {}
    if "tfidf" in need:
        out["tfidf"] = np.asarray((ctx.tfidf[ra] @ ctx.tfidf[cols].T).todense(), dtype=np.float32).reshape(
            len(ra), len(cols))
    if "overlap" in need:
        out["overlap"] = _anchor_overlap(ctx, ra, cols)
    return out


def _fuzzy(left: Sequence[str], right: Sequence[str], mask: np.ndarray | None) -> np.ndarray:
    """token_set_ratio / 100 for every pair, or only where `mask` is true (0 elsewhere)."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    if mask is None:
        return process.cdist(left, right, scorer=fuzz.token_set_ratio, processor=default_process,
                             dtype=np.float32, workers=1) / 100.0
    out = np.zeros(mask.shape, dtype=np.float32)
    rows_used = np.flatnonzero(mask.any(axis=1))
    cols_used = np.flatnonzero(mask.any(axis=0))
    if rows_used.size == 0:
        return out
    if mask.sum() * 4 >= rows_used.size * cols_used.size:  # dense enough: one C call on the sub-block
        sub = process.cdist([left[i] for i in rows_used.tolist()], [right[j] for j in cols_used.tolist()],
                            scorer=fuzz.token_set_ratio, processor=default_process, dtype=np.float32,
                            workers=1) / 100.0
        out[np.ix_(rows_used, cols_used)] = sub
        out[~mask] = 0.0
        return out
    ii, jj = np.nonzero(mask)  # sparse: one pairwise C call over the masked pairs
    out[ii, jj] = process.cpdist([left[i] for i in ii.tolist()], [right[j] for j in jj.tolist()],
                                 scorer=fuzz.token_set_ratio, processor=default_process, dtype=np.float32,
                                 workers=1) / 100.0
    return out


LINK_FIELDS = ("cosine", "fuzzy", "overlap")  # what a Link carries besides its score


def block_features(ctx: StoryContext, a: int, b: int, *, weights: ScorerWeights | None = None,
                   fuzzy_mask: np.ndarray | None = None, cos: np.ndarray | None = None,
                   need: frozenset[str] | None = None, scalars: bool = False,
                   given: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Feature matrices (n_a, n_b) for documents a < b of the story (all of FEATURES, or those in `need`).

    With `fuzzy_mask`, fuzzy is computed only where the mask is true (0 elsewhere); `cos` is the
    block's cosine matrix when the caller already has it; with `scalars`, document-level features are
    float32 scalars instead of constant matrices (they broadcast to the same sums); `given` holds
    feature matrices the caller already computed for this block (`strip_features`), used as they are.
    """
    ra, rb = ctx.rows[ctx.doc_ids[a]], ctx.rows[ctx.doc_ids[b]]
    shape = (len(ra), len(rb))
    wanted = set(FEATURES if need is None else need)
    if cos is None:
        cos = np.clip(ctx.vectors[ra] @ ctx.vectors[rb].T, -1.0, 1.0)
    cos = cos.astype(np.float32, copy=False)
    row_best = cos.max(axis=1, keepdims=True)
    col_best = cos.max(axis=0, keepdims=True)
    others = [c for c in range(len(ctx.doc_ids)) if c not in (a, b)]
    small = 1.0 if len(ctx.doc_ids) < SMALL_STORY_DOCS else 0.0

    def const(value: float) -> Callable[[], np.ndarray]:
        if scalars:
            return lambda: np.float32(value)  # type: ignore[return-value]
        return lambda: np.full(shape, value, dtype=np.float32)

    makers: dict[str, Callable[[], np.ndarray]] = {
        "cosine": lambda: cos,
        "cosine_z": lambda: (cos - ctx.cos_mean) / ctx.cos_std,
        "overlap": lambda: _anchor_overlap(ctx, ra, rb),
        "margin": lambda: 0.5 * ((cos - row_best) + (cos - col_best)),
        "mutual": lambda: ((cos >= row_best) & (cos >= col_best)).astype(np.float32),
        "profile": lambda: row_corr(ctx.profile[ra][:, others], ctx.profile[rb][:, others]),
        "doc_cosine": lambda: const(ctx.doc_cosine[a, b])(),
        "doc_match": lambda: const(ctx.doc_match[a, b])(),
        "doc_rel": lambda: const(_doc_rel(ctx, a, b))(),
        "doc_profile": lambda: const(_doc_profile(ctx, a, b))(),
        "doc_overlap": lambda: const(ctx.doc_overlap[a, b])(),
        "tfidf": lambda: np.asarray((ctx.tfidf[ra] @ ctx.tfidf[rb].T).todense(), dtype=np.float32).reshape(shape),
        "doc_tfidf": lambda: const(ctx.doc_tfidf[a, b])(),
        "doc_tfidf_profile": lambda: const(profile_corr(ctx.doc_tfidf, a, b))(),
        "doc_mds": lambda: const(ctx.doc_mds[a, b])(),
        "doc_tfidf_mds": lambda: const(ctx.doc_tfidf_mds[a, b])(),
        "small_story": const(small),
    }
    feats: dict[str, np.ndarray] = {}
    for name in FEATURES:
        if name == "fuzzy" or name not in wanted:
            continue
        feats[name] = given[name] if given and name in given else makers[name]()
    if "fuzzy" in wanted:
        if weights is not None and "fuzzy" not in weights.features:
            feats["fuzzy"] = np.zeros(shape, dtype=np.float32)
        else:
            texts_a = [ctx.statements[p].text for p in ra]
            texts_b = [ctx.statements[p].text for p in rb]
            feats["fuzzy"] = _fuzzy(texts_a, texts_b, fuzzy_mask)
    return feats


def needed(weights: ScorerWeights) -> frozenset[str]:
    """Features the scorer weighs (non-zero), those a Link carries, and what the small-story gate reads."""
    gate = {"small_story"} if weights.small_story_floor is not None else set()
    return (frozenset(n for n, c in zip(weights.features, weights.coef, strict=True) if c != 0.0)
            | set(LINK_FIELDS) | gate)


def _candidates(partial: np.ndarray, top_k: int | None) -> np.ndarray:
    """Pairs among the top k of their row or of their column by `partial` (ties kept): each statement
    keeps its k best partners in the other document. All pairs when k is None or the block is small."""
    n, m = partial.shape
    keep = np.zeros(partial.shape, dtype=bool)
    if top_k is None or (m <= top_k and n <= top_k):
        keep[:] = True
        return keep
    if m <= top_k:
        keep[:] = True
    else:
        kth = np.partition(partial, m - top_k, axis=1)[:, m - top_k][:, None]
        keep |= partial >= kth
    if n <= top_k:
        keep[:] = True
    else:
        kth = np.partition(partial, n - top_k, axis=0)[n - top_k][None, :]
        keep |= partial >= kth
    return keep


GATED_LOGIT = -60.0  # logit of a pair the small-story gate shuts (score ~1e-26)


def _logit(weights: ScorerWeights, feats: dict[str, np.ndarray], skip: str | None = None) -> np.ndarray:
    z = None
    for name, coef in zip(weights.features, weights.coef, strict=True):
        if name == skip or coef == 0.0:
            continue
        term = coef * feats[name].astype(np.float64)
        z = term if z is None else z + term
    shape = feats["cosine"].shape
    z = np.full(shape, weights.bias) if z is None else z + weights.bias
    if weights.small_story_floor is not None and float(np.max(feats["small_story"])) > 0:
        z = np.where(feats["cosine"] < weights.small_story_floor, GATED_LOGIT, z)
    return z


def sigmoid(z: np.ndarray) -> np.ndarray:
    probability: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
    return probability


@one_blas_thread
def score_block(ctx: StoryContext, a: int, b: int, weights: ScorerWeights
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores of every pair of documents a < b (brute force: fuzzy on every pair)."""
    feats = block_features(ctx, a, b, weights=weights)
    return sigmoid(_logit(weights, feats)), feats
