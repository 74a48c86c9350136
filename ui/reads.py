"""The read operations that the REST API and the MCP tools share, over the page's one Library.

Each takes the Library under `Service.lock` like the page does, but gives up with BusyError after
a short wait instead of queueing behind an upload, and returns the JSON shape that the command
line prints with `--json` (`rag.answer.json_shapes`). Bad input raises ValueError with one line saying
what to do; a document that is not there is NotFound.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from rag.answer.json_shapes import answer_json, document_json, hits_json, speakers_json
from ui.service import Service

Mode = Literal["hybrid", "dense", "bm25"]
MODES = ("hybrid", "dense", "bm25")
Answerer = Literal["extractive", "llm"]
MAX_K = 1000
MAX_QUERY_CHARS = 2000
LOCK_WAIT = 15.0
"""Seconds a request waits for the Library before it is answered "busy" (an upload hands the lock
to readers after every batch of passages, so a reader normally waits well under a second)."""


class NotFound(LookupError):
    """The document asked for is not in the library."""


def names(value: str | list[str] | None) -> list[str] | None:
    """Speaker or source values as a list without blanks (None when there are none)."""
    items = [value] if isinstance(value, str) else list(value or [])
    kept = [str(v).strip() for v in items if str(v).strip()]
    return kept or None


def _date(value: str | None) -> str | None:
    return (value or "").strip() or None


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"the {what} is {len(text)} characters long; keep it under {MAX_QUERY_CHARS}")
    return text


class Reads:
    """Search, ask, documents, speakers and stats over one Service, as JSON-ready values."""

    def __init__(self, service: Service, wait: float = LOCK_WAIT) -> None:
        self.service = service
        self.wait = wait

    def search(self, query: str, speaker: str | list[str] | None = None, source: str | list[str] | None = None,
               since: str | None = None, until: str | None = None, k: int = 10,
               mode: str = "hybrid") -> list[dict[str, Any]]:
        """Ranked passages, as `rag search --json`."""
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        text = _text(query, "query")
        with self.service.reading(self.wait) as lib:
            hits = lib.search(text, k=k, speaker=names(speaker), source=names(source), since=_date(since),
                              until=_date(until), mode=mode)  # type: ignore[arg-type]
        return hits_json(hits)

    def ask(self, question: str, speaker: str | list[str] | None = None, source: str | list[str] | None = None,
            since: str | None = None, until: str | None = None, answerer: str = "extractive",
            passages: bool = False) -> dict[str, Any]:
        """An answer with verified quotes, as `rag ask --json` (plus the passages, if asked)."""
        if answerer not in ("extractive", "llm"):
            raise ValueError(f"answerer must be extractive or llm, got {answerer!r}")
        if answerer == "llm" and not (os.environ.get("RAG_LLM_URL") or os.environ.get("RAG_LLM_GGUF")):
            raise ValueError("this server has no LLM: start `rag serve` with $RAG_LLM_URL (and "
                             "$RAG_LLM_MODEL) or $RAG_LLM_GGUF set, or ask with the extractive answerer")
        text = _text(question, "question")
        with self.service.reading(self.wait) as lib:
            answer = lib.ask(text, speaker=names(speaker), source=names(source), since=_date(since),
                             until=_date(until), answerer=answerer)
        return answer_json(answer, passages=passages)

    def document(self, doc_id: str) -> dict[str, Any]:
        """A stored document with its text and speaker turns, as `rag show --json`."""
        with self.service.reading(self.wait) as lib:
            doc = lib.document(str(doc_id))
        if doc is None:
            raise NotFound(f"no document {doc_id!r} in the library: take a doc_id from the search results")
        return document_json(doc)

    def speakers(self, everyone: bool = False) -> list[dict[str, Any]]:
        """The speaker identities, most passages first, as `rag speakers --json` (`--all`: everyone)."""
        with self.service.reading(self.wait) as lib:
            return speakers_json(lib.speakers(), everyone)

    def stats(self) -> dict[str, Any]:
        """Counts, model and index, as `rag stats --json`."""
        with self.service.reading(self.wait) as lib:
            return lib.stats()
