"""token_set_ratio on the aligner's real candidate pairs: rapidfuzz `cpdist` against the compiled kernel
(compare/align/fuzzy.py), side by side in one run on the same input.

    .venv/bin/python benchmarks/fuzzy_kernel.py [--outlets 32] [--statements 200] [--story speed|scaling]

Collects the candidate strips `link_statements` hands its fuzzy pool on the 32 x 200 story of
`align_speed.py` (or `align_scaling.py`), then times, single-threaded, (1) rapidfuzz exactly as the pool
ran it before the kernel (texts processed once, `cpdist` per strip) and (2) the kernel (tokenising the
story once, then one call per strip, warm), checks the scores are identical, and times the kernel's
first use in fresh processes: importing numba and loading the cached kernel, and compiling it with an
empty cache. Prints CPU seconds (process time) and wall seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FIRST_USE = """
import sys, time
sys.path.insert(0, "benchmarks")
from align_speed import synthetic
from compare.align import fuzzy_pool, links, scorer
statements, vectors, _ = synthetic(4, 20)
links.link_statements(statements, vectors)  # the aligner's own imports are already paid for
t0 = time.perf_counter(); c0 = time.process_time()
from compare.align import fuzzy
t1 = time.perf_counter()
assert fuzzy_pool._fuzzy_kernel([s.text for s in statements]) is not None
print(f"{t1 - t0:.3f} {time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")
"""


def first_use(env: dict[str, str]) -> tuple[float, float, float]:
    """(import s, import + first call s, CPU s) of the kernel in a fresh process that has already aligned
    a small story (the cost the aligner pays when it switches to the kernel)."""
    out = subprocess.run([sys.executable, "-c", FIRST_USE], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def collect(story: str, outlets: int, per_outlet: int) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray]]]:
    """Statement texts and the candidate strips link_statements submits for fuzzy scoring."""
    from compare.align import fuzzy_pool, links, scorer
    if story == "speed":
        from align_speed import synthetic

        statements, vectors, _ = synthetic(outlets, per_outlet)
    else:
        from align_scaling import make_story

        statements, vectors = make_story(outlets, per_outlet)[:2]
    strips: list[tuple[np.ndarray, np.ndarray]] = []
    submit = fuzzy_pool.FuzzyPool.submit

    def record(self, pos_a: np.ndarray, pos_b: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        strips.append((pos_a.copy(), pos_b.copy()))
        submit(self, pos_a, pos_b)

    fuzzy_pool.FuzzyPool.submit = record  # type: ignore[method-assign]
    try:
        links.link_statements(statements, vectors, weights=scorer.default_weights(
            "sentence-transformers/all-MiniLM-L6-v2"))
    finally:
        fuzzy_pool.FuzzyPool.submit = submit  # type: ignore[method-assign]
    return [s.text for s in statements], strips


def timed(fn):  # type: ignore[no-untyped-def]
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=32)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--story", choices=("speed", "scaling"), default="speed")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        cold = first_use({**env, "NUMBA_CACHE_DIR": cache})  # compiles into an empty cache
        cached = first_use({**env, "NUMBA_CACHE_DIR": cache})  # loads what the first run cached
    texts, strips = collect(args.story, args.outlets, args.statements)
    n_pairs = sum(len(a) for a, _ in strips)
    from compare.align import fuzzy
    fuzzy.token_set_ratios(fuzzy.tokenise(texts[:2]), np.zeros(1, np.int64), np.ones(1, np.int64))  # warm

    def with_rapidfuzz() -> list[np.ndarray]:
        processed = [" ".join(sorted(set(default_process(t).split()))) for t in texts]
        return [process.cpdist([processed[p] for p in a.tolist()], [processed[p] for p in b.tolist()],
                               scorer=fuzz.token_set_ratio, processor=None, dtype=np.float32, workers=1)
                for a, b in strips]

    def with_kernel() -> list[np.ndarray]:
        table = fuzzy.tokenise(texts)
        return [fuzzy.token_set_ratios(table, a, b) for a, b in strips]

    rf_runs, k_runs = [], []
    for _ in range(args.repeat):  # alternated, so both see the same load
        rf, rf_cpu, rf_wall = timed(with_rapidfuzz)
        kn, k_cpu, k_wall = timed(with_kernel)
        rf_runs.append((rf_cpu, rf_wall))
        k_runs.append((k_cpu, k_wall))
    _, tok_cpu, tok_wall = timed(lambda: fuzzy.tokenise(texts))
    same = all(np.array_equal(x, y) for x, y in zip(rf, kn, strict=True))
    rf_cpu, rf_wall = min(rf_runs)
    k_cpu, k_wall = min(k_runs)
    print(f"{args.story} story {args.outlets} x {args.statements}: {len(texts)} statements, {n_pairs:,} candidate "
          f"pairs in {len(strips)} strips; load average {os.getloadavg()[0]:.1f}")
    print(f"  rapidfuzz cpdist: {rf_cpu:.3f} CPU-s, {rf_wall:.3f} s wall ({rf_cpu / n_pairs * 1e6:.2f} us/pair)")
    print(f"  kernel (warm):    {k_cpu:.3f} CPU-s, {k_wall:.3f} s wall ({k_cpu / n_pairs * 1e6:.2f} us/pair), "
          f"of which tokenising the story {tok_cpu:.3f} CPU-s")
    print(f"  speed-up {rf_cpu / k_cpu:.1f}x CPU, {rf_wall / k_wall:.1f}x wall; scores identical: {same}")
    print(f"  first use in a fresh process: import {cached[0]:.3f} s, import + cached kernel + first call "
          f"{cached[1]:.3f} s ({cached[2]:.3f} CPU-s); with an empty cache (compiling) {cold[1]:.3f} s "
          f"({cold[2]:.3f} CPU-s)")
    if not same:
        raise SystemExit("fuzzy_kernel: kernel scores differ from rapidfuzz")


if __name__ == "__main__":
    main()
