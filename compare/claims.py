"""Claim-level alignment: which statements of two outlets report the same specific claim.

All articles of a story are about one event, so topical similarity lifts every pair of statements;
what sets a same-claim pair apart is that the two statements are each other's clear best match in the
other article (a margin over the runner-up, the ratio margin of LASER/Vecalign) and that they share
rare words and exact phrases (a quote, a name, a figure), not only a subject. A logistic scorer over
these statement-level features, fitted on claim gold with cross-validation by story
(`benchmarks/fit_claim_scorer.py`, weights per embedding backend in `compare/data/claim_scorer.json`),
turns a candidate pair into a probability. No document-level feature is used: in a single-event story
they lift every pair alike.

A link is a candidate pair whose probability reaches the threshold (chosen on the gold for precision
first). A statement may link to two statements of one outlet (a long sentence can carry two of another
outlet's claims), but an event is a clique: statements join one event only when every two of them from different outlets are
linked, and an event holds at most one statement per outlet. A~B and B~C never pull A and C together
unless A~C holds too.

Pairs of statements in different languages are scored by a second section of the same file that
reads only the language-independent features (embedding cosine, margins, shared numbers and names).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from compare.errors import ConfigError
from compare.model import Event, LinkTable, Statement, StatementRef

CLAIM_FEATURES = (
    "cosine",  # embedding cosine of the two statements
    "ratio_margin",  # cosine over the mean of each side's k best cosines in the other article (LASER)
    "gap",  # mean over both sides of: cosine minus the best *other* candidate's cosine (runner-up margin)
    "mutual",  # 1 when each is the other's best match by cosine in this pair of articles
    "tfidf",  # TF-IDF cosine, IDF over the story's statements (rare shared words weigh more)
    "fuzzy",  # rapidfuzz token_set_ratio / 100
    "phrase",  # shared word bigrams over the shorter statement's bigrams (quotes, names, exact phrasing)
    "anchors",  # Jaccard of normalised numbers, dates and names
    "short",  # 1 / number of words of the shorter statement ("I partied." matches anything a little)
    "containment",  # IDF mass of shared content words over the lighter statement's (one may say more)
    "coverage",  # the same over the heavier statement's
    "shared_weight",  # IDF mass of the shared content words itself
    "names",  # shared capitalised words (not sentence-initial) over the shorter side's
    "numbers",  # shared number tokens over the shorter side's; 0.5 when neither has one
    "length_ratio",  # content words of the shorter statement over the longer's
)
CROSSLINGUAL_FEATURES = ("cosine", "ratio_margin", "gap", "mutual", "anchors", "short", "numbers", "length_ratio")
MARGIN_K = 4  # neighbours in the ratio margin's denominator
CANDIDATES_PER_SIDE = 3  # each statement's best partners by cosine and by TF-IDF that get scored
_WORD = re.compile(r"\w+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A bare link left in the text ("http: / / www. bbc. co. uk / news / ..."): not a claim, never linked.
_LINK = re.compile(r"^\W*(?:https?\s*:|www\s*\.)", re.IGNORECASE)
STOPWORDS = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been being has have had it its "
    "this that these those which who whom whose he she they them his her their there said says say told also "
    "after before over into than then so such not no will would can could should may might i we you our your "
    "about more most up out one".split()
)


@dataclass(frozen=True, slots=True)
class ClaimScorer:
    """One logistic section: probability = sigmoid(bias + sum(coef * standardised feature))."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in CLAIM_FEATURES]
        sizes = {len(self.features), len(self.coef), len(self.mean), len(self.scale)}
        if unknown or len(sizes) != 1:
            raise ConfigError(f"claim scorer: bad features {unknown or list(self.features)}. "
                              "Refit with benchmarks/fit_claim_scorer.py.")

    def probability(self, feats: dict[str, np.ndarray]) -> np.ndarray:
        z = np.full(feats["cosine"].shape, self.bias, dtype=np.float64)
        for name, coef, mean, scale in zip(self.features, self.coef, self.mean, self.scale, strict=True):
            z += coef * (feats[name].astype(np.float64) - mean) / scale
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


@dataclass(frozen=True, slots=True)
class ClaimWeights:
    """The claim scorer of one embedding backend: same-language and cross-language sections, cut-offs."""

    monolingual: ClaimScorer
    crosslingual: ClaimScorer
    threshold: float  # a candidate pair is a link from this probability up (before the one-to-one rule)
    backend: str
    version: str


def _scorer_from(section: dict) -> ClaimScorer:
    return ClaimScorer(features=tuple(section["features"]), coef=tuple(float(c) for c in section["coef"]),
                       bias=float(section["bias"]), mean=tuple(float(x) for x in section["mean"]),
                       scale=tuple(float(x) for x in section["scale"]))


def load_claim_weights(path: str | Path | None = None, backend: str | None = None) -> ClaimWeights:
    """Claim scorer for `backend` (an `Embedder.name`) from a claim-scorer JSON file, else its fallback."""
    if path is None:
        text = resources.files("compare.data").joinpath("claim_scorer.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = json.loads(text)
    sections = data.get("backends", {})
    name = backend if backend in sections else data.get("fallback", "")
    if name not in sections:
        raise ConfigError(f"claim scorer: no section for {backend!r}. Refit with benchmarks/fit_claim_scorer.py.")
    section = sections[name]
    return ClaimWeights(monolingual=_scorer_from(section["monolingual"]),
                        crosslingual=_scorer_from(section["crosslingual"]),
                        threshold=float(section["threshold"]), backend=name,
                        version=f"{data.get('version', '0')}/{name}")


@lru_cache(maxsize=16)
def default_claim_weights(backend: str | None = None) -> ClaimWeights:
    return load_claim_weights(None, backend)


# -------------------------------------------------------------------------------------- features

@dataclass(frozen=True)
class StoryTexts:
    """Per-story lexical views of the statements, built once: sparse incidence rows and sizes."""

    tfidf: object  # sparse (n, V), L2-normalised rows
    bigrams: object  # sparse (n, B) 0/1
    bigram_counts: np.ndarray  # (n,)
    words: np.ndarray  # (n,) word counts
    anchors: object  # sparse (n, A) 0/1
    anchor_counts: np.ndarray  # (n,)
    content: object  # sparse (n, C): IDF weight of each content word present
    content_mass: np.ndarray  # (n,) sum of those weights
    content_counts: np.ndarray  # (n,)
    names: object  # sparse (n, N) 0/1
    name_counts: np.ndarray  # (n,)
    numbers: object  # sparse (n, M) 0/1
    number_counts: np.ndarray  # (n,)
    claimless: np.ndarray  # (n,) bool: bare links and other text that states nothing


def _incidence(rows: Sequence[Sequence[str]]) -> object:
    from scipy import sparse

    vocab: dict[str, int] = {}
    indptr, indices = [0], []
    for keys in rows:
        indices.extend(sorted({vocab.setdefault(k, len(vocab)) for k in keys}))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
                             shape=(len(rows), max(len(vocab), 1)))


def story_texts(statements: Sequence[Statement]) -> StoryTexts:
    from compare.align import _tfidf, anchors  # noqa: PLC0415 (shared with the event-level aligner)

    tokens = [_WORD.findall(s.text.lower()) for s in statements]
    bigram_rows = [[f"{x} {y}" for x, y in zip(t, t[1:], strict=False)] for t in tokens]
    content_rows = [sorted({w for w in t if w not in STOPWORDS}) for t in tokens]
    name_rows = [sorted(set(_NAME.findall(s.text))) for s in statements]
    number_rows = [sorted(set(_NUMBER.findall(s.text))) for s in statements]
    anchor_rows = [sorted(anchors(s)) for s in statements]
    tfidf, _ = _tfidf(statements, [])
    content = _incidence(content_rows)
    n = len(statements)
    df = np.asarray(content.sum(axis=0)).ravel()  # type: ignore[attr-defined]
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    from scipy import sparse

    content = (content @ sparse.diags(idf.astype(np.float32))).tocsr()  # type: ignore[operator]

    def sizes(rows: Sequence[Sequence[str]]) -> np.ndarray:
        return np.array([len(r) for r in rows], dtype=np.float32)

    return StoryTexts(
        tfidf=tfidf, bigrams=_incidence(bigram_rows), bigram_counts=np.array(
            [len(set(r)) for r in bigram_rows], dtype=np.float32),
        words=sizes(tokens), anchors=_incidence(anchor_rows), anchor_counts=sizes(anchor_rows),
        content=content, content_mass=np.asarray(content.sum(axis=1), dtype=np.float32).ravel(),
        content_counts=sizes(content_rows), names=_incidence(name_rows), name_counts=sizes(name_rows),
        numbers=_incidence(number_rows), number_counts=sizes(number_rows),
        claimless=np.array([bool(_LINK.search(s.text)) or not t for s, t in zip(statements, tokens, strict=True)]),
    )


def _top_k_mean(matrix: np.ndarray, k: int, axis: int) -> np.ndarray:
    size = matrix.shape[axis]
    k = max(1, min(k, size))
    part = np.partition(matrix, size - k, axis=axis)
    top = part[size - k:] if axis == 0 else part[:, size - k:]
    return top.mean(axis=axis)


def _runner_up(matrix: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Best and second-best value along `axis` (second = best when there is only one)."""
    size = matrix.shape[axis]
    if size == 1:
        best = matrix.max(axis=axis)
        return best, best
    part = np.partition(matrix, (size - 2, size - 1), axis=axis)
    if axis == 0:
        return part[size - 1], part[size - 2]
    return part[:, size - 1], part[:, size - 2]


def _candidates(*matrices: np.ndarray, per_side: int) -> np.ndarray:
    """Pairs among the `per_side` best of their row or their column by any of the matrices."""
    keep = np.zeros(matrices[0].shape, dtype=bool)
    n, m = keep.shape
    for mat in matrices:
        if m <= per_side:
            keep[:] = True
        else:
            kth = np.partition(mat, m - per_side, axis=1)[:, m - per_side][:, None]
            keep |= mat >= kth
        if n <= per_side:
            keep[:] = True
        else:
            kth = np.partition(mat, n - per_side, axis=0)[n - per_side][None, :]
            keep |= mat >= kth
    return keep


def _sparse_block(left: object, right: object) -> np.ndarray:
    return np.asarray((left @ right.T).todense(), dtype=np.float32)  # type: ignore[operator,attr-defined]


def _fuzzy_pairs(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    if not left:
        return np.zeros(0, dtype=np.float32)
    return process.cpdist(left, right, scorer=fuzz.token_set_ratio, processor=default_process,
                          dtype=np.float32, workers=1) / 100.0


@dataclass(frozen=True)
class PairBlock:
    """Scored candidate pairs of one pair of documents: positions into the story's statements."""

    pos_a: np.ndarray
    pos_b: np.ndarray
    features: dict[str, np.ndarray]  # each (k,) over the candidates
    crosslingual: np.ndarray  # (k,) bool
    claimless: np.ndarray  # (k,) bool: one side states nothing (a bare link); never a link


def pair_blocks(statements: Sequence[Statement], vectors: np.ndarray, *,
                per_side: int | None = CANDIDATES_PER_SIDE) -> Iterator[PairBlock]:
    """Candidate pairs and their CLAIM_FEATURES for every pair of documents (order-independent).

    `per_side` None scores every pair (evaluation and tests)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    texts = story_texts(statements)
    rows: dict[str, list[int]] = {}
    for position, statement in enumerate(statements):
        rows.setdefault(statement.doc_id, []).append(position)
    doc_ids = sorted(rows)
    order = {d: np.array(sorted(rows[d], key=lambda p: statements[p].index), dtype=np.int64) for d in doc_ids}
    for x, doc_a in enumerate(doc_ids):
        for doc_b in doc_ids[x + 1:]:
            ra, rb = order[doc_a], order[doc_b]
            yield _block(statements, vectors, texts, ra, rb, per_side)


def _block(statements: Sequence[Statement], vectors: np.ndarray, texts: StoryTexts, ra: np.ndarray,
           rb: np.ndarray, per_side: int | None) -> PairBlock:
    tf = texts.tfidf
    cos = np.clip(vectors[ra] @ vectors[rb].T, -1.0, 1.0).astype(np.float32)
    tfidf = _sparse_block(tf[ra], tf[rb])  # type: ignore[index]
    keep = np.ones(cos.shape, dtype=bool) if per_side is None else _candidates(cos, tfidf, per_side=per_side)
    ii, jj = np.nonzero(keep)
    row_best, row_second = _runner_up(cos, axis=1)
    col_best, col_second = _runner_up(cos, axis=0)
    c = cos[ii, jj]
    # the best *other* partner on each side: the runner-up when this pair is the best, else the best
    other_row = np.where(c >= row_best[ii], row_second[ii], row_best[ii])
    other_col = np.where(c >= col_best[jj], col_second[jj], col_best[jj])
    knn = 0.5 * (_top_k_mean(cos, MARGIN_K, axis=1)[ii] + _top_k_mean(cos, MARGIN_K, axis=0)[jj])
    def shared(matrix: object) -> np.ndarray:
        return _sparse_block(matrix[ra], matrix[rb])[ii, jj]  # type: ignore[index]

    def share(common: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, *, fewer: bool = True,
              empty: float = 0.0) -> np.ndarray:
        left_size, right_size = size_a[ra][ii], size_b[rb][jj]
        base = np.minimum(left_size, right_size) if fewer else np.maximum(left_size, right_size)
        out = np.divide(common, base, out=np.zeros_like(common), where=base > 0)
        return np.where((left_size == 0) & (right_size == 0), empty, out)

    shared_anchors = shared(texts.anchors)
    anchor_union = texts.anchor_counts[ra][ii] + texts.anchor_counts[rb][jj] - shared_anchors
    shared_mass = shared(texts.content)
    fewer_words = np.minimum(texts.words[ra][ii], texts.words[rb][jj])
    left = [statements[p].text for p in ra[ii].tolist()]
    right = [statements[p].text for p in rb[jj].tolist()]
    content_a, content_b = texts.content_counts[ra][ii], texts.content_counts[rb][jj]
    feats = {
        "cosine": c,
        "ratio_margin": c / np.maximum(knn, 1e-3),
        "gap": 0.5 * ((c - other_row) + (c - other_col)),
        "mutual": ((c >= row_best[ii]) & (c >= col_best[jj])).astype(np.float32),
        "tfidf": tfidf[ii, jj],
        "fuzzy": _fuzzy_pairs(left, right),
        "phrase": share(shared(texts.bigrams), texts.bigram_counts, texts.bigram_counts),
        "anchors": np.divide(shared_anchors, anchor_union, out=np.zeros_like(shared_anchors),
                             where=anchor_union > 0),
        "short": 1.0 / np.maximum(fewer_words, 1.0),
        "containment": share(shared_mass, texts.content_mass, texts.content_mass),
        "coverage": share(shared_mass, texts.content_mass, texts.content_mass, fewer=False),
        "shared_weight": shared_mass,
        "names": share(shared(texts.names), texts.name_counts, texts.name_counts),
        "numbers": share(shared(texts.numbers), texts.number_counts, texts.number_counts, empty=0.5),
        "length_ratio": np.divide(np.minimum(content_a, content_b), np.maximum(content_a, content_b),
                                  out=np.zeros_like(content_a), where=np.maximum(content_a, content_b) > 0),
    }
    claimless = texts.claimless[ra][ii] | texts.claimless[rb][jj]
    lang_a = np.array([statements[p].language for p in ra[ii].tolist()], dtype=object)
    lang_b = np.array([statements[p].language for p in rb[jj].tolist()], dtype=object)
    return PairBlock(ra[ii], rb[jj], {k: v.astype(np.float32) for k, v in feats.items()}, lang_a != lang_b,
                     claimless)


def block_probability(block: PairBlock, weights: ClaimWeights) -> np.ndarray:
    if not len(block.pos_a):
        return np.zeros(0)
    prob = weights.monolingual.probability(block.features)
    if block.crosslingual.any():
        prob = np.where(block.crosslingual, weights.crosslingual.probability(block.features), prob)
    return np.where(block.claimless, 0.0, prob)


# ----------------------------------------------------------------------------------------- links

@dataclass(frozen=True)
class ClaimAlignment:
    """Links and the probability of every scored candidate pair."""

    links: LinkTable
    candidates: dict[tuple[StatementRef, StatementRef], float]  # (a, b) in document order -> probability


def align_claims(statements: Sequence[Statement], vectors: np.ndarray, *, weights: ClaimWeights,
                 threshold: float | None = None, per_side: int | None = CANDIDATES_PER_SIDE) -> ClaimAlignment:
    """Claim links of a story: the candidate pairs whose probability reaches `threshold`."""
    threshold = weights.threshold if threshold is None else threshold
    refs = [s.ref for s in statements]
    doc_rank = {d: n for n, d in enumerate(sorted({s.doc_id for s in statements}))}
    rank = np.fromiter((doc_rank[s.doc_id] for s in statements), dtype=np.int64, count=len(statements))
    columns: list[list[np.ndarray]] = []
    candidates: dict[tuple[StatementRef, StatementRef], float] = {}
    for block in pair_blocks(statements, vectors, per_side=per_side):
        prob = block_probability(block, weights)
        for x, y, p in zip(block.pos_a.tolist(), block.pos_b.tolist(), prob.tolist(), strict=True):
            candidates[(refs[x], refs[y])] = p
        keep = prob >= threshold
        columns.append([block.pos_a[keep], block.pos_b[keep], prob[keep], block.features["cosine"][keep],
                        block.features["fuzzy"][keep], block.features["anchors"][keep]])
    if not columns or not any(len(c[0]) for c in columns):
        return ClaimAlignment(LinkTable.empty(), candidates)
    pos_a, pos_b, *values = (np.concatenate(parts) for parts in zip(*columns, strict=True))
    index = np.fromiter((r.index for r in refs), dtype=np.int64, count=len(refs))
    order = np.lexsort((index[pos_b], rank[pos_b], index[pos_a], rank[pos_a]))
    rounded = [np.round(v[order].astype(np.float64), 6) for v in values]
    table = LinkTable(refs, pos_a[order].astype(np.int64), pos_b[order].astype(np.int64), *rounded)
    return ClaimAlignment(table, candidates)


# ---------------------------------------------------------------------------------------- events

def claim_events(statements: Sequence[Statement], links: Sequence[object]) -> tuple[Event, ...]:
    """Cliques of linked statements, at most one per outlet, built greedily by descending link score.

    Two groups merge only when their outlets are disjoint and every cross pair between them is a link,
    so a chain A~B~C never joins A and C without A~C. Nodes and ties follow content (text, document id,
    index), so the result does not depend on input order. Event ids follow size, then content.
    """
    text_of = {s.ref: s.text for s in statements}
    score: dict[frozenset[StatementRef], float] = {}
    for lk in links:
        key = frozenset((lk.a, lk.b))  # type: ignore[attr-defined]
        score[key] = max(score.get(key, 0.0), float(lk.score))  # type: ignore[attr-defined]
    if not score:
        return ()

    def content(ref: StatementRef) -> tuple[str, str, int]:
        return (text_of.get(ref, ""), ref.doc_id, ref.index)

    ordered = sorted(score.items(), key=lambda kv: (-kv[1], sorted(map(content, kv[0]))))
    group_of: dict[StatementRef, int] = {}
    groups: dict[int, list[StatementRef]] = {}
    next_id = 0
    for pair, _ in ordered:
        x, y = sorted(pair, key=content)
        gx = group_of.get(x)
        gy = group_of.get(y)
        if gx is not None and gx == gy:
            continue
        left = groups[gx] if gx is not None else [x]
        right = groups[gy] if gy is not None else [y]
        if {r.doc_id for r in left} & {r.doc_id for r in right}:
            continue
        if not all(frozenset((p, q)) in score for p in left for q in right):
            continue
        merged = left + right
        if gx is None and gy is None:
            gid = next_id
            next_id += 1
        else:
            gid = gx if gx is not None else gy  # type: ignore[assignment]
            if gx is not None and gy is not None:
                groups.pop(gy)
        groups[gid] = merged
        for r in merged:
            group_of[r] = gid
    events = []
    for members in groups.values():
        refs = sorted(members)
        inside = [score[frozenset((p, q))] for i, p in enumerate(refs) for q in refs[i + 1:]]
        cohesion = sum(inside) / len(inside) if inside else 0.0
        first_text = min(text_of.get(r, "") for r in refs)
        events.append((refs, sorted({r.doc_id for r in refs}), cohesion, first_text))
    events.sort(key=lambda e: (-len(e[1]), -len(e[0]), e[3], e[0]))
    return tuple(Event(event_id=f"E{k}", members=tuple(m), doc_ids=tuple(d), cohesion=round(c, 6))
                 for k, (m, d, c, _) in enumerate(events, start=1))
