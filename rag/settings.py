"""One settings object for the whole tool: where data lives, which engine and model to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = ".rag"


@dataclass
class Settings:
    """Where the canonical store and the index live, and how to index.

    `qdrant_url` None means the embedded Qdrant Edge shard inside `data_dir`; a URL means a
    Qdrant server or cluster through qdrant-client (``:memory:`` or ``path:DIR`` selects
    qdrant-client's local mode, which speaks the server API without a server).
    """

    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    collection: str = "statements"
    embed_model: str = "all-MiniLM-L6-v2"
    embed_batch_size: int = 64
    chunk_target_tokens: int = 180
    chunk_overlap_sentences: int = 1
    prefetch_limit: int = 100
    rrf_k: int = 60
    shard_number: int | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    progress: bool = True

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, qdrant_url: str | None = None,
                 **overrides: object) -> "Settings":
        """Settings from arguments, then `RAG_DATA_DIR` / `RAG_QDRANT_URL` / `RAG_QDRANT_API_KEY`."""
        resolved_dir = data_dir or os.environ.get("RAG_DATA_DIR") or DEFAULT_DATA_DIR
        url = qdrant_url or os.environ.get("RAG_QDRANT_URL") or None
        key = os.environ.get("RAG_QDRANT_API_KEY") or None
        return cls(data_dir=Path(resolved_dir), qdrant_url=url, qdrant_api_key=key, **overrides)  # type: ignore[arg-type]

    @property
    def store_path(self) -> Path:
        """The SQLite canonical store."""
        return self.data_dir / "store.sqlite3"

    @property
    def edge_path(self) -> Path:
        """The embedded Qdrant Edge shard folder."""
        return self.data_dir / "qdrant-edge"
