"""How long the verbatim part of `rag first` takes on a large collection: the store scan
(`Store.texts_containing`, SQLite LIKE on every word of the phrase) plus the normalised match of
`rag.answer.first.find_phrase`, then the quotes of the 10 earliest, over the kremlin_en corpus
(7,061 documents; only the store is built: the verbatim search reads no vectors).

  python bench/first_scan.py --corpus /work/shared/data/kremlin_en --store /tmp/first-scan/store.sqlite3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHRASES = ["the United States", "thank you for your attention", "the special status of Donbass",
           "a locomotive of integration", "Minsk agreements", "quantum chromodynamics of marmalade"]


class _StoreOnly:
    """What `exact_occurrences` reads from a Library: the store and its documents."""

    def __init__(self, store) -> None:
        self.store = store

    def document(self, doc_id: str):
        return self.store.get_document(doc_id)


def build(corpus: Path, path: Path) -> int:
    """Read and parse every record of the corpus into a store (no chunks, no vectors)."""
    from ingest.models import ReadError
    from ingest.readers import read_file
    from ingest.structure import parse_document
    from rag.collection.ingestion import content_hash
    from rag.store.store import Store

    files = sorted(corpus.glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no .jsonl.gz files in {corpus}")
    store = Store(path)
    batch = []
    for file in files:
        for raw in read_file(file):
            if isinstance(raw, ReadError):
                continue
            doc = parse_document(raw)
            batch.append((doc, content_hash(doc), [], []))
            if len(batch) >= 500:
                store.put_documents(batch)
                batch = []
    store.put_documents(batch)
    n = len(store.doc_ids())
    store.close()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of .jsonl.gz corpus files")
    parser.add_argument("--store", type=Path, required=True, help="a store file (built on first run)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from rag.answer.first import Scope, exact_matches, find_phrase, order_key, quote
    from rag.store.store import Store

    if not args.store.exists():
        t0 = time.perf_counter()
        n = build(args.corpus, args.store)
        print(f"built a store of {n} documents in {time.perf_counter() - t0:.0f} s")
    store = Store(args.store)
    lib = _StoreOnly(store)
    docs = len(store.doc_ids())
    chars = store.conn.execute("SELECT SUM(LENGTH(text)) FROM documents").fetchone()[0]
    print(f"load average {os.getloadavg()[0]:.1f}; {docs} documents, {chars / 1e6:.1f} M characters")
    print("| phrase | documents scanned | occurrences | find all + quote 10 earliest, ms (median of "
          f"{args.repeat}) |\n|---|---|---|---|")
    for phrase in PHRASES:
        words = [w for w in re.findall(r"\w+", phrase) if w.isascii()]
        scanned = sum(1 for _ in store.texts_containing(words))
        times, found = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()  # what `rag first` does for its verbatim half: find all, quote 10
            found = exact_matches(lib, phrase, Scope())
            shown = [quote(f, {}) for f in sorted(found, key=order_key)[:10]]
            assert all(o is not None for o in shown)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"| {phrase} | {scanned} | {len(found)} | {statistics.median(times):.0f} |")
    # the same scan with every document loaded and matched in Python, to show what the LIKE prefilter saves
    t0 = time.perf_counter()
    total = sum(len(find_phrase(text, "the special status of Donbass")) for _, text in store.texts_containing([]))
    print(f"without the LIKE prefilter ('the special status of Donbass', {total} found): "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms")
    store.close()


if __name__ == "__main__":
    main()
