"""Bad input through the whole ingest: one clear line per failure, the rest goes on, nothing lost."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.library import Library
from rag.settings import Settings

from conftest import ROOT

GOOD = ("Sergey Lavrov: We discussed the grain corridor at length today.\n\n"
        "Question: What about the sanctions?\n\nMinister: Sanctions are illegitimate and will fail.\n")


@pytest.fixture()
def lib(tmp_path, embedder):
    with Library(Settings(data_dir=tmp_path / "data", progress=False), embedder=embedder) as library:
        yield library


def _write_bad_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "latin1.txt").write_bytes("Le ministre a parlé du blé.\n".encode("latin-1"))
    lines = [json.dumps({"id": "rec-1", "text": "First record about trade with China."}),
             "{not json",
             json.dumps({"id": "rec-3", "text": "Third record about energy prices."})]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")


def test_bad_files_are_reported_and_good_ones_stored(lib, tmp_path):
    folder = tmp_path / "in"
    _write_bad_folder(folder)
    report = lib.ingest([folder])
    assert not report.ok
    assert report.failed == 5, report.errors
    text = "\n".join(report.errors)
    for name in ("empty.txt", "binary.txt", "latin1.txt", "corpus.jsonl:2", "broken.pdf"):
        assert name in text, f"{name} not named in: {text}"
    assert all("\n" not in e for e in report.errors)
    assert report.new == 3  # good.txt, rec-1, rec-3
    assert lib.document("rec-3") is not None


def test_a_file_turned_bad_loses_nothing(lib, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "statement.txt"
    path.write_text(GOOD, encoding="utf-8")
    assert lib.ingest([folder]).new == 1
    before = lib.stats()
    path.write_bytes(b"\x00\x01\x02" * 1000)
    report = lib.ingest([folder])
    assert report.failed == 1 and "statement.txt" in report.errors[0]
    assert lib.stats()["chunks"] == before["chunks"] == lib.vectors.count()
    assert lib.search("grain corridor", k=1)[0].text.startswith("We discussed the grain corridor")


def test_malformed_line_keeps_earlier_records_of_that_file(lib, tmp_path):
    path = tmp_path / "c.jsonl.gz"
    rows = [{"id": f"r{i}", "text": f"Record {i} about the OSCE and security."} for i in range(3)]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in rows) + "\n")
    assert lib.ingest([path]).new == 3
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(rows[0]) + "\n{broken\n")
    report = lib.ingest([path])
    assert report.failed == 1 and "c.jsonl.gz:2" in report.errors[0]
    # a file that failed is not treated as the whole truth: r1 and r2 are kept
    assert {lib.document(f"r{i}") is not None for i in range(3)} == {True}


def test_huge_file_refused_without_reading(lib, tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    report = lib.ingest([path])
    assert report.failed == 1
    assert "huge.txt" in report.errors[0] and "MB" in report.errors[0]


def test_missing_path_and_unsupported_file(lib, tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    report = lib.ingest([tmp_path / "nope", tmp_path / "notes.docx"])
    assert report.failed == 2
    assert "nope" in report.errors[0] and "notes.docx" in report.errors[1]


def test_cli_exit_code_is_nonzero_when_anything_failed(tmp_path):
    folder = tmp_path / "in"
    _write_bad_folder(folder)
    res = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(folder), "--quiet",
                          "--data-dir", str(tmp_path / "d")], capture_output=True, text=True,
                         cwd=ROOT, timeout=600, env={**os.environ})
    assert res.returncode == 1
    assert "3 new" in res.stdout and "5 failed" in res.stdout
    assert res.stderr.count("error:") == 5
    assert "Traceback" not in res.stderr
