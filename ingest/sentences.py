"""Sentence splitting with character offsets, tuned for transcripts of official statements.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets) followed by
whitespace and a capital letter, digit, quote or opening bracket, and at every paragraph break
(a blank line). Abbreviations such as "Mr.", "Dr.", "U.S.", "St.", initials ("J. F. Kennedy")
and "No. 5" do not end a sentence; numbers like "3.5" never do (no whitespace after the dot).
"""

from __future__ import annotations

import re

PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
TERMINATOR_RE = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
DOTTED_ACRONYM_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
OPENERS = "\"'“‘«([¿¡"

# Lower-cased, without the final dot. "No", "Art" etc. only count before a number.
ABBREVIATIONS = frozenset(
    """mr mrs ms messrs dr prof st mt ft gen lt col maj capt sgt cmdr adm gov sen rep hon rev
    jr sr fr sec amb pres supt insp det cpl pvt esq vs v cf e.g i.e a.m p.m approx dept est
    inc ltd co corp bros jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
NUMBER_ABBREVIATIONS = frozenset("no nos nr art arts p pp vol vols ch para paras sec fig figs tab".split())


def _is_abbreviation(text: str, dot_pos: int, segment_start: int, next_char: str) -> bool:
    """True if the "." at `dot_pos` closes an abbreviation rather than a sentence."""
    begin = dot_pos  # the word before the dot, found backwards: linear, however long the segment
    while begin > segment_start and not text[begin - 1].isspace():
        begin -= 1
    if begin == dot_pos:
        return False
    word = text[begin:dot_pos].lstrip(OPENERS)
    low = word.lower()
    if low in ABBREVIATIONS:
        return True
    if low in NUMBER_ABBREVIATIONS and next_char.isdigit():
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "J. F. Kennedy"
    return bool(DOTTED_ACRONYM_RE.fullmatch(word))  # "U.S", "U.N"


def _starts_sentence(char: str) -> bool:
    return char.isupper() or char.isdigit() or char in OPENERS


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    seg_start = start
    for match in TERMINATOR_RE.finditer(text, start, end):
        after = match.end()
        nxt = after
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt >= end or not _starts_sentence(text[nxt]):
            continue
        first_dot = match.start()
        if text[first_dot] == "." and match.group(0).rstrip("\"'”’»)]") == ".":
            if _is_abbreviation(text, first_dot, seg_start, text[nxt]):
                continue
        span = _strip_span(text, seg_start, after)
        if span:
            spans.append(span)
        seg_start = after
    span = _strip_span(text, seg_start, end)
    if span:
        spans.append(span)
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` inside ``text[start:end]``, stripped of whitespace.

    Every non-whitespace character of the range lies in exactly one span; spans are in order.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    para_start = start
    for match in PARAGRAPH_BREAK_RE.finditer(text, start, end):
        spans.extend(_split_paragraph(text, para_start, match.start()))
        para_start = match.end()
    spans.extend(_split_paragraph(text, para_start, end))
    return spans
