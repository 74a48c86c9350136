"""Several ingestion workers over disjoint file sets, one Qdrant collection (docs/cluster.md).

Each worker has its own data dir (its own SQLite store and writer lock) and the same
`--qdrant-url` and collection. No Qdrant server can run here, and qdrant-client's local mode
is one process (``path:DIR`` is locked by its opener) and not made for concurrent callers. So
the workers run as two threads in this process, each with its own Library, store and model,
sharing one local-mode client whose calls are serialised by a lock: the two workers' calls
interleave as two processes' requests would at a server, but Qdrant's own handling of
concurrent writes is not what is tested here.
"""

from __future__ import annotations

import inspect
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from rag.library import Library, UnknownFilterValue
from rag.models.embedding import Embedder
from rag.settings import Settings

from conftest import ROOT, SAMPLE

URL = ":memory:"  # any server URL: connect() is replaced by the shared client below


def shared_client() -> QdrantClient:
    """One local-mode client whose public methods take turns; closing it is left to the test."""
    client = QdrantClient(location=":memory:")
    lock = threading.RLock()
    for name in dir(type(client)):
        if name.startswith("_") or not inspect.isfunction(inspect.getattr_static(client, name)):
            continue  # properties (such as the gRPC stubs local mode lacks) are left alone
        attr = getattr(client, name)

        def locked(*args, __f=attr, **kwargs):
            with lock:
                return __f(*args, **kwargs)

        setattr(client, name, locked)
    client.real_close = client.close  # type: ignore[attr-defined]
    client.close = lambda *a, **k: None  # each worker "closes its connection"; the server stays
    return client


def merge_sql() -> str:
    """The store-merging SQL exactly as docs/cluster.md gives it."""
    text = (ROOT / "docs" / "cluster.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- merge-stores -->\s*```sql\n(.*?)```", text, re.S)
    assert found, "docs/cluster.md lost its merge-stores SQL block"
    return found.group(1)


def merge_stores(reader: Path, workers: list[Path]) -> None:
    """What the docs' Python runner does: attach each worker store and run the SQL."""
    conn = sqlite3.connect(reader / "store.sqlite3")
    for worker in workers:
        conn.execute("ATTACH DATABASE ? AS w", (str(worker / "store.sqlite3"),))
        conn.executescript(merge_sql())
        conn.execute("DETACH DATABASE w")
    conn.close()


@pytest.fixture(scope="module")
def second_embedder():
    """Worker B's own model, as a second process would have (one model is not shared by threads)."""
    return Embedder()


@pytest.fixture()
def corpus(tmp_path) -> dict[str, Path]:
    a, b = tmp_path / "in" / "a", tmp_path / "in" / "b"
    a.mkdir(parents=True)
    b.mkdir()
    shutil.copy(SAMPLE / "seed" / "lavrov_belarus_2023-05-17.txt", a)
    shutil.copy(SAMPLE / "miller" / "1981-01-29_first-press-conference.txt", a)
    shutil.copy(SAMPLE / "miller" / "1995-11-27_address-bosnia.txt", b)
    shutil.copy(SAMPLE / "miller" / "2017-12-18_remarks-national-security-strategy.txt", b)
    return {"a": a, "b": b}


@pytest.fixture()
def server(monkeypatch):
    client = shared_client()
    monkeypatch.setattr("rag.index.server_store.connect", lambda url, api_key=None: client)
    yield client
    client.real_close()


def _library(data_dir: Path, embedder: Embedder) -> Library:
    return Library(Settings(data_dir=data_dir, qdrant_url=URL, progress=False), embedder=embedder)


def _run_together(jobs: list) -> list:
    results: list = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # surfaced below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _points(client: QdrantClient) -> list[tuple[str, str, int]]:
    """(point id, doc_id, chunk) of every point in the collection."""
    out, offset = [], None
    while True:
        records, offset = client.scroll("statements", limit=512, offset=offset,
                                        with_payload=["doc_id", "chunk"], with_vectors=False)
        out.extend((str(r.id), r.payload["doc_id"], r.payload["chunk"]) for r in records)
        if offset is None:
            return out


def test_parallel_workers_share_one_collection(tmp_path, corpus, server, embedder, second_embedder):
    wa, wb = tmp_path / "worker-a", tmp_path / "worker-b"
    lib_a, lib_b = _library(wa, embedder), _library(wb, second_embedder)
    try:
        ra, rb = _run_together([lambda: lib_a.ingest([corpus["a"]]), lambda: lib_b.ingest([corpus["b"]])])
        assert ra.ok and rb.ok and ra.new == 2 and rb.new == 2
        docs_a, docs_b = set(lib_a.store.doc_ids()), set(lib_b.store.doc_ids())
        assert docs_a and docs_b and not docs_a & docs_b
        ids_a, ids_b = lib_a.store.all_point_ids(), lib_b.store.all_point_ids()

        # the collection holds exactly both workers' chunks: one point per (document, chunk)
        points = _points(server)
        assert len(points) == ra.chunks + rb.chunks == len(ids_a) + len(ids_b)
        assert {p for p, _, _ in points} == ids_a | ids_b
        assert len({(d, c) for _, d, c in points}) == len(points)

        # a worker run again embeds nothing and changes nothing
        again = lib_a.ingest([corpus["a"]])
        assert (again.new, again.changed, again.chunks) == (0, 0, 0) and again.unchanged == 2
        assert sorted(_points(server)) == sorted(points)

        # a changed file replaces its document's points, no others, and leaves no orphans
        seed = corpus["a"] / "lavrov_belarus_2023-05-17.txt"
        seed.write_text(seed.read_text(encoding="utf-8") + "\nSergey Lavrov: Thank you. That is all.\n",
                        encoding="utf-8")
        changed = lib_a.ingest([corpus["a"]])
        assert changed.changed == 1 and changed.chunks > 0
        ids_a = lib_a.store.all_point_ids()
        after = _points(server)
        assert {p for p, _, _ in after} == ids_a | ids_b
        assert {(p, d, c) for p, d, c in after if d in docs_b} == {(p, d, c) for p, d, c in points if d in docs_b}

        # hits come from the payload, so worker A finds B's passages ...
        hits = lib_a.search("peace agreement in Bosnia, American troops", k=5)
        assert any(h.doc_id in docs_b for h in hits)
        # ... but filters, documents and quotes need the store: A knows nothing of B's documents
        assert lib_a.document(next(iter(docs_b))) is None
        with pytest.raises(UnknownFilterValue):
            lib_a.search("security strategy", source="b")
        answer = lib_a.ask("What did the President say about sending troops to Bosnia?")
        assert all(c.doc_id in docs_a for c in answer.citations)

        # and A's `check` takes B's points for orphans: `check --repair` from a worker would delete them
        report = lib_a.check()
        assert set(report.orphan_points.values()) == docs_b
        assert not report.missing_points and not report.pending
    finally:
        lib_a.close()
        lib_b.close()

    # a worker that lost its data dir and runs again writes the same point ids: no duplicates
    with _library(tmp_path / "worker-a-again", embedder) as fresh:
        redo = fresh.ingest([corpus["a"]])
        assert redo.new == 2 and redo.chunks == len(ids_a)
        assert fresh.store.all_point_ids() == ids_a
    assert {p for p, _, _ in _points(server)} == ids_a | ids_b

    # the reader: an empty data dir on the same collection, then the workers' stores merged into it
    reader = tmp_path / "reader"
    with _library(reader, embedder) as lib:
        assert lib.stats()["documents"] == 0 and lib.stats()["index"]["points"] == len(ids_a | ids_b)
    merge_stores(reader, [wa, wb])
    merge_stores(reader, [wa, wb])  # merging twice is harmless
    with _library(reader, embedder) as lib:
        assert set(lib.store.doc_ids()) == docs_a | docs_b
        report = lib.check()
        assert report.ok, report.lines()
        hits = lib.search("security strategy", source="b", k=3)
        assert hits and all(h.doc_id in docs_b for h in hits)
        answer = lib.ask("What did the President say about sending troops to Bosnia?")
        assert any(c.doc_id in docs_b for c in answer.citations), answer.text
        for c in answer.citations:
            assert lib.document(c.doc_id).text[c.char_start:c.char_end] == c.quote
        # ingesting the same roots on the reader finds every document already there: nothing embedded
        union = lib.ingest([corpus["a"], corpus["b"]])
        assert union.ok and union.chunks == 0 and union.unchanged == 4


def test_a_different_root_makes_different_documents(tmp_path, embedder):
    """A file's doc id hashes its path inside the folder given to `rag ingest`: a worker given
    `corpus/a` and a later `rag ingest corpus` name the same file differently, and a shared
    collection would get it twice. Workers and reader must pass the same roots (docs/cluster.md)."""
    part = tmp_path / "corpus" / "a"
    part.mkdir(parents=True)
    shutil.copy(SAMPLE / "seed" / "lavrov_belarus_2023-05-17.txt", part)
    ids = []
    for name, root in (("worker", part), ("reader", part.parent)):
        with Library(Settings(data_dir=tmp_path / name, progress=False), embedder=embedder) as lib:
            assert lib.ingest([root]).new == 1
            ids.append(lib.store.doc_ids()[0])
    assert ids[0] != ids[1]
