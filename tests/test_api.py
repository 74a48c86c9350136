"""The REST API, the MCP server and the command line answered by a running server, end to end:
a real `rag serve` (with an API token) on a copy of the session's ingested sample, a real HTTP
client (httpx), the `mcp` package's own client, and `rag` commands in other processes. Plus the
API in a uvicorn thread over the session's Library, where a test can hold the page's lock (503)
or point the server at a fake LLM.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from browser import ROOT, copy_data_dir, free_port, served_copy

pytestmark = pytest.mark.slow

TOKEN = "test-token-5f1d"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUERY = "NATO expansion"


@pytest.fixture(scope="module")
def served(sample_library, tmp_path_factory):
    """`rag serve` with RAG_API_TOKEN set, on a copy of the ingested sample."""
    work = tmp_path_factory.mktemp("api")
    with served_copy(sample_library, work, env={"RAG_API_TOKEN": TOKEN}) as srv:
        yield srv
    assert not (work / "data" / "serve.json").exists(), "serve.json outlived the server"


@pytest.fixture(scope="module")
def pristine(sample_library, tmp_path_factory) -> Path:
    """Another copy, nobody serving it: the embedded command line's own answers."""
    return copy_data_dir(sample_library, tmp_path_factory.mktemp("api-cli") / "data")


def _rag(*args: str, data_dir: Path, token: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RAG_API_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if token is not None:
        env["RAG_API_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "rag.cli", *args, "--data-dir", str(data_dir)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def _get(served, path: str, **params) -> httpx.Response:
    return httpx.get(served.url + path, params=params, headers=AUTH, timeout=120)


def _served_dir(served) -> Path:
    return Path(served.proc.args[-1])


# -- every route, as the command line prints it -------------------------------------------------
def test_search_is_the_json_of_rag_search(served, pristine) -> None:
    resp = _get(served, "/api/search", q=QUERY)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    cli = _rag("search", QUERY, "--json", data_dir=pristine)
    assert cli.returncode == 0, cli.stderr
    assert resp.text + "\n" == cli.stdout  # byte for byte
    hits = resp.json()
    assert len(hits) == 10 and {"doc_id", "speaker", "text", "score", "char_start", "char_end"} <= set(hits[0])

    filtered = _get(served, "/api/search", q=QUERY, speaker=["putin", "gillard"], k=20, mode="dense",
                    since="2010", until="2020-06").json()
    assert filtered and {h["speaker"] for h in filtered} <= {"Vladimir Putin", "Julia Gillard"}
    assert all("2010" <= h["date"][:7] <= "2020-06" for h in filtered)
    assert _get(served, "/api/search", q=QUERY, k=3, mode="bm25").json()[0]["score"] > 0


def test_documents_speakers_stats_are_the_json_of_the_cli(served, pristine, sample_library) -> None:
    doc_id = _get(served, "/api/search", q=QUERY, k=1).json()[0]["doc_id"]
    resp = _get(served, f"/api/documents/{doc_id}")
    cli = _rag("show", doc_id, "--json", data_dir=pristine)
    assert resp.status_code == 200 and resp.text + "\n" == cli.stdout
    assert resp.json()["text"] and resp.json()["turns"]

    for flags, params in (((), {}), (("--all",), {"all": "true"})):
        resp = _get(served, "/api/speakers", **params)
        cli = _rag("speakers", "--json", *flags, data_dir=pristine)
        assert resp.status_code == 200 and resp.text + "\n" == cli.stdout, flags
    people, everyone = _get(served, "/api/speakers").json(), _get(served, "/api/speakers", all="true").json()
    assert people and {p["kind"] for p in people} == {"person"} and all(p in everyone for p in people)
    assert everyone == sample_library.speakers()
    stats = _get(served, "/api/stats")
    cli = _rag("stats", "--json", data_dir=pristine)
    # the same collection in another folder: only the paths differ
    assert stats.text.replace(str(_served_dir(served)), "DIR") + "\n" == cli.stdout.replace(str(pristine), "DIR")


def test_ask_returns_verified_quotes_as_rag_ask_json(served, pristine) -> None:
    question = "What did Lavrov say about the OSCE?"
    resp = httpx.post(served.url + "/api/ask", json={"question": question}, headers=AUTH, timeout=300)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert set(answer) == {"question", "answer", "abstained", "answerer", "notes", "citations"}
    assert not answer["abstained"] and answer["citations"] and answer["answerer"] == "extractive"
    for c in answer["citations"]:
        text = _get(served, f"/api/documents/{c['doc_id']}").json()["text"]
        assert " ".join(text[c["char_start"]:c["char_end"]].split()) == " ".join(c["quote"].split())
        assert f"[{c['n']}]" in answer["answer"]
    cli = json.loads(_rag("ask", question, "--json", data_dir=pristine).stdout)
    # scores can differ in the last float32 digit (sentence vectors embedded in other batches)
    for ours, theirs in zip(answer["citations"], cli["citations"], strict=True):
        assert ours.pop("score") == pytest.approx(theirs.pop("score"), rel=1e-5)
    assert answer == cli

    lavrov = httpx.post(served.url + "/api/ask", headers=AUTH, timeout=300, json={
        "question": "What was said about security?", "speaker": ["lavrov"], "include_passages": True}).json()
    assert {c["speaker"] for c in lavrov["citations"]} <= {"Sergey Lavrov"}
    assert all(p["speaker"] == "Sergey Lavrov" for p in lavrov["passages"])
    sourdough = httpx.post(served.url + "/api/ask", json={"question": "How do I bake sourdough bread?",
                                                          "include_passages": True},
                           headers=AUTH, timeout=300).json()
    assert sourdough["abstained"] and not sourdough["citations"] and sourdough["passages"]


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, fragment", [
    ({"q": QUERY, "since": "2023-13"}, "invalid month"),
    ({"q": QUERY, "until": "May 2023"}, "YYYY"),
    ({"q": QUERY, "speaker": "Nobody Atall"}, "no speaker matches 'Nobody Atall'"),
    ({"q": QUERY, "source": "no-such-source"}, "no source matches"),
    ({"q": "   "}, "empty query"),
    ({"q": "x" * 2001}, "keep it under 2000"),
    ({}, "q: Field required"),
    ({"q": QUERY, "k": "ten"}, "k: Input should be a valid integer"),
    ({"q": QUERY, "k": 0}, "k: Input should be greater than or equal to 1"),
    ({"q": QUERY, "mode": "fuzzy"}, "mode: Input should be 'hybrid', 'dense' or 'bm25'"),
])
def test_bad_search_input_is_400_with_one_line(served, params, fragment) -> None:
    resp = _get(served, "/api/search", **params)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert set(resp.json()) == {"error"} and fragment in error and "\n" not in error and "Traceback" not in error


@pytest.mark.parametrize("body, fragment", [
    ({"question": ""}, "empty question"),
    ({"question": "Who?", "since": "2023-02-30x"}, "invalid date"),
    ({"question": "Who?", "speaker": "Nobody Atall"}, "no speaker matches"),
    ({"question": "Who?", "answerer": "oracle"}, "answerer: Input should be 'extractive' or 'llm'"),
    ({"question": "Who?", "answerer": "llm"}, "this server has no LLM"),
    ({"question": "Who?", "llm_url": "http://evil.example/v1"}, "llm_url: Extra inputs are not permitted"),
    ({}, "question: Field required"),
    ("not json", "JSON decode error"),
])
def test_bad_ask_input_is_400_with_one_line(served, body, fragment) -> None:
    kwargs = {"content": body, "headers": {**AUTH, "Content-Type": "application/json"}} if isinstance(body, str) \
        else {"json": body, "headers": AUTH}
    resp = httpx.post(served.url + "/api/ask", timeout=120, **kwargs)
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["error"] and "\n" not in resp.json()["error"]


def test_unknown_document_route_and_method(served) -> None:
    resp = _get(served, "/api/documents/no-such-doc")
    assert resp.status_code == 404 and "no document 'no-such-doc'" in resp.json()["error"]
    resp = _get(served, "/api/nowhere")
    assert resp.status_code == 404 and "openapi.json" in resp.json()["error"]
    resp = _get(served, "/api/ask")
    assert resp.status_code == 405 and resp.headers["allow"] == "POST" and "use POST" in resp.json()["error"]


@pytest.mark.parametrize("method, path", [("GET", "/api/search?q=NATO"), ("POST", "/api/ask"),
                                          ("GET", "/api/documents/x"), ("GET", "/api/speakers"),
                                          ("GET", "/api/stats"), ("GET", "/api/openapi.json"),
                                          ("GET", "/api/nowhere"), ("POST", "/gradio_api/mcp/")])
def test_every_api_and_mcp_call_needs_the_token(served, method, path) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}):
        resp = httpx.request(method, served.url + path, headers=headers, json={"question": "x"}, timeout=60)
        assert resp.status_code == 401, (path, headers, resp.status_code)
        assert "Authorization: Bearer TOKEN" in resp.json()["error"] and resp.headers["www-authenticate"] == "Bearer"


def test_the_page_itself_needs_no_token(served) -> None:
    assert httpx.get(served.url + "/", timeout=30).status_code == 200
    assert httpx.get(served.url + "/config", timeout=30).json().get("analytics_enabled") is False


def test_openapi_documents_every_route_and_parameter(served) -> None:
    schema = _get(served, "/api/openapi.json").json()
    assert set(schema["paths"]) == {"/api/search", "/api/ask", "/api/documents/{doc_id}", "/api/speakers",
                                    "/api/stats"}
    params = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert set(params) == {"q", "speaker", "source", "since", "until", "k", "mode"}
    assert params["q"]["required"] and all(p.get("description") for p in params.values())
    assert params["k"]["schema"]["minimum"] == 1 and params["k"]["schema"]["maximum"] == 1000
    assert params["mode"]["schema"]["enum"] == ["hybrid", "dense", "bm25"]
    assert "array" in json.dumps(params["speaker"]["schema"])
    body = schema["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    ask = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert ask["required"] == ["question"]
    assert set(ask["properties"]) == {"question", "speaker", "source", "since", "until", "answerer",
                                      "include_passages"}
    hit = schema["components"]["schemas"]["Hit"]
    assert set(hit["properties"]) == set(_get(served, "/api/search", q=QUERY, k=1).json()[0])
    speaker = schema["components"]["schemas"]["SpeakerResponse"]
    assert set(speaker["properties"]) == set(_get(served, "/api/speakers").json()[0])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# -- MCP ------------------------------------------------------------------------------------------
def _mcp(url: str, calls: list[tuple[str, dict]], token: str | None = TOKEN) -> tuple[list, list]:
    """list_tools, then each call, through the `mcp` package's streamable HTTP client."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run() -> tuple[list, list]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(headers=headers, timeout=300) as http:
            async with streamable_http_client(url, http_client=http) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    tools = (await session.list_tools()).tools
                    results = [await session.call_tool(name, args) for name, args in calls]
        return tools, results

    return asyncio.run(run())


def test_mcp_tools_with_a_real_client(served) -> None:
    api_hits = _get(served, "/api/search", q=QUERY, k=3, speaker="putin").text
    doc_id = json.loads(api_hits)[0]["doc_id"]
    tools, results = _mcp(served.url + "/gradio_api/mcp/", [
        ("search", {"query": QUERY, "k": 3, "speaker": ["putin"]}),
        ("get_document", {"doc_id": doc_id}),
        ("speakers", {}),
        ("speakers", {"include_unnamed": True}),
        ("ask", {"question": "What did Lavrov say about the OSCE?"}),
        ("search", {"query": QUERY, "since": "2023-13"}),
        ("get_document", {"doc_id": "no-such-doc"}),
    ])
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"search", "ask", "get_document", "speakers"}  # no upload, remove or page views
    search = by_name["search"]
    assert "official statements" in search.description
    props = search.inputSchema["properties"]
    assert set(props) == {"query", "speaker", "source", "since", "until", "k", "mode"}
    assert search.inputSchema["required"] == ["query"] and all(p.get("description") for p in props.values())
    assert by_name["get_document"].inputSchema["required"] == ["doc_id"]

    found, document, speakers, everyone, answer, bad_date, missing = results
    assert not found.isError and found.content[0].text == api_hits
    assert not document.isError and document.content[0].text == _get(served, f"/api/documents/{doc_id}").text
    assert speakers.content[0].text == _get(served, "/api/speakers").text
    assert everyone.content[0].text == _get(served, "/api/speakers", all="true").text
    cited = json.loads(answer.content[0].text)
    assert cited["citations"] and not cited["abstained"]
    assert bad_date.isError and bad_date.content[0].text == "invalid month in '2023-13'"
    assert missing.isError and "no document 'no-such-doc'" in missing.content[0].text


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


def test_mcp_without_the_token_is_refused(served) -> None:
    with pytest.raises(BaseException) as err:  # the client raises from inside its task groups
        _mcp(served.url + "/gradio_api/mcp/", [], token=None)
    statuses = [e.response.status_code for e in _leaves(err.value) if isinstance(e, httpx.HTTPStatusError)]
    assert statuses == [401], _leaves(err.value)


# -- the command line, while the server holds the index -------------------------------------------
def test_cli_prints_the_servers_answers_instead_of_failing_on_the_lock(served, pristine) -> None:
    data = _served_dir(served)
    info = json.loads((data / "serve.json").read_text())
    assert info["url"] == served.url and info["pid"] == served.proc.pid and info["token_required"] is True
    for args in (("search", QUERY, "--json"), ("search", QUERY, "--speaker", "gillard", "-k", "3"),
                 ("show", "no-such-doc"), ("search", QUERY, "--since", "2023-13"),
                 ("ask", "How do I bake sourdough bread?")):
        remote, local = _rag(*args, data_dir=data, token=TOKEN), _rag(*args, data_dir=pristine)
        assert (remote.returncode, remote.stdout, remote.stderr) == (local.returncode, local.stdout, local.stderr), args
    doc_id = json.loads(_rag("search", QUERY, "--json", "-k", "1", data_dir=data, token=TOKEN).stdout)[0]["doc_id"]
    for args in (("show", doc_id), ("stats",), ("speakers",), ("speakers", "--json", "--all")):
        remote, local = _rag(*args, data_dir=data, token=TOKEN), _rag(*args, data_dir=pristine)
        assert remote.returncode == 0 and remote.stdout == local.stdout.replace(str(pristine), str(data)), args

    no_token = _rag("search", QUERY, data_dir=data)
    assert no_token.returncode == 2 and "needs a token: set $RAG_API_TOKEN" in no_token.stderr
    wrong = _rag("search", QUERY, data_dir=data, token="nope")
    assert wrong.returncode == 2 and "refused the token" in wrong.stderr
    writer = _rag("remove", doc_id, data_dir=data, token=TOKEN)  # not a read: still the lock's message
    assert writer.returncode == 2 and "in use by pid" in writer.stderr and "rag serve" in writer.stderr


# -- in a thread, over the session's Library --------------------------------------------------------
@pytest.fixture()
def threaded(sample_library):
    """The API app (no page) in a uvicorn thread over a Service of the session's Library, with a
    one-second lock wait."""
    from ui.api import create_app
    from ui.reads import Reads
    from ui.server import Listening
    from ui.service import Service

    service = Service(sample_library)
    port = free_port()
    listening = Listening(create_app(Reads(service, wait=1.0)), "127.0.0.1", port).start()
    try:
        yield service, f"http://127.0.0.1:{port}"
    finally:
        listening.stop()


def test_busy_library_is_503_and_free_again_after(threaded) -> None:
    service, url = threaded
    held, release = threading.Event(), threading.Event()

    def writer() -> None:  # holds the page's lock as an upload's batch does, but for longer
        with service.write_lock, service.lock:
            held.set()
            release.wait(30)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert held.wait(10)
        for path in ("/api/stats", "/api/speakers", f"/api/search?q={QUERY}", "/api/documents/x"):
            resp = httpx.get(url + path, timeout=30)
            assert resp.status_code == 503, (path, resp.text)
            assert "busy" in resp.json()["error"] and resp.headers["retry-after"] == "5"
        assert service.lock.waiting() == 0  # the requests that gave up left the queue
    finally:
        release.set()
        thread.join(10)
    assert httpx.get(url + "/api/stats", timeout=30).status_code == 200


def test_ask_with_the_servers_llm(threaded, monkeypatch) -> None:
    from fake_llm_server import FakeLLMServer

    _, url = threaded
    with FakeLLMServer("good", delay=0) as llm:
        monkeypatch.setenv("RAG_LLM_URL", llm.url)
        resp = httpx.post(url + "/api/ask", json={"question": "What did Lavrov say about the OSCE?",
                                                  "answerer": "llm"}, timeout=300)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["answerer"] == "llm" and llm.requests


def test_passages_tied_on_score_come_in_one_order(sample_library) -> None:
    """Qdrant's RRF fusion returns ties in any order; the Library orders them, so that the CLI and
    the server print the same list."""
    runs = [sample_library.search(QUERY, k=10) for _ in range(30)]
    scores = [h.score for h in runs[0]]
    assert len(set(scores)) < len(scores), "no tie among the hits: the query no longer tests this"
    assert len({tuple(h.point_id for h in hits) for hits in runs}) == 1
    assert scores == sorted(scores, reverse=True)


def test_no_launch_option_is_lost_when_the_page_is_mounted(tmp_path) -> None:
    import gradio as gr

    from rag.settings import Settings
    from ui.app import LAUNCH_ONLY, launch_options

    options = launch_options(Settings(data_dir=tmp_path), "127.0.0.1", 7860)
    mountable = set(inspect.signature(gr.mount_gradio_app).parameters)
    assert set(options) - set(LAUNCH_ONLY) <= mountable
    assert options["share"] is False and options["mcp_server"] is True and options["ssr_mode"] is False
    assert options["blocked_paths"] == [str(tmp_path.resolve())] and options["allowed_paths"] == []
