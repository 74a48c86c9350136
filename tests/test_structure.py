"""Structure recovery: furniture, header metadata, speaker turns and names, on real excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.models import RawDocument
from ingest.structure import furniture_bounds, make_doc_id, parse_date, parse_document, speaker_from_title
from ingest.turns import find_labels, is_label, normalise_person, read_label

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed_lavrov_2023-05-17.txt"
SEED_TITLE = (
    "Foreign Minister Sergey Lavrov's remarks and answers to media questions during a joint news "
    "conference with Foreign Minister of Belarus Sergey Aleinik following their talks, Moscow, May 17, 2023"
)


def _raw_record(name: str) -> RawDocument:
    record = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    text = record.pop("text")
    return RawDocument(text=text, source_path=f"corpus/{name}", origin=f"{name}:1", format="jsonl", metadata=record)


def _body(doc, turn) -> str:
    return doc.text[turn.char_start : turn.char_end]


@pytest.fixture(scope="module")
def seed_raw() -> RawDocument:
    return RawDocument(text=SEED.read_text(encoding="utf-8"), source_path=str(SEED), origin=SEED.name, format="txt")


@pytest.fixture(scope="module")
def seed(seed_raw):
    return parse_document(seed_raw)


# --- the seed: a GlobalSecurity.org republication of an MFA Russia transcript ----------------
def test_seed_metadata(seed):
    assert seed.title == SEED_TITLE
    assert seed.date == "2023-05-17"
    assert seed.place == "Moscow"
    assert seed.organisation == "The Ministry of Foreign Affairs of the Russian Federation"
    assert seed.doc_number == "943-17-05-2023"
    assert seed.doc_type == "Joint news conference"
    assert seed.speakers == ["Sergey Lavrov"]


def test_seed_furniture_removed_and_text_kept_verbatim(seed, seed_raw):
    for furniture in ("UNITED24", "charitable donation", "Weapons of Mass Destruction", "NEWSLETTER",
                      "GlobalSecurity.org", "mailing list"):
        assert furniture not in seed.text
    assert seed.text.startswith("The Ministry of Foreign Affairs of the Russian Federation\n")
    assert seed.text.endswith("as has happened in American history before.")
    assert seed.text in seed_raw.text  # byte-identical, not reflowed


def test_seed_turns(seed):
    turns = seed.turns
    assert len(turns) == 7
    assert [(t.speaker, t.is_question) for t in turns] == [
        ("Sergey Lavrov", False), ("Question", True), ("Sergey Lavrov", False), ("Question", True),
        ("Sergey Lavrov", False), ("Question", True), ("Sergey Lavrov", False),
    ]
    assert turns[0].label is None
    assert turns[4].label == "Sergey Lavrov (speaking after Sergey Aleinik)"
    assert [t.index for t in turns] == list(range(7))


def test_seed_turn_bodies(seed):
    opening = _body(seed, seed.turns[0])
    assert opening.startswith("Colleagues.\n\nI am happy to welcome Sergey Aleinik to Moscow.")
    assert opening.endswith("scheduled for next autumn.")
    for header_part in ("Ministry of Foreign Affairs", "17:03", "943-17-05-2023", "remarks and answers"):
        assert header_part not in opening
    assert _body(seed, seed.turns[1]).startswith("Russia and Belarus are under pressure")
    assert _body(seed, seed.turns[4]).startswith("Mr Aleinik mentioned our efforts")
    for turn in seed.turns:
        body = _body(seed, turn)
        assert body == body.strip() and body
        assert not body.startswith(("Question:", "Sergey Lavrov"))


def test_seed_doc_id_is_stable(seed_raw):
    first = make_doc_id(seed_raw)
    assert first == make_doc_id(RawDocument(**vars(seed_raw)))
    assert first.startswith("seed-lavrov-2023-05-17-") and len(first.rsplit("-", 1)[1]) == 8


# --- a real Kremlin transcript and a real PM press conference ---------------------------------
def test_kremlin_press_statements():
    doc = parse_document(_raw_record("kremlin_press_statements_54267.json"))
    assert doc.doc_id == "kremlin-en-54267"
    assert doc.title == "Press statements following a meeting with President of Italy Sergio Mattarella"
    assert (doc.date, doc.place) == ("2017-04-11", "The Kremlin, Moscow")
    assert doc.doc_type == "Press statements"
    assert doc.source_url == "http://en.kremlin.ru/events/president/news/54267"
    assert doc.extra["categories"] == "News ,Transcripts ,President"
    assert doc.extra["kremlin_id"] == 54267
    assert [(t.speaker, t.is_question) for t in doc.turns] == [
        ("Vladimir Putin", False), ("Sergio Mattarella", False), ("Question", True), ("Vladimir Putin", False),
    ]
    assert doc.turns[1].label == "President of Italy Sergio Mattarella (retranslated)"
    assert doc.speakers == ["Vladimir Putin", "Sergio Mattarella"]
    assert _body(doc, doc.turns[0]).startswith("Mr President, ladies and gentlemen")


def test_pm_press_conference():
    doc = parse_document(_raw_record("pm_press_conference_17602.json"))
    assert doc.doc_id == "pmt-17602"
    assert (doc.title, doc.date) == ("Transcript of press conference, Townsville", "2011-01-15")
    assert doc.doc_type == "Press conference"
    labels = [(t.label, t.speaker, t.is_question) for t in doc.turns]
    assert labels[:3] == [("PM", "Julia Gillard", False), ("JOURNALIST", "Journalist", True),
                          ("PM", "Julia Gillard", False)]
    assert len(labels) == 7
    assert doc.speakers == ["Julia Gillard"]
    assert doc.extra["release_type"] == "Interview"
    assert "subjects" not in doc.extra  # empty values are dropped


def test_interview_host_named_in_title_asks_the_questions():
    text = (
        "KERRY O'BRIEN: Julia Gillard, did you forge a genuine friendship?\n\n"
        "JULIA GILLARD: Kerry, we worked closely together.\n\n"
        "O'BRIEN: But how close did you become?\n\n"
        "PRIME MINISTER: Very close, and that is the truth.\n"
    )
    raw = RawDocument(text=text, source_path="pm.jsonl", origin="pm.jsonl:1", format="jsonl",
                      metadata={"id": "pmt-1", "title": "Interview with Kerry O’Brien, 7.30 Report",
                                "speaker": "Gillard, Julia", "release_type": "Interview"})
    doc = parse_document(raw)
    assert [(t.speaker, t.is_question) for t in doc.turns] == [
        ("Kerry O'Brien", True), ("Julia Gillard", False), ("Kerry O'Brien", True), ("Julia Gillard", False),
    ]
    assert doc.speakers == ["Julia Gillard"] and doc.doc_type == "Interview"


def test_opening_speaker_from_source_when_title_names_nobody():
    raw = RawDocument(text="Canberra\n\nToday I announce a new fund.\n\n[ENDS]", source_path="x.jsonl",
                      origin="x.jsonl:3", format="jsonl",
                      metadata={"id": "pmt-2", "title": "New fund", "speaker": "Abbott, Tony",
                                "release_type": "Media Release", "year": 2014})
    doc = parse_document(raw)
    assert doc.text == "Canberra\n\nToday I announce a new fund."
    assert doc.place == "Canberra" and doc.date == "2014" and doc.extra["year"] == 2014
    assert [(t.speaker, _body(doc, t)) for t in doc.turns] == [("Tony Abbott", "Today I announce a new fund.")]
    assert doc.doc_type == "Media release"


# --- labels and names ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "speaker", "is_question"),
    [
        ("Question", "Question", True),
        ("Question (retranslated)", "Question", True),
        ("QUESTION", "Question", True),
        ("JOURNALIST", "Journalist", True),
        ("HOST", "Host", True),
        ("CALLER", "Caller", True),
        ("Remark", "Remark", True),
        ("Sergey Lavrov", "Sergey Lavrov", False),
        ("Sergey Lavrov (speaking after Sergey Aleinik)", "Sergey Lavrov", False),
        ("President of Russia Vladimir Putin", "Vladimir Putin", False),
        ("Prime Minister Dmitry Medvedev", "Dmitry Medvedev", False),
        ("VladimirPutin", "Vladimir Putin", False),
        ("KERRY O'BRIEN", "Kerry O'Brien", False),
        ("EDDIE MCGUIRE", "Eddie McGuire", False),
        ("MINISTER CONROY", "Minister Conroy", False),
        ("President of the People’s Republic of China Xi Jinping (retranslated)", "Xi Jinping", False),
        ("President of Turkey Recep Tayyip Erdogan (retranslated)", "Recep Tayyip Erdogan", False),
        ("Federal President of Austria Alexander Van der Bellen", "Alexander Van der Bellen", False),
        ("Minister of Construction, Housing and Utilities Mikhail Men", "Mikhail Men", False),
        ("BRONWYN TAHA, LABOR CANDIDATE FOR DAWSON", "Bronwyn Taha", False),
        ("President of Syria Bashar al-Assad (retranslated)", "Bashar al-Assad", False),
        ("AIR MARSHAL GEOFF BROWN AO", "Geoff Brown", False),
    ],
)
def test_labels_are_read_and_normalised(label, speaker, is_question):
    assert is_label(label)
    info = read_label(label)
    assert (info.speaker, info.is_question) == (speaker, is_question)


@pytest.mark.parametrize(
    "not_a_label",
    ["The answer is simple", "Note", "One more thing", "My question is", "Here is my question",
     "I would like to emphasise once again", "SUBJECTS", "Stage 2", "Canada", "To the Senate and House of Representatives",
     "My fellow Americans", "The message reads, in part", "Mr. President, Mr. Speaker, Members of the Congress",
     "Text of the Decree", "Key points", "Turning to the Far East"],
)
def test_prose_before_a_colon_is_not_a_label(not_a_label):
    assert not is_label(not_a_label)


def test_colon_sentences_do_not_split_turns():
    text = (
        "Vladimir Putin: The answer is simple: we will not do it.\n"
        "Note: this was said twice.\n\n"
        "One more thing: it is important to prevent illness.\n\n"
        "The message reads, in part:\n\n\"Dear friends, ...\"\n\n"
        "At 10:30 we met. Ratio 3:1 was agreed.\n\n"
        "Question: And what about the OSCE?\n\n"
        "Vladimir Putin: Nothing new: it is a dead end."
    )
    doc = parse_document(RawDocument(text=text, source_path="t.txt", origin="t.txt", format="txt"))
    assert [(t.speaker, t.is_question) for t in doc.turns] == [
        ("Vladimir Putin", False), ("Question", True), ("Vladimir Putin", False),
    ]
    assert _body(doc, doc.turns[0]).endswith("Ratio 3:1 was agreed.")
    assert [label.label for label in find_labels(text)] == ["Vladimir Putin", "Question", "Vladimir Putin"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Abbott, Tony", "Tony Abbott"), ("Gillard, Julia", "Julia Gillard"), ("KERRY O'BRIEN", "Kerry O'Brien"),
     ("Mr. Mohammad Ashraf Ghani Ahmadzai", "Mohammad Ashraf Ghani Ahmadzai"),
     ("George Washington", "George Washington"),
     ("Executive Office of the President, Office of Management and Budget",
      "Executive Office of the President, Office of Management and Budget")],
)
def test_normalise_person(name, expected):
    assert normalise_person(name) == expected


def test_speaker_from_title():
    assert speaker_from_title(SEED_TITLE) == "Sergey Lavrov"
    assert speaker_from_title("Vladimir Putin’s annual news conference") == "Vladimir Putin"
    assert speaker_from_title("Statement by President of Russia Vladimir Putin on Russia’s proposal") == "Vladimir Putin"
    assert speaker_from_title("Meeting with President of Kyrgyzstan Almazbek Atambayev") is None
    assert speaker_from_title("Russia's position on the OSCE") is None
    assert speaker_from_title("Statement of Administration Policy: H.R. 2410") is None
    assert speaker_from_title("News conference of Vladimir Putin") == "Vladimir Putin"


# --- dates, ids, furniture and pages -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "iso"),
    [("17 May 2023 17:03", "2023-05-17"), ("May 17, 2023", "2023-05-17"), ("2023-05-17", "2023-05-17"),
     ("Wednesday, 3 Sept. 2014", "2014-09-03"), ("no date here", None)],
)
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_doc_ids():
    def raw(metadata, path="/data/My Statement (final).txt", fmt="txt", origin="x"):
        return RawDocument(text="x", source_path=path, origin=origin, format=fmt, metadata=metadata)

    assert make_doc_id(raw({"id": "kremlin-en-54267"})) == "kremlin-en-54267"
    assert make_doc_id(raw({"_id": 4983})) == "4983"
    odd = make_doc_id(raw({"id": "Press release / 17 May"}))
    assert odd.startswith("press-release-17-may-") and odd == make_doc_id(raw({"id": "Press release / 17 May"}))
    plain = make_doc_id(raw({}))
    assert plain.startswith("my-statement-final-") and len(plain) == len("my-statement-final-") + 8
    long_stem = make_doc_id(raw({}, path="/d/" + "a" * 100 + ".txt"))
    assert len(long_stem.rsplit("-", 1)[0]) <= 48
    # a file is known by its path inside the ingested folder, whatever its content or location
    keyed = RawDocument(text="x", source_path="/a/b/s.txt", origin="s.txt", format="txt", key="b/s.txt")
    assert make_doc_id(keyed) == make_doc_id(RawDocument(text="edited", source_path="/z/b/s.txt",
                                                         origin="s.txt", format="txt", key="b/s.txt"))
    one = make_doc_id(RawDocument(text="a", source_path="c.jsonl", origin="c.jsonl:1", format="jsonl"))
    two = make_doc_id(RawDocument(text="b", source_path="c.jsonl", origin="c.jsonl:2", format="jsonl"))
    assert one != two


def test_furniture_only_at_the_edges():
    body = "Weapons of Mass Destruction (WMD) were discussed.\n\nNEWSLETTER is a word here too."
    assert furniture_bounds(body) == (0, len(body))
    assert furniture_bounds("   \n") == (0, 0)


def test_page_starts_follow_furniture_removal():
    page1 = "UNITED24 - Make a charitable donation in support of Ukraine!\n\nThe White House\n\nFirst page text.\n"
    page2 = "Second page text.\n\nNEWSLETTER\nJoin the GlobalSecurity.org mailing list"
    raw = RawDocument(text=page1 + page2, source_path="s.pdf", origin="s.pdf", format="pdf",
                      metadata={"title": "A statement", "pages": 2}, page_starts=[0, len(page1)])
    doc = parse_document(raw)
    assert doc.text.startswith("The White House") and doc.text.endswith("Second page text.")
    assert doc.text[doc.page_starts[1]:].startswith("Second page text.")
    assert doc.page_starts[0] == 0 and doc.extra["pages"] == 2
    assert doc.page_at(doc.text.index("Second")) == 2 and doc.page_at(doc.text.index("First")) == 1


def test_file_name_gives_date_title_and_source_when_the_text_does_not():
    from ingest.models import RawDocument
    from ingest.structure import parse_document

    raw = RawDocument(text="Thank you. Tonight I want to speak about Bosnia.\n", source_path="/x/miller/1995-11-27_address-bosnia.txt",
                      origin="1995-11-27_address-bosnia.txt", format="txt")
    doc = parse_document(raw)
    assert (doc.date, doc.title, doc.source) == ("1995-11-27", "Address bosnia", "miller")
    page = RawDocument(text="Vladimir Putin: Good afternoon.\n", source_path="/x/html/p.html", origin="p.html",
                       format="html", metadata={"source_url": "http://en.kremlin.ru/events/president/news/1"})
    assert parse_document(page).source == "en.kremlin.ru"
    record = RawDocument(text="Some text.", source_path="/x/c/2001-01-01_x.jsonl", origin="c.jsonl:1",
                         format="jsonl", metadata={"id": "r1"})
    assert parse_document(record).date is None


def test_the_president_label_starts_an_answer_turn():
    from ingest.models import RawDocument
    from ingest.structure import parse_document

    text = ("The President: How do you do? I have a brief opening statement.\n\n"
            "Q: Mr. President, will you lift the grain embargo?\n\n"
            "The President: Well, with the grain embargo, my quarrel with it was the farmers.\n\n"
            "The answer is simple: we wait.\n")
    doc = parse_document(RawDocument(text=text, source_path="/x/p.txt", origin="p.txt", format="txt"))
    got = [(t.speaker, t.is_question) for t in doc.turns]
    assert got == [("President", False), ("Question", True), ("President", False)]
    assert doc.text[doc.turns[2].char_start:doc.turns[2].char_end].endswith("we wait.")


def test_role_label_takes_the_name_given_once_in_full():
    from ingest.models import RawDocument
    from ingest.structure import parse_document

    text = ("PRIME MINISTER:\n\nGood afternoon.\n\n"
            "MINISTER FOR FOREIGN AFFAIRS, THE HONOURABLE JULIE BISHOP MP:\n\nThank you.\n\n"
            "JOURNALIST:\n\nMinister, what next?\n\nMINISTER FOR FOREIGN AFFAIRS:\n\nWe will respond.\n\n"
            "PRESIDENT TRUMP:\n\nThank you, Melania Trump is here.\n")
    doc = parse_document(RawDocument(text=text, source_path="pm.jsonl", origin="pm.jsonl:1", format="jsonl",
                                     metadata={"speaker": "Turnbull, Malcolm"}))
    assert [t.speaker for t in doc.turns] == ["Malcolm Turnbull", "Julie Bishop", "Journalist", "Julie Bishop",
                                              "President Trump"]
