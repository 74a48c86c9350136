"""The REST API beside the page, in the same process and over the same Library (`ui.reads`):

    GET  /api/search?q=&speaker=&source=&since=&until=&k=&mode=   (speaker, source repeatable)
    POST /api/ask            {"question": ..., "speaker": [...], ..., "answerer": "extractive"}
    GET  /api/documents/{doc_id}
    GET  /api/speakers
    GET  /api/stats
    GET  /api/openapi.json   (the schema of all of the above)

Bodies are the JSON the command line prints with `--json`, byte for byte. Errors are
`{"error": "one line saying what to do"}`: 400 bad input, 401 token missing or wrong, 404 no such
document (or route), 502 the LLM failed, 503 busy. With a token, every /api request must carry
`Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import hmac
import logging
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.models import Document
from rag.answer.answers import Citation
from rag.answer.json_shapes import dumps
from rag.index.nodes import Hit
from rag.models.llm_backends import LLMError
from rag.store.lock import BusyError
from ui.reads import MAX_K, Answerer, Mode, NotFound, Reads

log = logging.getLogger("ui.api")

PREFIX = "/api"
TOKEN_ENV = "RAG_API_TOKEN"
RETRY_AFTER = "5"


class ApiError(Exception):
    """An error answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def api_token(given: str | None = None) -> str | None:
    """The token the API requires: `given` (--api-token), else $RAG_API_TOKEN, else None (no token)."""
    token = given if given is not None else os.environ.get(TOKEN_ENV)
    return token.strip() or None if token else None


def token_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `Bearer <token>` (compared in constant time)."""
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


UNAUTHORIZED = ("this API needs a token: send the header `Authorization: Bearer TOKEN` with the token "
                "that `rag serve` was given (--api-token or $RAG_API_TOKEN)")


# -- what the schema says the answers look like (the bodies come from rag.answer.json_shapes) ------------
class AskRequest(BaseModel):
    """A question, with the same filters as search."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="a question in plain English, e.g. \"What did Lavrov say about the OSCE?\"")
    speaker: list[str] | str | None = Field(None, description="only these speakers (case-insensitive substring)")
    source: list[str] | str | None = Field(None, description="only these sources (case-insensitive substring)")
    since: str | None = Field(None, description="on or after this date: YYYY, YYYY-MM or YYYY-MM-DD")
    until: str | None = Field(None, description="on or before this date: YYYY, YYYY-MM or YYYY-MM-DD")
    answerer: Answerer = Field("extractive", description="extractive (quotes, no LLM) or llm (the server's "
                               "LLM, set by $RAG_LLM_URL or $RAG_LLM_GGUF when `rag serve` starts)")
    include_passages: bool = Field(False, description="also return the retrieved passages under "
                                   "\"passages\" (what `rag ask` lists when the answer abstains)")


class AnswerResponse(BaseModel):
    """`rag ask --json`: the answer text with [n] markers and one verified citation per marker."""

    question: str
    answer: str
    abstained: bool
    answerer: str
    notes: list[str]
    citations: list[Citation]
    passages: list[Hit] | None = Field(None, description="only with include_passages")


class SpeakerResponse(BaseModel):
    """`rag speakers --json`: one identity per person, with the names the documents give them."""

    speaker: str = Field(description="the name the collection knows them by")
    kind: str = Field(description="person, or (with all=true) office, anonymous or group")
    aliases: list[str] = Field(description="every name the documents use for them (speaker filters match these)")
    roles: list[str]
    passages: int = Field(description="passages they speak (journalists' questions not counted)")
    documents: int
    first: str | None = Field(description="date of their first document")
    last: str | None = Field(description="date of their last document")


def _json(value: Any) -> Response:
    return Response(dumps(value), media_type="application/json")


def create_app(reads: Reads, token: str | None = None) -> FastAPI:
    """A FastAPI app holding the /api routes (mount the page on it with `gr.mount_gradio_app`)."""
    app = FastAPI(title="statements-rag API", version=_version(), openapi_url=None, docs_url=None,
                  redoc_url=None, description=__doc__)
    bearer = HTTPBearer(auto_error=False, description="needed when `rag serve` has --api-token or "
                        f"${TOKEN_ENV}")

    def authorized(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is not None and not token_matches(request.headers.get("authorization"), token):
            raise ApiError(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix=PREFIX, dependencies=[Depends(authorized)])

    @router.get("/search", response_model=list[Hit], summary="Ranked passages for a query")
    def search(q: str = Query(description="words or a question"),
               speaker: list[str] | None = Query(None, description="only this speaker (repeatable; "
                                                 "case-insensitive substring of a known speaker)"),
               source: list[str] | None = Query(None, description="only this source (repeatable; substring)"),
               since: str | None = Query(None, description="on or after: YYYY, YYYY-MM or YYYY-MM-DD"),
               until: str | None = Query(None, description="on or before: YYYY, YYYY-MM or YYYY-MM-DD"),
               k: int = Query(10, ge=1, le=MAX_K, description="number of passages"),
               mode: Mode = Query("hybrid", description="hybrid: meaning and words; dense: meaning; "
                                  "bm25: exact words")) -> Response:
        """The JSON of `rag search --json`: a list of passages with doc_id, speaker, date, text,
        score and the span (char_start, char_end) in the stored document."""
        return _json(_call(lambda: reads.search(q, speaker=speaker, source=source, since=since, until=until,
                                                k=k, mode=mode)))

    @router.post("/ask", response_model=AnswerResponse, response_model_exclude_none=True,
                 summary="An answer in the speakers' own words")
    def ask(body: AskRequest) -> Response:
        """The JSON of `rag ask --json`: every quote verified against its stored document."""
        return _json(_call(lambda: reads.ask(body.question, speaker=body.speaker, source=body.source,
                                             since=body.since, until=body.until, answerer=body.answerer,
                                             passages=body.include_passages)))

    @router.get("/documents/{doc_id}", response_model=Document, summary="A stored document")
    def document(doc_id: str = Path(description="a doc_id from the search results")) -> Response:
        """The JSON of `rag show DOC_ID --json`: metadata, speaker turns and the text (under "text")
        that every char_start/char_end points into."""
        return _json(_call(lambda: reads.document(doc_id)))

    @router.get("/speakers", response_model=list[SpeakerResponse], summary="Known speakers")
    def speakers(everyone: bool = Query(False, alias="all", description="also offices without a name, "
                                        "anonymous officials and group voices (`rag speakers --all`)")) -> Response:
        """The JSON of `rag speakers --json`: each person with aliases, roles, passages and dates,
        most passages first."""
        return _json(_call(lambda: reads.speakers(everyone=everyone)))

    @router.get("/stats", response_model=dict[str, Any], summary="Counts, model and index")
    def stats() -> Response:
        """The JSON of `rag stats --json`."""
        return _json(_call(reads.stats))

    @router.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    def unknown(rest: str, request: Request) -> None:
        allowed = sorted({m for r in router.routes if isinstance(r, APIRoute) and r.path != f"{PREFIX}/{{rest:path}}"
                          and r.path_regex.match(request.url.path) for m in r.methods})
        if allowed:
            raise ApiError(405, f"{request.method} is not allowed here: use {' or '.join(allowed)}",
                           {"Allow": ", ".join(allowed)})
        raise ApiError(404, f"no API route {request.url.path}: the routes are listed in {PREFIX}/openapi.json")

    app.include_router(router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    return app


def _call(fn: Any) -> Any:
    """Run a read; its errors as ApiError with the status they deserve."""
    try:
        return fn()
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:  # bad filter, date, query, speaker, k, mode
        raise ApiError(400, _line(exc)) from None
    except BusyError as exc:
        raise ApiError(503, _line(exc), {"Retry-After": RETRY_AFTER}) from None
    except LLMError as exc:
        raise ApiError(502, exc.message) from None
    except RuntimeError as exc:  # e.g. the LLM answerer is not installed on the server
        raise ApiError(503, _line(exc)) from None


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)


async def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return JSONResponse({"error": "; ".join(parts) + f" (the parameters are in {PREFIX}/openapi.json)"},
                        status_code=400)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "something went wrong on the server; its log has the details"},
                        status_code=500)


class TokenGate:
    """ASGI middleware: requests whose path starts with one of `prefixes` need the bearer token
    (the MCP endpoint lives in the mounted Gradio app, outside the API router)."""

    def __init__(self, app: ASGIApp, token: str, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.token = token
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(self.prefixes):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not token_matches(headers.get("authorization"), self.token):
                response = JSONResponse({"error": UNAUTHORIZED}, status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _version() -> str:
    try:
        return version("statements-rag")
    except PackageNotFoundError:
        return "0"
