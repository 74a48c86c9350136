"""Entry point of the file readers: find supported files and read each into RawDocuments.

``iter_files`` expands files and folders; ``read_file`` dispatches on the file name to the
reader for its format (``textfile``, ``html_text``, ``pdf``, ``jsonl``) and turns every
problem with the input into a ``ReadError`` that names the file and says what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.html_text import read_html_file
from ingest.jsonl import read_jsonl_file
from ingest.models import RawDocument, ReadError
from ingest.pdf import read_pdf_file
from ingest.textfile import read_text_file

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".pdf", ".jsonl", ".jsonl.gz")

_FORMATS = {
    ".jsonl.gz": "jsonl",
    ".jsonl": "jsonl",
    ".txt": "txt",
    ".md": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}


@dataclass
class ReadLimits:
    """Bounds on what one input may cost; inputs beyond them become ReadErrors."""

    max_file_bytes: int = 50 * 1024 * 1024  # txt/md/html/pdf files larger than this are refused
    max_line_bytes: int = 20 * 1024 * 1024  # one JSONL line larger than this is refused
    pdf_timeout_s: float = 60.0  # per PDF, wall time in the worker process
    pdf_memory_bytes: int = 1024 * 1024 * 1024  # RLIMIT_AS of the PDF worker process
    pdf_max_pages: int = 2000


def file_format(path: Path) -> str | None:
    """The reader format for `path` by its suffix ("txt", "md", "html", "pdf", "jsonl"), or None."""
    name = path.name.lower()
    for suffix, fmt in _FORMATS.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return fmt
    return None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n:,} bytes"


def _unsupported(path: Path) -> ReadError:
    return ReadError(
        str(path),
        f"unsupported file type '{''.join(path.suffixes[-2:]) or path.name}': "
        f"supported are {', '.join(SUPPORTED_SUFFIXES)}; convert it to one of them",
    )


def _walk(folder: Path) -> Iterator[Path]:
    """Supported files under `folder`, sorted, without hidden files or folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            candidate = Path(root) / name
            if file_format(candidate) is not None and candidate.is_file():
                yield candidate


def iter_files(paths: Iterable[Path]) -> Iterator[Path | ReadError]:
    """Expand files and folders (recursively, sorted, skipping hidden files/dirs) into supported
    files; a path that doesn't exist or an unsupported explicit file yields a ReadError."""
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
        elif path.is_file():
            if file_format(path) is None:
                yield _unsupported(path)
                continue
            candidates = (path,)
        elif path.exists():
            yield ReadError(str(path), "not a regular file or folder: give a file or a folder")
            continue
        else:
            yield ReadError(str(path), "no such file or folder: check the path")
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                yield candidate


def _too_large(path: Path, limit: int) -> ReadError | None:
    """A ReadError if `path` is larger than `limit`, judged from its size alone (nothing is read)."""
    size = path.stat().st_size
    if size <= limit:
        return None
    return ReadError(
        str(path),
        f"file is {_size(size)}, larger than the {_size(limit)} limit (max_file_bytes): "
        "split it or raise the limit",
    )


def _read_small_file(path: Path, limit: int) -> bytes | ReadError:
    """The bytes of `path`, refusing (before reading anything) a file larger than `limit`."""
    refused = _too_large(path, limit)
    if refused is not None:
        return refused
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        return ReadError(str(path), f"file grew past the {_size(limit)} limit while being read: try again")
    return data


def _read(path: Path, fmt: str, limits: ReadLimits) -> Iterator[RawDocument | ReadError]:
    if fmt == "jsonl":
        yield from read_jsonl_file(path, limits.max_line_bytes)
    elif fmt == "pdf":
        refused = _too_large(path, limits.max_file_bytes)
        if refused is not None:
            yield refused
        else:
            yield from read_pdf_file(path, limits.pdf_timeout_s, limits.pdf_memory_bytes, limits.pdf_max_pages)
    else:
        data = _read_small_file(path, limits.max_file_bytes)
        if isinstance(data, ReadError):
            yield data
        elif fmt == "html":
            yield read_html_file(path, fmt, data)
        else:
            yield read_text_file(path, fmt, data)


def read_file(path: Path, limits: ReadLimits | None = None) -> Iterator[RawDocument | ReadError]:
    """Read one file: yields RawDocuments (one for txt/md/html/pdf, one per JSONL line) and
    ReadErrors for what failed; never raises for bad input."""
    path = Path(path)
    limits = limits or ReadLimits()
    fmt = file_format(path)
    if fmt is None:
        yield _unsupported(path)
        return
    try:
        if not path.exists():
            yield ReadError(str(path), "no such file: check the path")
            return
        if not path.is_file():
            yield ReadError(str(path), "not a regular file: give a file, or a folder to iter_files")
            return
        yield from _read(path, fmt, limits)
    except PermissionError:
        yield ReadError(str(path), "permission denied: make the file readable (chmod +r) or copy it")
    except OSError as exc:
        yield ReadError(str(path), f"could not be read ({exc.strerror or exc}): check the disk or the file")
