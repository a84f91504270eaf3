"""Slow reference implementations (all pairs, exact linkage) that tests check the fast paths against."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from compare.align.context import one_blas_thread, row_products, story_context
from compare.align.features import _candidates, _logit, block_features, score_block, sigmoid
from compare.align.links import TOP_K, link_columns, make_links, story_refs
from compare.align.scorer import ScorerWeights, default_weights
from compare.model import Event, Link, LinkTable, Statement, StatementRef


@one_blas_thread
def reference_links(statements: Sequence[Statement], vectors: np.ndarray, *, threshold: float | None = None,
                    weights: ScorerWeights | None = None, top_k: int | None = TOP_K) -> LinkTable:
    """Brute force: score every pair, keep the top-k candidates at or above the threshold (tests compare
    the pruned path against it)."""
    weights = weights or default_weights()
    threshold = weights.threshold if threshold is None else threshold
    ctx = story_context(statements, vectors)
    columns = []
    for a, ra, later, cos_later in row_products(ctx.vectors, ctx.rows, ctx.doc_ids):
        for b, lo, hi in later:  # the same cosine products as the fast path (BLAS rounding differs by shape)
            rb = ctx.rows[ctx.doc_ids[b]]
            feats = block_features(ctx, a, b, weights=weights, cos=cos_later[:, lo:hi])
            score = sigmoid(_logit(weights, feats))
            keep = (score >= threshold) & _candidates(_logit(weights, feats, skip="fuzzy"), top_k)
            columns.append(link_columns(ra, rb, keep, score, feats))
    refs, rank = story_refs(ctx)
    return make_links(refs, rank, columns)


@one_blas_thread
def all_pair_scores(statements: Sequence[Statement], vectors: np.ndarray, *,
                    weights: ScorerWeights | None = None) -> dict[tuple[StatementRef, StatementRef], float]:
    """Score of every cross-document pair, keyed (a, b) with a's document id first (for evaluation)."""
    weights = weights or default_weights()
    ctx = story_context(statements, vectors)
    out: dict[tuple[StatementRef, StatementRef], float] = {}
    for a, b in ctx.doc_pairs():
        ra, rb = ctx.rows[ctx.doc_ids[a]], ctx.rows[ctx.doc_ids[b]]
        score, _ = score_block(ctx, a, b, weights)
        left = [ctx.statements[p].ref for p in ra]
        right = [ctx.statements[p].ref for p in rb]
        for i, ref_a in enumerate(left):
            for j, ref_b in enumerate(right):
                out[(ref_a, ref_b)] = float(score[i, j])
    return out


def reference_events(statements: Sequence[Statement], links: Sequence[Link], *,
                 merge_threshold: float | None = None) -> tuple[Event, ...]:
    """Pure-Python average linkage with a heap (the reference `build_events` is tested against).

    Average-linkage clustering over link scores (a missing link counts 0): two groups merge only while
    the mean score over all their cross pairs reaches `merge_threshold` (default: the scorer's), so a
    chain of single links cannot join two events. Ties are broken by statement text, then document id,
    so the result does not depend on input order. Event ids follow size, then content.
    """
    merge = default_weights().merge_threshold if merge_threshold is None else merge_threshold
    text_of = {s.ref: s.text for s in statements}
    nodes = sorted({r for lk in links for r in (lk.a, lk.b)}, key=lambda r: (text_of.get(r, ""), r.doc_id, r.index))
    if not nodes:
        return ()
    node_id = {r: n for n, r in enumerate(nodes)}  # content order, not input order
    members: dict[int, list[int]] = {n: [n] for n in range(len(nodes))}
    sums: dict[int, dict[int, float]] = defaultdict(dict)
    pair_score: dict[tuple[int, int], float] = {}
    for lk in links:
        x, y = node_id[lk.a], node_id[lk.b]
        if x == y:
            continue
        key = (min(x, y), max(x, y))
        pair_score[key] = max(pair_score.get(key, 0.0), lk.score)
    for (x, y), s in pair_score.items():
        sums[x][y] = s
        sums[y][x] = s
    heap = [(-s, x, y) for (x, y), s in pair_score.items() if s >= merge]
    heapq.heapify(heap)
    alive = set(members)
    while heap:
        neg, x, y = heapq.heappop(heap)
        if x not in alive or y not in alive:
            continue
        current = sums[x].get(y, 0.0) / (len(members[x]) * len(members[y]))
        if abs(current + neg) > 1e-12:
            continue  # stale entry
        # merge y into x (x < y keeps the smaller, content-first id)
        keep, gone = (x, y) if x < y else (y, x)
        alive.discard(gone)
        members[keep] = members[keep] + members.pop(gone)
        for other, s in sums.pop(gone).items():
            if other == keep:
                continue
            sums[other].pop(gone, None)
            sums[keep][other] = sums[keep].get(other, 0.0) + s
            sums[other][keep] = sums[keep][other]
        sums[keep].pop(gone, None)
        for other, s in sums[keep].items():
            avg = s / (len(members[keep]) * len(members[other]))
            if avg >= merge:
                heapq.heappush(heap, (-avg, min(keep, other), max(keep, other)))
    events = []
    for cluster in alive:
        refs = sorted(nodes[n] for n in members[cluster])
        docs = sorted({r.doc_id for r in refs})
        if len(docs) < 2:
            continue
        ids = [node_id[r] for r in refs]
        inside = [pair_score[(p, q)] for p in ids for q in ids if p < q and (p, q) in pair_score]
        cohesion = sum(inside) / len(inside) if inside else 0.0
        first_text = min(text_of.get(r, "") for r in refs)
        events.append((refs, docs, cohesion, first_text))
    events.sort(key=lambda e: (-len(e[1]), -len(e[0]), e[3], e[0]))
    return tuple(
        Event(event_id=f"E{n}", members=tuple(m), doc_ids=tuple(d), cohesion=round(c, 6))
        for n, (m, d, c, _) in enumerate(events, start=1)
    )
