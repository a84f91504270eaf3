"""The on-disk embedding cache: vectors keyed by model and text hash, so re-runs embed nothing twice."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from compare.embed.common import Embedder

logger = logging.getLogger(__name__)


class EmbeddingCache:
    """Vectors keyed by (model name, sha256 of text): a statement is embedded once.

    Two layers: an in-process memory (shared by every cache object, so a benchmark or scheduler that
    compares many stories never re-embeds a sentence) and an optional SQLite file that survives runs.
    `EmbeddingCache(None)` is memory only.
    """

    MEMORY_LIMIT = 200_000  # vectors kept in memory (~400 MB at 512 dims); oldest dropped first
    _memory: ClassVar[dict[tuple[str, str], np.ndarray]] = {}
    _memory_lock = threading.Lock()

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._conn: sqlite3.Connection | None = None
        self.embedded = 0  # texts this object had to send to the model (for tests and benchmarks)

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (model TEXT, sha TEXT, dim INTEGER, "
                    "vector BLOB, PRIMARY KEY (model, sha))"
                )
                self._conn = conn
            except (OSError, sqlite3.Error) as exc:
                logger.warning("embedding cache %s unusable (%s); embedding without it", self.path, exc)
                self.path = None  # an unusable cache only costs time, never a failed run
                return None
        return self._conn

    @classmethod
    def clear_memory(cls) -> None:
        with cls._memory_lock:
            cls._memory.clear()

    def _remember(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._memory_lock:
            for sha, vec in items.items():
                self._memory[(model, sha)] = vec
            overflow = len(self._memory) - self.MEMORY_LIMIT
            if overflow > 0:
                for key in list(self._memory)[:overflow]:
                    del self._memory[key]

    def encode(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, computing only those not cached yet (duplicates embedded once)."""
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        model = embedder.name
        found: dict[str, np.ndarray] = {}
        with self._memory_lock:
            for key in keys:
                vec = self._memory.get((model, key))
                if vec is not None:
                    found[key] = vec
        conn = self._connect()
        if conn is not None:
            unique = [k for k in dict.fromkeys(keys) if k not in found]
            from_disk: dict[str, np.ndarray] = {}
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                marks = ",".join("?" * len(chunk))
                try:
                    rows = conn.execute(
                        f"SELECT sha, vector FROM embeddings WHERE model = ? AND sha IN ({marks})",
                        [model, *chunk],
                    ).fetchall()
                except sqlite3.Error:
                    rows = []
                for sha, blob in rows:
                    from_disk[sha] = np.frombuffer(blob, dtype=np.float32)
            found.update(from_disk)
            self._remember(model, from_disk)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first_text: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                first_text.setdefault(key, text)
            vectors = embedder.encode([first_text[k] for k in missing])
            self.embedded += len(missing)
            fresh = {key: np.asarray(vec, dtype=np.float32) for key, vec in zip(missing, vectors, strict=True)}
            found.update(fresh)
            self._remember(model, fresh)
            if conn is not None:
                try:
                    with conn:
                        conn.executemany(
                            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                            [(model, k, int(v.shape[0]), v.tobytes()) for k, v in fresh.items()],
                        )
                except sqlite3.Error:
                    pass
        return np.stack([found[k] for k in keys]).astype(np.float32)


def default_cache_path() -> Path | None:
    """`STORYDIFF_CACHE` (empty disables), else ~/.cache/storydiff/embeddings.sqlite."""
    value = os.environ.get("STORYDIFF_CACHE")
    if value is not None:
        return Path(value) if value else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storydiff" / "embeddings.sqlite"
