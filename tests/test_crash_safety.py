"""Crash safety: `rag ingest` killed with SIGKILL at random points, run after run, on one data dir.

Three kinds of kill, all on the same data dir while its corpus keeps changing (files rewritten
with more or fewer passages, JSONL records added, changed and dropped, new files):
- the real command line (`rag ingest`) killed after a random delay: start-up, model load, writing;
- ingest processes forked from a "zygote" that has the model loaded (so that a run costs a
  second, not a model load), killed after a random delay, or just after a chosen step began
  (embedding, write-ahead intent, delete, upsert, flush, SQLite commit) as seen in a trace;
- the same processes killing themselves exactly between two steps (fault injection), so that
  every window of the write order is hit at least once whatever the timing.
After each kill `check` must find every difference between the store and the index covered by
the write-ahead (pending) list, no duplicates, and every document stored before still there;
every few kills `check --repair` must leave them in full agreement. At the end one `rag ingest`
finishes the job: the documents, chunks and points are exactly those of the final corpus.

Run as a script, this file is the traced command line or the zygote (see `_main`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = int(os.environ.get("CRASH_SEED", "20240517"))
STEPS = {  # trace mark -> the step it starts
    "model-load": "model load", "embed": "embedding", "intent": "write-ahead intent commit",
    "delete": "delete old points", "upsert": "vector upsert", "flush": "index flush",
    "commit": "SQLite commit", "source-done": "mark file done",
    "sqlite-write": "chunk rows written inside the SQLite transaction (before COMMIT)",
}


class _Conn:
    """A sqlite3 connection that reports each executemany (to kill inside a transaction)."""

    def __init__(self, conn, hook) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_hook", hook)

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __setattr__(self, name, value) -> None:
        setattr(self._conn, name, value)

    def __enter__(self):
        return self._conn.__enter__()

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)

    def executemany(self, sql, *args):
        result = self._conn.executemany(sql, *args)
        if sql.startswith("INSERT INTO chunks"):  # inside put_documents' transaction
            self._hook("sqlite-write")
        return result


# ---------------------------------------------------------------- instrumentation (child side)
def _install_trace(path: str, die_after: str | None = None) -> None:
    """Append a line per step to `path`; with `die_after="mark:n"`, SIGKILL this process right
    after the n-th completion of that step (fault injection at an exact point)."""
    from rag.collection import ingestion
    from rag.index import edge_store
    from rag.models import embedding
    from rag.store import store

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    counts: Counter[str] = Counter()
    target, _, nth = (die_after or "").partition(":")

    def mark(name: str) -> None:
        os.write(fd, f"{name}\n".encode())

    def done(name: str) -> None:
        mark(name + ".done")
        counts[name] += 1
        if name == target and counts[name] == int(nth or 1):
            mark("self-kill")
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(cls: type, attr: str, name: str) -> None:
        original = getattr(cls, attr)

        def wrapper(self, *args, **kwargs):
            mark(name)
            result = original(self, *args, **kwargs)
            done(name)
            return result

        setattr(cls, attr, wrapper)

    store_init = store.Store.__init__

    def init(self, *args, **kwargs):
        store_init(self, *args, **kwargs)
        self.conn = _Conn(self.conn, done)

    if target == "sqlite-write":
        store.Store.__init__ = init
    wrap(ingestion.Ingestor, "recover", "recover")

    model_prop = embedding.Embedder.model

    def model(self):
        if self._model is None:
            mark("model-load")
            value = model_prop.fget(self)
            mark("model-load.done")
            return value
        return model_prop.fget(self)

    embedding.Embedder.model = property(model)
    wrap(embedding.Embedder, "embed", "embed")
    wrap(store.Store, "mark_pending", "intent")
    wrap(store.Store, "put_documents", "commit")
    wrap(store.Store, "delete_document", "commit")
    wrap(store.Store, "set_source", "source-done")
    wrap(edge_store.EdgeVectorStore, "add", "upsert")
    wrap(edge_store.EdgeVectorStore, "delete", "delete")
    wrap(edge_store.EdgeVectorStore, "flush", "flush")
    mark("start")


def _zygote() -> None:
    """Load the model once, then fork one ingest per request line `data_dir\\tcorpus\\ttrace\\tdie`
    (corpus "-": only open the data dir, which creates it)."""
    from rag.library import Library
    from rag.models.embedding import Embedder
    from rag.settings import Settings

    emb = Embedder()
    emb.count_tokens("warm up")
    emb.embed(["warm up"])
    print("ready", flush=True)
    for line in sys.stdin:
        data_dir, corpus, trace, die = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            # tqdm's lock (sentence-transformers takes it on every encode) is a multiprocessing RLock that
            # fork shares: a sibling SIGKILLed while holding it kept it for every later child, which then
            # hung in `embed`. Each child takes a lock of its own.
            import threading

            from tqdm import tqdm

            tqdm.set_lock(threading.RLock())
            code = 3
            try:
                _install_trace(trace, die or None)
                with Library(Settings(data_dir=Path(data_dir), progress=False), embedder=emb) as lib:
                    code = 0 if corpus == "-" or lib.ingest([Path(corpus)]).ok else 1
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            os._exit(code)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exited {pid} {status}", flush=True)


def _main(argv: list[str]) -> int:
    if argv[0] == "zygote":
        _zygote()
        return 0
    if argv[0] == "cli":  # cli TRACE rag-arguments...: the real command line, traced
        _install_trace(argv[1])
        from rag.cli.commands import main

        return main(argv[2:])
    raise SystemExit(f"unknown mode {argv[0]!r}")


# ---------------------------------------------------------------- the corpus
WORDS = ("security NATO grain corridor sanctions Belarus treaty talks energy prices ministers cooperation "
         "dialogue partners region Moscow Minsk OSCE summit agreement Union State economy trade").split()


def _text(rng: random.Random, n: int, title: str) -> str:
    sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))).capitalize() + "."
             for _ in range(n)]
    half = max(1, n // 2)
    return (f"{title}\n\n17 May 2023\n\nSergey Lavrov: " + " ".join(sents[:half])
            + "\n\nQuestion: What about the talks?\n\nSergey Lavrov: " + (" ".join(sents[half:]) or "Yes.")
            + "\n")


class Corpus:
    """~30 small documents: txt files and one JSONL file, changed a little before every run."""

    def __init__(self, folder: Path, rng: random.Random) -> None:
        self.folder, self.rng = folder, rng
        folder.mkdir(parents=True)
        self.records: dict[str, str] = {}
        for i in range(24):
            self._write_txt(i)
        for i in range(6):
            self.records[f"rec-{i}"] = _text(rng, rng.randint(2, 10), f"Record {i}")
        self.next_txt, self.next_rec = 24, 6
        self._write_jsonl()

    def _write_txt(self, i: int) -> None:
        path = self.folder / f"statement-{i:02d}.txt"
        path.write_text(_text(self.rng, self.rng.randint(2, 14), f"Press statement {i}"), encoding="utf-8")

    def _write_jsonl(self) -> None:
        lines = [json.dumps({"id": k, "text": v, "title": k, "date": "2023-05-17"}) for k, v in self.records.items()]
        (self.folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def mutate(self) -> None:
        rng = self.rng
        for i in rng.sample(range(self.next_txt), 3):
            self._write_txt(i)
        op = rng.choice(["add", "drop", "change", "change"])
        if op == "add" or len(self.records) < 3:
            self.records[f"rec-{self.next_rec}"] = _text(rng, rng.randint(2, 10), f"Record {self.next_rec}")
            self.next_rec += 1
        elif op == "drop":
            self.records.pop(rng.choice(sorted(self.records)))
        else:
            key = rng.choice(sorted(self.records))
            self.records[key] = _text(rng, rng.randint(2, 10), key)
        self._write_jsonl()
        if rng.random() < 0.25:
            self._write_txt(self.next_txt)
            self.next_txt += 1


# ---------------------------------------------------------------- checks (test side)
def _committed(data_dir: Path) -> dict[str, str]:
    """doc_id -> content hash, as committed in the store (read only)."""
    path = data_dir / "store.sqlite3"
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT doc_id, content_hash FROM documents").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()


def _expected(corpus: Path, embedder) -> dict[str, tuple[str, set[str]]]:
    """doc_id -> (content hash, point ids) that a complete ingest of `corpus` must store."""
    from ingest.chunking import chunk_document
    from ingest.models import RawDocument
    from ingest.readers import iter_files, read_file
    from ingest.structure import parse_document
    from rag.collection.ingestion import content_hash
    from rag.index.nodes import point_id
    from rag.settings import Settings

    s = Settings()
    out: dict[str, tuple[str, set[str]]] = {}
    for path in iter_files([corpus]):
        for raw in read_file(path):
            assert isinstance(raw, RawDocument), raw
            raw.key = path.relative_to(corpus).as_posix()  # as the ingest names a file in a folder
            doc = parse_document(raw)
            doc.source_path = str(path.resolve())
            chunks = chunk_document(doc, embedder.count_tokens, max_tokens=embedder.max_tokens,
                                    target_tokens=min(s.chunk_target_tokens, embedder.max_tokens),
                                    overlap_sentences=s.chunk_overlap_sentences)
            out[doc.doc_id] = (content_hash(doc), {point_id(doc.doc_id, c.index) for c in chunks})
    return out


def _phase(trace: Path) -> str:
    """The step the process was in when it died, from the last line of its trace."""
    lines = trace.read_text().split() if trace.exists() else []
    if not lines:
        return "start-up (imports)"
    where = " (recovering the previous kill)" if "recover" in lines and "recover.done" not in lines else ""
    lines = [line for line in lines if not line.startswith("recover")]
    last = lines[-1]
    if last == "self-kill":
        done = lines[-2].removesuffix(".done")
        return f"right after {STEPS.get(done, done)}{where}"
    if last == "start":
        return "start-up (store/index open)"
    if last.endswith(".done"):
        return f"right after {STEPS.get(last[:-5], last[:-5])}{where}"
    return f"during {STEPS.get(last, last)}{where}"


class Rig:
    """One data dir, one changing corpus, and the bookkeeping of every kill."""

    def __init__(self, tmp: Path, embedder) -> None:
        self.tmp, self.embedder = tmp, embedder
        self.rng = random.Random(SEED)
        self.data = tmp / "data"
        self.corpus = Corpus(tmp / "corpus", self.rng)
        self.rows: Counter[tuple[str, str]] = Counter()
        self.pending: Counter[tuple[str, str]] = Counter()
        self.runs = 0
        self.repairs = 0

    def verify(self, before: dict[str, str], repair: bool) -> dict:
        """After a kill: differences only where the write-ahead list says; nothing lost."""
        from rag.library import Library
        from rag.settings import Settings

        with Library(Settings(data_dir=self.data, progress=False), embedder=self.embedder) as lib:
            report = lib.check()
            assert not report.store_errors
            assert report.unexplained() == {}, (report.unexplained(), report.pending)
            after = dict((d, lib.store.content_hash(d)) for d in lib.store.doc_ids())
            live = set(_expected_ids(self.corpus))
            lost = [d for d in before if d in live and d not in after]
            assert not lost, f"documents stored before the kill are gone: {lost}"
            if repair:
                fixed = lib.check(repair=True)
                assert fixed.ok, fixed.lines()
                self.repairs += 1
        return {"pending": len(report.pending), "lost": len(lost)}

    def record(self, kind: str, phase: str, pending: int) -> None:
        self.rows[(kind, phase)] += 1
        self.pending[(kind, phase)] += pending
        self.runs += 1


def _expected_ids(corpus: Corpus) -> list[str]:
    """Document ids the corpus holds now (JSONL record ids, txt ids from the parser)."""
    from ingest.models import RawDocument
    from ingest.readers import iter_files, read_file
    from ingest.structure import parse_document

    ids = []
    for path in iter_files([corpus.folder]):
        for raw in read_file(path):
            if isinstance(raw, RawDocument):
                raw.key = path.relative_to(corpus.folder).as_posix()
                ids.append(parse_document(raw).doc_id)
    return ids


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return env


def _wait_for_mark(trace: Path, mark: str, nth: int, pid: int, limit: float) -> bool:
    """Poll the trace until `mark` has started `nth` times (True), or the run ends / time is up."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if trace.read_text().split().count(mark) >= nth:
                return True
            os.kill(pid, 0)
        except FileNotFoundError:
            pass
        except ProcessLookupError:
            return False
        time.sleep(0.001)
    return False


class Zygote:
    """The zygote process; `ready()` waits (once) until its model is loaded."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "zygote"], cwd=ROOT, env=_env(), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self._ready = False

    def ready(self) -> None:
        if not self._ready:
            assert self.stdout.readline().strip() == "ready"
            self._ready = True

    def close(self) -> None:
        self.stdin.close()
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def zygote():
    """Started at once: it loads its model while the first test's command-line runs go on."""
    z = Zygote()
    yield z
    z.close()


def test_sigkill_at_random_points_loses_nothing(tmp_path, embedder, zygote):
    rig = Rig(tmp_path, embedder)
    rng = rig.rng
    started = time.monotonic()
    # 1. the real command line, killed after a random delay (start-up, model load), and a
    #    random moment after its first commits (writing)
    for delay in (rng.uniform(0.5, 4.0), rng.uniform(6.0, 14.0), None):
        before = _committed(rig.data)
        trace = tmp_path / f"trace-{rig.runs}.txt"
        proc = subprocess.Popen([sys.executable, __file__, "cli", str(trace), "ingest", str(rig.corpus.folder),
                                 "--quiet", "--data-dir", str(rig.data)], cwd=ROOT, env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if delay is None:
            _wait_for_mark(trace, "commit.done", rng.randint(1, 3), proc.pid, 300.0)
            delay = rng.uniform(0.0, 1.0)
        try:
            proc.wait(delay)
            phase = "finished before the kill"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            phase = _phase(trace)
        info = rig.verify(before, repair=False)
        rig.record("rag ingest (CLI), random moment", phase, info["pending"])
        rig.corpus.mutate()

    # 2. forked ingests: a random delay, just after a chosen step began, or a self-kill at an exact point
    zygote.ready()
    plans: list[tuple[str, str]] = []
    plans += [("random delay", "")] * 8
    plans += [("just after a step began", m) for m in ("upsert", "flush", "commit", "intent", "embed",
                                                      "delete")]
    plans += [("self-kill at an exact point", m) for m in ("intent:1", "delete:1", "upsert:1", "flush:1",
                                                           "sqlite-write:1", "commit:1", "source-done:1")]
    rng.shuffle(plans)
    for n, (kind, arg) in enumerate(plans):
        before = _committed(rig.data)
        trace = tmp_path / f"trace-{rig.runs}.txt"
        die = arg if kind.startswith("self-kill") else ""
        zygote.stdin.write(f"{rig.data}\t{rig.corpus.folder}\t{trace}\t{die}\n")
        zygote.stdin.flush()
        pid = int(zygote.stdout.readline().split()[1])
        if kind == "random delay":
            time.sleep(rng.uniform(0.0, 2.5))
        elif kind == "just after a step began":
            if _wait_for_mark(trace, arg, rng.randint(1, 3), pid, 20.0):
                time.sleep(rng.uniform(0.0, 0.004))
        try:
            if not die:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        line = zygote.stdout.readline().split()
        status = int(line[2])
        killed = os.WIFSIGNALED(status)
        phase = _phase(trace) if killed else "finished before the kill"
        info = rig.verify(before, repair=(n % 5 == 4))
        rig.record(f"forked ingest, {kind}", phase, info["pending"])
        rig.corpus.mutate()

    # 3. one complete `rag ingest` finishes the job; `rag check` finds store and index in agreement
    final = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(rig.corpus.folder), "--json",
                            "--data-dir", str(rig.data)], cwd=ROOT, env=_env(), capture_output=True, text=True,
                           timeout=600)
    assert final.returncode == 0, final.stderr
    checked = subprocess.run([sys.executable, "-m", "rag.cli", "check", "--json", "--data-dir", str(rig.data)],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] and not report["pending"]

    expected = _expected(rig.corpus.folder, embedder)
    from rag.library import Library
    from rag.settings import Settings

    with Library(Settings(data_dir=rig.data, progress=False), embedder=embedder) as lib:
        stored = {d: lib.store.content_hash(d) for d in lib.store.doc_ids()}
        assert stored == {d: h for d, (h, _) in expected.items()}
        want_points = set().union(*(p for _, p in expected.values()))
        assert lib.store.all_point_ids() == want_points
        assert lib.vectors.point_ids() == want_points
        assert lib.vectors.count() == len(want_points) == report["chunks"] == report["points"]

    elapsed = time.monotonic() - started
    table = ["| kill | where it landed | runs | docs pending after it | lost |", "|---|---|---|---|---|"]
    table += [f"| {kind} | {phase} | {n} | {rig.pending[(kind, phase)]} | 0 |"
              for (kind, phase), n in sorted(rig.rows.items())]
    summary = (f"{rig.runs} SIGKILLs, {rig.repairs} repairs, final {len(expected)} documents / "
               f"{len(want_points)} points exact, {elapsed:.0f} s")
    out = ROOT / "test-artifacts" / "crash_safety.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(table + ["", summary]) + "\n", encoding="utf-8")
    print("\n".join(table + [summary]))
    assert rig.runs >= 20


def test_sigkill_while_a_new_index_is_created(tmp_path, embedder, zygote):
    """Qdrant Edge cannot load a shard whose creation was cut short; the shard is therefore made
    in a hidden folder and renamed into place: a kill at any moment leaves a data dir that opens."""
    from rag.library import Library
    from rag.settings import Settings

    rng = random.Random(SEED + 1)
    started = time.perf_counter()
    Library(Settings(data_dir=tmp_path / "timing", progress=False), embedder=embedder).close()
    making = time.perf_counter() - started  # how long opening a new data dir takes here
    zygote.ready()
    hit = 0
    for i in range(8):
        data, trace = tmp_path / f"d{i}", tmp_path / f"t{i}"
        zygote.stdin.write(f"{data}\t-\t{trace}\t\n")
        zygote.stdin.flush()
        pid = int(zygote.stdout.readline().split()[1])
        _wait_for_mark(trace, "start", 1, pid, 10.0)
        time.sleep(rng.uniform(0.0, 1.2 * making))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        zygote.stdout.readline()
        hit += (data / ".new-index").exists()
        with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
            assert lib.check().ok
        assert not (data / ".new-index").exists()
    print(f"{hit} of 8 kills landed while the shard was being made")
    assert hit >= 2


def test_a_half_made_shard_from_before_is_rebuilt_from_the_store(tmp_path, embedder):
    """What a kill during creation left behind before the fix (a WAL, no segments): moved aside,
    a new shard made, and every stored document re-embedded by `check --repair`."""
    import shutil

    from rag.library import Library
    from rag.settings import Settings

    data = tmp_path / "d"
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        lib.ingest([ROOT / "data" / "sample" / "seed"])
        points = lib.store.all_point_ids()
    shutil.rmtree(data / "qdrant-edge")
    (data / "qdrant-edge" / "wal").mkdir(parents=True)
    (data / "qdrant-edge" / "wal" / "open-1").write_bytes(b"\0" * 64)
    (data / "qdrant-edge" / "segments").mkdir()
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        report = lib.check()
        assert report.pending and report.unexplained() == {}
        assert lib.check(repair=True).ok
        assert lib.vectors.point_ids() == points
    assert list(data.glob(".qdrant-edge-unloadable-*"))


@pytest.mark.parametrize("url", [None, ":memory:"], ids=["qdrant-edge", "qdrant-client"])
def test_check_reports_and_repairs_every_kind_of_mismatch(tmp_path, embedder, url):
    """Damage the store and the index by hand; `check` names each problem, `--repair` fixes all
    of them from the store without deleting a stored document."""
    from dataclasses import replace

    from rag.index.nodes import chunk_to_node
    from rag.library import Library
    from rag.settings import Settings

    rng = random.Random(SEED + 2)
    (tmp_path / "in").mkdir()
    for i in range(4):
        (tmp_path / "in" / f"s{i}.txt").write_text(_text(rng, 8, f"Statement {i}"), encoding="utf-8")
    with Library(Settings(data_dir=tmp_path / "d", qdrant_url=url, progress=False), embedder=embedder) as lib:
        assert lib.ingest([tmp_path / "in"]).ok
        assert lib.check().ok
        docs = lib.store.doc_ids()
        points = lib.store.all_point_ids()
        a, b, c = (lib.store.get_document(d) for d in docs[:3])
        ca, cb = lib.store.chunks(a.doc_id), lib.store.chunks(b.doc_id)
        vec = embedder.embed(["x"])[0].tolist()
        ghost = replace(a, doc_id="ghost")
        lib.vectors.add([chunk_to_node(ghost, replace(ca[0], doc_id="ghost"), vec)])  # orphan
        lib.vectors.delete_nodes(node_ids=[lib.store.point_ids(b.doc_id)[1]])  # missing
        lib.vectors.add([chunk_to_node(a, replace(ca[2], text="tampered"), vec)])  # stale
        with lib.store.conn:
            lib.store.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (c.doc_id,))  # no chunks
            lib.store.conn.execute("UPDATE chunks SET text = 'moved' WHERE doc_id = ? AND idx = 0",
                                   (b.doc_id,))  # bad offsets
        lib.vectors.flush()
        report = lib.check()
        assert not report.ok and "run `rag check --repair`" in "\n".join(report.lines())
        assert set(report.orphan_points.values()) >= {"ghost", c.doc_id}
        assert set(report.missing_points.values()) == {b.doc_id}
        assert report.stale_points and set(report.stale_points.values()) <= {a.doc_id, b.doc_id}
        assert report.empty_documents == [c.doc_id]
        assert set(report.bad_offsets.values()) == {b.doc_id}
        fixed = lib.check(repair=True)
        assert fixed.ok, fixed.lines()
        assert fixed.repaired
        assert lib.store.doc_ids() == docs  # nothing deleted from the store
        assert lib.store.all_point_ids() == points == lib.vectors.point_ids()
        for doc_id in (b.doc_id, c.doc_id):  # re-chunked from the stored text: offsets exact again
            doc = lib.store.get_document(doc_id)
            assert all(doc.text[k.char_start:k.char_end] == k.text for k in lib.store.chunks(doc_id))
            assert lib.store.source_state(doc.source_path) is None  # its file is read again next time


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
