"""`rag first`: the earliest verified occurrences of a phrase or claim, exact and near-verbatim,
the first statement marked, questions never counted as saying it, undated documents last."""

from __future__ import annotations

import io
import json
import re

import pytest

from rag.answer.citations import turn_at
from rag.answer.first import (NEAR_THRESHOLD, clean_phrase, find_phrase, first_said, windows)
from rag.answer.quotes import normalise
from rag.library import UnknownFilterValue

ALLIANCE = "our alliance with the United States"
DONBASS_PARAPHRASE = "the special status of Donbass must be written into Ukraine's constitution"
JOURNALIST_ONLY = "America's increasing military presence in Australia"


# -- matching, no model ---------------------------------------------------------------------------
def test_find_phrase_normalises_quotes_spaces_dashes_and_case() -> None:
    text = ("He said: “Quokka   Accord” twice — the QUOKKA ACCORD; then quokka-accords, "
            "and the Quokka\u00a0Accord\u2019s text. Also don’t stop — don't stop.")
    spans = find_phrase(text, "Quokka Accord")
    assert [text[s:e] for s, e in spans] == ["Quokka   Accord", "QUOKKA ACCORD", "Quokka\u00a0Accord"]
    assert find_phrase(text, "quokka-accord") == []  # whole words only: "quokka-accords" is not it
    assert [text[s:e] for s, e in find_phrase(text, "don't stop")] == ["don’t stop", "don't stop"]
    assert [text[s:e] for s, e in find_phrase(text, "twice - the")] == ["twice — the"]
    assert find_phrase("the the the", "the the") == [(0, 7), (4, 11)]  # overlapping ones too


def test_clean_phrase() -> None:
    assert clean_phrase('  “our alliance   with the United States.”  ') == ALLIANCE
    for bad in ("", "   ", "“ … ”"):
        with pytest.raises(ValueError, match="empty phrase"):
            clean_phrase(bad)
    with pytest.raises(ValueError, match="under"):
        clean_phrase("word " * 200)


def test_windows_are_the_sentence_and_its_longer_clauses() -> None:
    text = "Our alliance with the United States, our membership of the United Nations, and our policy."
    spans = windows(text, 0, len(text), phrase_words=5)
    assert spans[0] == (0, len(text))
    pieces = [text[a:b] for a, b in spans[1:]]
    assert "Our alliance with the United States," in pieces
    assert all(len(p.split()) >= 3 for p in pieces)
    assert windows(text, 0, len(text), phrase_words=12) == [(0, len(text))]  # a long claim: the sentence


# -- over the sample ------------------------------------------------------------------------------
def _check(lib, result) -> None:
    """Every quote verbatim in its document, the match inside it, sorted by date, one first at most."""
    firsts = [o for o in result.occurrences if o.first]
    assert len(firsts) <= 1
    for o in result.occurrences:
        c = o.citation
        doc = lib.document(c.doc_id)
        assert normalise(doc.text[c.char_start:c.char_end]) == normalise(c.quote) != ""
        assert c.char_start <= o.match_start < o.match_end <= c.char_end
        assert c.date == (doc.date or "") and c.title == (doc.title or "")
        turn = turn_at(doc, o.match_start)
        assert o.asked == bool(turn and turn.is_question)
        if o.match == "exact":
            assert normalise(doc.text[o.match_start:o.match_end]).lower() == normalise(result.phrase).lower()
        else:
            assert o.similarity >= result.threshold
    dated = [o.citation.date for o in result.occurrences if not o.undated]
    assert dated == sorted(dated)
    assert all(o.undated for o in result.occurrences[len(dated):])
    if firsts:
        first = firsts[0]
        assert not first.asked and not first.undated
        assert all(o.asked for o in result.occurrences if not o.undated and o.citation.date < first.citation.date)


def test_exact_phrase_in_several_documents(sample_library) -> None:
    lib = sample_library
    result = first_said(lib, ALLIANCE)
    _check(lib, result)
    exact = [o for o in result.occurrences if o.match == "exact"]
    assert [(o.citation.date, o.citation.speaker) for o in exact] == [
        ("2008-03-30", "Kevin Rudd"), ("2009-05-02", "Kevin Rudd"), ("2011-11-19", "Julia Gillard")]
    first = result.first
    assert first is not None and first.match == "exact" and first.citation.doc_id == "pmt-15830"
    assert first.citation.quote.startswith("Our alliance with the United States, our membership")
    assert result.counts["exact_said"] == 3 and result.counts["exact_asked"] == 0
    # nothing missed: an independent scan of every stored document finds the same places
    pattern = re.compile(r"\s+".join(map(re.escape, ALLIANCE.split())), re.IGNORECASE)
    everywhere = {(d.doc_id, m.start()) for d in lib.store.iter_documents() for m in pattern.finditer(d.text)}
    assert {(o.citation.doc_id, o.match_start) for o in exact} == everywhere


def test_filters_narrow_the_occurrences(sample_library) -> None:
    result = first_said(sample_library, ALLIANCE, speaker="Gillard")
    assert {o.citation.speaker for o in result.occurrences} == {"Julia Gillard"}
    assert result.first.citation.date == "2011-11-19"
    later = first_said(sample_library, ALLIANCE, since="2009-01", until="2010")
    assert [o.citation.date for o in later.occurrences if o.match == "exact"] == ["2009-05-02"]
    with pytest.raises(UnknownFilterValue, match="Nobody Atall"):
        first_said(sample_library, ALLIANCE, speaker="Nobody Atall")
    with pytest.raises(ValueError, match="invalid month"):
        first_said(sample_library, ALLIANCE, since="2010-13")


def test_a_paraphrase_finds_the_claim_by_meaning(sample_library) -> None:
    lib = sample_library
    result = first_said(lib, DONBASS_PARAPHRASE)
    _check(lib, result)
    assert result.counts["exact_said"] == 0
    near = [o for o in result.occurrences if o.match == "near" and not o.asked]
    said = {(o.citation.date, o.citation.speaker) for o in near}
    assert {("2019-12-10", "Vladimir Putin"), ("2020-01-11", "Vladimir Putin")} <= said
    first = result.first
    assert first is not None and first.citation.date == "2019-12-10"
    assert "Constitution" in first.citation.quote and "special status of Donbass" in first.citation.quote
    # the different claim of 14 November 2019 (a new law "could be adopted") is not taken for it
    assert all(o.citation.date != "2019-11-14" for o in near)


def test_a_phrase_only_a_journalist_used(sample_library) -> None:
    lib = sample_library
    result = first_said(lib, JOURNALIST_ONLY)
    _check(lib, result)
    assert result.counts["exact_asked"] == 1 and result.counts["exact_said"] == 0
    asked = [o for o in result.occurrences if o.match == "exact"]
    assert len(asked) == 1 and asked[0].asked and not asked[0].first
    assert asked[0].citation.date == "2011-11-19" and asked[0].role == "asked"
    assert "a journalist asked" in asked[0].citation.attribution
    assert result.first is None
    assert any("only journalists' questions" in n for n in result.notes)


def test_nothing_found(sample_library) -> None:
    result = first_said(sample_library, "quantum chromodynamics of marmalade")
    assert result.occurrences == [] and result.first is None
    assert result.notes == ["not found in the collection, verbatim or near it by meaning"]


def test_json_and_text_output(sample_library) -> None:
    from rag.cli.commands import build_parser
    from rag.cli.compare import run_first

    args = build_parser().parse_args(["first", ALLIANCE, "-k", "2", "--json"])
    out = io.StringIO()
    assert run_first(sample_library, args, out=out) == 0
    data = json.loads(out.getvalue())
    assert data["phrase"] == ALLIANCE and data["threshold"] == NEAR_THRESHOLD
    assert len(data["occurrences"]) == 2 and data["occurrences"][0]["first"] is True
    keys = {"n", "doc_id", "title", "speaker", "date", "place", "source_url", "page", "quote", "char_start",
            "char_end", "attribution", "match", "similarity", "role", "first", "undated", "match_start",
            "match_end"}
    assert keys <= set(data["occurrences"][0])
    assert data["first"] == data["occurrences"][0] and data["first"]["speaker"] == "Kevin Rudd"
    assert any("not shown" in n for n in data["notes"])
    args = build_parser().parse_args(["first", JOURNALIST_ONLY])
    out = io.StringIO()
    run_first(sample_library, args, out=out)
    text = out.getvalue()
    assert "ASKED 2011-11-19 · asked by" in text and "FIRST" not in text
    assert "note: only journalists' questions contain it" in text


# -- dates: undated last, year-only, same day, a question before anyone said it ---------------------
@pytest.fixture(scope="module")
def quokka_library(tmp_path_factory, embedder):
    from rag.library import Library
    from rag.settings import Settings

    src = tmp_path_factory.mktemp("quokka-src")
    (src / "2018-06-01_quokka-briefing.txt").write_text(
        "Briefing on marsupial conservation, Perth, 1 June 2018\n\n"
        "Question: Will there be a Quokka Accord to protect the island habitats?\n\n"
        "Hollis Brank: We are not discussing any agreement of that kind today.\n", encoding="utf-8")
    (src / "2021-03-03_quokka-accord.txt").write_text(
        "Press statement by Foreign Minister Alva Zorblatt, Canberra, 3 March 2021\n\n"
        "Alva Zorblatt: Today we signed the Quokka Accord on marsupial conservation. The QUOKKA ACCORD "
        "commits both governments to protect the island habitats for twenty years.\n\n"
        "Question: When will it be ratified?\n\n"
        "Alva Zorblatt: Ratification of the “Quokka   Accord” is expected before the end of the year.\n",
        encoding="utf-8")
    (src / "2021-03-03_quokka-joint.txt").write_text(
        "Joint remarks, Canberra, 3 March 2021\n\nHollis Brank: The Quokka Accord is a good agreement for "
        "the islands.\n", encoding="utf-8")
    (src / "quokka-notes.txt").write_text(
        "Notes on conservation\n\nHollis Brank: The Quokka Accord will outlast all of us.\n", encoding="utf-8")
    (src / "early.jsonl").write_text(json.dumps({
        "id": "quokka-2019", "title": "Early remarks on the islands", "year": 2019,
        "text": "Hollis Brank: One day there will be a Quokka Accord for the islands."}) + "\n", encoding="utf-8")
    lib = Library(Settings(data_dir=tmp_path_factory.mktemp("quokka-data"), progress=False), embedder=embedder)
    report = lib.ingest([src])
    assert report.ok, report.errors
    yield lib
    lib.close()


def test_dates_order_and_marks(quokka_library) -> None:
    lib = quokka_library
    dates = {d.title: d.date for d in lib.store.iter_documents()}
    assert sorted(d or "" for d in dates.values()) == ["", "2018-06-01", "2019", "2021-03-03", "2021-03-03"]
    result = first_said(lib, "Quokka Accord", k=20)
    _check(lib, result)
    exact = [o for o in result.occurrences if o.match == "exact"]
    assert [(o.citation.date, o.role) for o in exact] == [
        ("2018-06-01", "asked"), ("2019", "said"), ("2021-03-03", "said"), ("2021-03-03", "said"),
        ("2021-03-03", "said"), ("2021-03-03", "said"), ("", "said")]
    assert exact[0].asked and not exact[0].first  # the journalist used it first: never counted as said
    assert exact[1].first and exact[1].citation.speaker == "Hollis Brank"
    assert exact[-1].undated and not exact[-1].first and result.occurrences[-1].undated
    assert any(o.citation.quote.startswith("Ratification of the") for o in exact)
    notes = " ".join(result.notes)
    assert "dated only to 2019" in notes and "a journalist's question used it earlier (2018-06-01)" in notes
    same_day = first_said(lib, "Quokka Accord", since="2020")
    assert same_day.first.citation.date == "2021-03-03"
    assert all(not o.undated for o in same_day.occurrences)  # a date filter leaves undated documents out
    assert any("1 other document of the same day" in n for n in same_day.notes)
    brank = first_said(lib, "Quokka Accord", speaker="Brank")
    assert {o.citation.speaker for o in brank.occurrences} == {"Hollis Brank"}
    assert brank.first.citation.date == "2019"
