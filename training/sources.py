"""The documents training may learn from, parsed by the project's own reader and parser.

Only corpora whose licence allows a shipped model: kremlin_en (CC BY 4.0), pm_transcripts (CC BY
3.0 AU), miller_center (public domain) and the QMSum *train* meetings (MIT). Never SciFact, the
QMSum val split, the documents of data/sample (what the project evaluates on), White House
briefings, or the held-aside formats of ../shared/data/formats.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.jsonl import read_jsonl_file
from ingest.models import Document, RawDocument
from ingest.structure import parse_document

CORPORA: dict[str, tuple[str, str]] = {
    # name -> (glob under the shared data folder, licence line for the model card)
    "kremlin_en": ("kremlin_en/kremlin_en_*.jsonl.gz",
                   "CC BY 4.0, Presidential Executive Office / kremlin.ru"),
    "pm_transcripts": ("pm_transcripts/pm_transcripts_*.jsonl.gz",
                       "CC BY 3.0 AU, Source: Licensed from the Commonwealth of Australia under a "
                       "Creative Commons Attribution 3.0 Australia Licence."),
    "miller_center": ("miller_center/miller_center_speeches.jsonl.gz",
                      "public domain, Miller Center, University of Virginia"),
}
QMSUM = ("qmsum_committee", "MIT, QMSum (Zhong et al., NAACL 2021), train split only")
BRIEFING_RE = re.compile(r"\bbriefings?\b", re.I)  # White House briefings are kept aside
MAX_LINE_BYTES = 50 * 1024 * 1024


@dataclass
class SourceDoc:
    """One parsed document and the corpus it came from."""

    source: str
    doc: Document


def sample_ids(manifest: Path) -> set[str]:
    """Ids of the data/sample documents, in every spelling the shared corpora use for them
    (``kremlin_en_62277.html`` is ``kremlin-en-62277`` there, ``1995-11-27_address-bosnia.txt``
    is ``miller-1995-11-27-address-bosnia``)."""
    ids: set[str] = set()
    with manifest.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            doc_id = row["doc_id"]
            ids.add(doc_id)
            stem = doc_id.rsplit(".", 1)[0]
            match = re.fullmatch(r"kremlin_en_(\d+)", stem)
            if match:
                ids.add(f"kremlin-en-{match.group(1)}")
            match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})_(.+)", stem)
            if match:
                ids.add(f"miller-{match.group(1)}-{match.group(2)}")
    return ids


def corpus_files(data_root: Path, name: str) -> list[Path]:
    """The files of one corpus, sorted (a missing corpus is an error that names the folder)."""
    pattern = CORPORA[name][0]
    files = sorted(data_root.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} under {data_root}: point --data-root at the shared data folder")
    return files


def iter_corpus(data_root: Path, name: str, excluded: set[str],
                skipped: dict[str, int] | None = None) -> Iterator[SourceDoc]:
    """Parsed documents of one corpus, minus the excluded ids and White House briefings
    (counted in `skipped` under "sample" and "briefing")."""
    skipped = skipped if skipped is not None else {}
    for path in corpus_files(data_root, name):
        for raw in read_jsonl_file(path, MAX_LINE_BYTES):
            if not isinstance(raw, RawDocument):
                raise ValueError(f"unreadable training corpus line: {raw}")
            doc = parse_document(raw)
            if doc.doc_id in excluded:
                skipped["sample"] = skipped.get("sample", 0) + 1
                continue
            if BRIEFING_RE.search(doc.title or ""):
                skipped["briefing"] = skipped.get("briefing", 0) + 1
                continue
            yield SourceDoc(name, doc)


def qmsum_train(data_root: Path) -> Iterator[tuple[SourceDoc, list[dict], list[dict]]]:
    """Each QMSum *train* meeting as the document `rag eval qmsum` would store (same id, title
    and text, parsed by the project's parser), its raw turns and its specific questions."""
    from eval.qmsum import doc_id, meetings, questions, turn_text

    folder = data_root / QMSUM[0]
    by_meeting: dict[str, list[dict]] = {}
    for q in questions(folder, "train"):
        by_meeting.setdefault(q["meeting_id"], []).append(q)
    for meeting, turns in sorted(meetings(folder, "train").items()):
        record = {"id": doc_id(meeting), "title": f"QMSum {meeting}", "source": "QMSum committee train"}
        raw = RawDocument(text="\n\n".join(turn_text(t) for t in turns), source_path=str(folder / "train"),
                          origin=f"{meeting}.json", format="jsonl", metadata=record)
        yield SourceDoc("qmsum_train", parse_document(raw)), turns, by_meeting.get(meeting, [])


def eval_questions(datasets: Path) -> set[str]:
    """Every question of the project's evaluation sets, normalised (see `norm_question`)."""
    found: set[str] = set()
    for path in sorted(datasets.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                question = json.loads(line).get("question")
                if question:
                    found.add(norm_question(question))
    return found


def norm_question(text: str) -> str:
    """Lower-cased words only, for comparing questions."""
    return " ".join(re.findall(r"\w+", text.lower()))
