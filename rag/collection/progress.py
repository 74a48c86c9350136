"""A progress line for long work (ingest, reindex): share done, documents done of the total, their
rate, chunks embedded and time left; errors printed above it.

    ingest  45% |██████▎       | 15/33 documents, 0.50/s · 412 chunks · about 00:36 left

The total is known before the work starts (`rag.collection.ingestion.expected_documents` counts files and the
records of corpus files); without one the line counts up.
"""

from __future__ import annotations

import sys
import time
from typing import Any

BAR_FORMAT = "{desc} {percentage:3.0f}% |{bar}| {n:,}/{total:,} documents{postfix} · about {remaining} left"
COUNT_FORMAT = "{desc} {n:,} documents{postfix} · {elapsed} elapsed"
DONE_FORMAT = "{desc} {percentage:3.0f}% |{bar}| {n:,}/{total:,} documents{postfix} · done in {elapsed}"


class Progress:
    """tqdm on stderr when enabled; a silent counter otherwise (tests, --quiet, the web page).

    `total` (documents) may be set before the bar opens (`with`); `advance` counts finished
    documents and embedded chunks, `settle` moves the count up to a known mark (a file's records
    all handled, some of them failed or skipped).
    """

    def __init__(self, enabled: bool = True, desc: str = "ingest", total: int | None = None) -> None:
        self.enabled = enabled
        self.desc = desc
        self.total = total
        self.docs = 0
        self.chunks = 0
        self._bar: Any = None
        self._start = time.perf_counter()

    def __enter__(self) -> "Progress":
        self._start = time.perf_counter()
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(desc=self.desc, total=self.total or None, unit="doc", file=sys.stderr,
                             dynamic_ncols=True, bar_format=BAR_FORMAT if self.total else COUNT_FORMAT,
                             postfix=rates(0, 0, 0.0), smoothing=0)  # time left from the mean rate shown
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            if self.total and exc[0] is None:  # finished: the last line says how long it took
                self._bar.bar_format = DONE_FORMAT
            self._bar.close()

    def advance(self, docs: int = 0, chunks: int = 0) -> None:
        """Count finished documents and embedded chunks."""
        self.docs += docs
        self.chunks += chunks
        if self._bar is not None:
            elapsed = max(time.perf_counter() - self._start, 1e-9)
            self._bar.set_postfix_str(rates(self.docs, self.chunks, elapsed), refresh=False)
            if self.total and self._bar.n + docs > self._bar.total:  # the count was low: grow it
                self._bar.total = self._bar.n + docs
            self._bar.update(docs)

    def settle(self, docs: int) -> None:
        """Bring the document count up to `docs` (no-op when it is there already)."""
        if docs > self.docs:
            self.advance(docs=docs - self.docs)

    def error(self, message: str) -> None:
        """Print one error line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(f"error: {message}", file=sys.stderr)
        elif self.enabled:
            print(f"error: {message}", file=sys.stderr)


def rates(docs: int, chunks: int, elapsed: float) -> str:
    """ "0.50/s · 412 chunks": documents per second (the mean so far) and chunks embedded."""
    per_doc = docs / elapsed if elapsed > 0 else 0.0
    shown = f"{per_doc:.1f}" if per_doc >= 1 else f"{per_doc:.2f}"
    return f"{shown}/s · {chunks:,} chunks"


def render_line(done: int, total: int | None, chunks: int, elapsed: float, desc: str = "ingest",
                width: int = 110) -> str:
    """The line `Progress` shows after `elapsed` seconds (tqdm's own formatter, no terminal needed)."""
    from tqdm import tqdm

    return tqdm.format_meter(done, total or None, elapsed, ncols=width, prefix=desc, unit="doc",
                             bar_format=BAR_FORMAT if total else COUNT_FORMAT,
                             postfix=rates(done, chunks, elapsed))
