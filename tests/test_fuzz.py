"""Fuzzing the readers and the statement parser: random and hostile input never raises, never hangs.

Extends tests/test_readers.py and tests/test_chunking.py (which test the good paths, the known bad
inputs and generated well-formed statements) with random bytes per file type, hostile HTML,
arbitrary JSON records, arbitrary text and metadata for the parser, pathological inputs for its
regular expressions, and PDFs built to exhaust the worker (decompression bombs, deep nesting,
reference loops).
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document
from ingest.models import RawDocument, ReadError
from ingest.readers import ReadLimits, read_file
from ingest.structure import parse_document

from pdfbytes import assemble_pdf
from test_chunking import assert_chunk_invariants, words



def fuzz(examples: int) -> settings:
    """Many examples, no per-example deadline (the machine may be busy), no example database."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)


_DIR = Path(tempfile.mkdtemp(prefix="rag-fuzz-"))


def _read_bytes(data: bytes, suffix: str, limits: ReadLimits | None = None,
               budget: float = 10.0) -> list[RawDocument | ReadError]:
    path = _DIR / f"input{suffix}"
    path.write_bytes(data)
    started = time.monotonic()
    items = list(read_file(path, limits))
    assert time.monotonic() - started < budget, "a reader took too long"
    for item in items:
        assert isinstance(item, (RawDocument, ReadError)), item
        if isinstance(item, RawDocument):
            assert isinstance(item.text, str) and item.text.strip()
            assert "\r" not in item.text
            assert all(0 <= s <= len(item.text) for s in item.page_starts)
        else:
            assert item.message and str(path) in item.where
    assert items, "a reader must say something about every file"
    return items


def _parse_and_chunk(raw: RawDocument, max_tokens: int = 40) -> None:
    """The statement parser and the chunker on one raw document: invariants hold, no hang."""
    started = time.monotonic()
    doc = parse_document(raw)
    assert isinstance(doc.doc_id, str) and doc.doc_id
    last = 0
    for turn in doc.turns:
        assert last <= turn.char_start <= turn.char_end <= len(doc.text)
        last = turn.char_end
    chunks = chunk_document(doc, words, max_tokens=max_tokens, target_tokens=max(1, max_tokens * 3 // 4))
    assert_chunk_invariants(doc, chunks, words, max_tokens)
    assert time.monotonic() - started < 10, "parsing took too long"


# ---------------------------------------------------------------- random bytes, every reader
TEXTISH = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=1000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00"]),
              st.text(alphabet=st.characters(codec="utf-8"), max_size=800),
              st.sampled_from([b"", b"\r\n", b"\r", b"\x80", b"\xc3", b"\x1b[31m"])).map(
        lambda t: t[0] + t[1].encode("utf-8") + t[2]),
)


@fuzz(1200)
@given(data=TEXTISH, suffix=st.sampled_from([".txt", ".md"]))
def test_text_readers_on_random_bytes(data, suffix):
    _read_bytes(data, suffix)


@fuzz(800)
@given(data=TEXTISH, suffix=st.sampled_from([".html", ".htm"]))
def test_html_reader_on_random_bytes(data, suffix):
    _read_bytes(data, suffix)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
RECORD = st.fixed_dictionaries(
    {}, optional={"text": JSON_VALUE | st.text(max_size=300), "id": JSON_VALUE, "_id": JSON_VALUE,
                  "title": JSON_VALUE, "date": JSON_VALUE | st.sampled_from(["2023-05-17", "May 2023", "17.05.2023"]),
                  "speaker": JSON_VALUE, "source_url": JSON_VALUE, "year": JSON_VALUE, "type": JSON_VALUE},
).flatmap(lambda d: st.dictionaries(st.text(max_size=10), JSON_VALUE, max_size=3).map(lambda extra: {**extra, **d}))
JSONL_LINE = st.one_of(RECORD.map(json.dumps), JSON_VALUE.map(json.dumps), st.text(max_size=80),
                       st.just('{"text": "\\ud800 lone surrogate"}'), st.just("[" * 5000),
                       st.just('{"text": ' + "[" * 3000 + "]" * 3000 + "}"))


@fuzz(600)
@given(lines=st.lists(JSONL_LINE, max_size=6), gz=st.booleans(), junk=st.binary(max_size=64))
def test_jsonl_reader_on_random_records(lines, gz, junk):
    data = ("\n".join(lines)).encode("utf-8", "surrogatepass") + junk
    if gz:
        data = gzip.compress(data)
    items = _read_bytes(data, ".jsonl.gz" if gz else ".jsonl", ReadLimits(max_line_bytes=4096))
    for item in items:
        if isinstance(item, RawDocument):
            try:
                _parse_and_chunk(item)
            except UnicodeEncodeError:
                pass  # lone surrogates: refused by the ingest (tests/test_fuzz.py::test_lone_surrogate...)


@fuzz(300)
@given(data=st.binary(max_size=4096))
def test_gz_reader_on_random_bytes(data):
    _read_bytes(b"\x1f\x8b" + data, ".jsonl.gz")


# ---------------------------------------------------------------- hostile HTML
def _attr(name: str, value: str) -> str:
    return f' {name}="{value}"'


TAG = st.sampled_from(["p", "div", "span", "article", "main", "section", "table", "td", "li", "h1", "b", "i",
                       "a", "br", "nav", "footer", "header", "aside", "form", "button", "svg", "math", "iframe",
                       "noscript", "template", "object", "title", "select", "option"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&"), max_size=60)
HOSTILE = st.sampled_from([
    "<script>SCRIPTLEAK()</script>", "<script type='text/javascript'>var a='</div>SCRIPTLEAK';</script>",
    "<style>p{content:'SCRIPTLEAK'}</style>", "<script src=x>SCRIPTLEAK</script>",
    "<SCRIPT>SCRIPTLEAK</SCRIPT >", "<script><!-- SCRIPTLEAK --></script>",
    "<![CDATA[ cdata ]]>", "&#0;&#xD800;&#x110000;&#99999999999;&amp;&lt;&bogus;",
    "<div" + _attr("title", "x" * 200_000) + ">huge attribute</div>",
    "<div" + "".join(_attr(f"a{i}", "v") for i in range(2000)) + ">many attributes</div>",
    '<meta charset="utf-7">', '<meta charset="x-no-such-charset">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<div hidden>hidden text</div>", "<div style='display:none'>hidden</div>", "<p>" * 3000, "</div>" * 3000,
])
# Fragments after which a browser no longer sees the next <script> as a script (an open comment,
# a bogus comment "</<...>", an unterminated tag): only at the end of a document.
TAIL = st.sampled_from(["", "<!-- unclosed comment", "<" * 300, "</" * 300, "<p " + "a=" * 5000 + ">",
                        "<style>/*</style>*/", "<script>unterminated", "<div title='unterminated"])


ATTRS = st.sampled_from(["", ' class="nav"', ' id="content"', " role=main", ' class="article-body"',
                        ' onclick="SCRIPTLEAK()"', ' style="display:none"'])


@st.composite
def html_documents(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(draw(TEXT))
        elif kind == 1:
            parts.append(draw(HOSTILE))
        else:
            tag, attrs = draw(TAG), draw(ATTRS)
            close = f"</{tag}>" if draw(st.booleans()) else ""
            parts.append(f"<{tag}{attrs}>{draw(TEXT)}{close}")
    head = draw(st.sampled_from(["", "<!DOCTYPE html><html><head><title>T</title></head><body>", "<html><body>"]))
    return head + "".join(parts) + draw(TAIL)


@fuzz(500)
@given(markup=html_documents(), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_hostile_html_never_leaks_scripts_and_never_raises(markup, encoding):
    data = markup.encode(encoding, "replace")
    for item in _read_bytes(data, ".html"):
        if isinstance(item, RawDocument):
            assert "SCRIPTLEAK" not in item.text
            assert "\x00" not in item.text
            _parse_and_chunk(item)


# ---------------------------------------------------------------- the statement parser
LABELS = ["Question", "QUESTION", "Sergey Lavrov", "S.Lavrov", "Mr. Smith", "MR. SMITH", "The President",
          "Q", "A", "Journalist (via interpreter)", "Dmitry Peskov (Press Secretary)", "PM", "x" * 70, "",
          "Москва", "東京", "🙂", "Answer", "Sergey Lavrov (retranslated from Russian)", "12:30", "Note"]
PIECES = st.one_of(
    st.sampled_from(LABELS).map(lambda label: f"\n\n{label}: "),
    st.sampled_from(["\n", "\n\n", "\n\n\n", " ", ": ", ":", "::", ". ", "? ", "! ", "… ", "\u2028", "\u2029",
                     "\x0c", "\t", "\u200b", "\u202e", "e\u0301", "\ufeff", "“", "”", "(", ")", "[", "]",
                     "17 May 2023", "2023-05-17", "No. 943-17-05-2023", "Moscow, Russia", "UNITED24 donate",
                     "Copyright © 2023 All rights reserved.", "NEWSLETTER", "Mr.", "U.S.", "e.g.", "3.5"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
)
METADATA = st.dictionaries(
    st.sampled_from(["id", "_id", "title", "date", "year", "speaker", "speakers", "place", "source", "source_url",
                     "type", "doc_type", "categories", "organisation", "source_path", "url"]),
    JSON_VALUE | st.sampled_from(["2023-05-17", "17 May 2023", "2023", "Sergey Lavrov", "interview"]),
    max_size=5,
)


@fuzz(1500)
@given(pieces=st.lists(PIECES, min_size=1, max_size=60), metadata=METADATA,
       fmt=st.sampled_from(["txt", "md", "html", "jsonl", "pdf"]), name=st.sampled_from(
           ["s.txt", "2023-05-17_remarks-by-lavrov.txt", "a/b/../c.md", "x.jsonl:3", "report.pdf"]),
       max_tokens=st.integers(4, 80))
def test_parser_and_chunker_on_arbitrary_text(pieces, metadata, fmt, name, max_tokens):
    text = "".join(pieces)
    if not text.strip():
        text += "x"
    pages = [0, len(text) // 2] if fmt == "pdf" else []
    raw = RawDocument(text=text, source_path=f"/data/{name}", origin=name, format=fmt, metadata=dict(metadata),
                      page_starts=pages)
    _parse_and_chunk(raw, max_tokens)


def _quadratic() -> bool:
    """True when sentence splitting / cutting is quadratic in the length of a run without a
    sentence end (8 times the text taking far more than 8 times as long, in the same run)."""
    def seconds(n: int) -> float:
        raw = RawDocument(text="Mr. " * n, source_path="/d/q.txt", origin="q.txt", format="txt")
        started = time.perf_counter()
        chunk_document(parse_document(raw), words, max_tokens=60, target_tokens=45)
        return time.perf_counter() - started

    small = min(seconds(500) for _ in range(3))
    large = min(seconds(4000) for _ in range(2))
    return large > 24 * small and large > 0.05


@pytest.mark.parametrize("text", [
    "A" * 100_000 + ":", ":" * 100_000, " " * 50_000 + "x", "a\n" * 50_000, "Question: " * 20_000,
    "Mr. " * 25_000, "(" * 50_000 + "x", "1." * 50_000, "x" * 200_000, ("Sergey Lavrov: " + "word " * 3) * 5_000,
    "\n\n".join(["JOURNALIST" + " X" * 4 + ":"] * 5_000), "17 May 2023 " * 10_000, "U.S. e.g. " * 20_000,
    ("UNITED24 - Make a charitable donation in support of Ukraine!\n") * 5_000 + "text",
    ("Copyright © 2023 All rights reserved.\n") * 5_000, "É" * 100_000 + ".",
], ids=lambda t: repr(t[:16]))
def test_parser_survives_pathological_text(text):
    raw = RawDocument(text=text, source_path="/data/p.txt", origin="p.txt", format="txt")
    _parse_and_chunk(raw, 60)


def test_sentence_splitting_scales_linearly():
    """A ratio measured in one run, not a timing: 8x the text must not take far more than 8x as long
    (a 200 KB run without a sentence end once took 111 s)."""
    assert not _quadratic()


def test_lone_surrogate_is_refused_by_the_ingest_not_crashing_it(tmp_path, embedder):
    """A JSON escape such as "\\ud800" is valid JSON but not storable text: one clear error,
    the other records of the file are stored."""
    from rag.library import Library
    from rag.settings import Settings

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "c.jsonl").write_text(
        '{"id": "bad", "text": "Sergey Lavrov: hello \\ud800 world."}\n'
        '{"id": "good", "text": "Sergey Lavrov: the talks went well."}\n'
        '{"id": "bad-title", "title": "\\udfff", "text": "Sergey Lavrov: fine."}\n', encoding="utf-8")
    with Library(Settings(data_dir=tmp_path / "d", progress=False), embedder=embedder) as lib:
        report = lib.ingest([folder])
        assert report.new == 1 and report.failed == 2
        assert all("lone surrogate" in e and "fix or remove this record" in e for e in report.errors)
        assert lib.check().ok


# ---------------------------------------------------------------- PDFs: random bytes and bombs
def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    return assemble_pdf(objects, root=root, version="1.7")


def _page_pdf(content: bytes, extra_objects: list[bytes] = (), flate: bool = False, resources: bytes = b"") -> bytes:
    stream = zlib.compress(content, 9) if flate else content
    filt = b" /Filter /FlateDecode" if flate else b""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >>"
        + resources + b" >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), filt) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra_objects,
    ])


GOOD_PDF = _page_pdf(b"BT /F1 12 Tf 72 720 Td (Sergey Lavrov: the talks went well.) Tj ET")
PDF_LIMITS = ReadLimits(pdf_timeout_s=8, pdf_memory_bytes=384 * 1024 * 1024)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(
    st.binary(max_size=1500).map(lambda b: b"%PDF-1.4\n" + b),
    st.tuples(st.integers(0, len(GOOD_PDF) - 1), st.binary(min_size=1, max_size=40)).map(
        lambda t: GOOD_PDF[:t[0]] + t[1] + GOOD_PDF[t[0] + len(t[1]):]),
    st.integers(1, len(GOOD_PDF) - 1).map(lambda n: GOOD_PDF[:n]),
))
@example(GOOD_PDF)
def test_pdf_reader_on_random_and_mutated_bytes(data):
    items = _read_bytes(data, ".pdf", PDF_LIMITS)
    if data == GOOD_PDF:
        assert any(isinstance(i, RawDocument) and "talks went well" in i.text for i in items)


def _zeros_bomb(megabytes: int) -> bytes:
    """A zlib stream of `megabytes` MB of spaces (about 1000:1), built from one compressed MB
    repeated (after a full flush deflate starts afresh, so each MB compresses the same)."""
    block = b" " * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH) == segment
    checksum = 1
    for _ in range(megabytes):
        checksum = zlib.adler32(block, checksum)
    return b"\x78\xda" + segment * megabytes + packer.flush() + checksum.to_bytes(4, "big")


def _bomb_pdf(megabytes: int) -> bytes:
    stream = _zeros_bomb(megabytes)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ])


HOSTILE_PDFS = {
    # 1 GB of spaces behind 1 MB of flate data
    "decompression bomb": lambda: _bomb_pdf(1000),
    # the same bomb, twice compressed (the inner layer is a flate stream of a flate stream)
    "nested filters": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        (lambda s: b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(s) + s + b"\nendstream")(
            zlib.compress(_zeros_bomb(1000), 9)),
    ]),
    # pypdf caps one stream at 75 MB: 40 references to one 70 MB stream make 2.8 GB for one page
    "one stream referenced 40 times": lambda: (lambda z: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [" + b"4 0 R " * 40 + b"] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(z) + z + b"\nendstream"]))(_zeros_bomb(70)),
    # and 300 pages drawing it: the time limit ends it
    "300 pages of 70 MB": lambda: (lambda z: _pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>",
         b"<< /Type /Pages /Kids [" + b"".join(b"%d 0 R " % (4 + i) for i in range(300)) + b"] /Count 300 >>",
         b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(z) + z + b"\nendstream"]
        + [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"] * 300))(_zeros_bomb(70)),
    "deeply nested arrays": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * 200_000 + b"]" * 200_000 + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]),
    "deeply nested dictionaries": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R /D " + b"<< /A " * 100_000 + b"1" + b" >>" * 100_000 + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]),
    "page tree loop": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]),
    "deep page tree": lambda: _pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>"]
        + [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, 5002)]
        + [b"<< /Type /Page /MediaBox [0 0 612 792] >>"]),
    "form drawing itself": lambda: _page_pdf(
        b"/X1 Do", resources=b" /XObject << /X1 6 0 R >>",
        extra_objects=[b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 6 0 R >> >>"
                       b" /Length 6 >>\nstream\n/X1 Do\nendstream"]),
    "page count of a billion": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]),
}


@pytest.mark.parametrize("name", list(HOSTILE_PDFS))
def test_hostile_pdfs_are_stopped_by_the_limits(name):
    items = _read_bytes(HOSTILE_PDFS[name](), ".pdf", PDF_LIMITS, budget=PDF_LIMITS.pdf_timeout_s + 8)
    docs = [i for i in items if isinstance(i, RawDocument)]
    errors = [i for i in items if isinstance(i, ReadError)]
    assert errors or all(len(d.text) < 10_000_000 for d in docs), name
