"""Quote export: records from citations, the four formats read back by real parsers (rispy,
bibtexparser, citeproc-py, markdown-it), and `rag ask --export` end to end on the sample."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from html import unescape
from pathlib import Path

import pytest

from ingest.models import Document, Turn
from rag.answer.answers import Answer, Citation
from rag.answer.export import (FORMATS, QuoteRecord, export, person_name, quote_kind, record_id, records,
                        to_bibtex, to_csl_json, to_markdown, to_record, to_ris)

# the item types Zotero's "CSL JSON" import translator accepts (detectImport in zotero/translators)
ZOTERO_CSL_TYPES = {"article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
                    "broadcast", "chapter", "dataset", "entry", "entry-dictionary", "entry-encyclopedia",
                    "figure", "graphic", "interview", "legal_case", "legislation", "manuscript", "map",
                    "motion_picture", "musical_score", "pamphlet", "paper-conference", "patent",
                    "personal_communication", "post", "post-weblog", "report", "review", "review-book",
                    "song", "speech", "thesis", "treaty", "webpage"}
CSL_NAME_KEYS = {"family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal"}

TRICKY = ('He said "no" to {braces}, 50% & $3 #tag_1 ~ ^ \\ back — “curly” and «guillemets» in Ærø, '
          "Erdoğan’s *stars* and [brackets] <b>tags</b> &amp; `ticks` | pipes.\n\nA second paragraph.")


def _cit(n: int, quote: str, speaker: str, date: str = "", doc_id: str = "doc-1", start: int = 0,
         title: str = "Remarks", place: str = "", url: str = "", page: int | None = None,
         role: str | None = None) -> Citation:
    c = Citation(n=n, doc_id=doc_id, title=title, speaker=speaker, date=date, place=place, source_url=url,
                 page=page, quote=quote, char_start=start, char_end=start + len(quote),
                 attribution=f"“{quote[:20]}…,” {speaker} said.")
    if role is not None:
        c.role = role  # type: ignore[attr-defined]  # Citation.role, as the lead adds it
    return c


CITATIONS = [
    _cit(1, TRICKY, "Sergey Lavrov", "2023-05-17", "lavrov-osce", 120, "Remarks & answers at 100% {x}_y",
         "Moscow", "https://www.mid.ru/en/press?id=1&lang=en_GB", role="Minister of Foreign Affairs"),
    _cit(2, "Peace is possible.", "Ministry of Foreign Affairs", "1995", "mfa-1995"),
    _cit(3, "Wir schaffen das.", "Ursula von der Leyen", "2021-03", "vdl", 5, "Statement", "Brussels", page=3),
    _cit(4, "We will prevail.", "", "", "anon", 9, ""),
    _cit(5, "I have a dream.", "Martin Luther King Jr.", "1963-08-28", "mlk", 0, "Speech at the March",
         "Washington", "https://example.org/dream"),
    _cit(6, "Türkiye is ready.", "Recep Tayyip Erdoğan", "2021-07-02", "rte", 0, "Interview to X", "Ankara"),
]
DOCS = {
    "lavrov-osce": Document("lavrov-osce", "x", "a.txt", "txt", doc_type="Joint news conference"),
    "mfa-1995": Document("mfa-1995", "x", "b.txt", "txt", doc_type="Statement"),
    "vdl": Document("vdl", "x", "c.txt", "txt", doc_type=None,
                    turns=[Turn(0, "Question", "Question", True, 0, 1), Turn(1, "X", "X", False, 1, 2)]),
    "anon": Document("anon", "x", "d.txt", "txt", doc_type=None),
    "mlk": Document("mlk", "x", "e.txt", "txt", doc_type="Speech"),
    "rte": Document("rte", "x", "f.txt", "txt", doc_type="Interview"),
}


@pytest.fixture()
def recs() -> list[QuoteRecord]:
    return records(Answer("q", "text", list(CITATIONS)), DOCS.get)


# -- records ------------------------------------------------------------------------------------
def test_names_of_people_organisations_and_unknown_speakers() -> None:
    assert person_name("Sergey Lavrov") == {"family": "Lavrov", "given": "Sergey"}
    assert person_name("Recep Tayyip Erdoğan") == {"family": "Erdoğan", "given": "Recep Tayyip"}
    assert person_name("Ursula von der Leyen") == {"family": "von der Leyen", "given": "Ursula"}
    assert person_name("Martin Luther King Jr.") == {"family": "King", "given": "Martin Luther", "suffix": "Jr."}
    assert person_name("Putin") == {"family": "Putin"}
    for org in ("Ministry of Foreign Affairs", "Government of Australia", "Prime Minister",
                "Press Service of the President", "Russian Federation"):
        assert person_name(org) == {"literal": org}
    assert person_name("unknown") == {"literal": "unknown"} and person_name("") == {"literal": "unknown"}


def test_ids_are_stable_unique_and_ascii(recs) -> None:
    assert [r.id for r in recs] == [r.id for r in records(Answer("q", "t", list(CITATIONS)), DOCS.get)]
    assert len({r.id for r in recs}) == len(recs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[0-9a-f]{6})(-\d+)?", r.id) for r in recs), [r.id for r in recs]
    assert recs[0].id.startswith("lavrov2023-") and recs[5].id.startswith("erdogan2021-")
    assert recs[3].id.startswith("unknownnd-") and recs[1].id.startswith("ministry1995-")
    assert record_id("Sergey Lavrov", "2023", "d", 1, 5) != record_id("Sergey Lavrov", "2023", "d", 1, 6)
    twice = records(Answer("q", "t", [CITATIONS[1], CITATIONS[1]]), DOCS.get)
    assert twice[0].id != twice[1].id and twice[1].id == twice[0].id + "-2"


def test_records_carry_speaker_role_and_span(recs) -> None:
    first = recs[0]
    assert (first.speaker, first.role, first.date, first.place) == (
        "Sergey Lavrov", "Minister of Foreign Affairs", "2023-05-17", "Moscow")
    assert (first.doc_id, first.char_start, first.char_end) == ("lavrov-osce", 120, 120 + len(TRICKY))
    assert first.quote == TRICKY and first.span == f"lavrov-osce, chars 120-{120 + len(TRICKY)}"
    assert recs[2].span == "vdl, chars 5-22, p. 3" and recs[2].role is None
    assert recs[3].speaker == "unknown" and recs[3].title == "anon"  # no title: the document id


def test_a_citation_without_a_role_takes_the_role_of_its_turn() -> None:
    text = "Q: Your view? A: We shall see. Later remarks."
    start, later_start = text.index("We shall"), text.index("Later")
    doc = Document("d", text, "a.txt", "txt", doc_type="Press conference",
                   turns=[Turn(0, "Question", "Question", True, 0, 13, None),
                          Turn(1, "Sergey Lavrov", "Lavrov", False, start, later_start - 1, "Foreign Minister"),
                          Turn(2, "Sergey Lavrov", "Lavrov", False, later_start, len(text), None)])
    said = Citation(n=1, doc_id="d", title="t", speaker="Sergey Lavrov", date="2023", place="", source_url="",
                    page=None, quote="We shall see.", char_start=start, char_end=later_start - 1, attribution="a")
    assert text[said.char_start:said.char_end] == "We shall see."
    assert to_record(said, doc).role == "Foreign Minister"
    later = Citation(**{**said.__dict__, "quote": "Later remarks.", "char_start": later_start, "char_end": len(text)})
    assert to_record(later, doc).role is None  # the turn names no role
    across = Citation(**{**said.__dict__, "char_start": start, "char_end": len(text)})
    assert to_record(across, doc).role is None and to_record(said, None).role is None


def test_speech_or_interview_by_document_type() -> None:
    kinds = {r.doc_id: r.kind for r in records(Answer("q", "t", list(CITATIONS)), DOCS.get)}
    assert kinds == {"lavrov-osce": "interview", "mfa-1995": "speech", "vdl": "interview", "anon": "speech",
                     "mlk": "speech", "rte": "interview"}
    assert quote_kind(None) == "speech"
    for doc_type in ("Press conference", "News conference", "Doorstop", "Briefing", "interview"):
        assert quote_kind(Document("d", "x", "p", "txt", doc_type=doc_type)) == "interview"
    for doc_type in ("Address", "Remarks", "Statement", "Speech"):  # a speech stays one despite questions
        assert quote_kind(Document("d", "x", "p", "txt", doc_type=doc_type, turns=DOCS["vdl"].turns)) == "speech"


def test_an_abstained_answer_exports_nothing() -> None:
    nothing = records(Answer("q", "The indexed statements don't answer this.", abstained=True), DOCS.get)
    assert nothing == []
    assert json.loads(export("csl-json", nothing)) == []
    assert export("ris", nothing) == export("bibtex", nothing) == export("markdown", nothing) == ""
    with pytest.raises(ValueError, match="csl-json, ris, bibtex, markdown"):
        export("endnote", nothing)


# -- CSL-JSON -----------------------------------------------------------------------------------
def test_csl_json_items(recs) -> None:
    items = json.loads(to_csl_json(recs))
    assert isinstance(items, list) and len(items) == len(recs)
    for item, r in zip(items, recs):
        assert item["type"] in ZOTERO_CSL_TYPES and item["type"] == r.kind
        assert item["id"] == r.id and item["title"] == r.title
        assert all(set(name) <= CSL_NAME_KEYS and name for name in item["author"])
        assert item["note"].startswith(r.quote) and item["note"].endswith(f"Source: {r.span}.")
        assert item["custom"] == {"doc_id": r.doc_id, "char_start": r.char_start, "char_end": r.char_end,
                                  "page": r.page, "speaker": r.speaker, "role": r.role,
                                  "attribution": r.attribution}
    lavrov, mfa, vdl, anon = items[:4]
    assert lavrov["issued"] == {"date-parts": [[2023, 5, 17]]} and lavrov["author"] == [
        {"family": "Lavrov", "given": "Sergey"}]
    assert lavrov["publisher-place"] == "Moscow" and lavrov["URL"].endswith("lang=en_GB")
    assert "Said by Sergey Lavrov, Minister of Foreign Affairs." in lavrov["note"]
    assert lavrov["genre"] == "Joint news conference" and lavrov["type"] == "interview"
    assert mfa["issued"] == {"date-parts": [[1995]]} and mfa["author"] == [{"literal": "Ministry of Foreign Affairs"}]
    assert vdl["issued"] == {"date-parts": [[2021, 3]]}
    assert "issued" not in anon and anon["author"] == [{"literal": "unknown"}] and "URL" not in anon


def _citeproc_bibliography(csl_json: str) -> list[str]:
    from citeproc import Citation as CiteprocCitation
    from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    items = json.loads(csl_json)
    with warnings.catch_warnings():  # citeproc-py warns that it does not use "custom": true, it is ours
        warnings.filterwarnings("ignore", message=".*unsupported: custom")
        source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for item in items:
        bibliography.register(CiteprocCitation([CitationItem(item["id"])]))
    return [str(entry) for entry in bibliography.bibliography()]


def test_csl_json_renders_with_citeproc(recs) -> None:
    entries = _citeproc_bibliography(to_csl_json(recs))
    assert len(entries) == len(recs)
    assert entries == [  # harvard-cite-them-right prints the day of a speech, not of an interview
        "Lavrov, S. (2023) “Remarks & answers at 100% {x}_y”. Moscow. Available at: "
        "https://www.mid.ru/en/press?id=1&lang=en_GB.",
        "Ministry of Foreign Affairs (1995) “Remarks”.",
        "von der Leyen, U. (2021) “Statement”. Brussels.",
        "unknown (no date) “anon”.",
        "King, M.L., Jr. (1963) “Speech at the March”. Washington, 28 August. Available at: "
        "https://example.org/dream.",
        "Erdoğan, R.T. (2021) “Interview to X”. Ankara.",
    ]


# -- RIS ----------------------------------------------------------------------------------------
def test_ris_reads_back_with_rispy(recs) -> None:
    import rispy

    text = to_ris(recs)
    entries = rispy.loads(text)
    assert len(entries) == len(recs)
    for entry, r in zip(entries, recs):
        assert entry["type_of_reference"] == "SLIDE" and entry["id"] == r.id
        assert entry["notes"][0] == " ".join(r.quote.split())
        assert entry["notes"][1].endswith(f"Source: {r.span}.")
        assert entry["title"] == r.title
    lavrov, mfa, vdl, anon = entries[:4]
    assert lavrov["authors"] == ["Lavrov, Sergey"] and lavrov["date"] == "2023/05/17/" and lavrov["year"] == "2023"
    assert lavrov["place_published"] == "Moscow" and lavrov["urls"] == ["https://www.mid.ru/en/press?id=1&lang=en_GB"]
    assert lavrov["type_of_work"] == "Joint news conference"
    assert "Minister of Foreign Affairs" in lavrov["notes"][1]
    assert mfa["authors"] == ["Ministry of Foreign Affairs"] and mfa["date"] == "1995///"
    assert vdl["authors"] == ["von der Leyen, Ursula"] and vdl["date"] == "2021/03//"
    assert anon["authors"] == ["unknown"] and "date" not in anon and "year" not in anon
    assert entries[4]["authors"] == ["King, Martin Luther, Jr."]
    assert all(len(line) == 0 or re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in text.splitlines())


# -- BibTeX -------------------------------------------------------------------------------------
def test_bibtex_escapes_and_reads_back_with_bibtexparser(recs) -> None:
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    text = to_bibtex(recs)
    assert "Ærø" in text and "Erdoğan" in text and "\\AE" not in text  # UTF-8 kept as it is
    for raw, escaped in (("50%", r"50\%"), ("& $3 #tag_1", r"\& \$3 \#tag\_1"), ("{braces}", r"\{braces\}"),
                         ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"), ("\\ back", r"\textbackslash{} back")):
        assert escaped in text, raw
    raw = bibtexparser.parse_string(text)
    assert not raw.failed_blocks and len(raw.entries) == len(recs)
    assert [e.key for e in raw.entries] == [r.id for r in recs]
    assert all(e.entry_type == "misc" for e in raw.entries)
    assert raw.entries[0]["url"] == "https://www.mid.ru/en/press?id=1&lang=en_GB"
    assert raw.entries[1]["author"] == "{Ministry of Foreign Affairs}"

    decoded = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    by_key = {e.key: {f.key: f.value for f in e.fields} for e in decoded.entries}
    for r in recs:
        fields = by_key[r.id]
        # pylatexenc renders \textasciicircum as U+02C6 (the spacing circumflex); LaTeX prints "^"
        note = fields["note"].replace("\u02c6", "^")
        assert note == f"“{' '.join(r.quote.split())}” Said by {r.who}. Source: {r.span}."
        assert fields["title"] == r.title
    lavrov = by_key[recs[0].id]
    assert (lavrov["author"], lavrov["year"], lavrov["month"], lavrov["date"]) == (
        "Lavrov, Sergey", "2023", "5", "2023-05-17")
    assert lavrov["howpublished"] == "Joint news conference, Moscow, 17 May 2023"
    assert by_key[recs[4].id]["author"] == "King, Jr., Martin Luther"
    assert "year" not in by_key[recs[3].id] and by_key[recs[3].id]["author"] == "unknown"


# -- Markdown -----------------------------------------------------------------------------------
def test_markdown_shows_each_quote_as_written(recs) -> None:
    from markdown_it import MarkdownIt

    text = to_markdown(recs)
    html = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(text)
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S)
    assert len(quotes) == len(recs)
    for body, r in zip(quotes, recs):
        assert not re.search(r"<(em|strong|code|a|b|s|del|table)\b", body), body
        paragraphs = [unescape(p).strip() for p in re.findall(r"<p>(.*?)</p>", body, re.S)]
        assert paragraphs == [" ".join(p.split()) for p in r.quote.split("\n\n")]
    assert '<a href="https://www.mid.ru/en/press?id=1&amp;lang=en_GB">Remarks &amp; answers at 100% {x}_y</a>' in html
    assert "— Sergey Lavrov, Minister of Foreign Affairs, at a joint news conference in Moscow on 17 May 2023." in text
    assert f"<code>{recs[0].span}</code>" in html
    assert "— unknown. *anon*" in text


# -- the command line, end to end -----------------------------------------------------------------
QUESTION = "What did Lavrov say about the OSCE?"


@pytest.fixture(scope="module")
def data_dir(sample_library, tmp_path_factory) -> Path:
    """A copy of the session's ingested sample (the session's Library keeps its own index open)."""
    sample_library.vectors.flush()
    target = tmp_path_factory.mktemp("export") / "data"
    shutil.copytree(sample_library.settings.data_dir, target)
    return target


def _ask(data_dir: Path, *extra: str, question: str = QUESTION) -> list[str]:
    return ["ask", question, "--data-dir", str(data_dir), *extra]


def test_cli_exports_a_real_answer_in_every_format(data_dir, sample_library, tmp_path, capsys) -> None:
    import bibtexparser
    import rispy

    from rag.cli.commands import main

    expected = sample_library.ask(QUESTION)
    assert expected.citations
    spans = [(c.doc_id, c.char_start, c.char_end) for c in expected.citations]

    assert main(_ask(data_dir, "--export", "csl-json")) == 0
    captured = capsys.readouterr()
    items = json.loads(captured.out)  # stdout holds the export alone
    assert [(i["custom"]["doc_id"], i["custom"]["char_start"], i["custom"]["char_end"]) for i in items] == spans
    for item, c in zip(items, expected.citations):
        doc = sample_library.document(c.doc_id)
        assert doc.text[item["custom"]["char_start"]:item["custom"]["char_end"]] == c.quote
        assert item["note"].startswith(c.quote) and item["author"] == [person_name(c.speaker or "unknown")]
        turn = next(t for t in doc.turns if t.char_start <= c.char_start and c.char_end <= t.char_end)
        assert turn.role and item["custom"]["role"] == turn.role  # the office the document gives the speaker
    assert len(_citeproc_bibliography(captured.out)) == len(items)

    outputs = {fmt: tmp_path / f"quotes{suffix}" for fmt, suffix in (("ris", ".ris"), ("bibtex", ".bib"),
                                                                       ("markdown", ".md"))}
    for fmt, path in outputs.items():
        assert main(_ask(data_dir, "--export", fmt, "--out", str(path))) == 0
        captured = capsys.readouterr()
        assert f"wrote {len(spans)} quote" in captured.err and str(path) in captured.err
        assert captured.out.startswith(expected.text.splitlines()[0])  # the answer is printed as usual
    ris = rispy.loads(outputs["ris"].read_text(encoding="utf-8"))
    assert [e["notes"][0] for e in ris] == [" ".join(c.quote.split()) for c in expected.citations]
    bib = bibtexparser.parse_string(outputs["bibtex"].read_text(encoding="utf-8"))
    assert not bib.failed_blocks and [e.key for e in bib.entries] == [i["id"] for i in items]
    markdown = outputs["markdown"].read_text(encoding="utf-8")
    assert markdown.count("\n> ") + markdown.startswith("> ") >= len(spans)
    assert all(f"{d}, chars {s}-{e}" in markdown for d, s, e in spans)


def test_cli_export_of_an_abstention_and_bad_flags(data_dir, tmp_path, capsys) -> None:
    from rag.cli.commands import main

    out = tmp_path / "none.json"
    assert main(_ask(data_dir, "--export", "csl-json", "--out", str(out),
                     question="What is the boiling point of mercury?")) == 0
    assert json.loads(out.read_text()) == [] and "nothing to export" in capsys.readouterr().err
    assert main(_ask(data_dir, "--export", "ris", question="How do I bake sourdough bread at home?")) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing to export" in captured.err

    with pytest.raises(SystemExit) as exc:  # at once, before the library is opened
        main(_ask(data_dir, "--out", str(tmp_path / "x.ris")))
    assert exc.value.code == 2 and "add --export" in capsys.readouterr().err
    assert main(_ask(data_dir, "--export", "ris", "--out", str(tmp_path / "missing" / "x.ris"))) == 2
    assert "no folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(_ask(data_dir, "--export", "endnote"))
    assert exc.value.code == 2 and "invalid choice: 'endnote'" in capsys.readouterr().err


def test_cli_and_module_agree_on_the_formats() -> None:
    from rag.cli.commands import EXPORT_FORMATS

    assert EXPORT_FORMATS == FORMATS
