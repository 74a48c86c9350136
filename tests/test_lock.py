"""One writer at a time, and (embedded Qdrant Edge) one process on the index, with clear messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.library import Library
from rag.settings import Settings
from rag.store.lock import BusyError, index_lock, is_busy, writer_lock

from conftest import ROOT

DOC = ("Sergey Lavrov: We discussed the grain corridor and the security of the region today.\n\n"
       "Question: And sanctions?\n\nSergey Lavrov: Sanctions will not work.\n")


def _holder(data_dir: Path, what: str, argv: list[str]) -> subprocess.Popen:
    """A process that takes `what` ("write" lock, "index" lock, or opens the "library") with
    sys.argv set to `argv`, prints "ready", and holds it until its stdin closes."""
    take = {
        "write": "from rag.store.lock import writer_lock; h = writer_lock(d).acquire()",
        "index": "from rag.store.lock import index_lock; h = index_lock(d).acquire()",
        "library": "from rag.library import Library; from rag.settings import Settings; "
                   "h = Library(Settings(data_dir=d, progress=False))",
    }[what]
    code = (f"import sys; from pathlib import Path; sys.argv = {argv!r}; d = Path({str(data_dir)!r}); "
            f"{take}; print('ready', flush=True); sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(60)


def test_second_writer_fails_fast_naming_the_holder(tmp_path, embedder):
    data = tmp_path / "d"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(DOC, encoding="utf-8")
    holder = _holder(data, "write", ["rag", "ingest", "big-folder/"])
    try:
        with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
            for attempt in (lambda: lib.ingest([tmp_path / "in"]), lambda: lib.remove("x"),
                            lambda: lib.reindex(progress=False), lambda: lib.check(repair=True)):
                with pytest.raises(BusyError) as err:
                    attempt()
                message = str(err.value)
                assert f"pid {holder.pid} (rag ingest big-folder/" in message
                assert "being written" in message and "--wait" in message
            assert lib.stats()["documents"] == 0  # readers of the same process still work
    finally:
        _release(holder)


def test_writer_waits_with_wait_then_proceeds(tmp_path, embedder):
    data = tmp_path / "d"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(DOC, encoding="utf-8")
    holder = _holder(data, "write", ["rag", "reindex"])
    with Library(Settings(data_dir=data, progress=False), embedder=embedder, lock_wait=60) as lib:
        started = time.monotonic()
        subprocess.Popen(["sh", "-c", f"sleep 1.5; kill -TERM {holder.pid}"])
        report = lib.ingest([tmp_path / "in"])
        assert time.monotonic() - started >= 1.0
        assert report.new == 1 and report.ok
    holder.wait(10)


def test_lock_is_freed_when_the_holder_is_killed(tmp_path):
    holder = _holder(tmp_path, "write", ["rag", "ingest", "x"])
    assert is_busy(tmp_path / "write.lock")
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    assert not is_busy(tmp_path / "write.lock")  # no stale lock after a crash
    with writer_lock(tmp_path).hold():
        pass


def test_lock_is_reentrant_within_one_library_and_exclusive_across(tmp_path):
    first, second = writer_lock(tmp_path), writer_lock(tmp_path)
    with first.hold(action="ingest"):
        with first.hold():
            assert first.held
        assert first.held
        with pytest.raises(BusyError, match=f"pid {os.getpid()}"):
            second.acquire(wait=0.2)
    assert not first.held
    with second.hold():
        pass


def test_embedded_index_is_one_process_at_a_time_with_a_clear_error(tmp_path, embedder):
    """Qdrant Edge locks its WAL: a second process cannot open the shard at all (not even to
    read). The second process gets a message naming the first, and --wait waits for it."""
    import qdrant_edge

    data = tmp_path / "d"
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        lib.ingest([ROOT / "data" / "sample" / "seed"])
    holder = _holder(data, "library", ["rag", "serve"])
    try:
        with pytest.raises(Exception, match="WouldBlock"):  # what the engine itself says
            qdrant_edge.EdgeShard.load(str(data / "qdrant-edge"))
        with pytest.raises(BusyError) as err:
            Library(Settings(data_dir=data, progress=False), embedder=embedder)
        assert f"in use by pid {holder.pid} (rag serve" in str(err.value)
        res = subprocess.run([sys.executable, "-m", "rag.cli", "search", "grain", "--data-dir", str(data)],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert res.returncode == 2
        assert f"in use by pid {holder.pid} (rag serve" in res.stderr and "Traceback" not in res.stderr
        # the store itself is SQLite in WAL mode: it can be read meanwhile
        from rag.store.store import Store

        store = Store(data / "store.sqlite3")
        assert store.stats()["documents"] == 1
        store.close()
        subprocess.Popen(["sh", "-c", f"sleep 1; kill -TERM {holder.pid}"])
        with Library(Settings(data_dir=data, progress=False), embedder=embedder, lock_wait=60) as lib:
            assert lib.search("Union State", k=3)
    finally:
        holder.kill()
        holder.wait(10)


def test_index_lock_holder_is_named_even_for_a_bare_lock(tmp_path):
    holder = _holder(tmp_path, "index", ["rag", "ingest", "docs/"])
    try:
        with pytest.raises(BusyError, match=rf"pid {holder.pid} \(rag ingest docs/, since"):
            index_lock(tmp_path).acquire()
    finally:
        _release(holder)


def test_python_m_rag_cli_is_named_rag_in_a_lock_file(monkeypatch):
    from rag.store.lock import command_line

    monkeypatch.setattr(sys, "argv", [str(Path("/src/rag/cli/__main__.py")), "ingest", "docs/"])  # python -m rag.cli
    assert command_line() == "rag ingest docs/"


def test_the_api_token_never_goes_into_a_lock_file(tmp_path, monkeypatch):
    from rag.store.lock import command_line, holder

    monkeypatch.setattr(sys, "argv", ["/venv/bin/rag", "serve", "--api-token", "s3cret", "--port", "7861"])
    assert command_line() == "rag serve --api-token *** --port 7861"
    monkeypatch.setattr(sys, "argv", ["/venv/bin/rag", "serve", "--api-token=s3cret"])
    with index_lock(tmp_path).hold():
        assert "s3cret" not in str(holder(tmp_path / "index.lock"))
        assert "--api-token=***" in str(holder(tmp_path / "index.lock"))
