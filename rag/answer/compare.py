"""Side by side: what each of two to four speakers said on one topic, in their own words.

Each column is one `ask` restricted to that speaker (a hard speaker filter, so retrieval only
sees their passages), answered by the extractive answerer and verified against the stored text
(`rag.answer.citations.verify_answer`). A quote is kept only if the stored document credits it to one
of the names the column stands for and it is not a journalist's question; a speaker with nothing
above the answerer's abstention threshold gets "No statement by X on this was found."
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from rag.answer.answers import Citation
from rag.answer.asking import ask
from rag.answer.citations import speaker_at

if TYPE_CHECKING:
    from rag.answer.reader import Reader

MIN_SPEAKERS = 2
MAX_SPEAKERS = 4
DEFAULT_QUOTES = 3
MAX_TOPIC_CHARS = 500


@dataclass
class SpeakerQuotes:
    """One column: the speaker's verified quotes on the topic, or an explicit abstention."""

    speaker: str
    matches: list[str]
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The `--json` shape of one column (citations as `rag ask --json` prints them)."""
        return {"speaker": self.speaker, "matches": list(self.matches), "abstained": self.abstained,
                "message": self.message, "notes": list(self.notes),
                "citations": [asdict(c) for c in self.citations]}


@dataclass
class Comparison:
    """The topic and one column per speaker, in the order asked."""

    topic: str
    speakers: list[SpeakerQuotes]

    def to_dict(self) -> dict[str, Any]:
        """The `rag compare --json` shape."""
        return {"topic": self.topic, "speakers": [s.to_dict() for s in self.speakers]}


def no_statement(speaker: str) -> str:
    """The line a column shows when the speaker said nothing on the topic."""
    return f"No statement by {speaker} on this was found."


def compare(lib: "Reader", topic: str, speakers: Sequence[str], since: str | None = None,
            until: str | None = None, source: str | list[str] | None = None,
            k: int = DEFAULT_QUOTES) -> Comparison:
    """Per speaker, up to `k` verified quotes on `topic` (best first), each dated and with its span.

    Speaker names match known speakers as the filters do (case-insensitive substring); a name
    that matches nobody raises `UnknownFilterValue`.
    """
    topic = " ".join(str(topic or "").split())
    if not topic:
        raise ValueError('empty topic: say what to compare, e.g. rag compare "NATO expansion" '
                         "--speaker Putin --speaker Lavrov")
    if len(topic) > MAX_TOPIC_CHARS:
        raise ValueError(f"the topic is {len(topic)} characters long; keep it under {MAX_TOPIC_CHARS}")
    if k < 1:
        raise ValueError("-k must be at least 1 (quotes per speaker)")
    columns = _columns(lib, speakers)
    return Comparison(topic=topic, speakers=[
        _column(lib, topic, label, names, since, until, source, k) for label, names in columns])


def _columns(lib: "Reader", speakers: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(label, known names) per requested speaker; the same person asked twice is one column."""
    given = [s.strip() for s in speakers if s and s.strip()]
    columns: list[tuple[str, list[str]]] = []
    index = lib.speaker_index()
    for name in given:
        names = lib.resolve_speakers([name])  # every alias; UnknownFilterValue names the known speakers
        if any(set(names) == set(other) for _, other in columns):
            continue
        people = {index.canonical(n) or n for n in names}
        columns.append((people.pop() if len(people) == 1 else name, names))
    if len(columns) < MIN_SPEAKERS:
        raise ValueError(f"compare needs at least {MIN_SPEAKERS} different speakers "
                         "(--speaker A --speaker B)")
    if len(columns) > MAX_SPEAKERS:
        raise ValueError(f"compare shows at most {MAX_SPEAKERS} speakers side by side; "
                         f"{len(columns)} were given")
    return columns


def _question(topic: str, speaker: str) -> str:
    """The question asked for one column: a topic becomes "What did X say about TOPIC?" (the form
    the answerer's abstention threshold was calibrated on); a question is asked as it is."""
    if topic.endswith("?"):
        return topic
    return f"What did {speaker} say about {topic}?"


def _column(lib: "Reader", topic: str, label: str, names: list[str], since: str | None,
            until: str | None, source: str | list[str] | None, k: int) -> SpeakerQuotes:
    answer = ask(lib, _question(topic, label), speaker=names, since=since, until=until, source=source,
                 speaker_hint=False, max_quotes=k)
    notes = list(answer.notes)
    kept: list[Citation] = []
    wanted = {n.lower() for n in names}
    for cit in answer.citations:
        doc = lib.document(cit.doc_id)
        who, asked = speaker_at(doc, cit.char_start) if doc is not None else ("", False)
        if who.lower() not in wanted or asked:
            notes.append(f"left out a quote from {cit.doc_id}: the document credits it to "
                         f"{'a question' if asked else who or 'nobody'}, not to {label}")
            continue
        kept.append(cit)
    kept = [Citation(**{**asdict(c), "n": i}) for i, c in enumerate(kept, 1)]
    if not kept:
        return SpeakerQuotes(speaker=label, matches=names, abstained=True, message=no_statement(label),
                             notes=notes)
    return SpeakerQuotes(speaker=label, matches=names, abstained=False, citations=kept, notes=notes)
