"""bench/scale_library.py at a tiny size: the data dir it builds from a small ingested collection
opens with `Library`, holds exactly the requested chunks, filters by the drawn speakers and dates,
answers with verified quotes, and the report carries the table."""

from __future__ import annotations

import gzip
import json
import pickle
import time
from pathlib import Path

import pytest

from conftest import load_bench


TEXTS = {
    "trade.txt": "The minister spoke about trade. Tariffs on steel imports will be lowered next year. "
                 "Exporters of grain asked for new agreements with neighbouring countries. "
                 "The government expects trade volumes to grow by five percent.\n\n"
                 "Customs procedures at the border will be simplified for small firms.",
    "climate.txt": "Climate change threatens coastal cities. Sea levels have risen steadily for decades. "
                   "The delegation called for a fund to help island states adapt. "
                   "Emissions from coal plants must fall sharply before 2030.\n\n"
                   "Forests absorb carbon and deserve stronger protection.",
    "security.txt": "Security in the region depends on dialogue. Peacekeepers remain deployed along the "
                    "ceasefire line. Disarmament talks will resume in Geneva in the spring. "
                    "Nuclear weapons must never be used again.\n\n"
                    "Border incidents fell after the hotline between the capitals was opened.",
}
SPEAKERS = {"Mr. Alvaro Quintero": 9, "Ms. Beatrix Holm": 6, "Mr. Chidi Okafor": 4, "Ms. Dana Ruiz": 3,
            "Mr. Emil Varga": 2, "Ms. Farah Nasser": 1}
QUESTIONS = ["Will tariffs on steel be lowered?", "What threatens coastal cities?",
             "Where will disarmament talks resume?", "How much will trade grow?",
             "Why protect forests?", "What happened after the hotline opened?",
             "What did exporters of grain ask for?", "Must emissions from coal fall?",
             "Are peacekeepers still deployed?", "What about sea levels?",
             "What help do island states need?", "Will customs procedures change?"]


@pytest.fixture(scope="module")
def bench():
    return load_bench("scale_library")


def _inputs(tmp_path: Path, embedder) -> tuple[Path, Path, Path]:
    """A small ingested data dir, a speaker file and a question file."""
    from rag.library import Library
    from rag.settings import Settings

    files = tmp_path / "files"
    files.mkdir()
    for name, text in TEXTS.items():
        (files / name).write_text(text)
    src = tmp_path / "src"
    with Library(Settings(data_dir=src, progress=False), embedder=embedder) as lib:
        assert lib.ingest([files]).ok
    ungdc = tmp_path / "ungdc.jsonl.gz"
    with gzip.open(ungdc, "wt") as fh:
        for name, n in SPEAKERS.items():
            for _ in range(n):
                fh.write(json.dumps({"speaker": name, "text": "..."}) + "\n")
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"_id": str(i), "text": q}) + "\n" for i, q in enumerate(QUESTIONS)))
    return src, ungdc, queries


def test_build_measure_and_report(bench, tmp_path, embedder):
    from rag.library import Library
    from rag.settings import Settings

    src, ungdc, queries = _inputs(tmp_path, embedder)
    cache = tmp_path / "cache"
    bench.prepare(src, ungdc, queries, len(QUESTIONS), cache)
    meta = json.loads((cache / "meta.json").read_text())
    assert meta["speakers"] == list(SPEAKERS)  # most frequent first
    source = pickle.loads((cache / "source.pkl").read_bytes())
    assert len(source) == 3 and all(len(d.chunks) == len(d.vectors) for d in source)

    data = tmp_path / "data"
    built = bench.build(data, 300, source, meta["speakers"], batch_chunks=64, embedder=embedder, progress=False)
    assert built["points"] == 300 and built["optimize_s"] >= 0  # (no HNSW graph at 300 points: full scan)

    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        assert lib.stats()["chunks"] == 300 and lib.vectors.count() == 300
        assert {s for s, _ in lib.store.speakers()} <= set(SPEAKERS)
        originals = {d.doc.doc_id for d in source}
        assert originals <= set(lib.store.doc_ids())  # copy 0 keeps the original id
        hits = lib.search("tariffs on steel", k=10, speaker=["Mr. Alvaro Quintero"], since="1995", until="2020")
        assert hits
        for h in hits:
            assert h.speaker == "Mr. Alvaro Quintero" and 19950101 <= int(h.date.replace("-", "")) <= 20201231
        answer = lib.ask("Will tariffs on steel imports be lowered?")
        assert answer.citations
        for c in answer.citations:
            assert lib.document(c.doc_id).text[c.char_start:c.char_end] == c.quote
            assert c.speaker in SPEAKERS

    measured = bench.measure(data, meta["queries"], meta["speakers"], warmup=1, n_search=6, n_slow=2,
                             speaker_repeats=2, embedder=embedder)
    assert measured["stats"]["chunks"] == 300
    assert all(measured[c]["total"]["n"] == n for c, n in
               (("hybrid", 6), ("hybrid+filter", 6), ("rerank", 2), ("ask", 2)))
    assert measured["hybrid"]["model_calls"] == 1  # one query embedding per plain search
    assert measured["filter_tally"]["violations"] == 0 and measured["filter_tally"]["empty"] < 6
    assert measured["ask_tally"]["answers"] == 2 and measured["ask_tally"]["bad_quotes"] == 0
    assert measured["store_speakers"]["distinct"] == len(SPEAKERS)
    assert measured["store_speakers"]["uncached"]["n"] == 2
    assert not hasattr(embedder, "__dict__") or "embed" not in embedder.__dict__  # meter removed

    result = {"size": 300, "command": "cmd", "machine_start": bench.machine(), "machine_end": bench.machine(),
              "finished": time.time(), "versions": bench.versions(), "meta": meta, "build": built,
              "measure": measured}
    text = bench.report([result], "cmd")
    assert text.startswith("## Search, rerank and ask at 300 chunks through Library")
    for row in ("| search hybrid p50 / p95 ms |", "| search hybrid+filter p50 / p95 ms |",
                "| search+rerank (maxsim) p50 / p95 ms |", "| ask (extractive) p50 / p95 ms |",
                "| store.speakers() GROUP BY, uncached: first call after open / p50 / p95 ms |", "| RSS after open / after search+ask / after rerank (reopened) / peak MB |",
                "| build s / optimize s |", "| disk MB (store + shard) |", "**300 chunks**", "Targets:"):
        assert row in text
    assert "| chunks (lib.stats) / documents / speakers | 300 /" in text
