"""What answering reads of a collection: the calls of `rag.library.Library` that `ask`, `compare`
and `first_said` make, as a protocol, so that answering never imports the library above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Protocol

if TYPE_CHECKING:
    from ingest.models import Document
    from rag.index.index_query import Mode
    from rag.index.nodes import Hit
    from rag.index.sparse import Bm25Encoder
    from rag.models.embedding import Embedder
    from rag.models.relevance import CrossEncoder
    from rag.store.speakers import SpeakerIndex
    from rag.store.store import Store


class Reader(Protocol):
    """An open collection to answer from (a `Library`)."""

    store: Store
    embedder: Embedder
    bm25: Bm25Encoder

    def search(self, query: str, k: int = 10, speaker: str | list[str] | None = None,
               since: str | None = None, until: str | None = None,
               source: str | list[str] | None = None, mode: Mode = "hybrid",
               rerank: bool = True, answers_only: bool = False) -> list[Hit]:
        """Ranked passages for a query, narrowed by the given filters."""
        ...

    def document(self, doc_id: str) -> Document | None:
        """The stored document, its speakers named by their identity in the collection."""
        ...

    def relevance_model(self) -> CrossEncoder | None:
        """The relevance model answers are scored with, or None."""
        ...

    def speaker_index(self) -> SpeakerIndex:
        """The collection's speaker identities."""
        ...

    def resolve_speakers(self, names: Iterable[str]) -> list[str]:
        """The stored speaker names of the identities each given name matches."""
        ...

    def resolve_sources(self, names: Iterable[str]) -> list[str]:
        """Known source labels matching each given name."""
        ...
