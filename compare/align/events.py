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

import functools
import hashlib
import heapq
import importlib
import json
import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from compare.errors import ConfigError
from compare.model import CueType, Event, Link, LinkTable, Statement, StatementRef

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\b\w+\b")
P = ParamSpec("P")
R = TypeVar("R")
ANCHOR_TYPES = (CueType.NUMBER, CueType.PLACE, CueType.ENTITY, CueType.DATE)
FALLBACK_BACKEND = "default"

# Every feature the scorer may use; a backend section names the ones it weighs.
FEATURES = (
    "cosine",  # embedding cosine of the two statements, [-1, 1]
    "cosine_z",  # cosine standardised over the story's cross-document pairs
    "fuzzy",  # rapidfuzz token_set_ratio / 100
    "overlap",  # Jaccard of normalised numbers/dates/names
    "margin",  # mean gap to each side's best match in the other document (0 = best on both sides)
    "mutual",  # 1 when the pair is each side's best match in this document pair
    "profile",  # correlation of the two statements' best-match cosines to the *other* documents
    "doc_cosine",  # cosine of the two documents' mean vectors
    "doc_match",  # mean best-match cosine between the two documents' statements
    "doc_rel",  # doc_match minus each document's typical doc_match to the rest of the story
    "doc_profile",  # correlation of the two documents' doc_match rows over the other documents
    "doc_overlap",  # Jaccard of the two documents' numbers/dates/names
    "tfidf",  # TF-IDF cosine of the two statements (IDF over the story's statements)
    "doc_tfidf",  # TF-IDF cosine of the two documents as wholes
    "doc_tfidf_profile",  # correlation of the two documents' doc_tfidf rows over the other documents
    "doc_mds",  # cosine of the two documents in a 2-d classical-MDS map of doc_match (who groups with whom)
    "doc_tfidf_mds",  # the same over doc_tfidf
    # Stories of under 4 documents have no "other outlets" to correlate with: profile, doc_profile and the
    # MDS features read 0 there, which is not neutral evidence (for same-event documents of a big story
    # they add +2 to +4 to the logit). The indicator lets the scorer learn the base rate of such stories
    # (missing-indicator method) instead of reading "undefined" as "unrelated documents".
    "small_story",  # 1 when the story has fewer than SMALL_STORY_DOCS documents
)
SMALL_STORY_DOCS = 4


@dataclass(frozen=True, slots=True)
class ScorerWeights:
    """Logistic link scorer for one embedding backend: score = sigmoid(bias + sum(coef * feature))."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    version: str = "unversioned"
    backend: str = FALLBACK_BACKEND
    event_threshold: float | None = None  # average link score that keeps an event together
    # Statement-level gate for small stories: there the context features are undefined and the scorer
    # falls back on a base rate learned from ECB+ sub-stories, which lifts any pair of two same-event
    # documents; a pair whose cosine is below this floor (the backend's 2% quantile of ECB+ gold-pair
    # cosines) cannot link there. None: no gate.
    small_story_floor: float | None = None

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or len(self.features) != len(self.coef):
            raise ConfigError(
                f"aligner weights {self.version}: bad features {unknown or list(self.features)}. "
                "Refit with benchmarks/fit_scorer.py."
            )

    def weight(self, feature: str) -> float:
        return self.coef[self.features.index(feature)] if feature in self.features else 0.0

    @property
    def merge_threshold(self) -> float:
        return self.threshold if self.event_threshold is None else self.event_threshold


def _weights_from(section: dict[str, Any], backend: str, file_version: str) -> ScorerWeights:
    return ScorerWeights(
        features=tuple(section["features"]), coef=tuple(float(c) for c in section["coef"]),
        bias=float(section["bias"]), threshold=float(section.get("threshold", 0.5)),
        version=f"{file_version}/{section.get('version', backend)}", backend=backend,
        event_threshold=section.get("event_threshold"),
        small_story_floor=section.get("small_story_floor"),
    )


def load_weights(path: str | Path | None = None, backend: str | None = None) -> ScorerWeights:
    """Weights for `backend` (an `Embedder.name`) from an aligner JSON file, else its fallback section."""
    if path is None:
        text = resources.files("compare.data").joinpath("aligner.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = json.loads(text)
    sections = data.get("backends", {})
    name: str = backend if backend is not None and backend in sections else data.get("fallback", FALLBACK_BACKEND)
    if name not in sections:
        raise ConfigError(f"aligner weights: no section {name!r}. Refit with benchmarks/fit_scorer.py.")
    return _weights_from(sections[name], name, str(data.get("version", "0")))


@lru_cache(maxsize=16)
def default_weights(backend: str | None = None) -> ScorerWeights:
    """The shipped scorer for an embedding backend (`Embedder.name`), or the fallback section."""
    return load_weights(None, backend)


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


def _one_blas_thread(func: Callable[P, R]) -> Callable[P, R]:
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


@_one_blas_thread
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
    for a, ra, later, cos_later in _row_products(vectors, rows, doc_ids):
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


def _row_products(vectors: np.ndarray, rows: dict[str, np.ndarray], doc_ids: tuple[str, ...]
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
        for token in _TOKEN.findall(s.text.lower()):
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


def _row_corr(left: np.ndarray, right: np.ndarray) -> np.ndarray:
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
    return _profile_corr(ctx.doc_match, a, b)


def _profile_corr(matrix: np.ndarray, a: int, b: int) -> float:
    others = [c for c in range(matrix.shape[0]) if c not in (a, b)]
    if len(others) < 2:
        return 0.0
    return float(_row_corr(matrix[[a], :][:, others], matrix[[b], :][:, others])[0, 0])


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


def _strip_features(ctx: StoryContext, ra: np.ndarray, cols: np.ndarray, need: frozenset[str]
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
    feature matrices the caller already computed for this block (`_strip_features`), used as they are.
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
        "profile": lambda: _row_corr(ctx.profile[ra][:, others], ctx.profile[rb][:, others]),
        "doc_cosine": lambda: const(ctx.doc_cosine[a, b])(),
        "doc_match": lambda: const(ctx.doc_match[a, b])(),
        "doc_rel": lambda: const(_doc_rel(ctx, a, b))(),
        "doc_profile": lambda: const(_doc_profile(ctx, a, b))(),
        "doc_overlap": lambda: const(ctx.doc_overlap[a, b])(),
        "tfidf": lambda: np.asarray((ctx.tfidf[ra] @ ctx.tfidf[rb].T).todense(), dtype=np.float32).reshape(shape),
        "doc_tfidf": lambda: const(ctx.doc_tfidf[a, b])(),
        "doc_tfidf_profile": lambda: const(_profile_corr(ctx.doc_tfidf, a, b))(),
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


def _needed(weights: ScorerWeights) -> frozenset[str]:
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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    probability: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
    return probability


@_one_blas_thread
def score_block(ctx: StoryContext, a: int, b: int, weights: ScorerWeights
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores of every pair of documents a < b (brute force: fuzzy on every pair)."""
    feats = block_features(ctx, a, b, weights=weights)
    return _sigmoid(_logit(weights, feats)), feats


# ------------------------------------------------------------------------------------------- links

def _make_links(refs: Sequence[StatementRef], doc_rank: np.ndarray,
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


def _link_columns(ra: np.ndarray, rb: np.ndarray, keep: np.ndarray, score: np.ndarray,
                  feats: dict[str, np.ndarray]) -> list[np.ndarray]:
    keep_i, keep_j = np.nonzero(keep)
    return [ra[keep_i], rb[keep_j], score[keep_i, keep_j], feats["cosine"][keep_i, keep_j],
            feats["fuzzy"][keep_i, keep_j], feats["overlap"][keep_i, keep_j]]


def _story_refs(ctx: StoryContext) -> tuple[list[StatementRef], np.ndarray]:
    refs = [s.ref for s in ctx.statements]
    rank = {d: n for n, d in enumerate(ctx.doc_ids)}
    return refs, np.fromiter((rank[s.doc_id] for s in ctx.statements), dtype=np.int64, count=len(refs))


TOP_K = 20  # partners kept per statement and document pair (before the threshold); None keeps all.
# ECB+ full articles (annotated pairs): k=5 cut recall .953 -> .861, k=10 -> .930, k=20 -> .948 (F1 .810).


@_one_blas_thread
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
    need = _needed(weights) - {"fuzzy"}
    found: list[list[np.ndarray]] = []  # per strip: positions a, b; fuzzy-free logit, cosine, overlap
    with _FuzzyPool(ctx, w_fuzzy != 0.0) as pool:
        for a, ra, later, cos_later in _row_products(ctx.vectors, ctx.rows, ctx.doc_ids):
            cols = np.concatenate([ctx.rows[ctx.doc_ids[b]] for b, _, _ in later])
            strip = _strip_features(ctx, ra, cols, need)
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
    refs, rank = _story_refs(ctx)
    if not found:
        return LinkTable.empty()
    pos_a, pos_b, partial, cosine, overlap = (np.concatenate(parts) for parts in zip(*found, strict=True))
    fuzzy = np.concatenate(fuzzy_parts) / 100.0 if w_fuzzy != 0.0 else np.zeros(partial.shape, dtype=np.float32)
    score = _sigmoid(partial + w_fuzzy * fuzzy.astype(np.float64))
    ok = score >= threshold
    return _make_links(refs, rank, [[pos_a[ok], pos_b[ok], score[ok], cosine[ok], fuzzy[ok], overlap[ok]]])


FUZZY_KERNEL_MIN_PAIRS = 250_000
"""Projected candidate pairs of a story from which `_FuzzyPool` uses the compiled kernel
(compare/align/fuzzy.py) instead of rapidfuzz. Switching costs ~0.65 CPU-s once per process (numba import and
loading the cached kernel; tokenising the story is 0.04-0.08 s); the kernel saves 2-4 us per pair
(rapidfuzz 2.2-4.6 us, kernel 0.5-1.3 us on the align_speed / align_scaling stories). Forcing either
path, whole-aligner CPU time breaks even at ~170k pairs on the long statements of align_scaling
(12 outlets) and ~270k on align_speed's (20 outlets). The demo (144 pairs) stays on rapidfuzz and never
imports numba."""


class _FuzzyPool:
    """Fuzzy scores (token_set_ratio, 0-100) of each strip's candidates, computed on worker threads while
    the next strip's features are built: rapidfuzz and the compiled kernel release the GIL, so fuzzy
    matching (the largest cost on big stories) overlaps the numpy work instead of following it. Strips
    go to rapidfuzz until the story's projected candidates reach FUZZY_KERNEL_MIN_PAIRS, then to the
    kernel over token ids made once per story (identical scores, so the mix does not matter). Results
    come back in submission order, so they line up with the concatenated candidates."""

    def __init__(self, ctx: StoryContext, enabled: bool) -> None:
        self.enabled = enabled
        self.futures: list[Any] = []
        self.statements = ctx.statements
        self.texts: list[str] = []
        self.submitted = 0
        self.strips_left = len(ctx.doc_ids)
        self.kernel: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
        self.kernel_tried = False
        self.executor = None
        if enabled:
            from concurrent.futures import ThreadPoolExecutor

            self.executor = ThreadPoolExecutor(max_workers=_fuzzy_workers(), thread_name_prefix="storydiff-fuzzy")

    def __enter__(self) -> _FuzzyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, pos_a: np.ndarray, pos_b: np.ndarray) -> None:
        if self.executor is None:
            return
        # strips shrink about linearly (one document against all later ones), so the rest of the story
        # holds about half this strip's candidates per strip left
        self.strips_left -= 1
        projected = self.submitted + len(pos_a) * max(1.0, (self.strips_left + 1) / 2)
        self.submitted += len(pos_a)
        if not self.kernel_tried and projected >= FUZZY_KERNEL_MIN_PAIRS:
            # loaded here, not beside the main thread: numba's import holds the GIL, and loading it on a
            # worker while strips went to rapidfuzz measured slower
            self.kernel_tried = True
            self.kernel = _fuzzy_kernel([s.text for s in self.statements])
        if self.kernel is not None:
            self.futures.append(self.executor.submit(self.kernel, pos_a, pos_b))
            return
        from rapidfuzz import fuzz, process

        if not self.texts:
            from rapidfuzz.utils import default_process

            # token_set_ratio depends only on the two token sets: handing it each text's distinct tokens,
            # already sorted, saves part of its per-pair split and sort (same scores)
            self.texts = [" ".join(sorted(set(default_process(s.text).split()))) for s in self.statements]
        left = [self.texts[p] for p in pos_a.tolist()]
        right = [self.texts[p] for p in pos_b.tolist()]
        self.futures.append(self.executor.submit(process.cpdist, left, right, scorer=fuzz.token_set_ratio,
                                                 processor=None, dtype=np.float32, workers=1))

    def results(self) -> list[np.ndarray]:
        return [f.result() for f in self.futures]


def _fuzzy_kernel(texts: list[str]) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """token_set_ratio of statement index pairs over `texts` tokenised once, or None when numba is
    missing or cannot compile here (the caller keeps rapidfuzz)."""
    try:
        fuzzy = importlib.import_module("compare.align.fuzzy")
        table = fuzzy.tokenise(texts)
        one = np.zeros(1, dtype=np.int64)
        fuzzy.token_set_ratios(table, one, one)  # compiles or loads the cached kernel here, not in a worker
    except Exception:  # ImportError without numba; numba raises its own errors when it cannot build
        logger.debug("compiled fuzzy kernel unavailable; using rapidfuzz", exc_info=True)
        return None
    return functools.partial(fuzzy.token_set_ratios, table)


def _fuzzy_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _logit_of(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


@_one_blas_thread
def reference_links(statements: Sequence[Statement], vectors: np.ndarray, *, threshold: float | None = None,
                    weights: ScorerWeights | None = None, top_k: int | None = TOP_K) -> LinkTable:
    """Brute force: score every pair, keep the top-k candidates at or above the threshold (tests compare
    the pruned path against it)."""
    weights = weights or default_weights()
    threshold = weights.threshold if threshold is None else threshold
    ctx = story_context(statements, vectors)
    columns = []
    for a, ra, later, cos_later in _row_products(ctx.vectors, ctx.rows, ctx.doc_ids):
        for b, lo, hi in later:  # the same cosine products as the fast path (BLAS rounding differs by shape)
            rb = ctx.rows[ctx.doc_ids[b]]
            feats = block_features(ctx, a, b, weights=weights, cos=cos_later[:, lo:hi])
            score = _sigmoid(_logit(weights, feats))
            keep = (score >= threshold) & _candidates(_logit(weights, feats, skip="fuzzy"), top_k)
            columns.append(_link_columns(ra, rb, keep, score, feats))
    refs, rank = _story_refs(ctx)
    return _make_links(refs, rank, columns)


@_one_blas_thread
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


def unique_statements(statements: Sequence[Statement], events: Sequence[Event]) -> tuple[StatementRef, ...]:
    """Statements that no other outlet carries (not part of any event)."""
    in_event = {m for event in events for m in event.members}
    return tuple(sorted(s.ref for s in statements if s.ref not in in_event))


def event_fingerprint(event: Event) -> str:
    """Content-based id, stable across runs and input order (used by the store)."""
    raw = "|".join(f"{m.doc_id}:{m.index}" for m in event.members)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
