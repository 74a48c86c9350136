"""Metadata of an HTML page (title, date, source URL, ...) from the tags the text pass collected."""

from __future__ import annotations

import re
from typing import Any

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_TITLE_SEPARATORS = (" • ", " | ", " — ", " – ", " :: ", " · ")

_DATE_META_KEYS = (
    "article:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "citation_publication_date",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "og:published_time",
)


def iso_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` from an ISO date/time (or ``YYYYMMDD``) string, if it holds a valid one."""
    if not value:
        return None
    value = value.strip()
    match = _DATE.search(value[:40]) or _DATE_COMPACT.match(value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1000 <= year <= 2999):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _strip_site_suffix(title: str, site_name: str | None) -> str:
    if site_name:
        for sep in (*_TITLE_SEPARATORS, " - "):
            if title.endswith(sep + site_name) and len(title) > len(sep + site_name):
                return title[: -len(sep + site_name)].strip()
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and len(tail) <= 50 and len(head) >= len(tail):
            return head.strip()
    return title


def page_metadata(meta: dict[str, str], time_datetimes: list[tuple[bool, str]]) -> dict[str, Any]:
    """Title, date, source URL, place, description, keywords and site name from collected page tags.

    `meta` maps lower-cased meta names/properties (plus "canonical", "title", "h1", "place")
    to their values; `time_datetimes` lists (is itemprop=datePublished, datetime) of <time> tags.
    """
    site = _collapse(meta.get("og:site_name", "")) or None
    candidates = [_collapse(meta.get("og:title", "")), meta.get("h1", ""), meta.get("title", "")]
    title = next((_strip_site_suffix(t, site) for t in candidates if t), None)
    date = None
    for key in _DATE_META_KEYS:
        date = iso_date(meta.get(key))
        if date:
            break
    if not date:
        ranked = sorted(time_datetimes, key=lambda item: not item[0])
        date = next((d for _, v in ranked if (d := iso_date(v))), None)
    url = None
    for candidate in (meta.get("canonical", ""), meta.get("og:url", "")):
        candidate = candidate.strip()
        if candidate.lower().startswith(("http://", "https://")):
            url = candidate
            break
    result: dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("date", date),
        ("source_url", url),
        ("place", meta.get("place")),
        ("description", _collapse(meta.get("og:description") or meta.get("description") or "")),
        ("keywords", _collapse(meta.get("keywords", ""))),
        ("site_name", site),
    ):
        if value:
            result[key] = value
    return result
