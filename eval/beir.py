"""BEIR datasets (corpus, queries, qrels) and a document-level retrieval run over a `Library`."""

from __future__ import annotations

import csv
import gzip
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from eval.metrics import dedupe

if TYPE_CHECKING:
    from rag.library import Library, Mode

Queries = dict[str, str]
QrelsByQuery = dict[str, dict[str, int]]
Run = dict[str, list[str]]

# Chunks fetched per document wanted: a SciFact abstract splits into 2.7 chunks on average
# (at most 8), and the document
# ranking keeps the first chunk of each document (max-pooling).
CHUNKS_PER_DOC = 5


def _open_text(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _find(folder: Path, *names: str) -> Path:
    for name in names:
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"none of {', '.join(names)} in {folder}: is this a BEIR dataset folder?")


def load_queries(path: Path) -> Queries:
    """Query id -> text from a BEIR queries JSONL (`_id`, `text`)."""
    queries: Queries = {}
    with _open_text(path) as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                queries[str(record["_id"])] = str(record["text"])
    return queries


def load_qrels(path: Path) -> QrelsByQuery:
    """Query id -> {doc id: relevance} from a BEIR qrels TSV with a header row."""
    qrels: QrelsByQuery = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None:
            return qrels
        if header[0].strip().lower() not in ("query-id", "query_id", "qid"):
            raise ValueError(f"{path}: expected a header 'query-id corpus-id score', found {header}")
        for row in reader:
            if len(row) < 3:
                continue
            qid, doc_id, score = row[0].strip(), row[1].strip(), int(row[2])
            qrels.setdefault(qid, {})[doc_id] = score
    return qrels


def load_beir(folder: Path, split: str) -> tuple[Path, Queries, QrelsByQuery]:
    """(corpus path, queries, qrels) of one split; queries are limited to those with qrels.

    Accepts both `queries_{split}.jsonl` (this project's data) and BEIR's `queries.jsonl`.
    """
    folder = Path(folder)
    corpus = _find(folder, "corpus.jsonl.gz", "corpus.jsonl")
    qrels = load_qrels(_find(folder / "qrels", f"{split}.tsv"))
    queries = load_queries(_find(folder, f"queries_{split}.jsonl", f"queries_{split}.jsonl.gz",
                                 "queries.jsonl"))
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    return corpus, queries, qrels


def write_corpus_jsonl(corpus_gz: Path, out_path: Path, separator: str = "\n\n") -> int:
    """Write the corpus as this project's JSONL ({"id", "title", "text"}); returns the count.

    The text is title + `separator` + abstract (BEIR's sentence-transformers evaluation embeds
    "title text", i.e. separator " "). With the default blank line, ingest reads the first line
    as the document's title and keeps it out of the chunks; " " keeps the title indexed
    (bench/RESULTS.md measures both).
    """
    count = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(Path(corpus_gz)) as src, open(out_path, "w", encoding="utf-8") as dst:
        for line in src:
            if not line.strip():
                continue
            record = json.loads(line)
            title = (record.get("title") or "").strip()
            body = (record.get("text") or "").strip()
            text = f"{title}{separator}{body}" if title and body else (title or body)
            if not text:
                continue
            dst.write(json.dumps({"id": str(record["_id"]), "title": title, "text": text},
                                 ensure_ascii=False) + "\n")
            count += 1
    return count


def run_retrieval(lib: "Library", queries: Mapping[str, str], mode: "Mode", depth: int = 100,
                  chunks_per_doc: int = CHUNKS_PER_DOC, latencies: list[float] | None = None,
                  progress: bool = True) -> Run:
    """Query id -> up to `depth` document ids, best first (first chunk of each document wins).

    Fetches `depth * chunks_per_doc` chunks per query, without reranking. When `latencies` is
    given, the wall time of each `lib.search` call (seconds) is appended to it.
    """
    from tqdm import tqdm

    run: Run = {}
    fetch = depth * max(chunks_per_doc, 1)
    for qid, text in tqdm(queries.items(), desc=f"search {mode}", unit="q", disable=not progress):
        t0 = time.perf_counter()
        hits = lib.search(text, k=fetch, mode=mode, rerank=False)
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)
        run[qid] = dedupe(hit.doc_id for hit in hits)[:depth]
    return run
