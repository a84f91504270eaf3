"""Story context: anchors, TF-IDF and the per-document profiles the pair features are computed against."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare.align.scorer import ANCHOR_TYPES, TOKEN, P, R
from compare.model import CueType, Statement

# ----------------------------------------------------------------------------------------- context

def anchors(statement: Statement) -> frozenset[str]:
    """Normalised numbers, dates and names of a statement: strong evidence of the same event."""
    keys = set()
    for cue in statement.cues:
        if cue.type not in ANCHOR_TYPES:
            continue
        value = cue.value if isinstance(cue.value, dict) else {}
        if cue.type == CueType.NUMBER:
            keys.add(f"n:{value.get('value')}:{value.get('unit')}")
        elif cue.type == CueType.DATE:
            keys.add(f"d:{value.get('iso') or value.get('weekday') or cue.text.lower()}")
        else:
            keys.add(f"e:{str(value.get('canonical', cue.text)).lower()}")
    return frozenset(keys)


@dataclass
class StoryContext:
    """What the pair features need from the whole story, computed once (order-independent)."""

    statements: Sequence[Statement]
    vectors: np.ndarray
    doc_ids: tuple[str, ...]  # sorted
    rows: dict[str, np.ndarray]  # doc id -> positions into statements/vectors, by statement index
    profile: np.ndarray  # (n, D): best cosine of each statement to each document (NaN for its own)
    doc_match: np.ndarray  # (D, D) mean best-match cosine, symmetric, NaN diagonal
    doc_cosine: np.ndarray  # (D, D)
    doc_overlap: np.ndarray  # (D, D)
    anchor_sets: list[frozenset[str]]
    tfidf: Any  # sparse (n, V) L2-normalised TF-IDF rows of the statements
    doc_tfidf: np.ndarray  # (D, D)
    doc_mds: np.ndarray  # (D, D)
    doc_tfidf_mds: np.ndarray  # (D, D)
    cos_mean: float
    cos_std: float
    anchor_matrix: Any = None  # sparse (n, A) 0/1 incidence of anchor keys, for block Jaccard

    def doc_index(self, doc_id: str) -> int:
        return self.doc_ids.index(doc_id)

    def doc_pairs(self) -> Iterator[tuple[int, int]]:
        n = len(self.doc_ids)
        for a in range(n):
            for b in range(a + 1, n):
                yield a, b


def one_blas_thread(func: Callable[P, R]) -> Callable[P, R]:
    """Run with single-threaded BLAS: the blocks are small, and on a busy machine threaded BLAS spins
    (a 100x384 by 384x100 product took 37 ms with threads, 0.4 ms without)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@one_blas_thread
def story_context(statements: Sequence[Statement], vectors: np.ndarray) -> StoryContext:
    """Per-document rows, best-match profiles and document-level similarities of one story."""
    vectors = np.asarray(vectors, dtype=np.float32)
    by_doc: dict[str, list[int]] = defaultdict(list)
    for position, statement in enumerate(statements):
        by_doc[statement.doc_id].append(position)
    doc_ids = tuple(sorted(by_doc))
    rows = {d: np.array(sorted(by_doc[d], key=lambda p: statements[p].index), dtype=np.int64) for d in doc_ids}
    n_docs = len(doc_ids)
    profile = np.full((len(statements), n_docs), np.nan, dtype=np.float32)
    doc_match = np.full((n_docs, n_docs), np.nan, dtype=np.float64)
    total = total_sq = 0.0
    count = 0
    for a, ra, later, cos_later in row_products(vectors, rows, doc_ids):
        for b, lo, hi in later:
            rb = rows[doc_ids[b]]
            cos = cos_later[:, lo:hi]
            row_best, col_best = cos.max(axis=1), cos.max(axis=0)
            profile[ra, b] = row_best
            profile[rb, a] = col_best
            doc_match[a, b] = doc_match[b, a] = 0.5 * (float(row_best.mean()) + float(col_best.mean()))
        total += float(cos_later.sum(dtype=np.float64))
        total_sq += float(np.square(cos_later, dtype=np.float64).sum())
        count += cos_later.size
    mean = total / count if count else 0.0
    std = math.sqrt(max(total_sq / count - mean * mean, 0.0)) if count else 1.0
    centroids = np.stack([vectors[rows[d]].mean(axis=0) for d in doc_ids]) if n_docs else vectors[:0]
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids = centroids / np.where(norms == 0, 1.0, norms)
    doc_cosine = np.clip(centroids @ centroids.T, -1.0, 1.0) if n_docs else np.zeros((0, 0))
    anchor_sets = [anchors(s) for s in statements]
    anchor_matrix = _incidence(anchor_sets)
    doc_anchor = [frozenset().union(*(anchor_sets[p] for p in rows[d])) for d in doc_ids]
    doc_overlap = np.array([[_jaccard(x, y) for y in doc_anchor] for x in doc_anchor]).reshape(n_docs, n_docs)
    tfidf, doc_tfidf = _tfidf(statements, [rows[d] for d in doc_ids])
    return StoryContext(statements, vectors, doc_ids, rows, profile, doc_match, doc_cosine, doc_overlap,
                        anchor_sets, tfidf, doc_tfidf, _mds_cosine(doc_match), _mds_cosine(doc_tfidf),
                        mean, max(std, 1e-6), anchor_matrix)


def row_products(vectors: np.ndarray, rows: dict[str, np.ndarray], doc_ids: tuple[str, ...]
                  ) -> Iterator[tuple[int, np.ndarray, list[tuple[int, int, int]], np.ndarray]]:
    """Per document a: cosines of its statements with every statement of the later documents, in one
    product (a 200 x 6000 product runs near BLAS peak; 31 separate 200 x 200 ones do not). Yields a, its
    rows, (b, first column, end column) of each later document, and the (n_a, sum n_b) cosine block."""
    for a in range(len(doc_ids) - 1):
        ra = rows[doc_ids[a]]
        later, cols, lo = [], [], 0
        for b in range(a + 1, len(doc_ids)):
            rb = rows[doc_ids[b]]
            later.append((b, lo, lo + len(rb)))
            cols.append(rb)
            lo += len(rb)
        block = vectors[ra] @ vectors[np.concatenate(cols)].T
        np.clip(block, -1.0, 1.0, out=block)
        yield a, ra, later, block


def _tfidf(statements: Sequence[Statement], doc_rows: list[np.ndarray]) -> tuple[Any, np.ndarray]:
    """Statement TF-IDF rows (IDF over the story's statements) and document-document TF-IDF cosines."""
    from scipy import sparse

    # Same weighting as scikit-learn's TfidfVectorizer(sublinear_tf=True, token_pattern=r"\b\w+\b"),
    # without importing it (seconds of start-up on a busy machine).
    n_docs = len(doc_rows)
    vocab: dict[str, int] = {}
    indptr: list[int] = [0]
    indices: list[int] = []
    counts: list[int] = []
    for s in statements:
        tally: dict[int, int] = {}
        for token in TOKEN.findall(s.text.lower()):
            k = vocab.setdefault(token, len(vocab))
            tally[k] = tally.get(k, 0) + 1
        indices.extend(tally)
        counts.extend(tally.values())
        indptr.append(len(indices))
    n = len(statements)
    if not vocab:
        return sparse.csr_matrix((n, 1), dtype=np.float32), np.zeros((n_docs, n_docs))
    tf = 1.0 + np.log(np.asarray(counts, dtype=np.float64))
    matrix = sparse.csr_matrix((tf, np.asarray(indices), np.asarray(indptr)), shape=(n, len(vocab)))
    df = np.bincount(np.asarray(indices), minlength=len(vocab))
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    matrix = matrix @ sparse.diags(idf)
    row_norm = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    matrix = sparse.diags(1.0 / np.where(row_norm == 0, 1.0, row_norm)) @ matrix
    matrix = matrix.astype(np.float32).tocsr()
    docs = sparse.vstack([sparse.csr_matrix(matrix[r].sum(axis=0)) for r in doc_rows]).tocsr() if n_docs else matrix[:0]
    norms = np.sqrt(np.asarray(docs.multiply(docs).sum(axis=1))).ravel()
    docs = sparse.diags(1.0 / np.where(norms == 0, 1.0, norms)) @ docs
    return matrix, np.asarray((docs @ docs.T).todense(), dtype=np.float64)


def _mds_cosine(similarity: np.ndarray, dims: int = 2) -> np.ndarray:
    """Cosine between documents placed by classical MDS of a similarity matrix (0 when under 4 docs)."""
    n = similarity.shape[0]
    out = np.zeros((n, n))
    if n < 4:
        return out
    sim = np.where(np.isnan(similarity), 0.0, similarity)
    sim = 0.5 * (sim + sim.T)
    np.fill_diagonal(sim, 0.0)
    np.fill_diagonal(sim, sim.max(axis=1))  # self-similarity: as close as the nearest other document
    centred = sim - sim.mean(axis=0, keepdims=True) - sim.mean(axis=1, keepdims=True) + sim.mean()
    values, vectors = np.linalg.eigh(centred)
    top = np.argsort(-values)[:dims]
    coords = vectors[:, top] * np.sqrt(np.clip(values[top], 0.0, None))
    # eigenvector signs are arbitrary but cosines between rows are not
    norms = np.linalg.norm(coords, axis=1, keepdims=True)
    coords = coords / np.where(norms < 1e-12, 1.0, norms)
    cosines: np.ndarray = np.clip(coords @ coords.T, -1.0, 1.0)
    return cosines


def row_corr(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Pearson correlation of every row of `left` with every row of `right` (0 where undefined)."""
    m = left.shape[1]
    if m < 2:
        return np.zeros((left.shape[0], right.shape[0]), dtype=np.float32)

    def z(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        scaled: np.ndarray = np.divide(x, norm, out=np.zeros_like(x), where=norm > 1e-9)
        return scaled

    corr: np.ndarray = np.clip(z(left) @ z(right).T, -1.0, 1.0).astype(np.float32)
    return corr


def _doc_rel(ctx: StoryContext, a: int, b: int) -> float:
    def typical(d: int, skip: int) -> float:
        others = [ctx.doc_match[d, c] for c in range(len(ctx.doc_ids)) if c not in (d, skip)]
        return float(np.mean(others)) if others else float(ctx.doc_match[d, skip])

    return float(ctx.doc_match[a, b]) - 0.5 * (typical(a, b) + typical(b, a))


def _doc_profile(ctx: StoryContext, a: int, b: int) -> float:
    return profile_corr(ctx.doc_match, a, b)


def profile_corr(matrix: np.ndarray, a: int, b: int) -> float:
    others = [c for c in range(matrix.shape[0]) if c not in (a, b)]
    if len(others) < 2:
        return 0.0
    return float(row_corr(matrix[[a], :][:, others], matrix[[b], :][:, others])[0, 0])


def _incidence(sets: Sequence[frozenset[str]]) -> Any:
    """Sparse 0/1 statement x key matrix (key order is irrelevant: only products are used)."""
    from scipy import sparse

    vocab: dict[str, int] = {}
    indptr: list[int] = [0]
    indices: list[int] = []
    for keys in sets:
        indices.extend(vocab.setdefault(k, len(vocab)) for k in keys)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
                             shape=(len(sets), max(len(vocab), 1)))
