"""The MCP tools for agents, served by Gradio's own MCP server beside the page (`mcp_server=True`;
streamable HTTP at /gradio_api/mcp/, SSE at /gradio_api/mcp/sse): search, ask, get_document,
speakers. Each returns the JSON text that the command line prints with `--json`.

Gradio makes an MCP tool of every public API endpoint of the Blocks, named after its function,
described by its docstring and type hints. So `add_tools` turns every other endpoint of the page
(upload, remove, the HTML views) into an undocumented one: still callable by `gradio_client`
under its name, never a tool, whatever tabs are added later. (Gradio reads a docstring's
parameters and returns one line each: those lines are long on purpose.)
"""

from __future__ import annotations

from typing import Literal

import gradio as gr

from rag.answer.json_shapes import dumps
from ui.reads import NotFound, Reads

TOOLS = ("search", "ask", "get_document", "speakers")


class Tools:
    """The four tools over the page's Library; errors reach the agent as one line."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads

    def search(self, query: str, speaker: list[str] | None = None, source: list[str] | None = None,
               since: str = "", until: str = "", k: int = 10,
               mode: Literal["hybrid", "dense", "bm25"] = "hybrid") -> str:
        """Search a collection of official statements (press conferences, briefings, interviews, speeches) for
        the passages that best match a query, optionally narrowed to speakers, sources and dates. Passages
        from journalists' questions are marked is_question=true: they are not statements of the official.

        Args:
            query: words or a question in plain English, e.g. "NATO expansion" or "What did Lavrov say about the OSCE?"
            speaker: only passages by these speakers; each value matches known speaker names case-insensitively by substring (e.g. "lavrov"); call the speakers tool for the names
            source: only documents from these sources (case-insensitive substring of a source label)
            since: only documents dated on or after this date: YYYY, YYYY-MM or YYYY-MM-DD
            until: only documents dated on or before this date: YYYY, YYYY-MM or YYYY-MM-DD
            k: how many passages to return, 1 to 1000 (default 10)
            mode: hybrid (meaning and exact words, the default), dense (meaning only) or bm25 (exact words only)

        Returns:
            a JSON list of passages, best first, each with doc_id, title, speaker, date, place, text, score, is_question, source_url and char_start/char_end, the span of the passage in the document's text (see get_document)
        """
        return _run(lambda: self.reads.search(query, speaker=speaker, source=source, since=since, until=until,
                                              k=k, mode=mode))

    def ask(self, question: str, speaker: list[str] | None = None, source: list[str] | None = None,
            since: str = "", until: str = "") -> str:
        """Answer a question from the official statements in the speakers' own words: verbatim quotes, each
        verified against its stored source and credited to who said it, when and where. When the statements do
        not answer the question, abstained is true and the answer says so; do not invent an answer then.

        Args:
            question: a question in plain English, e.g. "What did Lavrov say about the OSCE in May 2023?"
            speaker: only quotes by these speakers (case-insensitive substring of known speaker names)
            source: only documents from these sources (case-insensitive substring of a source label)
            since: only documents dated on or after this date: YYYY, YYYY-MM or YYYY-MM-DD
            until: only documents dated on or before this date: YYYY, YYYY-MM or YYYY-MM-DD

        Returns:
            JSON with the answer text carrying [n] markers, abstained, notes, and citations: for each n the verbatim quote, speaker, date, place, title, source_url, doc_id, char_start/char_end of the quote in the document's text, and an attribution line ready to paste
        """
        return _run(lambda: self.reads.ask(question, speaker=speaker, source=source, since=since, until=until))

    def get_document(self, doc_id: str) -> str:
        """Read one stored statement in full: its metadata (title, date, place, speakers, source URL), its
        speaker turns and its text. The char_start/char_end of search results and citations index into this
        text, so text[char_start:char_end] is the passage or quote.

        Args:
            doc_id: the doc_id of a search result or citation

        Returns:
            JSON of the document: doc_id, title, date, place, speakers, source, source_url, turns (speaker, is_question, char_start, char_end) and text
        """
        return _run(lambda: self.reads.document(doc_id))

    def speakers(self, include_unnamed: bool = False) -> str:
        """List the people who speak in the collection, most passages first, each with every name the
        documents give them (aliases: what the speaker filters of search and ask match), roles, passage and
        document counts (journalists' questions not counted) and the dates of their first and last document.

        Args:
            include_unnamed: also list offices without a name ("President"), anonymous officials and group voices

        Returns:
            a JSON list of {"speaker", "kind", "aliases", "roles", "passages", "documents", "first", "last"}
        """
        return _run(lambda: self.reads.speakers(everyone=include_unnamed))


class ToolError(Exception):
    """What the agent reads when a tool fails (MCP: a result with isError and this one line)."""


def _run(fn: object) -> str:
    try:
        return dumps(fn())  # type: ignore[operator]
    except (ValueError, NotFound, RuntimeError) as exc:  # bad input, unknown id, busy
        text = str(exc).strip()
        raise ToolError(text.splitlines()[0] if text else type(exc).__name__) from None


def add_tools(demo: gr.Blocks, reads: Reads) -> Tools:
    """Make the four tools the only public endpoints of `demo` (so the only MCP tools); call it
    after the page is built and before it is mounted or launched."""
    for fn in demo.fns.values():
        if fn.api_visibility == "public":
            fn.api_visibility = "undocumented"
    tools = Tools(reads)
    with demo:
        for tool in (tools.search, tools.ask, tools.get_document, tools.speakers):
            # not queued: no loopback through gradio_client; the Service lock orders the calls
            gr.api(tool, api_name=f"{tool.__name__}_json", queue=False)
    return tools
