"""Sentence-aware chunking inside speaker turns, with exact character offsets.

Chunks never cross a turn boundary and never exceed ``max_tokens`` as measured by the
caller's ``count_tokens`` on the chunk's exact text. A sentence longer than ``max_tokens`` is
cut at word boundaries (at characters, for a single overlong word); nothing is dropped: every
non-whitespace character of every turn body lies in at least one chunk.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from ingest.models import Chunk, Document, Turn
from ingest.sentences import split_sentences

Span = tuple[int, int]


def _word_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets just after each word in text[start:end] (the last is `end`)."""
    ends = [i for i in range(start + 1, end) if not text[i - 1].isspace() and text[i].isspace()]
    ends.append(end)
    return ends


def _longest_fitting(text: str, start: int, candidates: list[int], fits: Callable[[int, int], bool],
                     first: int = 0) -> int:
    """Index of the last candidate end ``e`` (from index `first` on) with ``fits(start, e)``, or
    -1 if none fits. Galloping, then bisecting: the cost follows the length that fits, not the
    length of the candidates (a 5 MB run without a sentence end stays linear)."""
    if first >= len(candidates) or not fits(start, candidates[first]):
        return -1
    good, step, hi = first, 1, len(candidates) - 1
    while good < hi:
        probe = min(good + step, hi)
        if fits(start, candidates[probe]):
            good, step = probe, step * 2
        else:
            hi = probe - 1
            break
    lo = good + 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(start, candidates[mid]):
            good, lo = mid, mid + 1
        else:
            hi = mid - 1
    return good


def _split_long(text: str, span: Span, fits: Callable[[int, int], bool]) -> list[Span]:
    """Cut one overlong span into pieces that fit, at word boundaries where possible."""
    pieces: list[Span] = []
    start, end = span
    ends = _word_ends(text, start, end)
    while start < end:
        first = bisect.bisect_right(ends, start)
        best = _longest_fitting(text, start, ends, fits, first)
        if best >= 0:
            cut = ends[best]
            if cut == end:
                pieces.append((start, end))
                break
        else:  # one word is too long on its own: cut inside it
            chars = range(start + 1, ends[first] + 1)
            best = _longest_fitting(text, start, chars, fits)  # type: ignore[arg-type]
            if best < 0:
                raise ValueError(
                    f"max_tokens is too small: even one character at offset {start} does not fit; "
                    "raise max_tokens"
                )
            cut = chars[best]
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return pieces


def turn_units(
    text: str, turn: Turn, count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[Span, int]]:
    """Sentences of one turn body, overlong ones cut into pieces, each with its token count."""

    def fits(s: int, e: int) -> bool:
        return count_tokens(text[s:e]) <= max_tokens

    units: list[tuple[Span, int]] = []
    for span in split_sentences(text, turn.char_start, turn.char_end):
        count = count_tokens(text[span[0] : span[1]])
        if count <= max_tokens:
            units.append((span, count))
        else:
            units.extend((p, count_tokens(text[p[0] : p[1]])) for p in _split_long(text, span, fits))
    return units


def _pack(
    text: str,
    units: list[tuple[Span, int]],
    count_tokens: Callable[[str], int],
    max_tokens: int,
    target_tokens: int,
    overlap: int,
    base: int,
) -> list[Span]:
    """Group consecutive units into chunk spans; `base` is the token count of empty text
    (special tokens), subtracted once per join when estimating a group's size."""

    def estimate(a: int, b: int) -> int:
        return sum(c for _, c in units[a:b]) - base * (b - a - 1)

    known: dict[tuple[int, int], bool] = {}

    def fits(a: int, b: int) -> bool:  # asked twice for most chunks: tokenize once
        if (a, b) not in known:
            known[(a, b)] = count_tokens(text[units[a][0][0] : units[b - 1][0][1]]) <= max_tokens
        return known[(a, b)]

    spans: list[Span] = []
    first_new = 0  # first unit not yet in any chunk
    prev_start = -1
    while first_new < len(units):
        start = first_new
        for k in range(min(overlap, first_new - prev_start - 1), 0, -1):
            if fits(first_new - k, first_new + 1):
                start = first_new - k
                break
        end = first_new + 1
        while end < len(units) and estimate(start, end + 1) <= target_tokens:
            end += 1
        while end > first_new + 1 and not fits(start, end):
            end -= 1
        if not fits(start, end):
            start = first_new  # a lone unit always fits
        spans.append((units[start][0][0], units[end - 1][0][1]))
        prev_start, first_new = start, end
    return spans


def chunk_document(
    doc: Document,
    count_tokens: Callable[[str], int],
    max_tokens: int = 250,
    target_tokens: int = 180,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Split every turn of `doc` into chunks of whole sentences, about `target_tokens` long and
    never over `max_tokens`; consecutive chunks of a turn share `overlap_sentences` sentences
    when that still fits. ``doc.text[c.char_start:c.char_end] == c.text`` for every chunk."""
    if max_tokens < 1 or target_tokens < 1:
        raise ValueError("max_tokens and target_tokens must be positive")
    target_tokens = min(target_tokens, max_tokens)
    base = count_tokens("")
    chunks: list[Chunk] = []
    for turn in doc.turns:
        units = turn_units(doc.text, turn, count_tokens, max_tokens)
        for start, end in _pack(doc.text, units, count_tokens, max_tokens, target_tokens,
                                max(0, overlap_sentences), base):
            chunks.append(
                Chunk(
                    doc_id=doc.doc_id,
                    index=len(chunks),
                    text=doc.text[start:end],
                    char_start=start,
                    char_end=end,
                    turn=turn.index,
                    speaker=turn.speaker,
                    is_question=turn.is_question,
                    page=doc.page_at(start),
                    role=turn.role,
                )
            )
    return chunks
