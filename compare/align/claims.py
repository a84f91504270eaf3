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
outlet's claims), but an event is a clique: statements join one event only when every two of them from
different outlets are linked, and an event holds at most one statement per outlet. A~B and B~C never
pull A and C together unless A~C holds too.

Pairs of statements in different languages are scored by a second section of the same file that
reads only the language-independent features (embedding cosine, margins, shared numbers and names).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from compare.data import backend_section
from compare.errors import ConfigError
from compare.model import Event, Link, LinkTable, Statement

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
    "numbers",  # shared number tokens over the shorter side's (0 when either has none: a conflicting
    # figure is not evidence against the same claim, it is what the report is for)
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


def _scorer_from(section: dict[str, Any]) -> ClaimScorer:
    return ClaimScorer(features=tuple(section["features"]), coef=tuple(float(c) for c in section["coef"]),
                       bias=float(section["bias"]), mean=tuple(float(x) for x in section["mean"]),
                       scale=tuple(float(x) for x in section["scale"]))


def load_claim_weights(path: str | Path | None = None, backend: str | None = None) -> ClaimWeights:
    """Claim scorer for `backend` (an `Embedder.name`) from a claim-scorer JSON file, else its fallback."""
    name, section, version = backend_section("claim_scorer.json", path, backend, what="claim scorer",
                                             refit="benchmarks/fit_claim_scorer.py")
    return ClaimWeights(monolingual=_scorer_from(section["monolingual"]),
                        crosslingual=_scorer_from(section["crosslingual"]),
                        threshold=float(section["threshold"]), backend=name, version=f"{version}/{name}")


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
    content_present: object  # sparse (n, C) 0/1, the same words
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
    from compare.align.context import _tfidf, anchors

    tokens = [_WORD.findall(s.text.lower()) for s in statements]
    bigram_rows = [[f"{x} {y}" for x, y in itertools.pairwise(t)] for t in tokens]
    content_rows = [sorted({w for w in t if w not in STOPWORDS}) for t in tokens]
    name_rows = [sorted(set(_NAME.findall(s.text))) for s in statements]
    number_rows = [sorted(set(_NUMBER.findall(s.text))) for s in statements]
    anchor_rows = [sorted(anchors(s)) for s in statements]
    tfidf, _ = _tfidf(statements, [])
    present = _incidence(content_rows)
    n = len(statements)
    df = np.asarray(present.sum(axis=0)).ravel()  # type: ignore[attr-defined]
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    from scipy import sparse

    content = (present @ sparse.diags(idf.astype(np.float32))).tocsr()

    def sizes(rows: Sequence[Sequence[str]]) -> np.ndarray:
        return np.array([len(r) for r in rows], dtype=np.float32)

    return StoryTexts(
        tfidf=tfidf, bigrams=_incidence(bigram_rows), bigram_counts=np.array(
            [len(set(r)) for r in bigram_rows], dtype=np.float32),
        words=sizes(tokens), anchors=_incidence(anchor_rows), anchor_counts=sizes(anchor_rows),
        content=content, content_present=present,
        content_mass=np.asarray(content.sum(axis=1), dtype=np.float32).ravel(),
        content_counts=sizes(content_rows), names=_incidence(name_rows), name_counts=sizes(name_rows),
        numbers=_incidence(number_rows), number_counts=sizes(number_rows),
        claimless=np.array([bool(_LINK.search(s.text)) or not t for s, t in zip(statements, tokens, strict=True)]),
    )


def _order_stats(matrix: np.ndarray, axis: int, per_side: int | None) -> dict[str, np.ndarray]:
    """Along `axis`, in one partition: the best and second-best value, the mean of the MARGIN_K best, and
    the `per_side`-th best (the candidate cut). With one element, the second best is the best."""
    size = matrix.shape[axis]
    ks = {size - 1, max(size - 2, 0), max(size - MARGIN_K, 0)}
    if per_side is not None:
        ks.add(max(size - per_side, 0))
    part = np.partition(matrix, sorted(ks), axis=axis)
    take = (lambda k: part[k]) if axis == 0 else (lambda k: part[:, k])
    top = part[max(size - MARGIN_K, 0):] if axis == 0 else part[:, max(size - MARGIN_K, 0):]
    return {"best": take(size - 1), "second": take(max(size - 2, 0)), "top_mean": top.mean(axis=axis),
            "cut": take(max(size - per_side, 0)) if per_side is not None else take(0)}


def _cut(matrix: np.ndarray, axis: int, per_side: int) -> np.ndarray:
    size = matrix.shape[axis]
    k = max(size - per_side, 0)
    part = np.partition(matrix, k, axis=axis)
    return part[k] if axis == 0 else part[:, k]


def _sparse_dense(left: object, right: object) -> np.ndarray:
    return np.asarray((left @ right.T).todense(), dtype=np.float32)  # type: ignore[attr-defined]


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


# Products of per-statement incidence rows computed once per strip (one document against all later ones):
# one sparse product for 31 later documents costs far less than 31 small ones.
_STRIP_PRODUCTS = ("tfidf", "bigrams", "anchors", "content", "names", "numbers")


def pair_blocks(statements: Sequence[Statement], vectors: np.ndarray, *,
                per_side: int | None = CANDIDATES_PER_SIDE,
                prune: ClaimWeights | None = None) -> Iterator[PairBlock]:
    """Candidate pairs and their CLAIM_FEATURES for every pair of documents (order-independent).

    `per_side` None scores every pair (evaluation and tests). With `prune`, fuzzy matching (the costly
    feature) runs only on pairs that could still reach that scorer's threshold with a perfect fuzzy
    score; elsewhere it reads 0, and such pairs cannot be links whatever it would have been."""
    vectors = np.asarray(vectors, dtype=np.float32)
    texts = story_texts(statements)
    rows: dict[str, list[int]] = {}
    for position, statement in enumerate(statements):
        rows.setdefault(statement.doc_id, []).append(position)
    doc_ids = sorted(rows)
    order = {d: np.array(sorted(rows[d], key=lambda p: statements[p].index), dtype=np.int64) for d in doc_ids}
    codes: dict[str, int] = {}
    language = np.array([codes.setdefault(s.language, len(codes)) for s in statements], dtype=np.int64)
    for x, doc_a in enumerate(doc_ids[:-1]):
        ra = order[doc_a]
        later = [order[d] for d in doc_ids[x + 1:]]
        cols = np.concatenate(later)
        cos_strip = np.clip(vectors[ra] @ vectors[cols].T, -1.0, 1.0).astype(np.float32)
        products = {name: _sparse_dense(getattr(texts, name)[ra], getattr(texts, name)[cols])
                    for name in _STRIP_PRODUCTS if name != "content"}
        # IDF mass of the shared words: weights on one side, presence on the other
        products["content"] = _sparse_dense(texts.content[ra], texts.content_present[cols])  # type: ignore[index]
        lo = 0
        for rb in later:
            hi = lo + len(rb)
            yield _block(statements, texts, language, ra, rb, cos_strip[:, lo:hi],
                         {k: v[:, lo:hi] for k, v in products.items()}, per_side, prune)
            lo = hi


def _block(statements: Sequence[Statement], texts: StoryTexts, language: np.ndarray, ra: np.ndarray,
           rb: np.ndarray, cos: np.ndarray, products: dict[str, np.ndarray], per_side: int | None,
           prune: ClaimWeights | None) -> PairBlock:
    tfidf = products["tfidf"]
    rows, cols = _order_stats(cos, 1, per_side), _order_stats(cos, 0, per_side)
    if per_side is None:
        keep = np.ones(cos.shape, dtype=bool)
    else:  # each statement's best partners by cosine and by TF-IDF, in its row or its column
        keep = (cos >= rows["cut"][:, None]) | (cos >= cols["cut"][None, :])
        keep |= (tfidf >= _cut(tfidf, 1, per_side)[:, None]) | (tfidf >= _cut(tfidf, 0, per_side)[None, :])
    ii, jj = np.nonzero(keep)
    row_best, row_second = rows["best"], rows["second"]
    col_best, col_second = cols["best"], cols["second"]
    c = cos[ii, jj]
    # the best *other* partner on each side: the runner-up when this pair is the best, else the best
    other_row = np.where(c >= row_best[ii], row_second[ii], row_best[ii])
    other_col = np.where(c >= col_best[jj], col_second[jj], col_best[jj])
    knn = 0.5 * (rows["top_mean"][ii] + cols["top_mean"][jj])

    def share(common: np.ndarray, sizes: np.ndarray, *, fewer: bool = True) -> np.ndarray:
        left_size, right_size = sizes[ra][ii], sizes[rb][jj]
        base = np.minimum(left_size, right_size) if fewer else np.maximum(left_size, right_size)
        out: np.ndarray = np.divide(common, base, out=np.zeros_like(common), where=base > 0)
        return out

    shared_anchors = products["anchors"][ii, jj]
    anchor_union = texts.anchor_counts[ra][ii] + texts.anchor_counts[rb][jj] - shared_anchors
    shared_mass = products["content"][ii, jj]
    content_a, content_b = texts.content_counts[ra][ii], texts.content_counts[rb][jj]
    longer = np.maximum(content_a, content_b)
    feats = {
        "cosine": c,
        "ratio_margin": c / np.maximum(knn, 1e-3),
        "gap": 0.5 * ((c - other_row) + (c - other_col)),
        "mutual": ((c >= row_best[ii]) & (c >= col_best[jj])).astype(np.float32),
        "tfidf": tfidf[ii, jj],
        "phrase": share(products["bigrams"][ii, jj], texts.bigram_counts),
        "anchors": np.divide(shared_anchors, anchor_union, out=np.zeros_like(shared_anchors),
                             where=anchor_union > 0),
        "short": 1.0 / np.maximum(np.minimum(texts.words[ra][ii], texts.words[rb][jj]), 1.0),
        "containment": share(shared_mass, texts.content_mass),
        "coverage": share(shared_mass, texts.content_mass, fewer=False),
        "shared_weight": shared_mass,
        "names": share(products["names"][ii, jj], texts.name_counts),
        "numbers": share(products["numbers"][ii, jj], texts.number_counts),
        "length_ratio": np.divide(np.minimum(content_a, content_b), longer, out=np.zeros_like(content_a),
                                  where=longer > 0),
    }
    crosslingual = language[ra][ii] != language[rb][jj]
    claimless = texts.claimless[ra][ii] | texts.claimless[rb][jj]
    fuzzy_needed = np.ones(len(ii), dtype=bool) if prune is None else (
        _reachable(feats, crosslingual, prune) & ~claimless)
    fuzzy = np.zeros(len(ii), dtype=np.float32)
    needed = np.flatnonzero(fuzzy_needed)
    fuzzy[needed] = _fuzzy_pairs([statements[p].text for p in ra[ii[needed]].tolist()],
                                 [statements[p].text for p in rb[jj[needed]].tolist()])
    feats["fuzzy"] = fuzzy
    return PairBlock(ra[ii], rb[jj], {k: v.astype(np.float32, copy=False) for k, v in feats.items()},
                     crosslingual, claimless)


def _reachable(feats: dict[str, np.ndarray], crosslingual: np.ndarray, weights: ClaimWeights) -> np.ndarray:
    """Pairs whose probability could reach the threshold with the most favourable fuzzy score (0 or 1)."""
    mono = weights.monolingual
    if "fuzzy" not in mono.features:
        return np.zeros(len(crosslingual), dtype=bool)
    best_fuzzy = 1.0 if mono.coef[mono.features.index("fuzzy")] > 0 else 0.0
    trial = dict(feats, fuzzy=np.full(len(crosslingual), best_fuzzy, dtype=np.float32))
    reach: np.ndarray = (mono.probability(trial) >= weights.threshold - 1e-9) & ~crosslingual
    return reach  # the cross-language section does not read fuzzy


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
    """The links of a story, and every scored pair from the event floor up (links included), which
    `claim_events` reads to check that a group holds together."""

    links: LinkTable
    pairs: LinkTable
    threshold: float
    floor: float


def align_claims(statements: Sequence[Statement], vectors: np.ndarray, *, weights: ClaimWeights,
                 threshold: float | None = None, per_side: int | None = CANDIDATES_PER_SIDE) -> ClaimAlignment:
    """Claim links of a story: the candidate pairs whose probability reaches `threshold`."""
    threshold = weights.threshold if threshold is None else threshold
    floor = EVENT_FLOOR_SHARE * threshold
    refs = [s.ref for s in statements]
    doc_rank = {d: n for n, d in enumerate(sorted({s.doc_id for s in statements}))}
    rank = np.fromiter((doc_rank[s.doc_id] for s in statements), dtype=np.int64, count=len(statements))
    prune = replace(weights, threshold=floor)
    columns: list[list[np.ndarray]] = []
    for block in pair_blocks(statements, vectors, per_side=per_side, prune=prune):
        prob = block_probability(block, weights)
        keep = prob >= floor
        columns.append([block.pos_a[keep], block.pos_b[keep], prob[keep], block.features["cosine"][keep],
                        block.features["fuzzy"][keep], block.features["anchors"][keep]])
    if not columns or not any(len(c[0]) for c in columns):
        return ClaimAlignment(LinkTable.empty(), LinkTable.empty(), threshold, floor)
    pos_a, pos_b, *values = (np.concatenate(parts) for parts in zip(*columns, strict=True))
    index = np.fromiter((r.index for r in refs), dtype=np.int64, count=len(refs))
    order = np.lexsort((index[pos_b], rank[pos_b], index[pos_a], rank[pos_a]))
    pos_a, pos_b = pos_a[order].astype(np.int64), pos_b[order].astype(np.int64)
    rounded = [np.round(v[order].astype(np.float64), 6) for v in values]
    linked = rounded[0] >= threshold
    return ClaimAlignment(
        links=LinkTable(refs, pos_a[linked], pos_b[linked], *(v[linked] for v in rounded)),
        pairs=LinkTable(refs, pos_a, pos_b, *rounded), threshold=threshold, floor=floor,
    )


# ---------------------------------------------------------------------------------------- events

EVENT_FLOOR_SHARE = 0.5  # an event's weakest cross pair must reach this share of the link threshold


def claim_events(statements: Sequence[Statement], pairs: Sequence[Link], *, threshold: float = 0.0,
                 floor: float | None = None) -> tuple[Event, ...]:
    """Groups of statements that report one claim, at most one per outlet, built greedily from the
    strongest pair down.

    `pairs` are scored statement pairs (the links, and any weaker candidates to consider). Two groups
    merge only when their outlets are disjoint, every cross pair between them is among `pairs` with a
    score of at least `floor` (default: the lowest score given), and the mean cross-pair score reaches
    `threshold`: a chain A~B~C never joins A and C unless A~C is scored too, and one strong pair cannot
    drag in a statement the rest of the group does not support. Nodes and ties follow content (text,
    document id, index), so the result does not depend on input order. Event ids follow size, then content.
    """
    text_of = {s.ref: s.text for s in statements}
    if isinstance(pairs, LinkTable):
        ends = [(pairs.refs[x], pairs.refs[y], sc) for x, y, sc in
                zip(np.asarray(pairs.pos_a).tolist(), np.asarray(pairs.pos_b).tolist(),
                    np.asarray(pairs.scores).tolist(), strict=True)]
    else:
        ends = [(lk.a, lk.b, float(lk.score)) for lk in pairs]
    if not ends:
        return ()
    floor = min(sc for _, _, sc in ends) if floor is None else floor
    nodes = sorted({r for a, b, _ in ends for r in (a, b)}, key=lambda r: (text_of.get(r, ""), r.doc_id, r.index))
    rank = {r: k for k, r in enumerate(nodes)}  # content order: ties and ids never depend on input order
    size = len(nodes)
    score: dict[int, float] = {}
    for a, b, sc in ends:
        x, y = sorted((rank[a], rank[b]))
        if x != y and sc >= floor:
            score[x * size + y] = max(score.get(x * size + y, 0.0), sc)
    group_of: dict[int, int] = {}
    groups: dict[int, list[int]] = {}
    outlets: dict[int, set[str]] = {}
    for key in sorted((k for k, v in score.items() if v >= threshold), key=lambda k: (-score[k], k)):
        x, y = divmod(key, size)
        gx, gy = group_of.get(x, -1 - x), group_of.get(y, -1 - y)  # a lone node is its own group
        if gx == gy:
            continue
        left, right = groups.get(gx, [x]), groups.get(gy, [y])
        docs_left = outlets.get(gx, {nodes[x].doc_id})
        docs_right = outlets.get(gy, {nodes[y].doc_id})
        if docs_left & docs_right:
            continue
        cross = [score.get(min(p, q) * size + max(p, q)) for p in left for q in right]
        if any(c is None for c in cross) or sum(cross) / len(cross) < threshold:  # type: ignore[arg-type]
            continue
        gid = max(gx, gy) if min(gx, gy) < 0 <= max(gx, gy) else (gx if gx >= 0 else size + x)
        for g in (gx, gy):
            groups.pop(g, None)
            outlets.pop(g, None)
        groups[gid] = left + right
        outlets[gid] = docs_left | docs_right
        for k in groups[gid]:
            group_of[k] = gid
    events = []
    for members in groups.values():
        ids = sorted(members)
        inside = [score[p * size + q] for i, p in enumerate(ids) for q in ids[i + 1:]]
        refs = sorted(nodes[k] for k in ids)
        events.append((refs, sorted({r.doc_id for r in refs}), sum(inside) / len(inside),
                       text_of.get(nodes[ids[0]], "")))
    events.sort(key=lambda e: (-len(e[1]), -len(e[0]), e[3], e[0]))
    return tuple(Event(event_id=f"E{k}", members=tuple(m), doc_ids=tuple(d), cohesion=round(c, 6))
                 for k, (m, d, c, _) in enumerate(events, start=1))
