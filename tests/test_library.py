"""End to end on the bundled sample: real model, real Qdrant Edge, real SQLite."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.library import Library, UnknownFilterValue
from rag.settings import Settings
from rag.store.store import ModelMismatchError

from conftest import ROOT


def test_sample_ingests_completely(sample_library):
    report = sample_library.first_report
    assert report.failed == 0, report.errors
    assert report.new >= 30
    stats = sample_library.stats()
    assert stats["documents"] == report.new
    assert stats["chunks"] == report.chunks == stats["index"]["points"]


def test_store_and_index_agree(sample_library):
    assert sample_library.store.all_point_ids() == sample_library.vectors.point_ids()


def test_every_stored_chunk_points_into_its_document(sample_library):
    store = sample_library.store
    for doc in store.iter_documents():
        for chunk in store.chunks(doc.doc_id):
            assert doc.text[chunk.char_start:chunk.char_end] == chunk.text
            assert sample_library.embedder.count_tokens(chunk.text) <= sample_library.embedder.max_tokens


def test_reingest_unchanged_embeds_nothing(sample_library, sample_dir):
    report = sample_library.ingest([sample_dir], progress=False)
    assert report.chunks == 0
    assert report.new == report.changed == report.failed == 0
    assert report.unchanged == sample_library.stats()["documents"]


def test_search_finds_lavrov_on_nato(sample_library):
    hits = sample_library.search("NATO expansion and equal and indivisible security", k=5)
    assert hits
    assert any("Lavrov" in h.speaker for h in hits)
    top = hits[0]
    doc = sample_library.document(top.doc_id)
    assert doc.text[top.char_start:top.char_end] == top.text


def test_speaker_filter(sample_library):
    hits = sample_library.search("sanctions", k=10, speaker="putin")
    assert hits and all(h.speaker == "Vladimir Putin" for h in hits)
    unfiltered = sample_library.search("sanctions", k=10)
    assert [h.point_id for h in hits] != [h.point_id for h in unfiltered]


def test_date_filter(sample_library):
    hits = sample_library.search("trade", k=10, since="2015-01-01", until="2016-12-31")
    assert hits
    assert all("2015" <= h.date[:10] <= "2016-12-31" for h in hits)


def test_unknown_speaker_is_a_clear_error(sample_library):
    with pytest.raises(UnknownFilterValue, match="no speaker matches"):
        sample_library.search("anything", speaker="Nobody Such")


def test_modes_differ_and_all_return(sample_library):
    q = "grain deal"
    results = {m: [h.point_id for h in sample_library.search(q, k=5, mode=m)] for m in ("dense", "bm25", "hybrid")}
    assert all(results.values())


def test_changed_file_replaces_its_chunks(tmp_path, embedder):
    src = ROOT / "data" / "sample" / "seed"
    folder = tmp_path / "docs"
    shutil.copytree(src, folder)
    with Library(Settings(data_dir=tmp_path / "d", progress=False), embedder=embedder) as lib:
        first = lib.ingest([folder])
        assert first.new == 1 and first.failed == 0
        (path,) = folder.glob("*.txt")
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Colleagues.", "Colleagues, friends.\n\nA new paragraph about the grain corridor."),
                        encoding="utf-8")
        second = lib.ingest([folder])
        assert second.changed == 1 and second.new == 0
        assert lib.store.all_point_ids() == lib.vectors.point_ids()
        hits = lib.search("grain corridor", k=3)
        assert "grain corridor" in hits[0].text
        doc_id = hits[0].doc_id
        assert lib.remove(doc_id)
        assert lib.stats()["documents"] == 0
        assert lib.vectors.count() == 0
        assert lib.search("grain corridor", k=3) == []


def test_model_mismatch_asks_for_reindex(tmp_path, embedder):
    with Library(Settings(data_dir=tmp_path, progress=False), embedder=embedder) as lib:
        lib.store.set_meta("embed_model", "some-other-model")
    with pytest.raises(ModelMismatchError, match="rag reindex"):
        Library(Settings(data_dir=tmp_path, progress=False), embedder=embedder)


def test_reindex_rebuilds_the_same_results(tmp_path, embedder):
    with Library(Settings(data_dir=tmp_path, progress=False), embedder=embedder) as lib:
        lib.ingest([ROOT / "data" / "sample" / "kremlin"])
        before = [h.point_id for h in lib.search("Ukraine", k=5)]
        chunks = lib.stats()["chunks"]
        assert lib.reindex(progress=False) == chunks
        assert lib.vectors.count() == chunks
        assert [h.point_id for h in lib.search("Ukraine", k=5)] == before


def test_reindex_keeps_speakers_and_roles_found_at_ingest(tmp_path, embedder):
    """A document parsed by today's parser with no metadata of its own (a plain .txt) keeps the
    speaker and role its date gave it (Bill Clinton, President) when reindex parses it again."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(ROOT / "data" / "sample" / "miller" / "1995-11-27_address-bosnia.txt", src)
    with Library(Settings(data_dir=tmp_path / "d", progress=False), embedder=embedder) as lib:
        lib.ingest([src])
        doc_id = lib.store.doc_ids()[0]
        before = [(t.speaker, t.role) for t in lib.document(doc_id).turns]
        assert ("Bill Clinton", "President") in before
        lib.reindex(progress=False)
        assert [(t.speaker, t.role) for t in lib.document(doc_id).turns] == before


def _rag(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_cli_round_trip(tmp_path):
    data = tmp_path / "d"
    res = _rag("ingest", str(ROOT / "data" / "sample" / "seed"), "--quiet", data_dir=data)
    assert res.returncode == 0, res.stderr
    assert "1 new" in res.stdout
    stats = json.loads(_rag("stats", "--json", data_dir=data).stdout)
    assert stats["documents"] == 1 and stats["chunks"] > 5
    hits = json.loads(_rag("search", "Union State security concept", "--json", "-k", "3", data_dir=data).stdout)
    assert len(hits) == 3
    for key in ("doc_id", "title", "speaker", "date", "text", "score", "char_start", "char_end"):
        assert key in hits[0]
    shown = json.loads(_rag("show", hits[0]["doc_id"], "--json", data_dir=data).stdout)
    assert shown["text"][hits[0]["char_start"]:hits[0]["char_end"]] == hits[0]["text"]
    bad = _rag("search", "x", "--since", "last week", data_dir=data)
    assert bad.returncode == 2 and "YYYY" in bad.stderr
    missing = _rag("remove", "no-such-doc", data_dir=data)
    assert missing.returncode == 1 and "no document" in missing.stderr
