"""Line up statements about the same event across N documents.

Every cross-document statement pair gets features: its embedding cosine (raw and relative to the
story), rapidfuzz token_set_ratio, shared numbers/dates/names, how it ranks among the pair's other
candidates, and context — how similar the two *documents* are and whether the two statements have the
same neighbours in the other outlets. Context matters because real feeds group look-alike stories
(two earthquakes, two rehab stays): the sentences can read alike while the documents are about
different events. A logistic scorer fitted on ECB+ dev with story-level cross-validation
(`benchmarks/fit_scorer.py`; weights per embedding backend in `compare/data/aligner.json`) turns the
features into a link probability in [0, 1]; a pair is a link when it reaches the threshold.

Events are built by average-linkage clustering over link scores, so a chain of weak links cannot
glue two events into one. Nothing depends on the order of documents or sentences; ties are broken
by content. The similarity work is blocked per document pair and fuzzy matching runs only on pairs
that can still reach the threshold, so memory grows with the links kept, not with all pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from operator import attrgetter

import numpy as np

from compare.align.scorer import default_weights
from compare.model import Event, Link, LinkTable, Statement, StatementRef

# ------------------------------------------------------------------------------------------ events

def build_events(statements: Sequence[Statement], links: Sequence[Link], *,
                 merge_threshold: float | None = None) -> tuple[Event, ...]:
    """Cohesive groups of linked statements spanning at least two documents.

    Average-linkage clustering over link scores (a missing link counts 0): two groups merge only while
    the mean score over all their cross pairs reaches `merge_threshold` (default: the scorer's), so a
    chain of single links cannot join two events. The clustering is vectorised over the sparse link
    matrix (`_rnn_average_linkage`); `reference_events` is the plain heap version it is tested against.
    Nodes are in content order (text, then document id), so the result does not depend on input order.
    Event ids follow size, then content.
    """
    merge = default_weights().merge_threshold if merge_threshold is None else merge_threshold
    text_of = {s.ref: s.text for s in statements}
    nodes, xs, ys = _link_nodes(statements, links)
    if not nodes:
        return ()
    n = len(nodes)
    if isinstance(links, LinkTable):
        sc = np.asarray(links.scores, dtype=np.float64)
    else:
        sc = np.fromiter(map(attrgetter("score"), links), dtype=np.float64, count=len(links))
    lo, hi = np.minimum(xs, ys), np.maximum(xs, ys)
    ok = lo != hi
    lo, hi, sc = lo[ok], hi[ok], sc[ok]
    # one score per pair: the highest (duplicates of a pair can only come from repeated links)
    order = np.lexsort((-sc, hi, lo))
    lo, hi, sc = lo[order], hi[order], sc[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, sc = lo[first], hi[first], sc[first]
    label = _rnn_average_linkage(n, lo, hi, sc, merge)
    next_label = int(label.max()) + 1
    # cohesion: mean score of the linked pairs inside each group
    inside = label[lo] == label[hi]
    sums = np.bincount(label[lo][inside], weights=sc[inside], minlength=next_label)
    counts = np.bincount(label[lo][inside], minlength=next_label)
    groups: dict[int, list[int]] = defaultdict(list)
    for node, g in enumerate(label.tolist()):
        groups[g].append(node)
    events = []
    for g, ids in groups.items():
        refs = sorted(nodes[k] for k in ids)
        docs = sorted({r.doc_id for r in refs})
        if len(docs) < 2:
            continue
        cohesion = float(sums[g] / counts[g]) if counts[g] else 0.0
        events.append((refs, docs, cohesion, text_of.get(nodes[ids[0]], "")))
    events.sort(key=lambda e: (-len(e[1]), -len(e[0]), e[3], e[0]))
    return tuple(
        Event(event_id=f"E{k}", members=tuple(m), doc_ids=tuple(d), cohesion=round(c, 6))
        for k, (m, d, c, _) in enumerate(events, start=1)
    )


def _link_nodes(statements: Sequence[Statement], links: Sequence[Link]
                ) -> tuple[list[StatementRef], np.ndarray, np.ndarray]:
    """The distinct link ends in content order (text, then document id, then index) and the node number of
    each link's two ends. Ends are keyed by integer (document code, index) pairs instead of hashing
    StatementRef objects (a Python-level hash: 1.7 million calls for 32 outlets x 200 statements)."""
    if not len(links):
        return [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if isinstance(links, LinkTable):  # ends are already integer positions into the story's refs
        key = np.concatenate([np.asarray(links.pos_a, dtype=np.int64), np.asarray(links.pos_b, dtype=np.int64)])
        positions, inverse = np.unique(key, return_inverse=True)
        distinct = [links.refs[k] for k in positions.tolist()]
    else:
        ends = [lk.a for lk in links]
        ends += [lk.b for lk in links]
        doc_ids = list(map(attrgetter("doc_id"), ends))
        code = {d: k for k, d in enumerate(set(doc_ids))}  # any code works: only equality is used
        doc = np.fromiter(map(code.__getitem__, doc_ids), dtype=np.int64, count=len(ends))
        index = np.fromiter(map(attrgetter("index"), ends), dtype=np.int64, count=len(ends))
        index_min = int(index.min())
        key = doc * (int(index.max()) - index_min + 1) + (index - index_min)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        distinct = [ends[k] for k in first.tolist()]
    text_of = {(s.doc_id, s.index): s.text for s in statements}
    order = sorted(range(len(distinct)),
                   key=lambda k: (text_of.get((distinct[k].doc_id, distinct[k].index), ""), distinct[k].doc_id,
                                  distinct[k].index))
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(distinct))
    node = rank[inverse.ravel()]
    return [distinct[k] for k in order], node[:len(links)], node[len(links):]


def _rnn_average_linkage(n: int, lo: np.ndarray, hi: np.ndarray, sc: np.ndarray, merge: float) -> np.ndarray:
    """Group label of each node: average linkage cut where the best average score falls below `merge`.

    Average linkage is reducible, so every pair of groups that are each other's best neighbour can merge
    at once without changing the tree (the nearest-neighbour-chain argument); each round merges all such
    pairs with sparse matrix products (sums of scores between groups), so memory stays O(links) and a
    component of thousands of statements takes a few dozen vectorised rounds instead of a Python heap.
    Ties go to the lower (content-first) group id.
    """
    from scipy import sparse

    sums = sparse.coo_matrix((np.concatenate([sc, sc]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
                             shape=(n, n)).tocsr()
    size: np.ndarray = np.ones(n)
    label = np.arange(n)
    while True:
        m = size.size
        coo = sums.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        avg = coo.data / (size[rows] * size[cols])
        ok = (avg >= merge) & (rows != cols)
        if not ok.any():
            return label
        # A group with no pair at or over `merge` can never merge again (any union's average with it is a
        # weighted mean of averages under `merge`), so its pairs are dropped: the matrix shrinks each round.
        live = np.zeros(m, dtype=bool)
        live[rows[ok]] = True
        live[cols[ok]] = True
        both = live[rows] & live[cols]
        if not both.all():
            sums = sparse.csr_matrix((coo.data[both], (rows[both], cols[both])), shape=(m, m))
        rows, cols, avg = rows[ok], cols[ok], avg[ok]
        # per row: the best average, ties to the lower id. Entries come grouped by row (CSR order), so
        # per-row reductions find it in O(nnz) instead of a lexsort of every entry each round
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        lengths = np.diff(np.r_[starts, rows.size])
        hit = avg == np.repeat(np.maximum.reduceat(avg, starts), lengths)
        best = np.full(m, -1, dtype=np.int64)
        best[rows[starts]] = np.minimum.reduceat(np.where(hit, cols, m), starts)
        x = np.flatnonzero(best >= 0)
        y = best[x]
        pair = (best[y] == x) & (x < y)
        target = np.arange(m)
        target[y[pair]] = x[pair]  # y joins x: the group keeps the lower id
        kept, new_id = np.unique(target, return_inverse=True)
        assign = sparse.csr_matrix((np.ones(m), (np.arange(m), new_id)), shape=(m, kept.size))
        sums = (assign.T @ sums @ assign).tocsr()  # the diagonal (inside a group) is skipped above
        size = np.bincount(new_id, weights=size, minlength=kept.size)
        label = new_id[label]


def unique_statements(statements: Sequence[Statement], events: Sequence[Event]) -> tuple[StatementRef, ...]:
    """Statements that no other outlet carries (not part of any event)."""
    in_event = {m for event in events for m in event.members}
    return tuple(sorted(s.ref for s in statements if s.ref not in in_event))
