"""Verbatim quote verification: find a quote in its stored document after normalising whitespace,
quote marks and dashes, and return the offsets where it really is."""

from __future__ import annotations

import unicodedata

_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ",
}


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index of the source character."""
    out: list[str] = []
    index: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace() or unicodedata.category(ch) == "Zs":
            if not in_space and out:
                out.append(" ")
                index.append(i)
            in_space = True
            continue
        in_space = False
        rep = _MAP.get(ch, ch)
        for piece in rep:
            out.append(piece)
            index.append(i)
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def normalise(text: str) -> str:
    """Text with whitespace collapsed, typographic quotes and dashes made plain, ends trimmed."""
    return normalise_with_map(text)[0]


def find_quote(document: str, quote: str, near: int | None = None) -> tuple[int, int] | None:
    """Offsets of `quote` in `document` (after normalisation), or None when it is not there.

    With several occurrences the one nearest to `near` wins. The returned span starts and ends on
    the document's own characters, so `normalise(document[s:e]) == normalise(quote)`.
    """
    needle = normalise(quote)
    if not needle:
        return None
    hay, index = normalise_with_map(document)
    best: tuple[int, int] | None = None
    pos = hay.find(needle)
    while pos != -1:
        last = pos + len(needle) - 1
        # a match must not begin or end inside one source character's expansion ("…" -> "...")
        whole = (pos == 0 or index[pos - 1] != index[pos]) and (
            last + 1 >= len(index) or index[last + 1] != index[last])
        if whole:
            start = index[pos]
            end = index[last] + 1
            if best is None or (near is not None and abs(start - near) < abs(best[0] - near)):
                best = (start, end)
            if near is None:
                break
        pos = hay.find(needle, pos + 1)
    return best


def verify_span(document: str, quote: str, start: int, end: int) -> bool:
    """True when document[start:end] is the quote, up to normalisation."""
    if not 0 <= start < end <= len(document):
        return False
    return normalise(document[start:end]) == normalise(quote) != ""
