"""Quote normalisation and lookup: the offsets found must point at the quote in the document."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rag.answer.quotes import find_quote, normalise, normalise_with_map, verify_span


@pytest.mark.parametrize("raw, expected", [
    ("“Peace,” he said", '"Peace," he said'),
    ("‘solemn’ «mantras»", "'solemn' \"mantras\""),
    ("Russia—NATO – EU ‒ OSCE −1", "Russia-NATO - EU - OSCE -1"),
    ("a\u00a0b\u2009c\u202fd", "a b c d"),
    ("wait…", "wait..."),
    ("  several\n\n  lines\t\tand   spaces  ", "several lines and spaces"),
    ("", ""),
    ("\n \t", ""),
])
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_map_points_at_source_characters() -> None:
    text = "A\u00a0“b”…  c"
    norm, index = normalise_with_map(text)
    assert norm == 'A "b"... c'
    assert len(index) == len(norm)
    assert [text[i] for i in index] == ["A", "\u00a0", "“", "b", "”", "…", "…", "…", " ", "c"]


DOC = ("Sergey Lavrov: We have tried to translate these solemn “mantras” signed by the leaders of the "
       "Western world into practical deeds.\n\nQuestion: And the OSCE — is it dead?\n\nSergey Lavrov: "
       "The OSCE… well, it is in a deplorable   state.")


@pytest.mark.parametrize("quote", [
    'We have tried to translate these solemn "mantras" signed',
    "these solemn “mantras”  signed by\nthe leaders",
    "And the OSCE - is it dead?",
    "The OSCE... well, it is in a deplorable state.",
    "deplorable state",
])
def test_find_quote_offsets_map_back_exactly(quote: str) -> None:
    span = find_quote(DOC, quote)
    assert span is not None
    start, end = span
    assert normalise(DOC[start:end]) == normalise(quote)
    assert not DOC[start].isspace() and not DOC[end - 1].isspace()
    assert verify_span(DOC, quote, start, end)


def test_find_quote_rejects_what_is_not_there() -> None:
    assert find_quote(DOC, "We have never tried to translate") is None
    assert find_quote(DOC, "") is None
    assert find_quote(DOC, "   ") is None
    assert not verify_span(DOC, "mantras", 0, 5)
    assert not verify_span(DOC, "mantras", -1, 5)
    assert not verify_span(DOC, "mantras", 10, 10_000)


def test_find_quote_prefers_the_occurrence_near_the_hint() -> None:
    doc = "The OSCE is important. " * 3 + "Later: The OSCE is important."
    near_end = find_quote(doc, "The OSCE is important", near=len(doc) - 25)
    first = find_quote(doc, "The OSCE is important")
    assert first == (0, 21)
    assert near_end is not None and near_end[0] == doc.rindex("The OSCE")


def test_partial_ellipsis_is_not_a_match() -> None:
    # "…" normalises to "..." but a quote ending in one "." must not claim the whole ellipsis
    doc = "He paused… Then he went on."
    span = find_quote(doc, "paused.")
    assert span is None or normalise(doc[span[0]:span[1]]) == normalise("paused.")


# -- property: any substring, re-spaced and re-quoted, is found where it is ----------------------
ALPHABET = string.ascii_letters + string.digits + " ,.;:!?'\"-()\n\t" + "“”‘’«»—–…\u00a0"
SWAPS = {'"': "“", "“": '"', "”": '"', "'": "’", "’": "'", "‘": "'", "-": "—", "—": "-", "–": "-",
         "…": "...", "\u00a0": " ", "«": '"', "»": '"'}


@st.composite
def doc_and_quote(draw):
    doc = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=400))
    start = draw(st.integers(0, len(doc) - 1))
    end = draw(st.integers(start + 1, len(doc)))
    piece = doc[start:end]
    assume(normalise(piece))
    out = []
    for ch in piece:
        if ch.isspace():
            out.append(draw(st.sampled_from([" ", "  ", "\n", "\t", " \n "])))
        elif ch in SWAPS and draw(st.booleans()):
            out.append(SWAPS[ch])
        else:
            out.append(ch)
    return doc, "".join(out), start


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc_and_quote())
@example(("x… y", "x... y", 0))
@example(("a  “b” c", 'a "b" c', 0))
def test_find_quote_property(case) -> None:
    doc, quote, start = case
    span = find_quote(doc, quote, near=start)
    assert span is not None
    s, e = span
    assert 0 <= s < e <= len(doc)
    assert normalise(doc[s:e]) == normalise(quote)
    assert verify_span(doc, quote, s, e)
