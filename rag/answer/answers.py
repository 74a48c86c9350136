"""What `rag ask` returns: an answer text with [n] markers and the verified citations behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

from rag.index.nodes import Hit


@dataclass
class Citation:
    """One verbatim quote with everything needed to check it in one click."""

    n: int
    doc_id: str
    title: str
    speaker: str
    date: str
    place: str
    source_url: str
    page: int | None
    quote: str
    char_start: int
    char_end: int
    attribution: str
    score: float = 0.0


@dataclass
class Answer:
    """Answer text with [n] markers; `abstained` when the indexed statements do not answer."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"
    notes: list[str] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The `--json` shape: answer text under `answer`, citations as objects."""
        return {
            "question": self.question, "answer": self.text, "abstained": self.abstained,
            "answerer": self.answerer, "notes": list(self.notes),
            "citations": [asdict(c) for c in self.citations],
        }


class Answerer(Protocol):
    """Turns retrieved passages into an Answer; both answerers share this interface."""

    name: str

    def answer(self, question: str, passages: Sequence[Hit]) -> Answer:
        """Compose an answer from the passages (citations are verified afterwards by the caller)."""
        ...
