"""Readers are not starved by an upload: the fair lock, and the service handing it over between batches."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from ui.fairlock import FairLock


def _start(fn) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def _until(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_waiters_are_served_in_arrival_order_and_handoff_lets_them_in_first():
    lock, order = FairLock(), []
    lock.acquire()
    lock.acquire()  # re-entrant
    threads = []
    for name in ("a", "b", "c"):
        threads.append(_start(lambda n=name: (lock.acquire(), order.append(n), lock.release())))
        _until(lambda k=len(threads): lock.waiting() == k)
    assert lock.handoff() == 3
    order.append("holder")  # the holder continues only after every earlier waiter
    lock.release()
    late = _start(lambda: (lock.acquire(), order.append("late"), lock.release()))
    time.sleep(0.05)
    assert order == ["a", "b", "c", "holder"]  # still held once: the late thread waits
    lock.release()
    for t in [*threads, late]:
        t.join(5)
    assert order == ["a", "b", "c", "holder", "late"]
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.handoff() == 0  # nobody waiting: keeps the lock


def test_during_a_budgeted_handoff_late_arrivals_go_first_too():
    lock, order = FairLock(), []
    lock.acquire()
    first = _start(lambda: (lock.acquire(), order.append("first"), lock.release()))
    _until(lambda: lock.waiting() == 1)

    def late_arrival() -> None:
        _until(lambda: "first" in order)
        lock.acquire()
        order.append("late")
        lock.release()

    late = _start(late_arrival)
    lock.handoff(budget=5.0)  # returns once nobody is waiting or holding, well before 5 s
    order.append("holder")
    lock.release()
    first.join(5)
    late.join(5)
    assert order == ["first", "late", "holder"]
    # with no budget the holder queues right behind those already waiting
    lock.acquire()
    order.clear()
    again = _start(lambda: (lock.acquire(), order.append("again"), lock.release()))
    _until(lambda: lock.waiting() == 1)
    lock.handoff()
    order.append("holder")
    lock.release()
    again.join(5)
    assert order == ["again", "holder"]


def test_a_question_is_answered_while_an_upload_is_still_ingesting(tmp_path: Path, embedder):
    from rag.library import Library
    from rag.settings import Settings
    from ui.service import UPLOAD_BATCH_CHUNKS, Service

    sentences = [f"The delegation discussed item {i} of the fisheries agenda with the ministry of ports."
                 for i in range(40)]
    rows = [{"id": f"up-{d}", "title": f"Briefing {d}", "date": "2024-03-0%d" % (1 + d % 9),
             "speaker": "Anna Berg", "text": "\n\n".join(" ".join(sentences[j:j + 4]) + f" Note {d}."
                                                       for j in range(0, 40, 4))} for d in range(60)]
    upload = tmp_path / "upload.jsonl"
    upload.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with Library(Settings(data_dir=tmp_path / "data", progress=False), embedder=embedder) as lib:
        service = Service(lib)
        batches = []
        real_handoff = service.lock.handoff
        service.lock.handoff = lambda budget=0.0: batches.append(real_handoff(budget)) or 0  # type: ignore[method-assign]
        result = {}
        writer = _start(lambda: result.setdefault("r", service.add_file(upload, "upload.jsonl")))
        _until(lambda: len(batches) >= 1, timeout=120)  # the first batch is in
        hits = service.search("fisheries agenda", k=3)  # queued behind the writer, served at its next batch
        assert hits
        assert writer.is_alive(), "the question had to wait for the whole upload"
        writer.join(300)
        assert result["r"].result == "added"
        assert result["r"].details.count("passages indexed") == 1
        chunks = lib.stats()["chunks"]
        assert chunks > 2 * UPLOAD_BATCH_CHUNKS and len(batches) >= chunks // UPLOAD_BATCH_CHUNKS
        assert any(n >= 1 for n in batches)  # the reader was let in by a handoff


def test_acquire_with_a_timeout_gives_up_and_leaves_the_queue():
    lock, got = FairLock(), []
    lock.acquire()
    waiter = _start(lambda: got.append(lock.acquire(timeout=0.2)))
    waiter.join(5)
    assert got == [False] and lock.waiting() == 0
    behind = _start(lambda: (got.append(lock.acquire(timeout=5)), lock.release()))
    _until(lambda: lock.waiting() == 1)
    lock.release()
    behind.join(5)
    assert got == [False, True]
    assert lock.acquire(timeout=0) and lock.acquire(timeout=0)  # free, then re-entrant
    lock.release()
    lock.release()
