"""QMSum (Zhong et al. 2021) as it is: meetings become documents of "Speaker: words" turns, and the
specific questions become evaluation items whose gold spans are their relevant turns.

Layout read (as in `../shared/data/qmsum_committee`): `{split}/*.json` meetings with
`meeting_transcripts` = [{speaker, content}], and `queries_{split}.jsonl` with `qid`,
`meeting_id`, `type`, `query`, `answer`, `relevant_text_span` = [[first, last], ...] turn indices,
inclusive on both ends. Only "specific" questions with spans are used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.dataset import EvalItem, GoldSpan
from rag.answer.quotes import find_quote

if TYPE_CHECKING:
    from rag.library import Library


def doc_id(meeting: str) -> str:
    """The document id a meeting gets."""
    return f"qmsum-{meeting}"


def turn_text(turn: dict[str, str]) -> str:
    """One turn as it is written into the document."""
    return f"{turn['speaker'].strip()}: {' '.join(turn['content'].split())}"


def meetings(folder: Path, split: str) -> dict[str, list[dict[str, str]]]:
    """Meeting id -> its turns."""
    files = sorted((Path(folder) / split).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no meetings in {Path(folder) / split}: expected QMSum's "
                                f"{split}/*.json (is this the qmsum_committee folder?)")
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))["meeting_transcripts"] for p in files}


def write_corpus(folder: Path, split: str, out_path: Path) -> int:
    """One JSONL record per meeting (id, title, source, text); returns the count."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rows = meetings(folder, split)
    with out_path.open("w", encoding="utf-8") as fh:
        for meeting, turns in rows.items():
            fh.write(json.dumps({"id": doc_id(meeting), "title": f"QMSum {meeting}",
                                 "source": f"QMSum committee {split}",
                                 "text": "\n\n".join(turn_text(t) for t in turns)},
                                ensure_ascii=False) + "\n")
    return len(rows)


def questions(folder: Path, split: str) -> list[dict[str, Any]]:
    """The specific questions of a split that carry gold turn spans."""
    path = Path(folder) / f"queries_{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: expected QMSum's queries_{split}.jsonl")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if r.get("type") == "specific" and r.get("relevant_text_span")]


def turn_offsets(text: str, turns: list[dict[str, str]]) -> list[tuple[int, int]]:
    """Character range of each turn in the stored document text (found in order)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, turn in enumerate(turns):
        found = find_quote(text[pos:], turn_text(turn))
        if found is None:
            raise ValueError(f"turn {i} ({turn['speaker'][:40]!r}) not found in the stored text")
        spans.append((pos + found[0], pos + found[1]))
        pos += found[1]
    return spans


def eval_items(folder: Path, split: str, lib: "Library") -> list[EvalItem]:
    """Items whose gold spans are the character ranges of their relevant turns in `lib`."""
    all_turns = meetings(folder, split)
    offsets: dict[str, list[tuple[int, int]]] = {}
    items: list[EvalItem] = []
    for q in questions(folder, split):
        meeting = q["meeting_id"]
        if meeting not in offsets:
            doc = lib.document(doc_id(meeting))
            if doc is None:
                raise ValueError(f"meeting {meeting} is not in the collection: ingest the split first")
            offsets[meeting] = turn_offsets(doc.text, all_turns[meeting])
        turns = offsets[meeting]
        spans = []
        for first, last in q["relevant_text_span"]:
            first, last = int(first), min(int(last), len(turns) - 1)
            if 0 <= first <= last:
                spans.append(GoldSpan(doc_id(meeting), turns[first][0], turns[last][1]))
        if spans:
            items.append(EvalItem(id=str(q["qid"]), question=q["query"], answerable=True,
                                  gold_docs=[doc_id(meeting)], gold_spans=spans,
                                  reference_answer=q.get("answer")))
    return items
