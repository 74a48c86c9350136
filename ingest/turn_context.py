"""What a document knows about its speakers before its labels are read (the title, the source's
metadata): the one input that `ingest.turns` and `ingest.questioners` both read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TurnContext:
    """What the document knows about its speakers before the labels are read."""

    main_speaker: str | None = None  # from the source's metadata or the title
    opening_speaker: str | None = None  # who speaks before the first label
    title: str | None = None
    is_interview: bool = False
    date: str | None = None
    main_role: str | None = None  # the main speaker's office, when the title gives it
    people: list[tuple[str, str | None]] = field(default_factory=list)  # (full name, role) the title names
