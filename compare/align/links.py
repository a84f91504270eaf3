"""Links: scored statement pairs across documents."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from compare.align.context import StoryContext, one_blas_thread, row_products, story_context
from compare.align.features import _candidates, _logit, block_features, needed, sigmoid, strip_features
from compare.align.fuzzy_pool import FuzzyPool
from compare.align.scorer import ScorerWeights, default_weights
from compare.model import LinkTable, Statement, StatementRef

# ------------------------------------------------------------------------------------------- links

def make_links(refs: Sequence[StatementRef], doc_rank: np.ndarray,
                columns: list[list[np.ndarray]]) -> LinkTable:
    """Kept pairs (positions a, b; score, cosine, fuzzy, overlap) as a LinkTable sorted by (a, b) with
    integer keys and rounded in bulk: no Python object per link unless someone reads them one by one."""
    if not columns or not any(len(c[0]) for c in columns):
        return LinkTable.empty()
    pos_a, pos_b, *values = (np.concatenate(parts) for parts in zip(*columns, strict=True))
    index = np.fromiter((r.index for r in refs), dtype=np.int64, count=len(refs))
    order = np.lexsort((index[pos_b], doc_rank[pos_b], index[pos_a], doc_rank[pos_a]))
    rounded = [np.round(v[order].astype(np.float64), 6) for v in values]
    return LinkTable(refs, pos_a[order].astype(np.int64), pos_b[order].astype(np.int64), *rounded)


def link_columns(ra: np.ndarray, rb: np.ndarray, keep: np.ndarray, score: np.ndarray,
                  feats: dict[str, np.ndarray]) -> list[np.ndarray]:
    keep_i, keep_j = np.nonzero(keep)
    return [ra[keep_i], rb[keep_j], score[keep_i, keep_j], feats["cosine"][keep_i, keep_j],
            feats["fuzzy"][keep_i, keep_j], feats["overlap"][keep_i, keep_j]]


def story_refs(ctx: StoryContext) -> tuple[list[StatementRef], np.ndarray]:
    refs = [s.ref for s in ctx.statements]
    rank = {d: n for n, d in enumerate(ctx.doc_ids)}
    return refs, np.fromiter((rank[s.doc_id] for s in ctx.statements), dtype=np.int64, count=len(refs))


TOP_K = 20  # partners kept per statement and document pair (before the threshold); None keeps all.
# ECB+ full articles (annotated pairs): k=5 cut recall .953 -> .861, k=10 -> .930, k=20 -> .948 (F1 .810).


@one_blas_thread
def link_statements(statements: Sequence[Statement], vectors: np.ndarray, *,
                    threshold: float | None = None, weights: ScorerWeights | None = None,
                    context: StoryContext | None = None, top_k: int | None = TOP_K) -> LinkTable:
    """Cross-document links scoring at least `threshold` (default: the scorer's own).

    A pair is a candidate when it is among the `top_k` partners (by its fuzzy-free score) of either
    statement in that document pair; memory and Link objects then grow with statements x documents, not
    with all pairs. Fuzzy matching (the slow feature) runs only on candidates whose score could still
    reach the threshold with a perfect fuzzy score, so the result equals `reference_links`.
    """
    weights = weights or default_weights()
    threshold = weights.threshold if threshold is None else threshold
    ctx = context or story_context(statements, vectors)
    cut = _logit_of(threshold)
    w_fuzzy = weights.weight("fuzzy")
    need = needed(weights) - {"fuzzy"}
    found: list[list[np.ndarray]] = []  # per strip: positions a, b; fuzzy-free logit, cosine, overlap
    with FuzzyPool(ctx, w_fuzzy != 0.0) as pool:
        for a, ra, later, cos_later in row_products(ctx.vectors, ctx.rows, ctx.doc_ids):
            cols = np.concatenate([ctx.rows[ctx.doc_ids[b]] for b, _, _ in later])
            strip = strip_features(ctx, ra, cols, need)
            blocks: list[list[np.ndarray]] = []
            for b, lo, hi in later:
                rb = ctx.rows[ctx.doc_ids[b]]
                given = {name: matrix[:, lo:hi] for name, matrix in strip.items()}
                feats = block_features(ctx, a, b, weights=weights, cos=cos_later[:, lo:hi], need=need,
                                       scalars=True, given=given)
                partial = _logit(weights, feats, skip="fuzzy")
                reach = partial + max(w_fuzzy, 0.0) >= cut - 1e-9
                if not reach.any():
                    continue
                keep_i, keep_j = np.nonzero(reach & _candidates(partial, top_k))
                blocks.append([ra[keep_i], rb[keep_j], partial[keep_i, keep_j], feats["cosine"][keep_i, keep_j],
                               feats["overlap"][keep_i, keep_j]])
            if blocks:
                found.append([np.concatenate(parts) for parts in zip(*blocks, strict=True)])
                pool.submit(found[-1][0], found[-1][1])
        fuzzy_parts = pool.results()
    refs, rank = story_refs(ctx)
    if not found:
        return LinkTable.empty()
    pos_a, pos_b, partial, cosine, overlap = (np.concatenate(parts) for parts in zip(*found, strict=True))
    fuzzy = np.concatenate(fuzzy_parts) / 100.0 if w_fuzzy != 0.0 else np.zeros(partial.shape, dtype=np.float32)
    score = sigmoid(partial + w_fuzzy * fuzzy.astype(np.float64))
    ok = score >= threshold
    return make_links(refs, rank, [[pos_a[ok], pos_b[ok], score[ok], cosine[ok], fuzzy[ok], overlap[ok]]])


def _logit_of(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))
