"""Tests for ingest.readers: every format's good path and each kind of bad input, all built here."""

from __future__ import annotations

import builtins
import gzip
import io
import json
import os
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from ingest.html_text import html_to_text
from ingest.models import RawDocument, ReadError
from ingest.readers import SUPPORTED_SUFFIXES, ReadLimits, iter_files, read_file
from pdfbytes import assemble_pdf


def _read(path: Path, limits: ReadLimits | None = None) -> tuple[list[RawDocument], list[ReadError]]:
    items = list(read_file(path, limits))
    docs = [item for item in items if isinstance(item, RawDocument)]
    errors = [item for item in items if isinstance(item, ReadError)]
    assert len(docs) + len(errors) == len(items)
    return docs, errors


def _only_error(path: Path, limits: ReadLimits | None = None) -> str:
    docs, errors = _read(path, limits)
    assert docs == []
    assert len(errors) == 1, errors
    return str(errors[0])


# ---------------------------------------------------------------- PDFs built by hand


def _text_ops(text: str) -> bytes:
    lines = " ".join(f"({line}) '" for line in text.split("\n"))
    return f"BT /F1 12 Tf 72 720 Td 14 TL {lines} ET".encode("latin-1")


def _pdf(pages: list[bytes], title: str | None = None, filters: dict[int, str] | None = None) -> bytes:
    """A minimal PDF: one Helvetica font, page i drawn by content stream pages[i].

    `filters` declares a /Filter for some pages (FlateDecode data is compressed here,
    any other name is declared but left as is, to make a page unreadable).
    """
    filters = filters or {}
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, data in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        extra = b""
        if i in filters:
            extra = f" /Filter /{filters[i]}".encode()
            if filters[i] == "FlateDecode":
                data = zlib.compress(data, 9)
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")
    info = ""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info = f" /Info {len(objects)} 0 R"
    return assemble_pdf(objects, trailer_extra=info)


def _encrypted(pdf: bytes, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password, owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def two_page_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "statement.pdf"
    path.write_bytes(_pdf([_text_ops("Page one says hello.\nSecond line"), _text_ops("Page two text")], title="A Statement"))
    return path


# ---------------------------------------------------------------- txt / md


def test_txt_is_decoded_with_bom_and_crlf_normalised(tmp_path: Path) -> None:
    path = tmp_path / "remarks.txt"
    path.write_bytes(b"\xef\xbb\xbfLavrov: Good afternoon.\r\nQuestion: Thank you.\rEnd\xe2\x80\x99s\r\n")
    docs, errors = _read(path)
    assert errors == []
    [doc] = docs
    assert doc.text == "Lavrov: Good afternoon.\nQuestion: Thank you.\nEnd\u2019s\n"
    assert doc.source_path == str(path.resolve())
    assert (doc.origin, doc.format, doc.page_starts) == ("remarks.txt", "txt", [])


def test_md_is_read_as_md(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Briefing\n\nThe *minister* said.\n", encoding="utf-8")
    [doc] = _read(path)[0]
    assert (doc.format, doc.text) == ("md", "# Briefing\n\nThe *minister* said.\n")


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  ", b"\xef\xbb\xbf \n"])
def test_empty_or_whitespace_text_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    message = _only_error(path)
    assert "blank.txt" in message and "empty file" in message


def test_binary_data_named_txt_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    message = _only_error(path)
    assert "photo.txt" in message and "looks like binary data, not text" in message


def test_non_utf8_text_names_line_byte_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("first line\nthe caf\u00e9 is open\n".encode("cp1252"))
    message = _only_error(path)
    assert message.startswith(f"{path}:2: not valid UTF-8")
    assert "0xE9" in message and "column 8" in message and "iconv -f cp1252 -t utf-8" in message


def test_huge_file_is_refused_from_its_size_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.txt"
    path.touch()
    os.truncate(path, 200 * 1024 * 1024)  # sparse: no disk space used
    opened: list[str] = []
    real_open = builtins.open

    def spy_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(path):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    started = time.monotonic()
    message = _only_error(path)
    assert time.monotonic() - started < 1.0
    assert opened == []
    assert "huge.txt" in message and "200.0 MB" in message and "50.0 MB limit" in message


def test_unreadable_or_missing_inputs_never_raise(tmp_path: Path) -> None:
    assert "no such file" in _only_error(tmp_path / "missing.txt")
    assert "unsupported file type '.docx'" in _only_error(tmp_path / "memo.docx")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "not a regular file" in _only_error(folder)


# ---------------------------------------------------------------- HTML

_PAGE = """<!doctype html><html><head>
<meta charset="utf-8"><title>Talks with Finland &bull; Example Ministry</title>
<meta property="og:title" content="Talks with Finland">
<meta property="og:url" content="https://example.org/news/1">
<meta property="article:published_time" content="2016-03-22T15:00:00+03:00">
<style>p { color: red }</style><script>var hidden = "SCRIPT TEXT";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Talks with Finland</h1>
<div itemprop="articleBody">
<p><b>Vladimir Putin:</b> Mr President, &amp; friends, we&#8217;re glad&nbsp;to  see
you.</p><script>document.write("NOPE")</script>
<p>Trade fell by 40%.<br>Tourism &lt;dropped&gt;.</p>
<div class="share-buttons">Share on Twitter</div>
<noscript>Enable JavaScript</noscript>
<p>Question: What about the border?</p>
</div></article>
<footer>Copyright footer text</footer>
</body></html>"""


def test_html_main_text_without_scripts_with_entities_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "talks.html"
    path.write_text(_PAGE, encoding="utf-8")
    [doc] = _read(path)[0]
    assert doc.text == (
        "Vladimir Putin: Mr President, & friends, we\u2019re glad to see you.\n\n"
        "Trade fell by 40%.\nTourism <dropped>.\n\n"
        "Question: What about the border?"
    )
    assert doc.format == "html"
    assert doc.metadata["title"] == "Talks with Finland"
    assert doc.metadata["date"] == "2016-03-22"
    assert doc.metadata["source_url"] == "https://example.org/news/1"


def test_html_without_containers_keeps_body_drops_furniture_and_cleans_title() -> None:
    page = (
        "<html><head><title>Press briefing on Syria | Foreign Office</title></head><body>"
        "<div class='navbar'>Menu</div><div><p>First paragraph.</p><p>Second <i>one</i>.</p></div>"
        "<time datetime='2023-05-17'>17 May</time><footer>Contacts</footer>"
    )
    extract = html_to_text(page)
    assert extract.text == "First paragraph.\n\nSecond one.\n\n17 May"
    assert extract.metadata["title"] == "Press briefing on Syria"
    assert extract.metadata["date"] == "2023-05-17"


def test_html_declared_legacy_charset_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    path.write_bytes('<meta charset="windows-1252"><p>Caf\u00e9 \u201cquoted\u201d</p>'.encode("cp1252"))
    [doc] = _read(path)[0]
    assert doc.text == "Caf\u00e9 \u201cquoted\u201d"


def test_html_with_only_markup_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><body><script>render()</script><img src=x></body></html>", encoding="utf-8")
    assert "no text found in the HTML" in _only_error(path)


def test_hostile_html_finishes_fast(tmp_path: Path) -> None:
    markup = (
        '<html><body><div title="' + "x" * 5_000_000 + '">Before.</div>'
        + "<div>" * 10_000 + "Deep text." + "</div>" * 10_000
        + "</p></span></table>" * 1000 + "<p>Unclosed <b><i>tags"
        + "<!-- never closed comment " + "<" * 10_000
    )
    path = tmp_path / "hostile.html"
    path.write_text(markup, encoding="utf-8")
    started = time.monotonic()
    [doc] = _read(path)[0]
    assert time.monotonic() - started < 5.0
    assert doc.text == "Before.\n\nDeep text.\n\nUnclosed tags"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/!-=\"' &;#abpdivscript\n")), max_size=300))
def test_html_to_text_never_raises(markup: str) -> None:
    extract = html_to_text(markup)
    assert "\x00" not in extract.text and "\x01" not in extract.text


# ---------------------------------------------------------------- PDF


def test_pdf_pages_are_joined_with_page_starts(two_page_pdf: Path) -> None:
    docs, errors = _read(two_page_pdf)
    assert errors == []
    [doc] = docs
    assert doc.format == "pdf" and doc.origin == "statement.pdf"
    assert doc.text == "Page one says hello.\nSecond line\n\nPage two text"
    assert doc.page_starts == [0, len("Page one says hello.\nSecond line\n\n")]
    assert doc.text[doc.page_starts[1]:] == "Page two text"
    assert doc.metadata["title"] == "A Statement"
    assert doc.metadata["pages"] == 2


def test_truncated_pdf_is_an_error(tmp_path: Path, two_page_pdf: Path) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(two_page_pdf.read_bytes()[:400])
    message = _only_error(path)
    assert message.startswith(f"{path}: corrupt or truncated PDF") and "qpdf" in message


def test_encrypted_pdf_asks_to_decrypt(tmp_path: Path, two_page_pdf: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted(two_page_pdf.read_bytes(), "secret", "owner"))
    message = _only_error(path)
    assert "locked.pdf" in message and "encrypted: decrypt it first" in message and "qpdf --decrypt" in message


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path, two_page_pdf: Path) -> None:
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_encrypted(two_page_pdf.read_bytes(), "", "owner"))
    [doc] = _read(path)[0]
    assert doc.text.endswith("Page two text")


def test_image_only_pdf_asks_for_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf([b"0 0 1 rg 10 10 500 700 re f"]))
    message = _only_error(path)
    assert "scan.pdf" in message and "no text layer (scanned image?)" in message and "ocrmypdf" in message


def test_failing_page_is_reported_and_other_pages_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    pages = [_text_ops("First page"), b"garbage", _text_ops("Third page")]
    path.write_bytes(_pdf(pages, filters={1: "NoSuchDecode"}))
    docs, errors = _read(path)
    assert len(errors) == 1 and str(errors[0]).startswith(f"{path}, page 2: text extraction failed")
    [doc] = docs
    assert doc.text == "First page\n\n\n\nThird page"
    assert doc.page_starts == [0, 12, 14]


def test_too_many_pages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(_pdf([_text_ops(f"Page {n}") for n in range(3)]))
    message = _only_error(path, ReadLimits(pdf_max_pages=2))
    assert "has 3 pages, more than the limit of 2" in message


@pytest.fixture(scope="module")
def slow_pdf_bytes() -> bytes:
    """51 KB on disk, 35 MB of text operators once inflated: seconds and hundreds of MB to extract."""
    return _pdf([b"BT /F1 12 Tf " + b"(a) Tj " * 5_000_000 + b"ET"], filters={0: "FlateDecode"})


def test_pdf_worker_is_stopped_by_the_time_limit(tmp_path: Path, slow_pdf_bytes: bytes) -> None:
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf_bytes)
    started = time.monotonic()
    message = _only_error(path, ReadLimits(pdf_timeout_s=1.5, pdf_memory_bytes=2 * 1024**3))
    assert time.monotonic() - started < 5.0
    assert message.startswith(f"{path}: stopped after 1.5 s") and "page 1 of 1" in message


def test_pdf_worker_is_stopped_by_the_memory_limit(tmp_path: Path, slow_pdf_bytes: bytes) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(slow_pdf_bytes)
    message = _only_error(path, ReadLimits(pdf_timeout_s=20, pdf_memory_bytes=128 * 1024 * 1024))
    assert "bomb.pdf" in message and "exceeded the 128 MB memory limit" in message


# ---------------------------------------------------------------- JSONL


def _records() -> list[dict[str, object]]:
    return [
        {"id": "doc-1", "text": "First statement.", "title": "One", "date": "2020-01-11",
         "speaker": "Vladimir Putin", "source_path": "var/extract/1.html", "categories": "News"},
        {"_id": "4983", "title": "Abstract", "text": "Second\r\nstatement."},
    ]


def test_jsonl_gz_keeps_all_metadata(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for record in _records():
            out.write(json.dumps(record) + "\n")
    docs, errors = _read(path)
    assert errors == []
    first, second = docs
    assert first.text == "First statement."
    assert first.metadata == {key: value for key, value in _records()[0].items() if key != "text"}
    assert first.metadata["source_path"] == "var/extract/1.html"
    assert first.source_path == str(path.resolve())
    assert (first.origin, second.origin, first.format) == ("corpus.jsonl.gz:1", "corpus.jsonl.gz:2", "jsonl")
    assert second.text == "Second\nstatement." and second.metadata == {"_id": "4983", "title": "Abstract"}


def test_jsonl_bad_lines_are_reported_and_good_lines_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"text": "good one"}),
        '{"text": "broken',
        "",
        json.dumps({"text": "good two", "id": 3}),
        json.dumps({"title": "no text"}),
        "[1, 2]",
        json.dumps({"text": "   "}),
        json.dumps({"text": "good three"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, errors = _read(path)
    assert [d.text for d in docs] == ["good one", "good two", "good three"]
    assert [d.origin for d in docs] == ["mixed.jsonl:1", "mixed.jsonl:4", "mixed.jsonl:8"]
    messages = [str(e) for e in errors]
    assert messages[0].startswith(f"{path}:2: invalid JSON (")
    assert messages[1].startswith(f"{path}:5: no \"text\" field")
    assert messages[2].startswith(f"{path}:6: expected a JSON object")
    assert messages[3].startswith(f"{path}:7: \"text\" is empty")
    assert len(errors) == 4


def test_truncated_gz_names_the_last_good_line(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as out:
        for n in range(1, 2001):
            out.write(json.dumps({"id": n, "text": f"Statement number {n} " + os.urandom(40).hex()}).encode() + b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    docs, errors = _read(path)
    assert 0 < len(docs) < 2000
    assert [d.metadata["id"] for d in docs] == list(range(1, len(docs) + 1))
    [error] = errors
    assert "truncated .gz" in str(error) and f"last good line {len(docs)}" in str(error)


def test_overlong_jsonl_line_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(
        json.dumps({"text": "x" * 5000}) + "\n" + json.dumps({"text": "short"}) + "\n", encoding="utf-8"
    )
    docs, errors = _read(path, ReadLimits(max_line_bytes=1000))
    assert [d.text for d in docs] == ["short"] and docs[0].origin == "long.jsonl:2"
    assert str(errors[0]).startswith(f"{path}:1: line longer than the limit of 1,000 bytes")


def test_jsonl_without_any_text_field_gives_one_error(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"query_id": n}) + "\n" for n in range(50)), encoding="utf-8")
    assert "first 10 lines have no \"text\" field" in _only_error(path)


# ---------------------------------------------------------------- iter_files


def test_iter_files_recurses_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b/z.md", "b/a.txt", "a.pdf", ".secret.txt", ".git/x.txt", "b/.cache/y.txt",
                 "b/c/d.jsonl.gz", "notes.docx", "e.HTM"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = list(iter_files([tmp_path, tmp_path / "b" / "a.txt"]))
    assert [p.relative_to(tmp_path).as_posix() for p in found if isinstance(p, Path)] == [
        "a.pdf", "e.HTM", "b/a.txt", "b/z.md", "b/c/d.jsonl.gz",
    ]
    assert all(isinstance(p, Path) for p in found)


def test_iter_files_reports_missing_and_unsupported_paths(tmp_path: Path) -> None:
    (tmp_path / "memo.docx").write_text("x", encoding="utf-8")
    items = list(iter_files([tmp_path / "nope", tmp_path / "memo.docx"]))
    assert all(isinstance(item, ReadError) for item in items)
    assert "no such file or folder" in str(items[0])
    assert "unsupported file type '.docx'" in str(items[1]) and ".jsonl.gz" in str(items[1])
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".html", ".htm", ".pdf", ".jsonl", ".jsonl.gz")
