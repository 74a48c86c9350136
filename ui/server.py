"""`Listening`: a uvicorn server over an ASGI app in a background thread (as Gradio's own launch
runs it), so that the main thread keeps the signals and closes the Library after it stops."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import uvicorn


class Listening:
    """`start()` returns once the socket listens (or raises if it cannot); `stop()` waits for the
    requests in flight, runs the app's shutdown and returns."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    access_log=False, lifespan="on",
                                                    timeout_graceful_shutdown=10))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="uvicorn", daemon=True)

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        with asyncio.Runner(loop_factory=self.server.config.get_loop_factory()) as runner:
            runner.run(serve())

    def start(self, timeout: float = 60.0) -> "Listening":
        """Serve in the background; OSError when the port cannot be bound or startup fails."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise OSError(f"could not listen on {self.server.config.host}:{self.server.config.port} "
                              "(is the port in use? choose another with --port)")
            if time.monotonic() > deadline:
                self.stop()
                raise OSError(f"the server did not start within {timeout:.0f} s")
            time.sleep(0.02)
        return self

    def call_soon(self, fn: Callable[[], object]) -> None:
        """Run `fn` in the server's event loop (from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        """Shut down gracefully and wait for the thread."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=30)
