"""Search filters (speaker, dates, source) as llama-index MetadataFilters over the shared payload."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

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


@dataclass
class SearchFilters:
    """What the user narrowed the search to; speaker and source values are exact payload keys."""

    speakers: list[str] | None = None
    since: str | None = None
    until: str | None = None
    sources: list[str] | None = None
    doc_ids: list[str] | None = None
    answers_only: bool = False

    def to_metadata_filters(self) -> MetadataFilters | None:
        """The llama-index filter both vector stores translate into a Qdrant filter."""
        items: list[MetadataFilter] = []
        if self.speakers:
            items.append(MetadataFilter(key="speaker_key", operator=FilterOperator.IN,
                                        value=[s.lower() for s in self.speakers]))
        if self.sources:
            items.append(MetadataFilter(key="source", operator=FilterOperator.IN, value=list(self.sources)))
        if self.doc_ids:
            items.append(MetadataFilter(key="doc_id", operator=FilterOperator.IN, value=list(self.doc_ids)))
        if self.since:
            items.append(MetadataFilter(key="date_to", operator=FilterOperator.GTE,
                                        value=date_bounds(self.since)[0]))
        if self.until:
            items.append(MetadataFilter(key="date_from", operator=FilterOperator.LTE,
                                        value=date_bounds(self.until)[1]))
        if self.answers_only:
            items.append(MetadataFilter(key="role", operator=FilterOperator.EQ, value="answer"))
        if not items:
            return None
        return MetadataFilters(filters=items, condition=FilterCondition.AND)
