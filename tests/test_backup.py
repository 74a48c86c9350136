"""`rag backup` / `rag restore`: a restored data dir answers exactly like the original."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from rag.collection.backup import BackupError
from rag.library import Library
from rag.settings import Settings
from rag.store.lock import BusyError

from conftest import ROOT

QUERIES = [("grain corridor and food security", "hybrid"), ("NATO expansion", "dense"),
           ("sanctions against Belarus", "bm25"), ("energy prices in the Union State", "hybrid"),
           ("what did the minister say about the OSCE", "dense")]
WORDS = ("security NATO grain corridor sanctions Belarus treaty talks energy prices ministers OSCE "
         "dialogue partners region Moscow Minsk summit agreement Union State economy trade food").split()


def _corpus(folder: Path) -> None:
    rng = random.Random(7)
    folder.mkdir()
    for i in range(12):
        sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
                 for _ in range(rng.randint(3, 8))]
        (folder / f"s{i:02d}.txt").write_text(
            f"Statement {i}\n\n{i + 1} May 2023\n\nSergey Lavrov: " + " ".join(sents[:2])
            + "\n\nQuestion: And then?\n\nSergey Lavrov: " + " ".join(sents[2:]) + "\n", encoding="utf-8")


def _results(lib: Library) -> list[list[tuple[str, float]]]:
    return [[(h.point_id, round(h.score, 5)) for h in lib.search(q, k=8, mode=m, rerank=False)]
            for q, m in QUERIES]


@pytest.fixture(scope="module")
def original(tmp_path_factory, embedder):
    """A data dir with a small corpus ingested (closed), and its search results."""
    root = tmp_path_factory.mktemp("backup")
    _corpus(root / "in")
    data = root / "data"
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        assert lib.ingest([root / "in"]).ok
        results = _results(lib)
        stats = lib.stats()
    return data, results, stats


def test_restore_into_an_empty_dir_gives_the_same_results(original, tmp_path, embedder):
    data, results, stats = original
    (data / "uploads").mkdir(exist_ok=True)
    (data / "uploads" / "upload.txt").write_text("an uploaded file", encoding="utf-8")
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        info = lib.backup(tmp_path / "bk")
        assert _results(lib) == results  # the index reopened after the copy works as before
    assert info["documents"] == stats["documents"] and info["points"] == stats["chunks"]
    restored = tmp_path / "restored"
    out = Library.restore(tmp_path / "bk", Settings(data_dir=restored))
    assert out["documents"] == stats["documents"] and not out["needs_reindex"]
    assert (restored / "uploads" / "upload.txt").read_text(encoding="utf-8") == "an uploaded file"
    with Library(Settings(data_dir=restored, progress=False), embedder=embedder) as lib:
        assert all(results)
        assert _results(lib) == results  # same ids, same order, same scores
        assert lib.check().ok
        assert {k: v for k, v in lib.stats().items() if k not in ("data_dir", "index")} == \
               {k: v for k, v in stats.items() if k not in ("data_dir", "index")}


def test_restore_refuses_a_non_empty_dir_and_a_damaged_backup(original, tmp_path, embedder):
    data, results, _ = original
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        bk = tmp_path / "bk"
        lib.backup(bk)
        with pytest.raises(BackupError, match="not empty"):
            lib.backup(bk)  # never overwrites a backup
        with pytest.raises(BackupError, match="inside the data dir"):
            lib.backup(data / "bk")
        # restoring over a data dir that is in use is refused, even with force
        with pytest.raises(BusyError, match="in use by pid"):
            Library.restore(bk, Settings(data_dir=data), force=True)
    with pytest.raises(BackupError, match="not empty.*--force"):
        Library.restore(bk, Settings(data_dir=data))
    # --force moves the present store and index aside, nothing is deleted
    target = tmp_path / "target"
    Library.restore(bk, Settings(data_dir=target))
    out = Library.restore(bk, Settings(data_dir=target), force=True)
    moved = Path(out["replaced_moved_to"])
    assert (moved / "store.sqlite3").exists() and (moved / "qdrant-edge").is_dir()
    with Library(Settings(data_dir=target, progress=False), embedder=embedder) as lib:
        assert _results(lib) == results and lib.check().ok
    # a damaged backup is refused before anything is touched
    segment_file = next(p for p in (bk / "qdrant-edge").rglob("*") if p.is_file() and p.stat().st_size > 0)
    raw = bytearray(segment_file.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    segment_file.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="damaged"):
        Library.restore(bk, Settings(data_dir=tmp_path / "other"))
    assert not (tmp_path / "other").exists()
    with pytest.raises(BackupError, match="not a backup"):
        Library.restore(tmp_path, Settings(data_dir=tmp_path / "other"))


def test_cli_backup_restore_check(original, tmp_path):
    data, results, stats = original

    def rag(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)

    res = rag("backup", str(tmp_path / "bk"), "--data-dir", str(data))
    assert res.returncode == 0, res.stderr
    assert f"backed up {stats['documents']} documents, {stats['chunks']} chunks" in res.stdout
    res = rag("restore", str(tmp_path / "bk"), "--data-dir", str(data))
    assert res.returncode == 2 and "--force" in res.stderr and "Traceback" not in res.stderr
    res = rag("restore", str(tmp_path / "bk"), "--data-dir", str(tmp_path / "new"))
    assert res.returncode == 0, res.stderr
    assert "ok: the store and the index agree" in res.stdout
    res = rag("check", "--json", "--data-dir", str(tmp_path / "new"))
    assert res.returncode == 0 and json.loads(res.stdout)["ok"]
