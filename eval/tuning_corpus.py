"""The tuning collection: 180 real transcripts named in ``eval/datasets/tuning_docs.txt``.

120 Kremlin transcripts (2018–2020: news conferences, press statements, interviews, talks and
meetings; kremlin.ru, CC BY 4.0) and 60 Australian prime-ministerial press conferences and
interviews (PM Transcripts, CC BY 3.0 AU), none of them in ``data/sample`` or in the hand-labelled
turn sets. ``eval/datasets/tuning.jsonl`` asks its questions over this collection; it is for
tuning (weights, thresholds, model choice) and never reported as a result.

    python -m eval.tuning_corpus [--shared ../shared/data] [--out /tmp/tuning.jsonl]
    rag ingest /tmp/tuning.jsonl --data-dir /tmp/tuning-rag
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

DOC_LIST = Path(__file__).resolve().parent / "datasets" / "tuning_docs.txt"
SOURCES = ("kremlin_en/kremlin_en_2018-2020.jsonl.gz",
           "pm_transcripts/pm_transcripts_abbott.jsonl.gz",
           "pm_transcripts/pm_transcripts_gillard.jsonl.gz",
           "pm_transcripts/pm_transcripts_rudd.jsonl.gz",
           "pm_transcripts/pm_transcripts_turnbull.jsonl.gz")


def tuning_doc_ids(doc_list: Path = DOC_LIST) -> list[str]:
    """The collection's document ids, in the order of the list (blank and ``#`` lines skipped)."""
    lines = (line.strip() for line in doc_list.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_tuning_corpus(shared: Path, out: Path) -> Path:
    """Write the listed records, exactly as the shared files hold them, to one JSONL file `out`.

    Records come out in the order of ``tuning_docs.txt``. Raises `FileNotFoundError` if a shared
    file is missing and `ValueError` naming the ids that none of them holds.
    """
    wanted = tuning_doc_ids()
    wanted_set = set(wanted)
    found: dict[str, str] = {}
    for name in SOURCES:
        with gzip.open(Path(shared) / name, "rt", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                doc_id = json.loads(line).get("id")
                if doc_id in wanted_set and doc_id not in found:
                    found[doc_id] = line.rstrip("\n")
    missing = [doc_id for doc_id in wanted if doc_id not in found]
    if missing:
        raise ValueError(f"{len(missing)} tuning documents not in {shared}: {', '.join(missing[:10])}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for doc_id in wanted:
            handle.write(found[doc_id] + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared" / "data",
                        help="the shared data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/tuning.jsonl"),
                        help="JSONL file to write (default /tmp/tuning.jsonl)")
    args = parser.parse_args(argv)
    path = write_tuning_corpus(args.shared, args.out)
    print(f"{len(tuning_doc_ids())} documents written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
