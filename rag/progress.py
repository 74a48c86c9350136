"""A progress bar for long work: documents, chunks and chunks per second, errors printed above it."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """tqdm on stderr when enabled; a silent counter otherwise (tests, --quiet, the web page)."""

    def __init__(self, enabled: bool = True, desc: str = "ingest") -> None:
        self.enabled = enabled
        self.desc = desc
        self.docs = 0
        self.chunks = 0
        self._bar: Any = None
        self._start = time.perf_counter()

    def __enter__(self) -> "Progress":
        self._start = time.perf_counter()
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(desc=self.desc, unit="doc", file=sys.stderr, dynamic_ncols=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def advance(self, docs: int = 0, chunks: int = 0) -> None:
        """Count finished documents and embedded chunks."""
        self.docs += docs
        self.chunks += chunks
        if self._bar is not None:
            elapsed = max(time.perf_counter() - self._start, 1e-9)
            self._bar.set_postfix_str(f"{self.chunks} chunks, {self.chunks / elapsed:.1f} chunks/s",
                                      refresh=False)
            self._bar.update(docs)

    def error(self, message: str) -> None:
        """Print one error line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(f"error: {message}", file=sys.stderr)
        elif self.enabled:
            print(f"error: {message}", file=sys.stderr)
