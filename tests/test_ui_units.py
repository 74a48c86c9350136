"""The web page's pieces without a server: upload checks, HTML escaping, highlighting, the timeline."""

from __future__ import annotations

import gzip
import re
from html import unescape
from pathlib import Path

import pytest

from ingest.models import Document, Turn
from rag.answer.answers import Answer, Citation
from rag.index.nodes import Hit
from ui import views
from ui.handlers import user_message
from ui.timeline import plot_frame, timeline_rows, within, yearly_frame
from ui.uploads import UploadRejected, accept, allowed_suffix, safe_name


# -- uploads -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
    ("/abs/path/statement.md", "statement.md"),
    ("a..b..txt", "a.b.txt"),
    ("..", "upload"),
    ("", "upload"),
    ("...hidden.txt", "hidden.txt"),
    ("bad\x00name\n.txt", "badname.txt"),
    ("Lavrov, 17 May (remarks).txt", "Lavrov, 17 May (remarks).txt"),
    ("x<script>.html", "x_script_.html"),
])
def test_safe_name_leaves_a_plain_file_name(raw: str, expected: str) -> None:
    name = safe_name(raw)
    assert name == expected
    assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")


def test_safe_name_keeps_the_suffix_of_long_names() -> None:
    name = safe_name("x" * 500 + ".jsonl.gz")
    assert len(name) <= 120 and name.endswith(".jsonl.gz")


def test_allowed_suffixes() -> None:
    assert allowed_suffix("a.jsonl.gz") == ".jsonl.gz"
    assert allowed_suffix("A.PDF") == ".pdf"
    assert allowed_suffix("a.exe") is None and allowed_suffix(".txt") is None and allowed_suffix("a.gz") is None


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_accept_copies_into_the_uploads_folder(tmp_path: Path) -> None:
    src = _write(tmp_path / "src.txt", b"Sergey Lavrov: We talked.\n")
    uploads = tmp_path / "data" / "uploads"
    got = accept(src, "../../outside/notes.txt", uploads)
    assert got.path == uploads / "notes.txt" and got.path.read_bytes() == src.read_bytes()
    assert not (tmp_path / "outside").exists()
    assert accept(src, "notes.txt", uploads).path == got.path  # same content: same file
    other = _write(tmp_path / "other.txt", b"Something else entirely.\n")
    second = accept(other, "notes.txt", uploads)
    assert second.path.name == "notes (2).txt" and "already in the library" in second.note
    assert got.path.read_bytes() == b"Sergey Lavrov: We talked.\n"  # nothing overwritten


@pytest.mark.parametrize("name, data, why", [
    ("tool.exe", b"MZ\x90\x00", "unsupported file type"),
    ("empty.txt", b"", "empty"),
    ("fake.pdf", b"hello, not a pdf", "not a PDF"),
    ("fake.jsonl.gz", b'{"text": "x"}\n', "not gzip"),
    ("pdf-in-disguise.txt", b"%PDF-1.7\n...", "this is a PDF"),
    ("zip.md", b"PK\x03\x04rest", "compressed archive"),
    ("binary.html", b"\x00\x01\x02\x03" * 50, "binary content"),
])
def test_accept_refuses_wrong_types_and_content(tmp_path: Path, name: str, data: bytes, why: str) -> None:
    src = _write(tmp_path / "upload.bin", data)
    with pytest.raises(UploadRejected, match=why):
        accept(src, name, tmp_path / "uploads")
    assert not any((tmp_path / "uploads").glob("*")) if (tmp_path / "uploads").exists() else True


def test_accept_enforces_the_size_limit(tmp_path: Path) -> None:
    src = _write(tmp_path / "big.txt", b"a" * 2048)
    with pytest.raises(UploadRejected, match="too large"):
        accept(src, "big.txt", tmp_path / "uploads", max_bytes=1024)


def test_accept_takes_real_gzip_and_pdf_headers(tmp_path: Path) -> None:
    gz = _write(tmp_path / "c.bin", gzip.compress(b'{"text": "x"}\n'))
    assert accept(gz, "corpus.jsonl.gz", tmp_path / "u").name == "corpus.jsonl.gz"
    pdf = _write(tmp_path / "p.bin", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")
    assert accept(pdf, "paper.pdf", tmp_path / "u").name == "paper.pdf"


# -- HTML --------------------------------------------------------------------------------
EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>"\''


def _citation(**over: object) -> Citation:
    base = dict(n=1, doc_id="doc-1", title=EVIL, speaker=EVIL, date="2023-05-17", place=EVIL,
                source_url="javascript:alert(3)", page=None, quote=EVIL, char_start=3, char_end=9,
                attribution=EVIL)
    base.update(over)
    return Citation(**base)  # type: ignore[arg-type]


def test_answer_html_escapes_everything() -> None:
    html = views.answer_html(Answer("q", f"{EVIL} [1] [7]", citations=[_citation()]))
    assert "<script>" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert html.count('class="cite-ref"') == 1  # [7] cites nothing: left as text
    assert 'data-open="doc-1" data-start="3" data-end="9"' in html
    assert 'data-copy="' in html and unescape(re.search(r'data-copy="([^"]*)"', html).group(1)) == EVIL


def test_source_links_only_for_http() -> None:
    html = views.citation_card(_citation(source_url="https://example.org/a?b=1&c=2"))
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "href=" not in views.citation_card(_citation(source_url="file:///etc/passwd"))


def test_abstention_is_said_plainly() -> None:
    html = views.answer_html(Answer("q", "The indexed statements do not answer this question.",
                                    abstained=True, notes=["no passages matched"]))
    assert "No answer in the indexed statements" in html and "no passages matched" in html
    assert 'class="card"' not in html and "Closest passages" not in html
    near = _hit("2020-01-01")
    html = views.answer_html(Answer("q", "no", abstained=True, passages=[near] * 5))
    assert "Closest passages" in html and html.count('class="hit"') == 3


def _doc() -> Document:
    text = "Header line\n\nSergey Lavrov: We discussed the <OSCE> today.\n\nQuestion: And NATO?\n\nSergey Lavrov: No."
    turns = []
    for label, body in (("Sergey Lavrov", "We discussed the <OSCE> today."), ("Question", "And NATO?"),
                        ("Sergey Lavrov", "No.")):
        start = text.index(body, turns[-1].char_end if turns else 0)
        turns.append(Turn(len(turns), label, label, label == "Question", start, start + len(body)))
    return Document(doc_id="d1", text=text, source_path="/x/y.txt", format="txt", title="T & <b>",
                    speakers=["Sergey Lavrov"], turns=turns)


def test_document_html_marks_the_span_and_separates_turns() -> None:
    doc = _doc()
    start = doc.text.index("the <OSCE>")
    html = views.document_html(doc, (start, start + len("the <OSCE>")))
    marked = re.search(r'<mark class="cited" id="cited">(.*?)</mark>', html).group(1)
    assert unescape(marked) == "the <OSCE>"
    assert html.count('class="seg turn"') == 2 and html.count('class="seg question"') == 1
    assert "Sergey Lavrov:" not in html  # labels become headers, not repeated in the text
    assert "T &amp; &lt;b&gt;" in html and "<b>" not in html
    assert views.document_html(doc, (5, 5)).count("<mark") == 0
    doc.turns[0].label = "PM"
    assert '<div class="speaker">Sergey Lavrov (PM)</div>' in views.document_html(doc)
    assert views.document_html(doc, (-50, 10**9)).count('id="cited"') == 1  # clamped, one anchor


def test_hits_html_has_one_clickable_card_per_hit() -> None:
    hit = Hit(doc_id="d", title=EVIL, speaker="S", date="2020", text=EVIL, score=0.5, char_start=1, char_end=4,
              is_question=False, turn=0, chunk=0, source="", source_url="", place="", page=2, point_id="p")
    html = views.hits_html([hit, hit], "q")
    assert html.count('class="hit"') == 2 and "<script>" not in html and "p. 2" in html
    assert "No passages match" in views.hits_html([], "<x>") and "<x>" not in views.hits_html([], "<x>")


# -- timeline ----------------------------------------------------------------------------
def _hit(date: str, speaker: str = "A", score: float = 0.1) -> Hit:
    return Hit(doc_id="d", title="t", speaker=speaker, date=date, text="word " * 80, score=score, char_start=0,
               char_end=5, is_question=False, turn=0, chunk=0, source="", source_url="", place="", page=None,
               point_id="p")


def test_timeline_rows_order_and_undated() -> None:
    rows, undated = timeline_rows([_hit("2023-05-17"), _hit(""), _hit("1995"), _hit("2001-09", "B"),
                                   _hit("not a date")])
    assert undated == 2
    assert [r["date"] for r in rows] == ["1995-01-01", "2001-09-01", "2023-05-17"]
    assert all(len(r["excerpt"]) <= 180 for r in rows)
    frame = plot_frame(rows)  # one point per document and speaker
    assert list(frame.columns) == ["date", "speaker", "title", "passages"]
    assert sorted(frame["speaker"]) == ["A", "B"] and frame["passages"].sum() == 3
    years = yearly_frame(rows)
    assert list(years["year"]) == [1995, 2001, 2023] and years["passages"].sum() == 3


def test_within_takes_seconds_or_milliseconds() -> None:
    rows, _ = timeline_rows([_hit("1995-06-01"), _hit("2010-01-01"), _hit("2020-01-01")])
    s2000, s2015 = 946_684_800, 1_420_070_400
    assert [r["date"] for r in within(rows, s2000, s2015)] == ["2010-01-01"]
    assert [r["date"] for r in within(rows, s2015 * 1000.0, s2000 * 1000.0)] == ["2010-01-01"]
    assert len(within(rows, None, None)) == 3


def test_unexpected_errors_never_show_internals() -> None:
    assert user_message(ValueError("invalid date '2023-13': use YYYY\nsecond line"), "x") == \
        "invalid date '2023-13': use YYYY"
    text = user_message(KeyError("/secret/path"), "searching")
    assert "secret" not in text and "Traceback" not in text and "searching" in text
