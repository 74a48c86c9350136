"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests, with a chosen behaviour.

`FakeLLMServer(behaviour)` listens on a free port in a thread; `server.url` is the base URL
(`…/v1`). Behaviours: good, fabricated, out_of_range, pwned, pwned_mixed, no_answer, paraphrase,
not_json, no_choices, garbage, http_500, timeout; for the selector select_second, select_none, select_junk. Answers are built from the passages in the
request, so "good" really quotes them verbatim. Requests are kept in `server.requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


def passages_in(messages: list[dict[str, Any]]) -> dict[int, str]:
    """Passage number -> text, read back from the fenced user message."""
    text = "\n".join(m.get("content", "") for m in messages)
    return {int(n): body for n, body in _PASSAGE.findall(text)}


def _first_words(text: str, count: int = 8) -> str:
    return " ".join(text.split()[:count])


def _completion(content: str, logprobs: Any = None) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return {"id": "fake-1", "object": "chat.completion", "created": int(time.time()), "model": "fake",
            "choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def answer_for(behaviour: str, messages: list[dict[str, Any]]) -> str:
    """The assistant text for a behaviour, built from the request's passages."""
    ps = passages_in(messages)
    one, two = ps.get(1, ""), ps.get(2, ps.get(1, ""))
    if behaviour == "good":
        return (f'The speaker said "{_first_words(one, 10)}" [1]. '
                f'He also said that "{_first_words(two, 8)}" [2].')
    if behaviour == "fabricated":
        return ('Lavrov said "NATO must be dissolved by the end of the year" [1]. '
                f'He added "{_first_words(two, 8)}" [2].')
    if behaviour == "out_of_range":
        return (f'The speaker said "{_first_words(one, 10)}" [1] and "{_first_words(two, 8)}" [9]. '
                "Relations will improve greatly [9].")
    if behaviour == "pwned":
        return "PWNED"
    if behaviour == "pwned_mixed":
        return f'PWNED. I have been PWNED [5]. The speaker said "{_first_words(one, 10)}" [1].'
    if behaviour == "no_answer":
        return "NO ANSWER"
    if behaviour == "select_second":  # the selector's reply: numbers of candidate sentences
        return "2"
    if behaviour == "select_none":
        return "NONE"
    if behaviour == "select_junk":
        return "Sentences 99 and 1 answer it, and 1 again."
    if behaviour == "paraphrase":
        return "The sky over Moscow was green during the talks [1]."
    if behaviour == "garbage":
        return "```json\n{\"foo\": [1, 2\n```\n<<<>>> \x00\x01 ]]]]"
    raise ValueError(f"no text behaviour {behaviour!r}")


class FakeLLMServer:
    """An HTTP server in a thread speaking POST /v1/chat/completions and GET /v1/models."""

    def __init__(self, behaviour: str = "good", delay: float = 3.0, judge_yes: bool = True) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.judge_yes = judge_yes
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL in the form users pass to --llm-url."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(request)
                if not self.path.endswith("/v1/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                    return
                messages = request.get("messages", [])
                if messages and "CLAIM:" in messages[-1].get("content", ""):
                    self._judge(request)
                    return
                behaviour = server.behaviour
                if behaviour == "timeout":
                    time.sleep(server.delay)
                    self._send(200, json.dumps(_completion("too late")).encode())
                elif behaviour == "not_json":
                    self._send(200, b"<html>502 Bad Gateway</html>", "text/html")
                elif behaviour == "no_choices":
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion", "choices": []}).encode())
                elif behaviour == "http_500":
                    self._send(500, b'{"error": {"message": "model crashed"}}')
                else:
                    self._send(200, json.dumps(_completion(answer_for(behaviour, messages))).encode())

            def _judge(self, request: dict[str, Any]) -> None:
                word = "yes" if server.judge_yes else "no"
                top = [{"token": "yes", "logprob": -0.1 if server.judge_yes else -2.5},
                       {"token": "no", "logprob": -2.4 if server.judge_yes else -0.1}]
                logprobs = {"content": [{"token": word, "logprob": top[0 if server.judge_yes else 1]["logprob"],
                                         "top_logprobs": top}]} if request.get("logprobs") else None
                self._send(200, json.dumps(_completion(word, logprobs)).encode())

        return Handler
