"""`rag compare`: per speaker, their own verified quotes on one topic, side by side."""

from __future__ import annotations

import io
import json

import pytest

from rag.answer.citations import turn_at
from rag.answer.compare import compare, no_statement
from rag.answer.quotes import normalise
from rag.library import UnknownFilterValue

CITATION_KEYS = {"n", "doc_id", "title", "speaker", "date", "place", "source_url", "page", "quote",
                 "char_start", "char_end", "attribution", "score"}


def _check_column(lib, column) -> None:
    """Every quote is the column's speaker's own words, verbatim, dated, never a question."""
    assert [c.n for c in column.citations] == list(range(1, len(column.citations) + 1))
    for c in column.citations:
        doc = lib.document(c.doc_id)
        assert normalise(doc.text[c.char_start:c.char_end]) == normalise(c.quote) != ""
        assert c.speaker in column.matches
        turn = turn_at(doc, c.char_start)
        assert turn is not None and turn.speaker == c.speaker and not turn.is_question
        assert c.date == (doc.date or "") and c.attribution.startswith("“")


def test_putin_and_lavrov_on_the_osce(sample_library) -> None:
    lib = sample_library
    result = compare(lib, "the OSCE", ["Putin", "lavrov"])
    assert [c.speaker for c in result.speakers] == ["Vladimir Putin", "Sergey Lavrov"]
    for column in result.speakers:
        assert not column.abstained and column.citations, column.notes
        assert len(column.citations) <= 3
        _check_column(lib, column)
        assert "OSCE" in column.citations[0].quote
    putin, lavrov = result.speakers
    assert {c.date for c in lavrov.citations} == {"2023-05-17"}
    assert not {c.doc_id for c in putin.citations} & {c.doc_id for c in lavrov.citations}


def test_a_speaker_with_nothing_on_it_says_so(sample_library) -> None:
    result = compare(sample_library, "the OSCE", ["Lavrov", "Julia Gillard"])
    lavrov, gillard = result.speakers
    assert not lavrov.abstained
    assert gillard.abstained and gillard.citations == []
    assert gillard.message == no_statement("Julia Gillard") == "No statement by Julia Gillard on this was found."
    data = result.to_dict()
    assert data["speakers"][1] == {"speaker": "Julia Gillard", "matches": ["Julia Gillard"], "abstained": True,
                                   "message": gillard.message, "notes": gillard.notes, "citations": []}


def test_unknown_speaker_and_bad_input(sample_library) -> None:
    lib = sample_library
    with pytest.raises(UnknownFilterValue, match="no speaker matches 'Nobody Atall'"):
        compare(lib, "the OSCE", ["Putin", "Nobody Atall"])
    with pytest.raises(ValueError, match="at least 2 different speakers"):
        compare(lib, "the OSCE", ["Putin"])
    with pytest.raises(ValueError, match="at least 2 different speakers"):
        compare(lib, "the OSCE", ["Putin", "Vladimir Putin"])  # the same person twice
    with pytest.raises(ValueError, match="at most 4"):
        compare(lib, "the OSCE", ["Putin", "Lavrov", "Gillard", "Rudd", "Abbott"])
    with pytest.raises(ValueError, match="empty topic"):
        compare(lib, "  ", ["Putin", "Lavrov"])
    with pytest.raises(ValueError, match="invalid date"):
        compare(lib, "the OSCE", ["Putin", "Lavrov"], since="last year")


def test_dates_narrow_every_column(sample_library) -> None:
    result = compare(sample_library, "sanctions", ["Putin", "Gillard"], since="2016", until="2018")
    for column in result.speakers:
        _check_column(sample_library, column)
        assert all("2016" <= c.date[:4] <= "2018" for c in column.citations)
    assert result.speakers[1].abstained  # Gillard spoke of sanctions in 2011, not 2016-2018


def test_json_and_text_output(sample_library) -> None:
    from rag.cli.commands import build_parser
    from rag.cli.compare import run_compare

    args = build_parser().parse_args(["compare", "the OSCE", "--speaker", "Putin", "--speaker", "Gillard",
                                      "-k", "2", "--json"])
    out = io.StringIO()
    assert run_compare(sample_library, args, out=out) == 0
    data = json.loads(out.getvalue())
    assert data["topic"] == "the OSCE" and [s["speaker"] for s in data["speakers"]] == ["Vladimir Putin",
                                                                                     "Julia Gillard"]
    putin, gillard = data["speakers"]
    assert not putin["abstained"] and 1 <= len(putin["citations"]) <= 2
    assert CITATION_KEYS <= set(putin["citations"][0])
    assert gillard["abstained"] and gillard["citations"] == []
    args.json = False
    out = io.StringIO()
    run_compare(sample_library, args, out=out)
    text = out.getvalue()
    assert "== Vladimir Putin" in text and "[1] 2018-02-28: “" in text and "chars " in text
    assert "== Julia Gillard\n   No statement by Julia Gillard on this was found." in text
