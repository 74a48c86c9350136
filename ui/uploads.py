"""Uploaded files: check name, size, type and content, then copy them into the data dir's uploads folder.

Nothing here trusts the browser: the name is reduced to a plain file name (no folders, no
``..``, no control characters), the suffix must be one the readers know, the size is bounded,
and the first bytes must look like the format the suffix claims.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.models.model_files import sha256_of

ALLOWED_SUFFIXES: tuple[str, ...] = (".jsonl.gz", ".jsonl", ".txt", ".md", ".html", ".htm", ".pdf")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w .()+,@=-]+", re.UNICODE)


class UploadRejected(ValueError):
    """A file that is not accepted, with a message for the user."""


@dataclass
class Accepted:
    """A validated upload copied to `path`; `note` says if it was renamed."""

    name: str
    path: Path
    note: str = ""


def allowed_suffix(name: str) -> str | None:
    """The allowed suffix `name` ends with (longest first: ``.jsonl.gz`` before ``.jsonl``), or None."""
    lower = name.lower()
    for suffix in ALLOWED_SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return suffix
    return None


def safe_name(name: str) -> str:
    """A plain file name from whatever the browser sent: last path part, no `..`, no odd characters.

    >>> safe_name("../../etc/passwd.txt")
    'passwd.txt'
    >>> safe_name("C:\\\\Users\\\\me\\\\Lavrov, 17 May.txt")
    'Lavrov, 17 May.txt'
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    while ".." in name:
        name = name.replace("..", ".")
    if len(name) > MAX_NAME_CHARS:
        suffix = allowed_suffix(name) or ""
        name = name[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    if not name or name.startswith("."):
        name = "upload" + name
    return name


def check_content(path: Path, suffix: str) -> None:
    """Refuse content that does not match its suffix (a PDF must start like one, text must be text)."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head:
        raise UploadRejected("the file is empty")
    if suffix == ".pdf":
        if b"%PDF-" not in head[:1024]:
            raise UploadRejected("not a PDF (no %PDF- header); export it again as PDF")
        return
    if suffix == ".jsonl.gz":
        if not head.startswith(b"\x1f\x8b"):
            raise UploadRejected("not gzip-compressed; name it .jsonl if it is plain JSON Lines")
        return
    if head.startswith(b"%PDF-"):
        raise UploadRejected(f"this is a PDF, not {suffix}; name it .pdf")
    if head.startswith(b"\x1f\x8b") or head.startswith(b"PK\x03\x04"):
        raise UploadRejected(f"this is a compressed archive, not {suffix}")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadRejected("binary content: upload text, HTML, PDF or JSON Lines")


def accept(source: Path, display_name: str, uploads_dir: Path, max_bytes: int = MAX_UPLOAD_BYTES) -> Accepted:
    """Validate one uploaded file and copy it into `uploads_dir`; raises UploadRejected.

    The same content under the same name maps to the same stored file (the ingest then reports
    it unchanged); a different file with a name already taken is stored as ``name (2).ext``
    so that nothing uploaded earlier is overwritten.
    """
    name = safe_name(display_name)
    suffix = allowed_suffix(name)
    if suffix is None:
        raise UploadRejected(f"unsupported file type: upload {', '.join(ALLOWED_SUFFIXES)}")
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise UploadRejected("the upload did not arrive; try again") from exc
    if size > max_bytes:
        raise UploadRejected(f"too large ({size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB)")
    check_content(source, suffix)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    digest = sha256_of(source)
    stem = name[: -len(suffix)]
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem} ({n}){suffix}"
        target = uploads_dir / candidate
        if target.resolve().parent != uploads_dir.resolve():
            raise UploadRejected("invalid file name")
        if target.exists():
            if sha256_of(target) == digest:
                return Accepted(candidate, target)
            continue
        tmp = target.with_name(f".{candidate}.part")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        note = f"stored as {candidate!r}: another file named {name!r} is already in the library" if n > 1 else ""
        return Accepted(candidate, target, note)
    raise UploadRejected(f"too many files named {name!r}; rename it")
