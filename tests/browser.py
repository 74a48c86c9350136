"""Helpers for the web-page tests: run `rag serve` in a subprocess, drive Debian's Chromium
through Playwright (never a downloaded browser), keep screenshots in test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m rag.cli serve` on a data dir, on 127.0.0.1 and a free port."""

    def __init__(self, data_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
                   TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1", **(env or {}))
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 420.0) -> None:
        """Block until the page answers; fail with the server log if it dies or takes too long (its
        imports and warm-up took 128 s on the 2 shared cores at load 15, and over 180 s at load 20)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rag serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"rag serve did not start in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        """The last lines the server printed."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 60 s; returns the exit code (the interpreter's own teardown of
        torch and the rest took 10-27 s at load 12-16, after the server had stopped)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def copy_data_dir(library: object, target: Path) -> Path:
    """A copy of an ingested library's data dir (its vectors flushed first), at `target`."""
    library.vectors.flush()  # type: ignore[attr-defined]
    shutil.copytree(library.settings.data_dir, target)  # type: ignore[attr-defined]
    return target


@contextmanager
def served_copy(library: object, work: Path, expected_tracebacks: Callable[[str], int] = lambda log: 0,
                env: dict[str, str] | None = None) -> Iterator[Server]:
    """`rag serve` (with `env` added to its environment) on a copy of an ingested library's data
    dir in `work`/data (no second ingest); on exit it must stop cleanly and its log hold no
    traceback beyond `expected_tracebacks(log)`."""
    data_dir = copy_data_dir(library, work / "data")
    srv = Server(data_dir, work / "serve.log", env=env)
    try:
        srv.wait()
        yield srv
    finally:
        code = srv.stop()
        assert code == 0, f"rag serve did not stop cleanly ({code}):\n{srv.log()}"
        log = srv.log_path.read_text(errors="replace")
        assert log.count("Traceback") == expected_tracebacks(log), log[-4000:]


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[tuple[object, object]]:
    """(context, page) in Debian's Chromium with a fresh profile (--user-data-dir through
    Playwright's persistent context); clipboard allowed."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport={"width": width, "height": height})
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(90_000)
            try:
                yield context, page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def shot(page: object, name: str, full_page: bool = False) -> Path:
    """Save a screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
