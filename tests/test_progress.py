"""Readable progress: the documents are counted before the work starts (files, then the records of a
corpus file), and the line shows done/total, share done, rate and time left (never timed here)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from ingest.jsonl import count_records, read_jsonl_file
from rag.collection.progress import Progress, render_line

LINES = [json.dumps({"id": f"r{i}", "text": f"Statement number {i}."}) for i in range(5)]


def _corpus(path: Path, body: bytes) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(body)
    else:
        path.write_bytes(body)
    return path


@pytest.mark.parametrize("name", ["c.jsonl", "c.jsonl.gz"])
@pytest.mark.parametrize("block", [1 << 20, 7, 1])  # lines cut across blocks, down to one byte a block
def test_count_records_counts_non_blank_lines(tmp_path, name, block) -> None:
    body = ("\n".join([LINES[0], "", "   ", LINES[1], "\t", LINES[2] + "\r", "{not json", LINES[3]]) + "\n\n"
            + LINES[4]).encode()  # blank and whitespace lines, CRLF, a bad line, no newline at the end
    path = _corpus(tmp_path / name, body)
    assert count_records(path, block_bytes=block) == 6
    # the count is what the reader goes through: a document or an error per counted line
    assert len(list(read_jsonl_file(path, max_line_bytes=1 << 20))) == 6


def test_count_records_of_empty_long_and_damaged_files(tmp_path) -> None:
    assert count_records(_corpus(tmp_path / "empty.jsonl", b"")) == 0
    assert count_records(_corpus(tmp_path / "blank.jsonl", b"\n \n\n")) == 0
    long_line = json.dumps({"text": "x" * 3_000_000}).encode()
    assert count_records(_corpus(tmp_path / "long.jsonl", long_line + b"\n" + long_line), block_bytes=4096) == 2
    whole = gzip.compress(("\n".join(LINES * 400) + "\n").encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])  # truncated: what can be read is counted, nothing raised
    assert 0 < count_records(cut) < 2000
    assert count_records(tmp_path / "missing.jsonl") == 0


def test_rendered_line_with_a_total() -> None:
    line = render_line(15, 33, 412, elapsed=30.0, width=120)
    assert re.match(r"^ingest  45% \|█+[▏▎▍▌▋▊▉]? *\| 15/33 documents, 0\.50/s · 412 chunks · about 00:36 left$",
                    line), line
    big = render_line(3300, 7061, 17000, elapsed=400.0, width=140)
    assert " 47% |" in big and "3,300/7,061 documents, 8.2/s · 17,000 chunks · about 07:35 left" in big
    start = render_line(0, 7061, 0, elapsed=0.5, width=140)
    assert "  0% |" in start and "0/7,061 documents, 0.00/s" in start and "about ? left" in start
    reindex = render_line(10, 40, 300, elapsed=5.0, desc="reindex", width=120)
    assert reindex.startswith("reindex  25% |") and "10/40 documents, 2.0/s" in reindex


def test_rendered_line_without_a_total_counts_up() -> None:
    line = render_line(12, None, 100, elapsed=30.0)
    assert line == "ingest 12 documents, 0.40/s · 100 chunks · 00:30 elapsed"


def test_progress_counts_settles_and_grows_its_total(capsys) -> None:
    with Progress(enabled=True, total=4) as bar:
        bar.advance(docs=1, chunks=10)
        bar.settle(3)  # a file whose 3 records are handled, 2 of them failed
        bar.settle(2)  # never backwards
        assert (bar.docs, bar.chunks) == (3, 10)
        bar.advance(docs=2, chunks=5)  # more documents than counted: the total follows
        assert bar._bar.total == 5
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "100% |" in last and "5/5 documents" in last and "15 chunks" in last and "done in 00:0" in last
    quiet = Progress(enabled=False, total=3)
    with quiet:
        quiet.advance(docs=3)
    assert quiet.docs == 3 and capsys.readouterr().err == ""


def test_ingest_and_reindex_show_their_total(tmp_path, embedder, capsys) -> None:
    from rag.library import Library
    from rag.settings import Settings

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("Remarks by Minister Anna Berg\n\nAnna Berg: The OSCE matters to us all.\n")
    (src / "sub" / "b.md").write_text("# Statement on trade\n\nTrade is open and fair for everyone.\n")
    lines = [json.dumps({"id": f"c{i}", "title": f"Briefing {i}", "text": f"Point {i} was agreed today."})
             for i in range(3)]
    _corpus(src / "corpus.jsonl.gz", ("\n".join(lines[:2] + ["", "{broken", lines[2]]) + "\n").encode())
    with Library(Settings(data_dir=tmp_path / "data", progress=True), embedder=embedder) as lib:
        ingestor = lib._ingestor()
        assert [ingestor.expected_documents(p) for p in (src / "a.txt", src / "corpus.jsonl.gz")] == [1, 4]
        report = lib.ingest([src])
        assert (report.new, report.failed) == (5, 1)
        first = capsys.readouterr().err.replace("\r", "\n")
        assert "error: " in first and "corpus.jsonl.gz:4" in first
        assert re.search(r"ingest 100% \|.*\| 6/6 documents, .* · done in ", first), first
        _corpus(src / "corpus.jsonl.gz", ("\n".join(lines) + "\n").encode())  # the bad line fixed
        lib.ingest([src])
        fixed = capsys.readouterr().err.replace("\r", "\n")
        assert re.search(r"ingest 100% \|.*\| 5/5 documents, .* · done in ", fixed), fixed
        # a file unchanged since its last ingest counts what the store holds, without being read
        assert ingestor.expected_documents(src / "corpus.jsonl.gz") == 3
        assert lib.ingest([src]).unchanged == 5
        again = capsys.readouterr().err.replace("\r", "\n")
        assert re.search(r"ingest 100% \|.*\| 5/5 documents, .* · done in ", again), again
        lib.reindex()
        reindexed = capsys.readouterr().err.replace("\r", "\n")
        assert re.search(r"reindex 100% \|.*\| 5/5 documents, .* · done in ", reindexed), reindexed
