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
then peak memory, the recall check and the references run while time is left.

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
    from compare.align import build_events, default_weights, link_statements, unique_statements

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
    from compare import align as align_module

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
    for row in measured:  # 3. links against brute-force scoring of every pair (fuzzy on every pair)
        # brute force costs a few times the aligner (token_set_ratio on every pair): skip it when that would
        # not fit in what is left
        if reference_links is not None and row["pairs"] <= RECALL_MAX_PAIRS and row["align_s"] * 4 < left():
            statements, vectors, links = stories[row["outlets"], row["statements"]]
            exact = set((lk.a, lk.b) for lk in reference_links(statements, vectors))
            found = set((lk.a, lk.b) for lk in links)
            row["recall_vs_exact"] = len(exact & found) / len(exact) if exact else 1.0
            row["extra_vs_exact"] = len(found - exact)
    ref_cost: dict[str, float] = {}  # seconds per pair, from the largest size each reference ran on
    for row in rows:  # 4. the references, run while they fit and extrapolated from their cost per pair after
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
            "candidate_search": "exact", "budget_s": TOTAL_BUDGET_S, "elapsed_s": time.perf_counter() - started,
            "load_average": os.getloadavg()[0]}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
