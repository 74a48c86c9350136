"""The context a passage is indexed with: who speaks, in what capacity, where and when, in which
document, and, for an answer, the question it answers.

The quote shown to a user is always the passage itself (`Chunk.text`); this context is only what
the embedding model and BM25 see beside it, so that "What did the foreign minister say in Moscow
about ..." can find a passage that names neither the minister, nor the city, nor the topic word.
One function builds it for indexing, for training the relevance model and for scoring, so that
all three see the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ingest.models import Chunk, Document

MAX_QUESTION_WORDS = 40
"""The question an answer follows is cut to this many words (its first sentences carry the ask)."""
MAX_TITLE_WORDS = 30


@dataclass(frozen=True)
class PassageContext:
    """What is known about the passage beyond its words."""

    title: str | None = None
    speaker: str | None = None
    role: str | None = None
    date: str | None = None
    place: str | None = None
    question: str | None = None  # the journalist's question this answer follows, if any


def _words(text: str, limit: int) -> str:
    words = text.split()
    return " ".join(words[:limit]) + (" …" if len(words) > limit else "")


def short_question(text: str, limit: int = MAX_QUESTION_WORDS) -> str:
    """The first sentences of a question, up to `limit` words: greetings and the outlet's name
    come first in a journalist's turn, so the last question mark within the limit is the cut."""
    text = " ".join(text.split())
    cut = _words(text, limit)
    if cut.endswith(" …"):
        marks = [m.end() for m in re.finditer(r"\?", cut)]
        if marks:
            return cut[: marks[-1]]
    return cut


def context_header(ctx: PassageContext) -> str:
    """One or two lines: "Sergey Lavrov (Foreign Minister), Moscow, 2023-05-17: <title>" and
    "Asked: <question>"; empty when nothing is known."""
    who = ctx.speaker or ""
    if ctx.role and ctx.role.lower() not in who.lower():
        who = f"{who} ({ctx.role})" if who else ctx.role
    where = ", ".join(p for p in (ctx.place, ctx.date) if p)
    head = ", ".join(p for p in (who, where) if p)
    title = _words(ctx.title, MAX_TITLE_WORDS) if ctx.title else ""
    line = f"{head}: {title}" if head and title else head or title
    lines = [line] if line else []
    if ctx.question:
        lines.append(f"Asked: {short_question(ctx.question)}")
    return "\n".join(lines)


def contextualise(text: str, ctx: PassageContext | None) -> str:
    """The text the index embeds and BM25 counts for a passage: its context header, a blank
    line, then the passage itself."""
    header = context_header(ctx) if ctx else ""
    return f"{header}\n\n{text}" if header else text


def passage_context(doc: "Document", chunk: "Chunk") -> PassageContext:
    """What the document says about a passage: its title, date and place, its speaker and role,
    and, for an answer, the journalist's question its turn follows."""
    question = None
    if not chunk.is_question and 0 < chunk.turn < len(doc.turns) + 1:
        turns = {t.index: t for t in doc.turns}
        before = turns.get(chunk.turn - 1)
        if before is not None and before.is_question:
            question = doc.text[before.char_start:before.char_end]
    speaker = None if chunk.is_question else chunk.speaker
    return PassageContext(title=doc.title, speaker=speaker, role=None if chunk.is_question else chunk.role,
                          date=doc.date, place=doc.place, question=question)


def fitted_header(ctx: PassageContext, text: str, count_tokens: Callable[[str], int] | None,
                  max_tokens: int) -> str:
    """The context header shortened until header and passage fit the model's window together:
    the question is cut shorter, then the title goes, then the question. The passage is never cut."""
    candidates = [ctx]
    if ctx.question:
        candidates += [replace(ctx, question=short_question(ctx.question, 20))]
    candidates += [replace(c, title=None) for c in list(candidates)]
    candidates += [replace(ctx, title=None, question=None)]
    for candidate in candidates:
        header = context_header(candidate)
        if count_tokens is None or not header or count_tokens(f"{header}\n\n{text}") <= max_tokens:
            return header
    return ""
