"""Lock files in the data dir: one writer at a time, and (Qdrant Edge) one process on the index.

`write.lock` is held by `rag ingest`, `remove`, `reindex`, `backup`, `check --repair` and web
uploads for as long as they write. `index.lock` is held by any process that has the embedded
Qdrant Edge shard open: the engine itself lets only one process open a shard (its write-ahead
log is locked), and this file says which process that is. Both are `fcntl.flock` locks, so the
kernel releases them when the holder exits or is killed: a lock file never goes stale. The
holder writes its pid, command and start time into the file for the message others get.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WRITE_LOCK = "write.lock"
INDEX_LOCK = "index.lock"
LOCK_FILES = (WRITE_LOCK, INDEX_LOCK)


class BusyError(RuntimeError):
    """Another process holds the lock; the message names it and says what to do."""


def command_line() -> str:
    """This process's command, as the user typed it where possible (``rag ingest docs/``)."""
    argv = list(sys.argv) or ["python"]
    head = argv[0].replace("\\", "/")
    if head.endswith("rag/cli/__main__.py") or head.endswith("/rag") or head == "rag":
        argv[0] = "rag"
    else:
        argv[0] = Path(head).name
    argv = _redacted(argv)
    text = " ".join(argv)
    return text if len(text) <= 200 else text[:197] + "..."


SECRET_FLAGS = ("--api-token",)
"""Flags whose value never goes into a lock file (other users can read it; error messages quote it)."""


def _redacted(argv: list[str]) -> list[str]:
    out: list[str] = []
    hide = False
    for arg in argv:
        if hide:
            out.append("***")
            hide = False
        elif arg in SECRET_FLAGS:
            out.append(arg)
            hide = True
        elif arg.startswith(tuple(f + "=" for f in SECRET_FLAGS)):
            out.append(arg.split("=", 1)[0] + "=***")
        else:
            out.append(arg)
    return out


def holder(path: Path) -> dict[str, object]:
    """What the holder of the lock file wrote into it ({} if unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(info: dict[str, object]) -> str:
    """``pid 123 (rag ingest docs/, since 14:02:11)``, or ``another process`` if unknown."""
    if not info.get("pid"):
        return "another process"
    since = info.get("since")
    when = ""
    if isinstance(since, (int, float)):
        when = f", since {time.strftime('%H:%M:%S', time.localtime(float(since)))}"
    return f"pid {info['pid']} ({info.get('command') or '?'}{when})"


class FileLock:
    """An exclusive `flock` on one file, re-entrant within this object.

    `acquire(wait)` polls for up to `wait` seconds (0: try once) and raises BusyError naming
    the holder when the time is up.
    """

    def __init__(self, path: Path, action: str, busy_message: str) -> None:
        self.path = path
        self.action = action
        self.busy_message = busy_message
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self, wait: float = 0.0, action: str | None = None) -> "FileLock":
        """Take the lock (or re-enter it); raises BusyError after `wait` seconds."""
        if self._fd is not None:
            self._depth += 1
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(0.0, wait)
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    info = holder(self.path)
                    raise BusyError(self.busy_message.format(holder=describe(info), wait=wait,
                                                             dir=self.path.parent)) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 1.0)
        record = {"pid": os.getpid(), "command": command_line(), "action": action or self.action,
                  "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd, self._depth = fd, 1
        return self

    def release(self) -> None:
        """Leave the lock; it is freed when the outermost holder leaves."""
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    @contextmanager
    def hold(self, wait: float = 0.0, action: str | None = None) -> Iterator["FileLock"]:
        """``with lock.hold(wait):`` the lock is held inside the block."""
        self.acquire(wait, action)
        try:
            yield self
        finally:
            self.release()


def writer_lock(data_dir: Path, action: str = "write") -> FileLock:
    """The one-writer-at-a-time lock of a data dir."""
    return FileLock(
        Path(data_dir) / WRITE_LOCK, action,
        "the collection in {dir} is being written by {holder}: wait for it to finish, "
        "or retry with --wait SECONDS (waited {wait:g} s)",
    )


def index_lock(data_dir: Path) -> FileLock:
    """The lock of the embedded Qdrant Edge shard (one process at a time may open it)."""
    return FileLock(
        Path(data_dir) / INDEX_LOCK, "open",
        "the index in {dir} is in use by {holder}; Qdrant Edge lets one process at a time open "
        "it: try again when that process finishes (stop `rag serve`, or add files through the "
        "web page), or retry with --wait SECONDS (waited {wait:g} s)",
    )


def is_busy(path: Path) -> bool:
    """True if some process (this one included, through another handle) holds the lock file."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False
