"""JSONL corpora (.jsonl, .jsonl.gz): one document per line, streamed, bad lines reported and skipped."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ingest.models import RawDocument, ReadError
from ingest.textfile import normalise_newlines

_SKIP_CHUNK = 1024 * 1024
_GIVE_UP_AFTER = 10  # leading lines without "text": the file is not a corpus of documents


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _iter_lines(stream: IO[bytes], max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes) per line; bytes is None for a line longer than the limit.

    Memory stays bounded by `max_line_bytes`: an overlong line is skipped in chunks.
    """
    number = 0
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(_SKIP_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line


def _document(path: Path, number: int, line: bytes, resolved: str) -> RawDocument | ReadError | None:
    where = f"{path}:{number}"
    if number == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except UnicodeDecodeError as exc:
        return ReadError(
            where,
            f"not valid UTF-8 (byte 0x{line[exc.start]:02X} at column {exc.start + 1}): "
            "re-encode the file as UTF-8",
        )
    except json.JSONDecodeError as exc:
        return ReadError(
            where,
            f"invalid JSON ({exc.msg} at column {exc.colno}): fix or remove this line; "
            "the other lines are read",
        )
    except RecursionError:
        return ReadError(where, "invalid JSON (nested too deeply): fix or remove this line")
    if not isinstance(record, dict):
        return ReadError(
            where,
            f"expected a JSON object with a \"text\" field, found a JSON {type(record).__name__}",
        )
    text = record.pop("text", None)
    if not isinstance(text, str):
        found = "no \"text\" field" if text is None else f"\"text\" is a {type(text).__name__}"
        return ReadError(where, f"{found}: each line needs a non-empty string \"text\"; line skipped")
    if not text.strip():
        return ReadError(where, "\"text\" is empty: line skipped")
    return RawDocument(
        text=normalise_newlines(text),
        source_path=resolved,
        origin=f"{path.name}:{number}",
        format="jsonl",
        metadata=record,
    )


def read_jsonl_file(path: Path, max_line_bytes: int) -> Iterator[RawDocument | ReadError]:
    """Yield one document per JSON line of `path`; bad lines become ReadErrors and reading goes on.

    Every key of the JSON object other than ``text`` is kept in ``metadata`` as it is
    (including the corpus' own ``source_path``); ``RawDocument.source_path`` is the file read.
    """
    resolved = str(path.resolve())
    last_good = 0
    seen = 0
    yielded = 0
    pending: list[ReadError] = []
    try:
        with _open_binary(path) as stream:
            for number, line in _iter_lines(stream, max_line_bytes):
                seen = number
                if line is None:
                    yield from pending
                    yielded += len(pending)
                    pending.clear()
                    yield ReadError(
                        f"{path}:{number}",
                        f"line longer than the limit of {max_line_bytes:,} bytes (max_line_bytes): "
                        "line skipped; split the record or raise the limit",
                    )
                    yielded += 1
                    continue
                item = _document(path, number, line, resolved)
                if item is None:
                    continue
                if yielded == 0 and isinstance(item, ReadError) and item.message.startswith("no \"text\""):
                    # Hold back leading "no text" errors: a file made only of them is not a
                    # corpus (a metadata or labels file) and gets one error, not one per line.
                    pending.append(item)
                    if len(pending) >= _GIVE_UP_AFTER:
                        yield ReadError(
                            str(path),
                            f"the first {len(pending)} lines have no \"text\" field: not a corpus of "
                            "documents (metadata or labels?); rest of the file skipped",
                        )
                        return
                    continue
                if isinstance(item, RawDocument):
                    last_good = number
                yielded += len(pending) + 1
                yield from pending
                pending.clear()
                yield item
    except EOFError:
        yield from pending
        yield ReadError(
            str(path),
            f"compressed data ends early (truncated .gz) after line {seen}; last good line "
            f"{last_good}: re-download or re-compress the file (gzip -t checks it)",
        )
        return
    except (gzip.BadGzipFile, zlib.error) as exc:
        yield from pending
        yield ReadError(
            str(path),
            f"corrupt gzip data after line {seen} ({exc}); last good line {last_good}: "
            "re-download or re-compress the file (gzip -t checks it)",
        )
        return
    if pending:
        yield from pending
    elif yielded == 0:
        yield ReadError(str(path), "empty file: no JSON lines found; add one JSON object per line")


def count_records(path: Path, block_bytes: int = 1 << 20) -> int:
    """Lines of `path` (.jsonl or .jsonl.gz) holding something other than whitespace: the documents
    `read_jsonl_file` will try, counted in blocks without parsing JSON (memory stays bounded by
    `block_bytes`, however long the lines). A damaged file counts what can be read of it."""
    count = 0
    filled = False  # the current line has a non-blank byte
    for block in _blocks(path, block_bytes):
        lines = block.split(b"\n")
        for line in lines[:-1]:
            if filled or line.strip():
                count += 1
            filled = False
        filled = filled or bool(lines[-1].strip())
    return count + (1 if filled else 0)


def _blocks(path: Path, block_bytes: int) -> Iterator[bytes]:
    """The bytes of `path`, decompressed if it is gzip (every member), at most `block_bytes` at a
    time, up to where it can no longer be read (a truncated or corrupt .gz yields what comes before
    the damage)."""
    try:
        with open(path, "rb") as raw:
            if not path.name.lower().endswith(".gz"):
                while data := raw.read(block_bytes):
                    yield data
                return
            inflate = zlib.decompressobj(wbits=31)
            while data := raw.read(block_bytes):
                while data:
                    if inflate.eof:  # the next gzip member
                        inflate = zlib.decompressobj(wbits=31)
                    out = inflate.decompress(data, block_bytes)
                    if out:
                        yield out
                    data = inflate.unused_data if inflate.eof else inflate.unconsumed_tail
            if not inflate.eof:
                yield inflate.flush()
    except (OSError, zlib.error):
        return
