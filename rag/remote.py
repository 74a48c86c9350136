"""`RemoteLibrary`: what `rag search`, `ask`, `show`, `stats` and `speakers` use while a `rag serve` holds the
data dir's embedded index (Qdrant Edge lets one process at a time open it). It has the calls of
`Library` that these commands make, answered by the server's REST API and turned back into the
same objects, so a command prints exactly what it would have printed itself.

The server is found through `DATA_DIR/serve.json` (`rag.store.serve_file`); its token, if it needs
one, comes from $RAG_API_TOKEN. Loopback requests never go through an HTTP proxy.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ingest.models import Document
from rag.answer.answers import Answer
from rag.answer.json_shapes import answer_from_json, document_from_json, hits_from_json
from rag.index.nodes import Hit
from rag.store.lock import BusyError

COMMANDS = ("search", "ask", "show", "stats", "speakers")
"""The commands that a running server answers when it holds the index."""
TOKEN_ENV = "RAG_API_TOKEN"
TIMEOUT = 600.0


class ServerError(RuntimeError):
    """The server could not be asked: it did not answer, refused the token, or failed."""


class _NoDocument(LookupError):
    pass


class RemoteLibrary:
    """The running `rag serve` described by `info` (the content of serve.json)."""

    def __init__(self, info: dict[str, Any], token: str | None = None, timeout: float = TIMEOUT) -> None:
        self.url = str(info["url"]).rstrip("/")
        self.who = f"rag serve (pid {info.get('pid', '?')}, {self.url})"
        self.token_required = bool(info.get("token_required"))
        self.token = token if token is not None else (os.environ.get(TOKEN_ENV) or "").strip() or None
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __enter__(self) -> "RemoteLibrary":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to close (each call is one request)."""

    # -- the calls of Library ---------------------------------------------------------------
    def search(self, query: str, k: int = 10, speaker: str | list[str] | None = None, since: str | None = None,
               until: str | None = None, source: str | list[str] | None = None,
               mode: str = "hybrid") -> list[Hit]:
        """Library.search, by GET /api/search."""
        params: list[tuple[str, str]] = [("q", query), ("k", str(k)), ("mode", mode)]
        params += [("speaker", s) for s in _as_list(speaker)] + [("source", s) for s in _as_list(source)]
        params += [(name, value) for name, value in (("since", since), ("until", until)) if value is not None]
        return hits_from_json(self._request("GET", "/api/search?" + urllib.parse.urlencode(params)))

    def ask(self, question: str, speaker: str | list[str] | None = None, since: str | None = None,
            until: str | None = None, source: str | list[str] | None = None, answerer: str = "extractive",
            **options: Any) -> Answer:
        """Library.ask, by POST /api/ask (the server's own LLM settings apply to --answerer llm)."""
        given = [k for k, v in options.items() if v is not None]
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise ServerError(f"{self.who} has the index open and answers with its own LLM settings, so {flags} "
                              "cannot be sent to it: leave them out (start `rag serve` with $RAG_LLM_URL or "
                              "$RAG_LLM_GGUF), or stop the server")
        body = {"question": question, "speaker": _as_list(speaker) or None, "source": _as_list(source) or None,
                "since": since, "until": until, "answerer": answerer, "include_passages": True}
        return answer_from_json(self._request("POST", "/api/ask", body))

    def document(self, doc_id: str) -> Document | None:
        """Library.document, by GET /api/documents/{doc_id}; None if there is no such document."""
        try:
            return document_from_json(self._request("GET", "/api/documents/" + urllib.parse.quote(doc_id, safe="")))
        except _NoDocument:
            return None

    def stats(self) -> dict[str, Any]:
        """Library.stats, by GET /api/stats."""
        return self._request("GET", "/api/stats")

    def speakers(self) -> list[dict[str, Any]]:
        """Library.speakers (every identity), by GET /api/speakers?all=true."""
        return self._request("GET", "/api/speakers?all=true")

    # -- HTTP ---------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self.token_required and not self.token:
            raise ServerError(f"{self.who} has the index open and its API needs a token: set ${TOKEN_ENV} "
                              "to the token the server was given")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            message = _error_message(exc)
            if exc.code == 400:
                raise ValueError(message) from None
            if exc.code == 404 and path.startswith("/api/documents/"):
                raise _NoDocument(message) from None
            if exc.code == 401:
                raise ServerError(f"{self.who} refused the token in ${TOKEN_ENV}: set it to the token the "
                                  "server was given") from None
            if exc.code == 503:
                raise BusyError(message) from None
            raise ServerError(f"{self.who} answered {exc.code}: {message}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerError(f"{self.who} has the index open but did not answer ({reason}): try again, "
                              "or stop it") from None


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read().decode("utf-8"))
        return str(data["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"HTTP {exc.code} {exc.reason}"
