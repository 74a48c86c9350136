"""Search filters (speaker, dates, source) as payload conditions over the shared layout, and as the
llama-index MetadataFilters the server store takes (llama-index is imported only for those)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_index.core.vector_stores.types import MetadataFilters

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_bounds(value: str) -> tuple[int, int]:
    """First and last day covered by an ISO date of any precision, as YYYYMMDD integers.

    >>> date_bounds("2023-05")
    (20230501, 20230531)
    """
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"invalid date {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month and not 1 <= int(month) <= 12:
        raise ValueError(f"invalid month in {value!r}")
    if day and not 1 <= int(day) <= 31:
        raise ValueError(f"invalid day in {value!r}")
    if day:
        n = int(f"{year}{month}{day}")
        return n, n
    if month:
        return int(f"{year}{month}01"), int(f"{year}{month}31")
    return int(f"{year}0101"), int(f"{year}1231")


@dataclass(frozen=True)
class Condition:
    """One payload condition, `key` `operator` `value`; the operators are llama-index's
    FilterOperator values ("==", "!=", "in", ">", ">=", "<", "<="), so either kind translates alike."""

    key: str
    operator: str
    value: Any


@dataclass
class SearchFilters:
    """What the user narrowed the search to; speaker and source values are exact payload keys."""

    speakers: list[str] | None = None
    since: str | None = None
    until: str | None = None
    sources: list[str] | None = None
    doc_ids: list[str] | None = None
    answers_only: bool = False

    def conditions(self) -> list[Condition]:
        """The payload conditions that must all hold (empty: no filter)."""
        items: list[Condition] = []
        if self.speakers:
            items.append(Condition("speaker_key", "in", [s.lower() for s in self.speakers]))
        if self.sources:
            items.append(Condition("source", "in", list(self.sources)))
        if self.doc_ids:
            items.append(Condition("doc_id", "in", list(self.doc_ids)))
        if self.since:
            items.append(Condition("date_to", ">=", date_bounds(self.since)[0]))
        if self.until:
            items.append(Condition("date_from", "<=", date_bounds(self.until)[1]))
        if self.answers_only:
            items.append(Condition("role", "==", "answer"))
        return items

    def to_metadata_filters(self) -> "MetadataFilters | None":
        """The same conditions as a llama-index filter (for the llama-index vector stores)."""
        items = self.conditions()
        if not items:
            return None
        from llama_index.core.vector_stores.types import (
            FilterCondition,
            FilterOperator,
            MetadataFilter,
            MetadataFilters,
        )

        return MetadataFilters(filters=[MetadataFilter(key=c.key, operator=FilterOperator(c.operator),
                                                       value=c.value) for c in items],
                               condition=FilterCondition.AND)
