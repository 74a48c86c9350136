"""Scoring speaker turns against hand-labelled ones (`eval/datasets/turns/*.jsonl`).

Each labelled document names its source (a corpus file under the shared data folder, or a file
of this repository: ``repo:PATH``), a region of its text, and every turn that starts inside it:
where its label starts, who speaks (the fullest name the document gives), their role, and
whether it is a journalist's question. The document is read and parsed exactly as `rag ingest`
does, and per convention we count:

- **boundaries**: a parsed turn matches a labelled one when its label starts within 2
  characters of the labelled start; precision over parsed turns in the region, recall over
  labelled ones;
- **speaker accuracy** over matched turns: a question must be parsed as a question; a group
  voice may be kept as a question or by its name; any other turn must carry the same person (names compared without accents, case, honorifics or leading
  office words: "President Trump" = "Trump"), and a turn labelled as nobody's ("unknown") must
  not be credited to a person;
- **journalists taken for officials**: labelled questions parsed as an official's words, or
  swallowed by an official's turn because their label was missed; the target is 0;
- **passages without a speaker**: the share of chunks of the whole documents with no speaker.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ingest.chunking import chunk_document
from ingest.label_words import HONORIFICS, PERSONAL_HONORIFICS, ROLE_WORDS
from ingest.models import Document, RawDocument
from ingest.readers import read_file
from ingest.structure import furniture_bounds, parse_document
from ingest.textfile import normalise_newlines

TOLERANCE = 2
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = sorted((REPO_ROOT / "eval" / "datasets" / "turns").glob("*.jsonl"))
TARGETS = {"precision": 0.98, "recall": 0.95, "speaker_accuracy": 0.95, "journalists_as_officials": 0}


@dataclass
class GoldTurn:
    """One hand-labelled turn; `start` is an offset into the source text as stored in its file."""

    start: int
    label: str | None
    speaker: str | None
    role: str | None
    question: bool
    group: bool = False
    anonymous: bool = False


@dataclass
class GoldDocument:
    """One labelled document: where it comes from, the region labelled, its turns."""

    id: str
    split: str
    convention: str
    file: str
    doc_id: str | None
    region: tuple[int, int]
    turns: list[GoldTurn]


@dataclass
class Tally:
    """Counts for one convention (and split)."""

    documents: int = 0
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    speaker_checked: int = 0
    speaker_right: int = 0
    journalists_as_officials: int = 0
    chunks: int = 0
    chunks_without_speaker: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("documents", "gold", "predicted", "matched", "speaker_checked", "speaker_right",
                     "journalists_as_officials", "chunks", "chunks_without_speaker"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def metrics(self) -> dict[str, Any]:
        """Precision, recall, speaker accuracy and the counts behind them."""
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {"documents": self.documents, "gold_turns": self.gold, "parsed_turns": self.predicted,
                "precision": ratio(self.matched, self.predicted), "recall": ratio(self.matched, self.gold),
                "speaker_accuracy": ratio(self.speaker_right, self.speaker_checked),
                "journalists_as_officials": self.journalists_as_officials,
                "passages_without_speaker": ratio(self.chunks_without_speaker, self.chunks),
                "passages": self.chunks}


def load_turn_set(paths: Iterable[Path]) -> list[GoldDocument]:
    """Labelled documents from JSONL files (blank lines and `#` lines ignored)."""
    docs: list[GoldDocument] = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                item = json.loads(line)
                turns = [GoldTurn(start=int(t["start"]), label=t.get("label"), speaker=t.get("speaker"),
                                  role=t.get("role"), question=bool(t.get("question")),
                                  group=bool(t.get("group")), anonymous=bool(t.get("anonymous")))
                         for t in item["turns"]]
                docs.append(GoldDocument(id=item["id"], split=item["split"], convention=item["convention"],
                                         file=item["source"]["file"], doc_id=item["source"].get("doc_id"),
                                         region=(int(item["region"][0]), int(item["region"][1])), turns=turns))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled document ({exc!r}); "
                                 "see eval/datasets/turns/README.md for the format") from exc
    return docs


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def name_key(name: str | None) -> str:
    """A name compared across forms: no accents, case, honorifics or leading office words."""
    if not name:
        return ""
    words = re.sub(r"[^\w\s'-]", " ", _fold(name).replace("’", "'")).split()
    while len(words) > 1 and (words[0] in HONORIFICS or words[0] in ROLE_WORDS or words[0] == "the"):
        words = words[1:]
    return " ".join(w for w in words if w not in PERSONAL_HONORIFICS)


def _is_role_only(speaker: str | None, role: str | None) -> bool:
    """A parsed speaker that names no person: nobody, or an office ("President", "Mr. Speaker")."""
    if not speaker:
        return True
    words = [w for w in re.sub(r"[^\w\s-]", " ", _fold(speaker)).split()]
    return all(w in ROLE_WORDS or w in HONORIFICS or w == "the" for w in words)


class SourceCache:
    """Reads each source file once and hands out raw documents by id."""

    def __init__(self, shared_root: Path, repo_root: Path = REPO_ROOT) -> None:
        self.shared_root, self.repo_root = shared_root, repo_root
        self._files: dict[str, dict[str | None, RawDocument]] = {}

    def path(self, file: str) -> Path:
        if file.startswith("repo:"):
            return self.repo_root / file[len("repo:"):]
        return self.shared_root / file

    def raw(self, file: str, doc_id: str | None) -> RawDocument:
        if file not in self._files:
            path = self.path(file)
            if not path.exists():
                raise FileNotFoundError(f"{path} not found: pass --shared DIR (the shared data folder)")
            found: dict[str | None, RawDocument] = {}
            for item in read_file(path):
                if isinstance(item, RawDocument):
                    key = item.metadata.get("id", item.metadata.get("_id")) if item.format == "jsonl" else None
                    found[str(key) if key is not None else None] = item
            self._files[file] = found
        docs = self._files[file]
        if doc_id not in docs:
            raise KeyError(f"no document {doc_id!r} in {file}")
        return docs[doc_id]


def _source_text(raw: RawDocument, path: Path) -> str:
    """The text the labels' offsets refer to: the record's `text` or the file's UTF-8 text."""
    if raw.format == "jsonl":
        return raw.text  # already newline-normalised by the reader; offsets are mapped below
    return path.read_text(encoding="utf-8")


def _offset_map(source: str, raw_text: str) -> Callable[[int], int]:
    """Maps an offset in the labelled source text to one in the reader's text (CRLF -> LF)."""
    if source == raw_text:
        return lambda i: i
    return lambda i: len(normalise_newlines(source[:i]))


def _label_start(doc: Document, turn_index: int) -> int:
    """Where a parsed turn's label starts (its body start for an unlabelled opening)."""
    turn = doc.turns[turn_index]
    if not turn.label:
        return turn.char_start
    found = doc.text.rfind(turn.label, 0, turn.char_start)
    return found if found >= 0 else turn.char_start


def score_document(gold: GoldDocument, sources: SourceCache,
                   count_tokens: Callable[[str], int] | None = None) -> Tally:
    """Parse one labelled document as ingest does and count against its labels."""
    raw = sources.raw(gold.file, gold.doc_id)
    source = _source_text(raw, sources.path(gold.file))
    to_raw = _offset_map(source, raw.text)
    doc = parse_document(raw)
    cut = furniture_bounds(raw.text)[0]

    def doc_offset(i: int) -> int:
        return to_raw(i) - cut

    lo, hi = doc_offset(gold.region[0]), doc_offset(gold.region[1])
    tally = Tally(documents=1, gold=len(gold.turns))
    parsed = [(i, _label_start(doc, i)) for i in range(len(doc.turns))]
    in_region = [(i, s) for i, s in parsed if lo <= s < hi and (doc.turns[i].label or doc.turns[i].speaker)]
    tally.predicted = len(in_region)
    used: set[int] = set()
    for g in gold.turns:
        at = doc_offset(g.start)
        match = next((i for i, s in in_region if i not in used and abs(s - at) <= TOLERANCE), None)
        if match is None:
            owner = next((t for t in reversed(doc.turns) if t.char_start <= at + 1), None)
            if g.question and owner is not None and not owner.is_question:
                tally.journalists_as_officials += 1
                tally.errors.append(f"{gold.id}@{g.start}: question {g.label!r} missed, inside "
                                    f"{owner.speaker!r}'s turn")
            else:
                tally.errors.append(f"{gold.id}@{g.start}: turn {g.label!r} ({g.speaker}) not found")
            continue
        used.add(match)
        tally.matched += 1
        turn = doc.turns[match]
        tally.speaker_checked += 1
        if g.question:
            right = turn.is_question
            if not right:
                tally.journalists_as_officials += 1
        elif g.group and (turn.is_question or name_key(g.speaker) == name_key(turn.speaker)):
            right = True  # a crowd's voice ("Hon. Members", "JOURNALISTS") is nobody's answer either way
        elif g.anonymous and name_key(g.speaker) == name_key(turn.speaker):
            right = True  # a moderator may be kept apart as a non-answer
        elif turn.is_question:
            right = False
        elif not g.speaker:
            right = _is_role_only(turn.speaker, turn.role)
        else:
            right = name_key(g.speaker) == name_key(turn.speaker)
        if right:
            tally.speaker_right += 1
        else:
            tally.errors.append(f"{gold.id}@{g.start}: {g.label!r} is {g.speaker!r}"
                                f"{' (question)' if g.question else ''}, parsed {turn.speaker!r}"
                                f"{' (question)' if turn.is_question else ''}")
    for i, s in in_region:
        if i not in used:
            tally.errors.append(f"{gold.id}@~{s + cut}: extra turn {doc.turns[i].label!r} "
                                f"({doc.turns[i].speaker})")
    if count_tokens is not None:
        chunks = chunk_document(doc, count_tokens)
        tally.chunks = len(chunks)
        tally.chunks_without_speaker = sum(1 for c in chunks if not c.speaker)
    return tally


def score(docs: list[GoldDocument], shared_root: Path,
          count_tokens: Callable[[str], int] | None = None) -> dict[str, dict[str, Tally]]:
    """Tallies by convention, then by split ("dev", "test", "all")."""
    sources = SourceCache(shared_root)
    out: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for gold in docs:
        tally = score_document(gold, sources, count_tokens)
        for split in (gold.split, "all"):
            out[gold.convention][split].add(tally)
            out["ALL"][split].add(tally)
    return out


def report_markdown(results: dict[str, dict[str, Tally]], command: str) -> str:
    """A Markdown table per split, the targets, and the first errors of each convention."""
    lines = ["# Speaker turns against hand-labelled turns", "", f"Command: `{command}`", "",
             f"Targets: precision ≥ {TARGETS['precision']}, recall ≥ {TARGETS['recall']}, speaker accuracy ≥ "
             f"{TARGETS['speaker_accuracy']} on every convention, journalists taken for officials = 0.", ""]
    for split in sorted({s for splits in results.values() for s in splits if s != "all"}, reverse=True) + ["all"]:
        lines += [f"## {split}", "", "| convention | docs | gold turns | precision | recall | speaker accuracy | "
                  "journalists as officials | passages without speaker |", "|---|---|---|---|---|---|---|---|"]
        for conv in sorted(results, key=lambda c: (c == "ALL", c)):
            if split not in results[conv]:
                continue
            m = results[conv][split].metrics()
            lines.append(f"| {conv} | {m['documents']} | {m['gold_turns']} | {_fmt(m['precision'])} | "
                         f"{_fmt(m['recall'])} | {_fmt(m['speaker_accuracy'])} | {m['journalists_as_officials']} | "
                         f"{_fmt(m['passages_without_speaker'])} |")
        lines.append("")
    lines += ["## Errors (first 15 per convention, all splits)", ""]
    for conv in sorted(c for c in results if c != "ALL"):
        errors = results[conv]["all"].errors
        if errors:
            lines.append(f"**{conv}** ({len(errors)})")
            lines += [f"- {e}" for e in errors[:15]]
            lines.append("")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
