"""Plain data records that flow from the readers to the store: raw files, documents, turns, chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawDocument:
    """What a reader extracted from one file or one JSONL record, before structure is recovered.

    `metadata` holds what the source states (id, title, date or year, speaker, source_url,
    place, ...). `page_starts` lists the character offset in `text` where each PDF page
    begins (page 1 at index 0); empty for other formats. `origin` names where it came from
    for error messages, e.g. ``corpus.jsonl.gz:17`` or ``report.pdf``.
    """

    text: str
    source_path: str
    origin: str
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)
    page_starts: list[int] = field(default_factory=list)
    key: str | None = None


@dataclass
class ReadError:
    """One input that could not be read; `where` names the file and, if known, line or page."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Turn:
    """One speaker turn: `text[char_start:char_end]` of its document is the turn's body."""

    index: int
    speaker: str | None
    label: str | None
    is_question: bool
    char_start: int
    char_end: int
    role: str | None = None  # the speaker's office or capacity in this turn ("Press Secretary")


@dataclass
class Document:
    """A statement with its recovered structure; `text` is the canonical stored text."""

    doc_id: str
    text: str
    source_path: str
    format: str
    title: str | None = None
    date: str | None = None
    place: str | None = None
    organisation: str | None = None
    doc_number: str | None = None
    source_url: str | None = None
    source: str | None = None
    doc_type: str | None = None
    speakers: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    source_meta: dict[str, Any] = field(default_factory=dict)  # the source's own metadata, as read
    parser: str = ""  # the structure parser's version that produced `turns`

    def page_at(self, offset: int) -> int | None:
        """1-based PDF page holding character `offset`, or None for non-paged documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass
class Chunk:
    """A passage inside one turn; `document.text[char_start:char_end] == text`."""

    doc_id: str
    index: int
    text: str
    char_start: int
    char_end: int
    turn: int
    speaker: str | None
    is_question: bool
    page: int | None = None
    role: str | None = None  # the speaker's office or capacity, from the turn
