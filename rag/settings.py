"""One settings object for the whole tool: where data lives, which engine and model to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rag.models.embedding import MODELS, PRECISIONS, is_index_model

FUSIONS = ("adaptive", "fixed")
"""Hybrid search's BM25 weight: `adaptive` from its best passage's term coverage (rag.index.fusion),
`fixed` plain RRF with equal weights."""

DEFAULT_DATA_DIR = ".rag"
# collection settings for a cluster: (command-line flag, environment variable)
_CLUSTER_SETTINGS = {"shard_number": ("--shards", "RAG_QDRANT_SHARDS"),
                     "replication_factor": ("--replicas", "RAG_QDRANT_REPLICAS"),
                     "write_consistency_factor": ("--write-consistency", "RAG_QDRANT_WRITE_CONSISTENCY")}


def _label(name: str) -> str:
    flag, var = _CLUSTER_SETTINGS[name]
    return f"{flag} (${var})"


def _env_int(var: str) -> int | None:
    """A whole-number environment variable, None when unset or empty."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"${var} must be a whole number of at least 1, not {raw!r}") from None


class CollectionSettingsWarning(UserWarning):
    """The collection exists with other cluster settings (shards, replicas, write consistency)
    than the ones asked for; they only take effect when a collection is created."""


QUANTIZATIONS = ("none", "int8")
OPTIMIZE_AFTER = 20_000


RELEVANCE_MODEL: str | None = None
"""The committed relevance model the extractive answerer uses by default (rag.models.relevance)."""


def _adapter_setting(raw: str) -> str | None:
    """$RAG_QUERY_ADAPTER / $RAG_RELEVANCE_MODEL: 0/off for none, else a committed model's name or
    a weights file's path."""
    value = raw.strip()
    return None if value.lower() in ("0", "off", "no", "false", "none") else value
"""Passages whose dense vectors are not yet in an HNSW graph at which an ingest builds the graph
(below this a full scan is as fast: 1.5 ms at 10k points, see bench/RESULTS.md)."""


@dataclass
class Settings:
    """Where the canonical store and the index live, and how to index.

    `qdrant_url` None means the embedded Qdrant Edge shard inside `data_dir`; a URL means a
    Qdrant server or cluster through qdrant-client (``:memory:`` or ``path:DIR`` selects
    qdrant-client's local mode, which speaks the server API without a server).

    `shard_number`, `replication_factor` and `write_consistency_factor` (None: the server's
    default) are passed to Qdrant when the collection is created; they need `qdrant_url` (the
    embedded engine is a single shard) and must be at least 1. An existing collection keeps
    the values it was created with (see docs/cluster.md).

    `quantization` ("int8": scalar quantization of the dense vectors, kept in RAM, originals
    on disk for rescoring), `hnsw_m` and `hnsw_ef_construct` also apply when the collection or
    shard is created, on both engines. `optimize_after`: an ingest that leaves at least this many
    passages outside the HNSW graph of the embedded shard builds it (0: never; `rag optimize`).
    """

    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    collection: str = "statements"
    embed_model: str | None = None  # the index model; None: the collection's own (MiniLM for a new one)
    embed_batch_size: int = 16
    embed_precision: str = "auto"
    chunk_target_tokens: int = 180
    chunk_overlap_sentences: int = 1
    prefetch_limit: int = 100
    rrf_k: int = 60
    shard_number: int | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    quantization: str = "none"
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    optimize_after: int = OPTIMIZE_AFTER
    progress: bool = True
    fusion: str = "adaptive"  # hybrid search's BM25 weight: from its best passage's term coverage, or "fixed" (rag.index.fusion)
    index_context: bool = True  # embed and count each passage with its context header (rag.index.context)
    query_adapter: str | None = None  # search queries' adapter: a committed name or a file (rag.models.relevance)
    # the extractive answerer's relevance model (cross-encoder): a committed name, a file, or None for none
    relevance_model: str | None = RELEVANCE_MODEL

    def __post_init__(self) -> None:
        if self.query_adapter is not None:
            from rag.models.relevance import RelevanceModelError, open_query_adapter

            try:
                open_query_adapter(self.query_adapter).check()  # 296 kB: read now, so a bad file is one line
            except RelevanceModelError as exc:
                raise ValueError(f"$RAG_QUERY_ADAPTER: {exc}") from None
        if self.relevance_model is not None and self.relevance_model != RELEVANCE_MODEL:
            from rag.models.relevance import RelevanceModelError, open_relevance_model

            try:
                open_relevance_model(self.relevance_model)  # a wrong name or path is one line now
            except RelevanceModelError as exc:
                raise ValueError(f"$RAG_RELEVANCE_MODEL: {exc}") from None
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion ($RAG_FUSION) must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if self.embed_model is not None and not is_index_model(self.embed_model):
            raise ValueError(f"embedding model ($RAG_EMBED_MODEL) must be one of {', '.join(MODELS)} or a "
                             f"fine-tuned bi-encoder (a committed name or a .safetensors file), not {self.embed_model!r}")
        if self.embed_model is not None and self.embed_model.endswith(".safetensors") and not Path(
                self.embed_model).expanduser().is_file():
            raise ValueError(f"embedding model ($RAG_EMBED_MODEL): no weights file {self.embed_model}: give the "
                             "path of a checkpoint written by `python -m training train bi`, or a committed name")
        if self.embed_precision not in PRECISIONS:
            raise ValueError(f"embedding precision ($RAG_EMBED_PRECISION) must be auto, fp32 or "
                             f"bf16, not {self.embed_precision!r}")
        if self.quantization not in QUANTIZATIONS:
            raise ValueError(f"--quantization must be one of {', '.join(QUANTIZATIONS)}, not {self.quantization!r}")
        for name in ("hnsw_m", "hnsw_ef_construct"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 4:
                raise ValueError(f"--{name.replace('_', '-')} must be a whole number of at least 4, not {value!r}")
        if isinstance(self.optimize_after, bool) or not isinstance(self.optimize_after, int) or self.optimize_after < 0:
            raise ValueError(f"optimize_after must be a whole number of at least 0, not {self.optimize_after!r}")
        given = {name: value for name, value in self.cluster_settings().items() if value is not None}
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{_label(name)} must be a whole number of at least 1, not {value!r}")
        if given and not self.qdrant_url:
            raise ValueError(f"{', '.join(_label(n) for n in given)}: shards and replicas only exist on a "
                             f"Qdrant server or cluster; add --qdrant-url http://HOST:6333 (or set "
                             f"$RAG_QDRANT_URL). The embedded index is a single shard on this machine.")
        replicas, consistency = self.replication_factor, self.write_consistency_factor
        if replicas is not None and consistency is not None and consistency > replicas:
            raise ValueError(f"--write-consistency {consistency} needs at least {consistency} copies of each "
                             f"shard, but --replicas is {replicas}: Qdrant would fail every write")

    def index_settings(self) -> dict[str, object]:
        """Quantization and HNSW settings used when the index is created."""
        return {"quantization": self.quantization, "hnsw_m": self.hnsw_m,
                "hnsw_ef_construct": self.hnsw_ef_construct}

    def cluster_settings(self) -> dict[str, int | None]:
        """`shard_number`, `replication_factor`, `write_consistency_factor` (None: server default)."""
        return {name: getattr(self, name) for name in _CLUSTER_SETTINGS}

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, qdrant_url: str | None = None,
                 **overrides: object) -> "Settings":
        """Settings from arguments, then `RAG_DATA_DIR` / `RAG_QDRANT_URL` / `RAG_QDRANT_API_KEY`
        and, for a collection still to be created, `RAG_QDRANT_SHARDS` / `RAG_QDRANT_REPLICAS` /
        `RAG_QDRANT_WRITE_CONSISTENCY` and `RAG_QUANTIZATION`, and `RAG_EMBED_MODEL` (the index model), `RAG_FUSION`, `RAG_EMBED_PRECISION`, `RAG_QUERY_ADAPTER` and
        `RAG_RELEVANCE_MODEL` (0 for none, a model's name or file; an argument that is not None wins
        over its variable)."""
        resolved_dir = data_dir or os.environ.get("RAG_DATA_DIR") or DEFAULT_DATA_DIR
        url = qdrant_url or os.environ.get("RAG_QDRANT_URL") or None
        key = os.environ.get("RAG_QDRANT_API_KEY") or None
        for name, (_, var) in _CLUSTER_SETTINGS.items():
            if overrides.get(name) is None:
                overrides[name] = _env_int(var)
        if overrides.get("quantization") is None and os.environ.get("RAG_QUANTIZATION"):
            overrides["quantization"] = os.environ["RAG_QUANTIZATION"].strip()
        overrides = {k: v for k, v in overrides.items() if v is not None or k in _CLUSTER_SETTINGS}
        if overrides.get("fusion") is None and os.environ.get("RAG_FUSION"):
            overrides["fusion"] = os.environ["RAG_FUSION"].strip()
        if overrides.get("embed_model") is None and os.environ.get("RAG_EMBED_MODEL"):
            overrides["embed_model"] = os.environ["RAG_EMBED_MODEL"].strip()
        if overrides.get("embed_precision") is None and os.environ.get("RAG_EMBED_PRECISION"):
            overrides["embed_precision"] = os.environ["RAG_EMBED_PRECISION"].strip()
        if overrides.get("index_context") is None and os.environ.get("RAG_INDEX_CONTEXT"):
            value = os.environ["RAG_INDEX_CONTEXT"].strip().lower()
            if value not in ("0", "1", "true", "false", "yes", "no"):
                raise ValueError(f"$RAG_INDEX_CONTEXT must be 1 or 0, not {value!r}")
            overrides["index_context"] = value in ("1", "true", "yes")
        if "query_adapter" not in overrides and os.environ.get("RAG_QUERY_ADAPTER"):
            overrides["query_adapter"] = _adapter_setting(os.environ["RAG_QUERY_ADAPTER"])
        if "relevance_model" not in overrides and os.environ.get("RAG_RELEVANCE_MODEL"):
            overrides["relevance_model"] = _adapter_setting(os.environ["RAG_RELEVANCE_MODEL"])
        return cls(data_dir=Path(resolved_dir), qdrant_url=url, qdrant_api_key=key, **overrides)  # type: ignore[arg-type]

    @property
    def store_path(self) -> Path:
        """The SQLite canonical store."""
        return self.data_dir / "store.sqlite3"

    @property
    def edge_path(self) -> Path:
        """The embedded Qdrant Edge shard folder."""
        return self.data_dir / "qdrant-edge"
