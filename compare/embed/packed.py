"""The packed MiniLM encoder: BERT inference over variable-length batches without padding (numpy/torch)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


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
