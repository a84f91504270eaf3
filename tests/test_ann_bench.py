"""The ANN comparison in benchmarks/align_scaling.py: its exact kNN and recall arithmetic are what the
published recall figures rest on, so they are checked against plain brute force here, and its rendering
in benchmarks/run_all.py against a small result."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("align_scaling_bench", "align_scaling.py")
run_all = _load("run_all_bench", "run_all.py")


def _unit(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_blocked_exact_knn_equals_full_sort_and_excludes_self() -> None:
    vectors = _unit(300, 16, 1)
    k = 7
    got = bench.exact_knn(vectors, k, block=64)  # several blocks, the last one partial
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    want = np.argsort(-sim, axis=1)[:, :k]
    assert np.array_equal(np.sort(got, axis=1), np.sort(want, axis=1))
    assert not (got == np.arange(300)[:, None]).any()


def test_drop_self_removes_the_query_or_else_the_farthest() -> None:
    labels = np.array([[0, 5, 6], [7, 1, 8], [3, 4, 9]])  # row 2 lacks itself: its last neighbour goes
    assert bench._drop_self(labels).tolist() == [[5, 6], [7, 8], [3, 4]]


def test_pair_keys_are_unordered_and_unique_and_share_in_counts_members() -> None:
    keys = bench._pair_keys(np.array([3, 1, 1, 2]), np.array([1, 3, 2, 1]), 10)
    assert keys.tolist() == [12, 13]  # (1, 3) twice in both directions, (1, 2) twice
    assert bench._share_in(np.array([12, 13, 14, 99]), keys) == 0.5
    assert bench._share_in(np.array([], dtype=np.int64), keys) == 1.0
    assert bench._share_in(np.array([12]), np.array([], dtype=np.int64)) == 0.0


def test_knn_pairs_keep_only_cross_document_pairs() -> None:
    neighbours = np.array([[1, 2], [0, 2], [0, 1]])
    doc = np.array([0, 0, 1])
    assert bench._knn_pairs(neighbours, doc).tolist() == [0 * 3 + 2, 1 * 3 + 2]


def test_ann_comparison_on_a_small_story_reports_consistent_recall() -> None:
    pytest.importorskip("hnswlib")
    statements, vectors = bench.make_story(4, 50)
    links, _ = bench.align(statements, vectors)
    result = bench.ann_comparison(statements, vectors, links, with_candidates=True)
    assert result["statements"] == 200 and result["links"] == len(links)
    assert [item["k"] for item in result["k"]] == [64, 128]  # K = 256 needs more than 200 statements
    for item in result["k"]:
        assert 0.0 <= item["knn_recall"] <= 1.0
        # every link with cosine >= 0.5 joins a shared event's ~3 statements: K >= 64 neighbours hold it
        assert item["semantic_link_recall"] == 1.0
        assert item["ann_cpu_s"] > 0 and result["products_cpu_s"] >= 0
    recalls = [item["link_recall_exact_knn"] for item in result["k"]]
    assert recalls == sorted(recalls)  # exact kNN candidate sets grow with K


def test_run_all_renders_the_ann_table_and_skip_notes() -> None:
    item = {"k": 64, "ann_s": 2.0, "ann_cpu_s": 2.0, "exact_knn_s": 0.5, "exact_knn_cpu_s": 0.5, "knn_recall": 0.9,
            "candidate_pairs": 1000, "link_recall": 0.12, "link_recall_exact_knn": 0.11, "semantic_link_recall": 1.0}
    ann = {"M": 16, "ef_construction": 100, "threads": 1, "skipped": ["x not measured"],
           "stories": [{"outlets": 32, "per_outlet": 200, "links": 5000, "semantic_links": 300, "products_s": 0.2,
                        "products_cpu_s": 0.2, "align_s": 8.0, "align_cpu_s": 12.0, "k": [item]}]}
    text = "\n".join(run_all.ann_lines(ann))
    assert ("| 32 × 200 | 64 | 2.00 s (2.00) | 0.500 s (0.50) | 0.200 s (0.20) | 8.00 s (12.00) | 0.900 | 1,000 |"
            in text)
    assert "costs 10.0× the CPU time of the exact products" in text
    assert "- ANN comparison: x not measured." in text
    assert run_all.ann_lines(None) == []
