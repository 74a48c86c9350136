"""`DATA_DIR/serve.json`: where the `rag serve` that has a data dir open answers, for the commands
that cannot open the embedded index meanwhile (Qdrant Edge lets one process at a time open it).

`rag serve` writes it once it listens (URL, pid, whether its API needs a token) and removes it
when it stops. A file left by a killed server is ignored: its pid is gone, or the pid is no longer
the one holding the index lock (`rag.store.lock`), which the kernel frees when a process dies.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from rag.store.lock import INDEX_LOCK, holder, is_busy

SERVE_FILE = "serve.json"


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to `host` (a wildcard address
    is reached through loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def publish(data_dir: Path, url: str, token_required: bool) -> Path:
    """Write serve.json for this process (atomically: a reader never sees half a file)."""
    path = Path(data_dir) / SERVE_FILE
    record = {"url": url, "pid": os.getpid(), "token_required": token_required, "since": time.time(),
              "api": f"{url}/api", "openapi": f"{url}/api/openapi.json", "mcp": f"{url}/gradio_api/mcp/"}
    tmp = path.with_name(f".{SERVE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def withdraw(data_dir: Path) -> None:
    """Remove serve.json if this process wrote it (a newer server's file is left alone)."""
    path = Path(data_dir) / SERVE_FILE
    if _read(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def running_server(data_dir: Path) -> dict[str, Any] | None:
    """What serve.json says, if the `rag serve` that wrote it is alive and holds the data dir's
    embedded index right now; None otherwise (no file, a stale one, or another holder)."""
    data_dir = Path(data_dir)
    info = _read(data_dir / SERVE_FILE)
    pid = info.get("pid")
    if not isinstance(pid, int) or not isinstance(info.get("url"), str) or not _alive(pid):
        return None
    lock = data_dir / INDEX_LOCK
    if not is_busy(lock) or holder(lock).get("pid") != pid:
        return None
    return info


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
