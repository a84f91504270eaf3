"""Alignment scaling: 2-32 outlets x 50 and 200 statements, beside naive references.

Stories are generated (seeded): a pool of events, each outlet carrying ~70% of them in its own
words (dropped, swapped and replaced words, some numbers) plus statements of its own; vectors are the
event's direction plus noise, so related statements have cosine ~0.8 and unrelated ones ~0. The
aligner is timed exactly as `compare_story` runs it (link_statements + build_events +
unique_statements); peak memory is traced (tracemalloc, numpy buffers included) in a second pass.

References, on the same data: a naive all-pairs Python loop over the same two main features (cosine
and rapidfuzz token_set_ratio per pair) and difflib SequenceMatcher.ratio() pairing. They run only on
sizes where they finish in reasonable time; larger sizes are extrapolated from their measured cost
per pair (their cost is exactly pairs x cost per pair) and marked so. The aligner prunes pairs
(blocking per document pair, top-k candidates, fuzzy only where the threshold is still reachable) but
its candidate search is exact (`candidate_search`: "exact"; no approximate index), so its links are
checked against brute-force scoring of every pair (`align.reference_links`) on the sizes where that
fits, and the recall is reported. The whole script keeps to TOTAL_BUDGET_S: every size is timed first,
then peak memory, the ANN comparison, the recall check and the references run while time is left.

ANN comparison (issue 8 asks for an approximate index on large stories, with its recall against exact
search), on the 16 x 200 and 32 x 200 stories: an hnswlib HNSW index (cosine space, M=16,
ef_construction=100, one thread, like the aligner's BLAS) over the statement vectors, queried for each
statement's K nearest other statements (K = 64, 128, 256; ef = K + 1, the query itself included), beside
exact blocked kNN in numpy for the same K and one pass of the aligner's exact blocked cosine products
(`align.row_products`, as in story_context). Recall: the share of the exact aligner's links whose pair is
among the kNN's cross-document pairs (either direction); the same for its links with cosine >= 0.5 (the
embedding-similar ones) and, on 16 x 200, for its exact top-20 candidate pairs; and the share of the exact
kNN neighbours hnswlib finds.

Run alone: .venv/bin/python benchmarks/align_scaling.py  (prints JSON)
"""

from __future__ import annotations

import difflib
import json
import math
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUTLETS = (2, 4, 8, 16, 32)
STATEMENTS = (50, 200)
DIM = 384
ALIGN_BUDGET_S = 60.0  # skip (and extrapolate) a size predicted to take longer than this (or than is left)
TOTAL_BUDGET_S = 110.0  # the whole script, inside run_all.py's 150 s section budget (imports, start-up)
EXTRAS_RESERVE_S = 30.0  # kept for the recall check and the references when choosing memory passes
REF_BUDGET_S = 6.0
FIRST_REF_MAX_PAIRS = 3_000  # a reference's first run (its cost per pair is unknown until then)
RECALL_MAX_PAIRS = 1_300_000  # brute force runs token_set_ratio on every pair
MEMORY_PASS_MAX_S = 8.0  # tracemalloc slows Python code: trace only sizes that ran faster than this
ANN_SIZES = ((16, 200), (32, 200))
ANN_K = (64, 128, 256)
ANN_M, ANN_EF_CONSTRUCTION = 16, 100
ANN_COST_VS_ALIGN = 1.5  # first guess of the ANN comparison's time / the aligner's on a story (then measured)
ANN_RESERVE_S = 12.0  # left for the recall check and the references after the ANN comparison
CANDIDATES_MAX_PAIRS = 5_000_000  # the aligner's candidate set (a fuzzy-free aligner pass) only up to 16 x 200
SEMANTIC_COSINE = 0.5  # a link with cosine at least this is embedding-similar (same-event pairs: ~0.77)


def make_story(outlets: int, per_outlet: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """Statements and vectors of a generated story (deterministic for a seed)."""
    from compare.model import Cue, CueType, Statement

    rng = random.Random(seed * 1000 + outlets * 10 + per_outlet)
    nrng = np.random.default_rng(seed * 1000 + outlets * 10 + per_outlet)
    # A news-sized vocabulary: unrelated statements share few words, as in real articles.
    vocab = [f"{a}{b}{c}" for a in ("ka", "lo", "mi", "ne", "su", "tor", "vel", "dra", "pen", "gri")
             for b in ("ban", "dor", "fel", "gim", "hus", "lat", "mor", "nip", "rex", "sol", "tam", "vik")
             for c in ("", "a", "en", "is", "o", "us", "er", "ing", "ed", "an", "ot", "il", "ar", "um", "ix",
                       "et", "al", "on", "ey", "ic", "ut", "ow", "ax", "ine", "ope", "ast", "ern", "ide", "ult")]
    n_events = per_outlet
    events = [[rng.choice(vocab) for _ in range(rng.randint(12, 28))] for _ in range(n_events)]
    numbers = [rng.randint(2, 900) if rng.random() < 0.5 else None for _ in range(n_events)]
    directions = nrng.standard_normal((n_events, DIM)).astype(np.float32)
    statements, vectors = [], []
    for o in range(outlets):
        doc_id = f"outlet-{o:02d}"
        carried = rng.sample(range(n_events), int(per_outlet * 0.7))
        own = per_outlet - len(carried)
        items = [("event", e) for e in carried] + [("own", None)] * own
        rng.shuffle(items)
        offset = 0
        for index, (kind, e) in enumerate(items):
            if kind == "event":
                words = [w for w in events[e] if rng.random() > 0.15]
                words = [rng.choice(vocab) if rng.random() < 0.1 else w for w in words]
                if len(words) > 3 and rng.random() < 0.5:
                    i = rng.randrange(len(words) - 1)
                    words[i], words[i + 1] = words[i + 1], words[i]
                number = numbers[e]
                vec = directions[e] + 0.55 * nrng.standard_normal(DIM).astype(np.float32)
            else:
                words = [rng.choice(vocab) for _ in range(rng.randint(12, 28))]
                number = rng.randint(2, 900) if rng.random() < 0.3 else None
                vec = nrng.standard_normal(DIM).astype(np.float32)
            text = " ".join(words).capitalize()
            cues: tuple = ()
            if number is not None:
                text += f" {number} people."
                at = text.rindex(str(number))
                cues = (Cue(CueType.NUMBER, at, at + len(str(number)), str(number),
                            {"value": number, "unit": None}),)
            else:
                text += "."
            statements.append(Statement(doc_id, index, offset, offset + len(text), text, "en", cues))
            offset += len(text) + 1
            vectors.append(vec / np.linalg.norm(vec))
    return tuple(statements), np.stack(vectors).astype(np.float32)


def align(statements, vectors):  # type: ignore[no-untyped-def]
    """The align stage exactly as compare_story runs it."""
    from compare.align.events import build_events, unique_statements
    from compare.align.links import link_statements
    from compare.align.scorer import default_weights

    weights = default_weights()
    links = link_statements(statements, vectors, threshold=weights.threshold, weights=weights)
    events = build_events(statements, links)
    unique_statements(statements, events)
    return links, events


def pairs_of(outlets: int, per_outlet: int) -> int:
    return outlets * (outlets - 1) // 2 * per_outlet * per_outlet


def _cross_pairs(statements):  # type: ignore[no-untyped-def]
    by_doc: dict[str, list[int]] = {}
    for i, s in enumerate(statements):
        by_doc.setdefault(s.doc_id, []).append(i)
    docs = sorted(by_doc)
    for a in range(len(docs)):
        for b in range(a + 1, len(docs)):
            yield by_doc[docs[a]], by_doc[docs[b]]


def naive_loop(statements, vectors) -> int:  # type: ignore[no-untyped-def]
    """Reference: every cross-document pair in a Python loop, cosine + token_set_ratio, best match kept."""
    from rapidfuzz import fuzz

    links = 0
    for rows, cols in _cross_pairs(statements):
        for i in rows:
            best, best_j = -1.0, -1
            for j in cols:
                score = 0.5 * float(np.dot(vectors[i], vectors[j])) + \
                    0.5 * fuzz.token_set_ratio(statements[i].text, statements[j].text) / 100.0
                if score > best:
                    best, best_j = score, j
            links += best >= 0.5 and best_j >= 0
    return links


def difflib_pairing(statements) -> int:  # type: ignore[no-untyped-def]
    """Reference: difflib SequenceMatcher ratio for every cross-document pair, best match kept."""
    links = 0
    for rows, cols in _cross_pairs(statements):
        for i in rows:
            matcher = difflib.SequenceMatcher(None, b=statements[i].text, autojunk=False)
            best = 0.0
            for j in cols:
                matcher.set_seq1(statements[j].text)
                best = max(best, matcher.ratio())
            links += best >= 0.6
    return links


def _doc_rows(statements) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """Positions of each document's statements, by statement index (as story_context builds them)."""
    by_doc: dict[str, list[int]] = {}
    for position, statement in enumerate(statements):
        by_doc.setdefault(statement.doc_id, []).append(position)
    doc_ids = tuple(sorted(by_doc))
    return {d: np.array(sorted(by_doc[d], key=lambda p: statements[p].index), dtype=np.int64)
            for d in doc_ids}, doc_ids


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Unordered pairs of positions as sorted unique integers (min * n + max)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    keys = np.sort(np.minimum(a, b) * n + np.maximum(a, b))  # sort + diff: np.unique hashes, ~10x slower here
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _share_in(keys: np.ndarray, sorted_keys: np.ndarray) -> float:
    """Share of `keys` found in `sorted_keys` (sorted, unique), by binary search; 1.0 when there are none."""
    if not len(keys):
        return 1.0
    if not len(sorted_keys):
        return 0.0
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return float(np.mean(sorted_keys[at] == keys))


def _knn_pairs(neighbours: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """Cross-document candidate pairs (keys) of a kNN graph: i with each of its neighbours."""
    n, k = neighbours.shape
    a = np.repeat(np.arange(n, dtype=np.int64), k)
    b = neighbours.ravel().astype(np.int64)
    cross = doc[a] != doc[b]
    return _pair_keys(a[cross], b[cross], n)


def exact_knn(vectors: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
    """Each row's k nearest other rows by cosine (unit vectors: dot product), in row blocks so memory is
    block x n, not n x n."""
    n = len(vectors)
    out = np.empty((n, k), dtype=np.int64)
    for lo in range(0, n, block):
        sim = vectors[lo:lo + block] @ vectors.T
        sim[np.arange(len(sim)), np.arange(lo, lo + len(sim))] = -np.inf  # not itself
        out[lo:lo + block] = np.argpartition(sim, n - k, axis=1)[:, n - k:]
    return out


def _drop_self(labels: np.ndarray) -> np.ndarray:
    """k+1 neighbours from the index -> k others: remove the query itself, or the farthest if it is absent."""
    n = len(labels)
    own = labels == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True
    return labels[~own].reshape(n, labels.shape[1] - 1)


def _aligner_candidates(statements, vectors) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The aligner's exact candidate pairs (top-20 per statement and document pair by its fuzzy-free score,
    before the threshold), as keys: link_statements with the fuzzy weight at 0 and the lowest threshold
    keeps every candidate, through the same code path."""
    import dataclasses

    from compare.align.links import link_statements
    from compare.align.scorer import default_weights

    weights = default_weights()
    coef = tuple(0.0 if name == "fuzzy" else c for name, c in zip(weights.features, weights.coef, strict=True))
    table = link_statements(statements, vectors, threshold=1e-12,
                            weights=dataclasses.replace(weights, coef=coef, small_story_floor=None))
    return _pair_keys(table.pos_a, table.pos_b, len(statements))


def ann_comparison(statements, vectors, links, with_candidates: bool) -> dict:  # type: ignore[no-untyped-def]
    """hnswlib kNN against exact blocked kNN and against the aligner's exact products, links and candidates
    on one story (times in wall seconds and CPU seconds of all threads)."""
    import hnswlib
    from threadpoolctl import threadpool_limits

    from compare.align.context import row_products

    n, dim = vectors.shape
    rows, doc_ids = _doc_rows(statements)
    doc = np.empty(n, dtype=np.int64)
    for d, r in enumerate(doc_ids):
        doc[rows[r]] = d
    link_keys = _pair_keys(links.pos_a, links.pos_b, n)
    semantic = np.asarray(links.cosines) >= SEMANTIC_COSINE
    semantic_keys = _pair_keys(np.asarray(links.pos_a)[semantic], np.asarray(links.pos_b)[semantic], n)
    out: dict = {"statements": n, "links": len(link_keys), "semantic_links": len(semantic_keys)}

    def timed(fn, *args):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        return time.perf_counter() - wall, time.process_time() - cpu, result

    with threadpool_limits(limits=1, user_api="blas"):  # as the aligner runs its products
        out["products_s"], out["products_cpu_s"], _ = timed(lambda: sum(1 for _ in row_products(
            vectors, rows, doc_ids)))
        if with_candidates:
            out["candidates_s"], _, candidates = timed(_aligner_candidates, statements, vectors)
            out["candidates"] = len(candidates)

        def build():  # type: ignore[no-untyped-def]
            index = hnswlib.Index(space="cosine", dim=dim)
            index.init_index(max_elements=n, M=ANN_M, ef_construction=ANN_EF_CONSTRUCTION, random_seed=7)
            index.set_num_threads(1)
            index.add_items(vectors, np.arange(n))
            return index

        out["build_s"], out["build_cpu_s"], index = timed(build)
        per_k = []
        for k in (k for k in ANN_K if k < n):  # k nearest *others*: at most n - 1
            index.set_ef(k + 1)

            def query(k: int = k) -> np.ndarray:
                return _drop_self(index.knn_query(vectors, k=k + 1, num_threads=1)[0].astype(np.int64))

            q_s, q_cpu, found = timed(query)
            e_s, e_cpu, exact = timed(exact_knn, vectors, k)
            ann_pairs, exact_pairs = _knn_pairs(found, doc), _knn_pairs(exact, doc)
            item = {
                "k": k, "ef": k + 1, "query_s": q_s, "ann_s": out["build_s"] + q_s,
                "ann_cpu_s": out["build_cpu_s"] + q_cpu, "exact_knn_s": e_s, "exact_knn_cpu_s": e_cpu,
                "knn_recall": _share_in(found.ravel() + np.repeat(np.arange(n, dtype=np.int64), k) * n,
                                        np.sort((exact + np.arange(n, dtype=np.int64)[:, None] * n).ravel())),
                "candidate_pairs": len(ann_pairs),
                "link_recall": _share_in(link_keys, ann_pairs),
                "link_recall_exact_knn": _share_in(link_keys, exact_pairs),
                "semantic_link_recall": _share_in(semantic_keys, ann_pairs),
            }
            if with_candidates:
                item["candidate_recall"] = _share_in(candidates, ann_pairs)
            per_k.append(item)
    out["k"] = per_k
    return out


def fit_exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x (None with fewer than two usable points)."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0]
    if len(points) < 2:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else None


def _timed(fn, *args) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def run() -> dict:
    """Time every size first (the table's main column), then spend what is left of TOTAL_BUDGET_S on the
    extras in order of value: peak memory, the check against brute force, the references. An extra that
    would not fit is left out (memory, recall: "–") or extrapolated (references: italic), so the script
    ends inside the section budget of benchmarks/run_all.py even on a busy machine."""
    from compare.align import reference as align_module
    started = time.perf_counter()

    def left() -> float:
        return TOTAL_BUDGET_S - (time.perf_counter() - started)

    reference_links = getattr(align_module, "reference_links", None)
    rows: list[dict] = []
    stories: dict[tuple[int, int], tuple] = {}
    for per_outlet in STATEMENTS:  # 1. the aligner on every size
        last: tuple[int, float] | None = None
        for outlets in OUTLETS:
            pairs = pairs_of(outlets, per_outlet)
            row: dict = {"outlets": outlets, "statements": per_outlet, "total": outlets * per_outlet,
                         "pairs": pairs, "candidate_search": "exact"}
            rows.append(row)
            predicted = last[1] * pairs / last[0] if last else 0.0
            if predicted > min(ALIGN_BUDGET_S, max(left(), 0.0)):
                row.update(align_s=predicted, align_extrapolated=True)
                continue
            statements, vectors = make_story(outlets, per_outlet)
            align(statements[:20], vectors[:20])  # warm imports and caches
            cpu = time.process_time()
            seconds, (links, events) = _timed(align, statements, vectors)
            # CPU seconds of all threads: on a busy machine wall time mostly measures the wait for a core
            row.update(align_s=seconds, align_cpu_s=time.process_time() - cpu, links=len(links), events=len(events))
            last = (pairs, seconds)
            stories[outlets, per_outlet] = (statements, vectors, links)
    measured = [r for r in rows if not r.get("align_extrapolated")]
    for row in measured:  # 2. peak memory (tracemalloc makes Python code about 2-3x slower)
        if row["align_s"] <= MEMORY_PASS_MAX_S and row["align_s"] * 3 < left() - EXTRAS_RESERVE_S:
            statements, vectors, _ = stories[row["outlets"], row["statements"]]
            tracemalloc.start()
            align(statements, vectors)
            row["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    ann: dict = {"index": "hnswlib HNSW", "space": "cosine", "M": ANN_M, "ef_construction": ANN_EF_CONSTRUCTION,
                 "threads": 1, "k": list(ANN_K), "stories": [], "skipped": []}
    try:
        import hnswlib  # noqa: F401
    except ImportError:
        ann["skipped"].append("not measured: hnswlib is not installed")
    else:
        cost_ratio = ANN_COST_VS_ALIGN  # 3. ANN against exact search on the large stories
        for outlets, per_outlet in ANN_SIZES:
            story = stories.get((outlets, per_outlet))
            row = next(r for r in rows if (r["outlets"], r["statements"]) == (outlets, per_outlet))
            if story is None:
                ann["skipped"].append(f"{outlets} × {per_outlet} not measured: the aligner itself was not run (time)")
                continue
            predicted = cost_ratio * row["align_s"]
            if predicted > left() - ANN_RESERVE_S:
                ann["skipped"].append(f"{outlets} × {per_outlet} not measured: predicted {predicted:.0f} s, "
                                      f"{max(left(), 0):.0f} s of the budget left")
                continue
            spent = time.perf_counter()
            # the aligner's candidates: link_statements without fuzzy matching (~0.3-0.4x the aligner's time)
            with_candidates = (row["pairs"] <= CANDIDATES_MAX_PAIRS
                               and row["align_s"] * 0.5 < left() - ANN_RESERVE_S - predicted)
            result = ann_comparison(*story, with_candidates)
            result.update(outlets=outlets, per_outlet=per_outlet, align_s=row["align_s"],
                          align_cpu_s=row["align_cpu_s"], seconds=time.perf_counter() - spent)
            ann["stories"].append(result)
            cost_ratio = (result["seconds"] - result.get("candidates_s", 0.0)) / row["align_s"]
            if not with_candidates:
                why = (f"it takes a fuzzy-free aligner pass, run up to {CANDIDATES_MAX_PAIRS:,} pairs"
                       if row["pairs"] > CANDIDATES_MAX_PAIRS else "no time left")
                ann["skipped"].append(f"{outlets} × {per_outlet}: recall of the aligner's candidates not measured "
                                      f"({why})")
    for row in measured:  # 4. links against brute-force scoring of every pair (fuzzy on every pair)
        # brute force costs a few times the aligner (token_set_ratio on every pair): skip it when that would
        # not fit in what is left
        if reference_links is not None and row["pairs"] <= RECALL_MAX_PAIRS and row["align_s"] * 4 < left():
            statements, vectors, links = stories[row["outlets"], row["statements"]]
            exact = set((lk.a, lk.b) for lk in reference_links(statements, vectors))
            found = set((lk.a, lk.b) for lk in links)
            row["recall_vs_exact"] = len(exact & found) / len(exact) if exact else 1.0
            row["extra_vs_exact"] = len(found - exact)
    ref_cost: dict[str, float] = {}  # seconds per pair, from the largest size each reference ran on
    for row in rows:  # 5. the references, run while they fit and extrapolated from their cost per pair after
        pairs = row["pairs"]
        story = stories.get((row["outlets"], row["statements"]))
        for name, fn in (("naive_loop", naive_loop), ("difflib", difflib_pairing)):
            cost = ref_cost.get(name)
            budget = min(REF_BUDGET_S, left() / 4)
            if story is not None and ((cost is None and pairs <= FIRST_REF_MAX_PAIRS) or
                                      (cost is not None and cost * pairs <= budget)):
                args = (story[0], story[1]) if name == "naive_loop" else (story[0],)
                ref_seconds, _ = _timed(fn, *args)
                ref_cost[name] = ref_seconds / pairs
                row[f"{name}_s"] = ref_seconds
            elif cost is not None:
                row[f"{name}_s"] = cost * pairs
                row[f"{name}_extrapolated"] = True
    fits = {}
    for per_outlet in STATEMENTS:
        series = [r for r in rows if r["statements"] == per_outlet and not r.get("align_extrapolated")]
        fits[str(per_outlet)] = {
            "time_vs_total_statements": fit_exponent([r["total"] for r in series], [r["align_s"] for r in series]),
            "memory_vs_total_statements": fit_exponent([r["total"] for r in series if "peak_mb" in r],
                                                       [r["peak_mb"] for r in series if "peak_mb" in r]),
            "memory_vs_pairs": fit_exponent([r["pairs"] for r in series if "peak_mb" in r],
                                            [r["peak_mb"] for r in series if "peak_mb" in r]),
        }
    return {"rows": rows, "fits": fits, "reference_cost_per_pair_us": {k: v * 1e6 for k, v in ref_cost.items()},
            "candidate_search": "exact", "ann": ann, "budget_s": TOTAL_BUDGET_S,
            "elapsed_s": time.perf_counter() - started, "load_average": os.getloadavg()[0]}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
