"""Fuzzy token-set scores for a story's candidate pairs: rapidfuzz for small stories, the compiled kernel
(compare.align.fuzzy) for big ones, on a thread pool."""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from compare.align.context import StoryContext

logger = logging.getLogger(__name__)

FUZZY_KERNEL_MIN_PAIRS = 250_000
"""Projected candidate pairs of a story from which `FuzzyPool` uses the compiled kernel
(compare/align/fuzzy.py) instead of rapidfuzz. Switching costs ~0.65 CPU-s once per process (numba import and
loading the cached kernel; tokenising the story is 0.04-0.08 s); the kernel saves 2-4 us per pair
(rapidfuzz 2.2-4.6 us, kernel 0.5-1.3 us on the align_speed / align_scaling stories). Forcing either
path, whole-aligner CPU time breaks even at ~170k pairs on the long statements of align_scaling
(12 outlets) and ~270k on align_speed's (20 outlets). The demo (144 pairs) stays on rapidfuzz and never
imports numba."""


class FuzzyPool:
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

    def __enter__(self) -> FuzzyPool:
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
