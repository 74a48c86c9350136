"""Speaker identities across a collection, the speaker filter, `rag speakers`, and re-parsing stored
documents with a newer structure parser."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rag.store.speakers import SpeakerIndex, SpeakerRow, kind_of


def _row(speaker: str, passages: int = 5, first: str | None = "2018-01-01", last: str | None = None,
         roles: str | None = None) -> SpeakerRow:
    return SpeakerRow(speaker=speaker, roles=roles, passages=passages, documents=1, first=first,
                      last=last or first)


def _names(index: SpeakerIndex) -> dict[str, list[str]]:
    return {i.name: sorted(i.aliases) for i in index.identities}


def test_an_office_and_a_surname_join_the_full_name():
    index = SpeakerIndex([_row("Donald Trump", 40, "2017-12-18", "2019-09-25", "President"),
                          _row("President Trump", 12, "2018-02-24", roles="President"),
                          _row("Trump", 2, "2019-01-01"), _row("Mr Putin", 3, "2016-01-01"),
                          _row("Vladimir Putin", 300, "2013-03-04", "2020-01-11", "President of Russia")])
    assert _names(index) == {"Vladimir Putin": ["Mr Putin", "Vladimir Putin"],
                             "Donald Trump": ["Donald Trump", "President Trump", "Trump"]}
    assert index.canonical("President Trump") == "Donald Trump"
    assert index.identities[0].name == "Vladimir Putin" and index.identities[0].passages == 303


def test_near_spelling_joins_the_more_frequent_name():
    index = SpeakerIndex([_row("Angela Merkel", 13), _row("Angela Markel", 1), _row("Angela Marker", 1, "1990-01-01")])
    merkel = index.identity("Angela Markel")
    assert merkel is not None and merkel.name == "Angela Merkel"
    assert index.canonical("Angela Marker") == "Angela Marker"  # two letters away from "Merkel": not her


def test_surnames_join_only_where_dates_or_roles_agree():
    index = SpeakerIndex([_row("Howard K. Smith", 4, "1980-10-28"), _row("Minister Smith", 1, "2010-11-20",
                                                                          roles="Minister")])
    assert index.canonical("Minister Smith") == "Minister Smith"  # thirty years apart: two people
    bushes = SpeakerIndex([_row("George W. Bush", 10, "2001-02-01", "2008-12-01", "President"),
                           _row("George H. W. Bush", 10, "1989-02-01", "1992-12-01", "President"),
                           _row("Bush", 1, "1990-05-01")])
    assert bushes.canonical("George W. Bush") != bushes.canonical("George H. W. Bush")
    assert bushes.canonical("Bush") == "George H. W. Bush"  # only his years agree
    both = SpeakerIndex([_row("George W. Bush", 10, "2001-02-01", "2008-12-01"),
                         _row("George H. W. Bush", 10, "1989-02-01", "1992-12-01"), _row("Bush", 1, None)])
    assert both.canonical("Bush") == "Bush"  # undated: either could be meant, so neither


def test_middle_initial_and_offices_anonymous_and_groups():
    index = SpeakerIndex([_row("Donald A. Manzullo", 3), _row("Donald Manzullo", 1), _row("President", 4),
                          _row("Mr. Speaker", 2), _row("Senior Administration Official", 3),
                          _row("Hon. Members", 1), _row("Moderator", 1)])
    assert index.canonical("Donald Manzullo") == "Donald A. Manzullo"
    kinds = {i.name: i.kind for i in index.identities}
    assert kinds == {"Donald A. Manzullo": "person", "President": "office", "Mr. Speaker": "office",
                     "Senior Administration Official": "anonymous", "Hon. Members": "group",
                     "Moderator": "anonymous"}
    assert kind_of("Lord Thomas of Gresford") == "person"
    # an office spelt out with "of"/"for" is no person named "of State" (who would be in "head of state")
    assert kind_of("Acting Special Minister of State") == "office"
    assert kind_of("Minister for Foreign Affairs") == "office"
    assert kind_of("Secretary of State Hillary Clinton") == "person"


def test_filter_values_match_surnames_aliases_and_parts():
    index = SpeakerIndex([_row("Donald Trump", 40), _row("President Trump", 12), _row("Dana Whitfield", 9),
                          _row("Sergey Lavrov", 5), _row("Andrés Manuel López Obrador", 7)])
    assert [i.name for i in index.match("whitfield")] == ["Dana Whitfield"]
    assert [i.name for i in index.match("President Trump")] == ["Donald Trump"]
    assert [i.name for i in index.match("lopez obrador")] == ["Andrés Manuel López Obrador"]
    assert [i.name for i in index.match("lavr")] == ["Sergey Lavrov"]
    assert index.match("nobody") == []


BRIEFING = ("Press Briefing by Press Secretary Dana Whitfield\nMarch 3, 2025\n\n"
            "MS. WHITFIELD: Good afternoon. The reservoir programme will cost four billion over ten years.\n\n"
            "Q On the reservoirs, who pays for the repairs?\n\n"
            "MS. WHITFIELD: The national water authority pays for every repair of the old dams.\n")


@pytest.fixture()
def briefing_library(tmp_path, embedder):
    from rag.library import Library
    from rag.settings import Settings

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2025-03-03_briefing.txt").write_text(BRIEFING, encoding="utf-8")
    lib = Library(Settings(data_dir=tmp_path / "data", progress=False), embedder=embedder)
    lib.ingest([folder])
    yield lib, folder
    lib.close()


def test_press_secretary_found_by_surname_and_journalists_are_questions(briefing_library):
    lib, _ = briefing_library
    hits = lib.search("who pays for the dam repairs", speaker="whitfield", k=5)
    assert hits and {h.speaker for h in hits} == {"Dana Whitfield"}
    assert {h.role for h in hits} == {"Press Secretary"}
    everyone = lib.search("who pays for the dam repairs", k=10)
    questions = [h for h in everyone if h.text.startswith("On the reservoirs")]
    assert questions and all(h.is_question and h.speaker == "Question" for h in questions)
    people = lib.speakers()
    assert [p["speaker"] for p in people if p["kind"] == "person"] == ["Dana Whitfield"]
    assert people[0]["roles"] == ["Press Secretary"] and people[0]["first"] == "2025-03-03"


def test_rag_speakers_json(briefing_library, capsys):
    from rag.cli.commands import main

    lib, _ = briefing_library
    data_dir = str(lib.settings.data_dir)
    lib.close()
    assert main(["speakers", "--json", "--data-dir", data_dir]) == 0
    people = json.loads(capsys.readouterr().out)
    assert people[0]["speaker"] == "Dana Whitfield" and people[0]["aliases"] == ["Dana Whitfield"]
    assert main(["search", "repairs", "--speaker", "nobody-like-this", "--data-dir", data_dir]) == 2
    assert "rag speakers" in capsys.readouterr().err


def _age_the_store(path: Path) -> None:
    """Make the stored briefing look parsed by the old parser: speakers as it read them."""
    conn = sqlite3.connect(path)
    (turns_json,) = conn.execute("SELECT turns FROM documents").fetchone()
    turns = json.loads(turns_json)
    for turn in turns:
        turn.pop("role", None)
        if turn["label"] and turn["label"].startswith("MS."):
            turn["speaker"] = "Ms. Whitfield"
    # the old parser's hash covered its own structure, so it differs from the new parse's
    conn.execute("UPDATE documents SET turns = ?, parser = '', source_meta = '{}', content_hash = 'old-parser'",
                 (json.dumps(turns),))
    conn.execute("UPDATE chunks SET speaker = 'Ms. Whitfield', role = NULL WHERE is_question = 0")
    conn.execute("UPDATE sources SET parser = ''")
    conn.commit()
    conn.close()


def test_reindex_parses_stored_documents_again(briefing_library):
    lib, _ = briefing_library
    before = lib.document(lib.store.doc_ids()[0])
    path = lib.settings.store_path
    _age_the_store(path)
    assert lib.stats()["outdated_structure"]["documents"] == 1
    assert [p["speaker"] for p in lib.speakers()] == ["Ms. Whitfield"]
    chunks = lib.reindex()
    after = lib.document(before.doc_id)
    assert chunks > 0 and after.text == before.text  # nothing of the stored text is lost
    assert [(t.speaker, t.role) for t in after.turns if not t.is_question] == [
        ("Dana Whitfield", "Press Secretary"), ("Dana Whitfield", "Press Secretary")]
    assert "outdated_structure" not in lib.stats()
    assert lib.check().ok


def test_ingest_reads_a_file_again_when_the_parser_changed(briefing_library):
    lib, folder = briefing_library
    _age_the_store(lib.settings.store_path)
    report = lib.ingest([folder])
    assert report.changed == 1 and report.unchanged == 0  # the file did not change; the parser did
    assert [p["speaker"] for p in lib.speakers() if p["kind"] == "person"] == ["Dana Whitfield"]
    again = lib.ingest([folder])
    assert again.unchanged == 1 and again.chunks == 0
