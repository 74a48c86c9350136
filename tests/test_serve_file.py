"""serve.json: a running `rag serve` is found through it; a stale or foreign one is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rag.store.lock import index_lock
from rag.store.serve_file import SERVE_FILE, local_url, publish, running_server, withdraw


def test_a_live_server_holding_the_index_is_found_and_withdraws_its_file(tmp_path) -> None:
    lock = index_lock(tmp_path).acquire()
    try:
        path = publish(tmp_path, "http://127.0.0.1:7860", token_required=True)
        info = running_server(tmp_path)
        assert info is not None and info["pid"] == os.getpid() and info["token_required"] is True
        assert info["url"] == "http://127.0.0.1:7860" and info["mcp"] == "http://127.0.0.1:7860/gradio_api/mcp/"
        withdraw(tmp_path)
        assert not path.exists() and running_server(tmp_path) is None
    finally:
        lock.release()


def test_stale_and_foreign_files_are_ignored(tmp_path) -> None:
    publish(tmp_path, "http://127.0.0.1:7860", token_required=False)
    assert running_server(tmp_path) is None  # nobody holds the index: the server is gone

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = json.loads((tmp_path / SERVE_FILE).read_text())
    (tmp_path / SERVE_FILE).write_text(json.dumps({**record, "pid": int(dead.stdout)}))
    lock = index_lock(tmp_path).acquire()
    try:
        assert running_server(tmp_path) is None  # its pid has exited
        (tmp_path / SERVE_FILE).write_text(json.dumps({**record, "pid": os.getppid()}))
        assert running_server(tmp_path) is None  # alive, but not the process holding the index
        withdraw(tmp_path)  # not ours: left alone
        assert (tmp_path / SERVE_FILE).exists()
        (tmp_path / SERVE_FILE).write_text("{half a file")
        assert running_server(tmp_path) is None
    finally:
        lock.release()


def test_local_url_reaches_wildcard_binds_through_loopback() -> None:
    assert local_url("127.0.0.1", 7860) == "http://127.0.0.1:7860"
    assert local_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert local_url("::", 7860) == "http://[::1]:7860"
    assert local_url("192.168.1.5", 7860) == "http://192.168.1.5:7860"
