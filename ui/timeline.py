"""The Timeline: matching passages as points by date and speaker, and the rows of the table that
opens them; a period brushed on the plot narrows the rows."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from rag.index.nodes import Hit

PLOT_COLUMNS = ["date", "speaker", "title", "passages"]


def excerpt(text: str, limit: int = 180) -> str:
    """The passage on one line, cut at a word."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _when(date: str) -> pd.Timestamp | None:
    if not date:
        return None
    when = pd.to_datetime(date[:10], errors="coerce", format="ISO8601")
    return None if pd.isna(when) else when


def timeline_rows(hits: Sequence[Hit]) -> tuple[list[dict[str, Any]], int]:
    """Dated passages in date order (ties: best first) and how many were undated.

    Dates of any precision ("1995", "2023-05", "2023-05-17") sit on their first day.
    """
    rows: list[dict[str, Any]] = []
    undated = 0
    for h in hits:
        when = _when(h.date)
        if when is None:
            undated += 1
            continue
        rows.append({"date": when.strftime("%Y-%m-%d"), "ms": int(when.value // 1_000_000),
                     "speaker": h.speaker or "unknown", "title": h.title or h.doc_id,
                     "excerpt": excerpt(h.text), "score": float(h.score), "doc_id": h.doc_id,
                     "start": h.char_start, "end": h.char_end})
    rows.sort(key=lambda r: (r["ms"], -r["score"]))
    return rows, undated


def plot_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The points: one per document and speaker, with how many of its passages match."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["doc_id"], r["speaker"])
        if key not in groups:
            groups[key] = {"date": r["date"], "speaker": r["speaker"], "title": r["title"], "passages": 0}
        groups[key]["passages"] += 1
    frame = pd.DataFrame(list(groups.values()), columns=PLOT_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def yearly_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Matching passages per year and speaker (the year as a number, so the axis spaces years evenly)."""
    counts: dict[tuple[int, str], int] = {}
    for r in rows:
        key = (int(r["date"][:4]), r["speaker"])
        counts[key] = counts.get(key, 0) + 1
    frame = pd.DataFrame([{"year": y, "speaker": s, "passages": n} for (y, s), n in counts.items()],
                         columns=["year", "speaker", "passages"])
    return frame.sort_values(["year", "speaker"]).reset_index(drop=True)


def to_ms(value: float) -> float:
    """Epoch milliseconds from a brush bound: Gradio sends seconds for date axes (milliseconds are
    accepted too: anything beyond ±1e11 is taken as milliseconds, i.e. dates after 1973)."""
    return value if abs(value) >= 1e11 else value * 1000.0


def within(rows: Sequence[dict[str, Any]], start: float | None, end: float | None) -> list[dict[str, Any]]:
    """Rows whose date falls in a period brushed on the plot (bounds in epoch seconds or ms)."""
    if start is None or end is None:
        return list(rows)
    lo, hi = min(to_ms(start), to_ms(end)), max(to_ms(start), to_ms(end))
    day = 86_400_000
    return [r for r in rows if lo - day < r["ms"] <= hi]
