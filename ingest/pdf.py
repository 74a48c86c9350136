"""PDF text with pypdf, page by page, in a spawned worker process with a time and memory limit.

The worker (``_extract_worker``) caps its own address space with ``RLIMIT_AS`` and streams
one message per page back through a pipe; the parent kills it when the wall-time budget is
spent. A PDF that loops, or that inflates into gigabytes, stops the worker, never the caller.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.models import RawDocument, ReadError

PAGE_SEPARATOR = "\n\n"

_OCR_HINT = "no text layer (scanned image?): run OCR first, e.g. ocrmypdf in.pdf out.pdf"
_DECRYPT_HINT = "encrypted: decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf"
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")


def _pdf_date(value: str) -> str | None:
    """``YYYY-MM-DD`` from a PDF date string such as ``D:20090610143000-04'00'``."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return f"{year}-{month}-{day}"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _worker_open(path: str, conn: Connection, max_pages: int) -> Any:
    """Open the PDF in the worker; returns the reader, or None after sending an error."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError
    except MemoryError:
        conn.send(("memory", 0))
        return None
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open with an empty password
            except DependencyError:
                conn.send(("error", _DECRYPT_HINT + " (AES encryption needs the `cryptography` package)"))
                return None
            if not opened:
                conn.send(("error", _DECRYPT_HINT))
                return None
        count = len(reader.pages)
    except FileNotDecryptedError:
        conn.send(("error", _DECRYPT_HINT))
        return None
    except MemoryError:
        conn.send(("memory", 0))
        return None
    except Exception as exc:  # pypdf raises many types for broken files
        conn.send(("error", f"corrupt or truncated PDF ({_one_line(exc)}): "
                            "re-download it, or repair it with qpdf in.pdf out.pdf"))
        return None
    if count == 0:
        conn.send(("error", "the PDF has no pages: re-download or re-export it"))
        return None
    if count > max_pages:
        conn.send(("error", f"has {count} pages, more than the limit of {max_pages} (pdf_max_pages): "
                            "split it (e.g. qpdf --split-pages) or raise the limit"))
        return None
    return reader


def _worker_metadata(reader: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"pages": len(reader.pages)}
    try:
        info = reader.metadata or {}
        for key, name in (("/Title", "title"), ("/Author", "author")):
            value = info.get(key)
            if isinstance(value, str) and value.strip():
                meta[name] = " ".join(value.split())
        created = info.get("/CreationDate")
        if isinstance(created, str) and (date := _pdf_date(created)):
            meta["created"] = date
    except Exception:  # broken /Info dictionaries are common; the text still matters more
        pass
    return meta


def _extract_worker(path: str, conn: Connection, memory_bytes: int, max_pages: int) -> None:
    """Worker process body: cap memory, then send ("meta", dict), ("page", n, text) or
    ("page_error", n, message) per page, ("memory", n) on exhaustion, and finally ("done",)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):
        pass  # no RLIMIT_AS on this platform: the time limit still applies
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # this process only
    reader = _worker_open(path, conn, max_pages)
    if reader is None:
        conn.close()
        return
    conn.send(("meta", _worker_metadata(reader)))
    for number in range(1, len(reader.pages) + 1):
        out_of_memory = False
        failure = None
        text = ""
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except MemoryError:
            out_of_memory = True
        except Exception as exc:
            failure = _one_line(exc)
        if out_of_memory:
            conn.send(("memory", number))
        elif failure is not None:
            conn.send(("page_error", number, failure))
        else:
            conn.send(("page", number, _clean(text)))
    conn.send(("done",))
    conn.close()


def _worker_died(where: str, exitcode: int | None, page: int, memory_bytes: int) -> ReadError:
    if exitcode is not None and exitcode < 0:
        return ReadError(
            where,
            f"the PDF worker was killed (signal {-exitcode}) at page {page}; it probably exceeded the "
            f"{_mb(memory_bytes)} memory limit: raise pdf_memory_bytes or repair the file (qpdf in.pdf out.pdf)",
        )
    return ReadError(
        where,
        f"the PDF worker stopped unexpectedly (exit code {exitcode}) at page {page}; see its error "
        "output above; if the calling script has no `if __name__ == \"__main__\":` guard, add one",
    )


@dataclass
class _Progress:
    """What the parent has received from the worker so far."""

    metadata: dict[str, Any] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    fatal: ReadError | None = None
    finished: bool = False


def _handle(message: tuple[Any, ...], progress: _Progress, where: str, memory_bytes: int) -> None:
    kind = message[0]
    if kind == "meta":
        progress.metadata = message[1]
    elif kind == "page":
        progress.pages.append(message[2])
    elif kind == "page_error":
        progress.pages.append("")
        progress.errors.append(ReadError(
            f"{where}, page {message[1]}",
            f"text extraction failed ({message[2]}); page skipped, the other pages are kept",
        ))
    elif kind == "memory" and message[1] == 0:
        progress.fatal = ReadError(
            where,
            f"exceeded the {_mb(memory_bytes)} memory limit while opening it: "
            "raise pdf_memory_bytes or repair the file (qpdf in.pdf out.pdf)",
        )
    elif kind == "memory":
        progress.pages.append("")
        progress.errors.append(ReadError(
            f"{where}, page {message[1]}",
            f"exceeded the {_mb(memory_bytes)} memory limit (decompression bomb?); page skipped, "
            "the other pages are kept; raise pdf_memory_bytes if the file is genuine",
        ))
    elif kind == "error":
        progress.fatal = ReadError(where, message[1])
    elif kind == "done":
        progress.finished = True


def _receive(receiver: Connection, worker: Any, where: str, timeout_s: float, memory_bytes: int) -> _Progress:
    """Collect the worker's messages until it is done, fails, dies or runs out of time."""
    progress = _Progress()
    deadline = time.monotonic() + timeout_s
    while progress.fatal is None and not progress.finished:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not receiver.poll(remaining):
            if time.monotonic() < deadline:
                continue
            total = progress.metadata.get("pages")
            at = f" while extracting page {len(progress.pages) + 1} of {total}" if total else " while opening it"
            progress.fatal = ReadError(
                where,
                f"stopped after {timeout_s:g} s{at}: the PDF is malformed or extremely complex; "
                "raise pdf_timeout_s to try again, or re-save it (e.g. qpdf in.pdf out.pdf)",
            )
        else:
            try:
                message = receiver.recv()
            except EOFError:
                worker.join(5)
                progress.fatal = _worker_died(where, worker.exitcode, len(progress.pages) + 1, memory_bytes)
            else:
                _handle(message, progress, where, memory_bytes)
    return progress


def read_pdf_file(
    path: Path,
    timeout_s: float = 60.0,
    memory_bytes: int = 1024 * 1024 * 1024,
    max_pages: int = 2000,
) -> Iterator[RawDocument | ReadError]:
    """Yield the document of one PDF (pages joined by a blank line, `page_starts` set), and a
    ReadError per page that failed or for the whole file when it cannot be read."""
    where = str(path)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_extract_worker,
        args=(str(path), sender, memory_bytes, max_pages),
        name=f"pdf-reader:{path.name}",
        daemon=True,
    )
    try:
        worker.start()
    except (OSError, AssertionError, RuntimeError) as exc:  # e.g. called inside a daemonic process
        receiver.close()
        sender.close()
        yield ReadError(where, f"could not start the PDF worker process ({exc}): "
                               "read PDFs from a normal (non-daemonic) process")
        return
    sender.close()
    progress = _Progress()
    try:
        progress = _receive(receiver, worker, where, timeout_s, memory_bytes)
    finally:
        receiver.close()
        if worker.is_alive() and progress.finished:
            worker.join(1.0)  # let it exit on its own after ("done",)
        if worker.is_alive():
            worker.kill()
        worker.join()
    if progress.fatal is not None:
        yield progress.fatal
        return
    yield from progress.errors
    pages = progress.pages
    if not any(page.strip() for page in pages):
        if not progress.errors:
            yield ReadError(where, _OCR_HINT)
        return
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(PAGE_SEPARATOR)
    yield RawDocument(
        text=PAGE_SEPARATOR.join(pages),
        source_path=str(path.resolve()),
        origin=path.name,
        format="pdf",
        metadata=progress.metadata,
        page_starts=starts,
    )
