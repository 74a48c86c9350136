"""bench/ingest_throughput.py's parts on a tiny corpus: the sample keeps whole records, and the
stock llama-index pipeline it compares against really embeds and stores every record."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("ingest_throughput")


def _corpus(folder: Path) -> list[dict]:
    records = [{"id": f"r{i}", "title": f"Statement {i}", "year": 1990 + i, "speaker": "Mr. Arce",
                "text": f"Statement {i}. " + "The delegation supports the resolution on trade. " * (5 + i)}
               for i in range(10)]
    folder.mkdir()
    with gzip.open(folder / "a.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records[:6])
    (folder / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[6:]) + "\n")
    return records


def test_sample_takes_every_kth_record_unchanged(bench, tmp_path):
    records = _corpus(tmp_path / "corpus")
    assert bench.jsonl_records([tmp_path / "corpus"]) == records
    out = bench.write_sample([tmp_path / "corpus"], 4, tmp_path / "s" / "sample.jsonl")
    sample = [json.loads(line) for line in out.read_text().splitlines()]
    assert sample == records[::2][:4]


def test_stock_pipeline_embeds_and_stores_every_record(bench, tmp_path):
    records = _corpus(tmp_path / "corpus")
    result = bench.stock_pipeline([tmp_path / "corpus"], tmp_path / "work")
    assert result["docs"] == len(records)
    assert result["chunks"] >= len(records)  # SentenceSplitter: at least one node per document
    assert result["chars"] == sum(len(r["text"]) for r in records) and result["seconds"] > 0
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(tmp_path / "work" / "stock-qdrant"))
    assert client.count("stock", exact=True).count == result["chunks"]
    point = client.scroll("stock", limit=1, with_vectors=True)[0][0]
    vector = point.vector if isinstance(point.vector, list) else next(iter(point.vector.values()))
    assert len(vector) == 384
    client.close()
