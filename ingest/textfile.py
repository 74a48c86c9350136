"""Plain-text files (.txt, .md): strict UTF-8 decoding with errors that say how to fix the file."""

from __future__ import annotations

import codecs
from pathlib import Path

from ingest.models import RawDocument, ReadError

_SNIFF_BYTES = 8192
# Control characters that ordinary text files do contain: tab, newline, vertical tab,
# form feed, carriage return, escape (ANSI colours in logs).
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b")


def normalise_newlines(text: str) -> str:
    """Turn Windows (CRLF) and old Mac (CR) line ends into ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_binary(data: bytes) -> bool:
    """True if the first 8 KB hold NUL bytes or are mostly control characters."""
    head = data[:_SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if (byte < 32 and byte not in _TEXT_CONTROLS) or byte == 127)
    return controls > len(head) * 0.3


def decode_utf8(data: bytes, where: str) -> str | ReadError:
    """Decode `data` as UTF-8 (a leading BOM is dropped), or explain where and why it is not UTF-8.

    `where` names the file in the error, which also gives the 1-based line number and the
    offending byte.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ReadError(
            where,
            "is UTF-16 encoded, not UTF-8: re-save it as UTF-8, "
            f"e.g. iconv -f utf-16 -t utf-8 '{where}' > converted.txt",
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        return ReadError(
            f"{where}:{line}",
            f"not valid UTF-8 (byte 0x{byte:02X} at column {column}): re-save the file as UTF-8, "
            f"e.g. iconv -f cp1252 -t utf-8 '{where}' > converted.txt",
        )


def decode_text_bytes(data: bytes, where: str) -> str | ReadError:
    """Check that `data` is non-empty UTF-8 text and return it with ``\\n`` line ends."""
    if not data.strip():
        return ReadError(where, "empty file: nothing to index; add text or remove the file")
    if looks_binary(data) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ReadError(
            where,
            "looks like binary data, not text: check the file type, or rename it "
            "with the right extension (.pdf, .html, .jsonl.gz, ...)",
        )
    text = decode_utf8(data, where)
    if isinstance(text, ReadError):
        return text
    text = normalise_newlines(text)
    if not text.strip():
        return ReadError(where, "empty file: only whitespace; add text or remove the file")
    return text


def read_text_file(path: Path, fmt: str, data: bytes) -> RawDocument | ReadError:
    """Build the document for a ``.txt``/``.md`` file whose bytes were already read."""
    text = decode_text_bytes(data, str(path))
    if isinstance(text, ReadError):
        return text
    return RawDocument(
        text=text,
        source_path=str(path.resolve()),
        origin=path.name,
        format=fmt,
    )
