"""HTML pages to text: main-content extraction and page metadata with the stdlib html.parser.

One streaming pass collects text runs, each tagged with the content containers it sits in
(``itemprop=articleBody``, ``<article>``, ``<main>``) and with the nearest boilerplate
element around it (nav, footer, share bars, tag lists, hidden tooltips...). The best
container is then rendered with paragraph breaks at block elements. Memory and time are
linear in the input: no tree is built and nesting depth is capped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ingest.html_meta import page_metadata
from ingest.models import RawDocument, ReadError
from ingest.textfile import decode_utf8, looks_binary

# Never text: their content is code, styling or invisible.
_SKIP_TAGS = frozenset(
    "script style noscript template svg math head iframe object embed canvas "
    "audio video map select textarea button datalist dialog".split()
)
_HEAD_TAGS = frozenset("title meta link style script base noscript template".split())
# Page furniture: dropped when inside the chosen content container.
_BOILER_TAGS = frozenset("nav aside footer form figure menu".split())
_BOILER_ROLES = frozenset("navigation banner contentinfo search menu menubar toolbar dialog alert".split())
_BOILER_CLASS_PARTS = frozenset(
    """share sharing social tags breadcrumb breadcrumbs related comments comment slider carousel
    advert advertisement ads cookie cookies newsletter subscribe promo sidebar bottommeta masha
    hidden print nav navbar menu footer toolbar pagination pager tooltip popup modal""".split()
)
_BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol p pre
    section summary table tbody thead tfoot ul""".split()
)
_LINE_TAGS = frozenset("br tr".split())
_CELL_TAGS = frozenset("td th".split())
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SELF_CLOSING_SIBLINGS = frozenset("p li dt dd tr td th option".split())

_MAX_DEPTH = 512  # deeper start tags are ignored (their text still counts)
_MAX_CONTAINERS = 8  # nested content containers tracked per text run
_MIN_CONTENT_CHARS = 100  # a container with less text than this is not "the content"
_ATTR_CAP = 2000  # attribute values kept for metadata are cut to this length
_MAX_META = 300  # distinct <meta> names kept
_MAX_TIMES = 50  # <time datetime> values kept

_PARA = "\x00"  # paragraph-break marker inside collected text
_LINE = "\x01"  # line-break marker
_MARKERS = re.compile("[\x00\x01]")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
_CLASS_SPLIT = re.compile(r"[_\-]+")
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.I)


@dataclass
class HtmlExtract:
    """Text and metadata recovered from one HTML page."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Open:
    """One open element: its content containers, boilerplate context and flags."""

    tag: str
    containers: tuple[int, ...]
    boiler: tuple[int, ...] | None
    skip: bool
    capture: str | None = None


def _class_is_boilerplate(value: str) -> bool:
    for token in value.lower().split()[:20]:
        for part in _CLASS_SPLIT.split(token):
            if part in _BOILER_CLASS_PARTS:
                return True
    return False


def _is_hidden(attrs: dict[str, str]) -> bool:
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden", "").lower() == "true"
        or ("style" in attrs and _DISPLAY_NONE.search(attrs["style"][:500]) is not None)
    )


def _collapse(text: str) -> str:
    return " ".join(text.split())


class _Collector(HTMLParser):
    """Streaming pass: text runs tagged with containers and boilerplate, plus page metadata."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.open_counts: dict[str, int] = {}
        self.overflow = 0
        self.skip_depth = 0
        self.next_container = 1
        # container id -> priority: 3 itemprop=articleBody, 2 <article>, 1 <main>/role=main
        self.containers: dict[int, int] = {}
        self.runs: list[tuple[tuple[int, ...], tuple[int, ...] | None, list[str]]] = []
        self.meta: dict[str, str] = {}
        self.captures: dict[str, list[str]] = {}
        self.done_captures: set[str] = set()
        self.time_datetimes: list[tuple[bool, str]] = []

    # state of the innermost open element
    def _top(self) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
        if self.stack:
            top = self.stack[-1]
            return top.containers, top.boiler
        return (), None

    def _emit(self, text: str) -> None:
        containers, boiler = self._top()
        if self.runs:
            last = self.runs[-1]
            if last[0] is containers and last[1] is boiler:
                last[2].append(text)
                return
        self.runs.append((containers, boiler, [text]))

    def _push(self, tag: str, attrs: dict[str, str]) -> bool:
        if len(self.stack) >= _MAX_DEPTH:
            self.overflow += 1
            return False
        containers, boiler = self._top()
        priority = 0
        if attrs.get("itemprop", "").lower() == "articlebody":
            priority = 3
        elif tag == "article":
            priority = 2
        elif tag == "main" or attrs.get("role", "").lower() == "main":
            priority = 1
        if priority and len(containers) < _MAX_CONTAINERS:
            cid = self.next_container
            self.next_container += 1
            self.containers[cid] = priority
            containers = containers + (cid,)
        if tag in _BOILER_TAGS or (
            attrs
            and (
                attrs.get("role", "").lower() in _BOILER_ROLES
                or _class_is_boilerplate(attrs.get("class", ""))
            )
        ):
            boiler = containers
        skip = tag in _SKIP_TAGS or (bool(attrs) and _is_hidden(attrs))
        if skip:
            self.skip_depth += 1
        capture = None
        if tag == "h1" and "h1" not in self.done_captures and "h1" not in self.captures:
            capture = "h1"
        elif "p-location" in attrs.get("class", "").split() and "place" not in self.done_captures:
            capture = "place"
        if capture:
            self.captures[capture] = []
        self.stack.append(_Open(tag, containers, boiler, skip, capture))
        self.open_counts[tag] = self.open_counts.get(tag, 0) + 1
        return True

    def _pop(self) -> None:
        item = self.stack.pop()
        self.open_counts[item.tag] -= 1
        if item.skip:
            self.skip_depth -= 1
        if item.capture:
            self.done_captures.add(item.capture)
            self.meta.setdefault(item.capture, _collapse("".join(self.captures.pop(item.capture))))
        if item.tag in _BLOCK_TAGS:
            self._emit(_PARA)

    def _close(self, tag: str) -> None:
        if self.overflow:
            self.overflow -= 1
            return
        if not self.open_counts.get(tag):
            return
        while self.stack:
            done = self.stack[-1].tag == tag
            self._pop()
            if done:
                return

    def _record_meta(self, attrs: dict[str, str]) -> None:
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        content = attrs.get("content")
        if key and content is not None and key not in self.meta and len(self.meta) < _MAX_META:
            self.meta[key] = content[:_ATTR_CAP]

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {name: (value or "")[:_ATTR_CAP] for name, value in attr_list}
        if tag == "meta":
            self._record_meta(attrs)
            return
        if tag == "link":
            rels = attrs.get("rel", "").lower().split()
            if "canonical" in rels and "canonical" not in self.meta:
                self.meta["canonical"] = attrs.get("href", "")
            return
        if tag == "time" and attrs.get("datetime") and len(self.time_datetimes) < _MAX_TIMES:
            published = attrs.get("itemprop", "").lower() == "datepublished"
            self.time_datetimes.append((published, attrs["datetime"]))
        if tag in _LINE_TAGS:
            if not self.skip_depth:
                self._emit(_LINE)
            if tag == "br":
                return
        if tag in _CELL_TAGS and not self.skip_depth:
            self._emit(" ")
        if tag in _VOID_TAGS:
            if tag == "hr" and not self.skip_depth:
                self._emit(_PARA)
            return
        if tag == "body" or (tag not in _HEAD_TAGS and self.open_counts.get("head")):
            self._close("head")  # implied end of <head>
        if tag in _SELF_CLOSING_SIBLINGS and self.stack and self.stack[-1].tag == tag:
            self._pop()
        elif tag in _BLOCK_TAGS and self.stack and self.stack[-1].tag == "p":
            self._pop()
        if (
            tag == "title"
            and "title" not in self.done_captures
            and "title" not in self.captures
            and not self.open_counts.get("svg")  # an SVG <title> names a drawing, not the page
        ):
            if self._push(tag, attrs):
                self.captures["title"] = []
                self.stack[-1].capture = "title"
            return
        if tag in _BLOCK_TAGS and not self.skip_depth:
            self._emit(_PARA)
        self._push(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack and self.stack[-1].tag == tag:
            self._close(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS:
            if tag == "br" and not self.skip_depth:
                self._emit(_LINE)
            return
        self._close(tag)

    def handle_data(self, data: str) -> None:
        for key in self.captures:
            if key == "title" or not self.skip_depth:
                self.captures[key].append(data)
        if self.skip_depth or not data:
            return
        self._emit(_MARKERS.sub("", data))

    def finish(self) -> None:
        if self.rawdata.startswith("<"):
            # An unterminated tag, comment or declaration runs to the end of the file
            # (as in browsers): drop it rather than show raw markup as text.
            self.rawdata = ""
        self.close()
        while self.stack:
            self._pop()
        for key, parts in list(self.captures.items()):
            self.meta.setdefault(key, _collapse("".join(parts)))
        self.captures.clear()

    def render(self, container: int | None) -> str:
        """Text of `container` (None: the whole page) without boilerplate, paragraphs split by blank lines."""
        pieces: list[str] = []
        for containers, boiler, texts in self.runs:
            if container is not None and container not in containers:
                continue
            if boiler is not None and (container is None or container in boiler):
                continue
            pieces.extend(texts)
        paragraphs = []
        for block in "".join(pieces).split(_PARA):
            lines = [_collapse(line) for line in block.split(_LINE)]
            paragraph = "\n".join(line for line in lines if line)
            if paragraph:
                paragraphs.append(paragraph)
        return "\n\n".join(paragraphs)


def _main_text(collector: _Collector) -> str:
    """Render the best content container: articleBody, else article, else main, else the page."""
    for priority in (3, 2, 1):
        candidates = [cid for cid, p in collector.containers.items() if p == priority][:10]
        best = max((collector.render(cid) for cid in candidates), key=len, default="")
        if len(best) >= _MIN_CONTENT_CHARS:
            return best
    return collector.render(None)


def html_to_text(markup: str) -> HtmlExtract:
    """Extract the main text (paragraphs separated by blank lines) and metadata of an HTML page."""
    collector = _Collector()
    collector.feed(markup)
    collector.finish()
    metadata = page_metadata(collector.meta, collector.time_datetimes)
    return HtmlExtract(text=_main_text(collector), metadata=metadata)


def decode_html_bytes(data: bytes, where: str) -> str | ReadError:
    """Decode an HTML file by its BOM or ``<meta charset>``, defaulting to UTF-8."""
    if not data.strip():
        return ReadError(where, "empty file: nothing to index; add content or remove the file")
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if looks_binary(data):
        return ReadError(where, "looks like binary data, not HTML: check the file type or its extension")
    match = _CHARSET.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii", "replace")
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            codec = "utf-8"
        # As browsers do (WHATWG Encoding): Latin-1 and ASCII labels mean windows-1252,
        # a UTF-16/32 label without a BOM means UTF-8.
        if codec in ("iso8859-1", "ascii"):
            codec = "cp1252"
        if codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
        if codec != "utf-8":
            return data.decode(codec, errors="replace")
    return decode_utf8(data, where)


def read_html_file(path: Path, fmt: str, data: bytes) -> RawDocument | ReadError:
    """Build the document for an ``.html``/``.htm`` file whose bytes were already read."""
    markup = decode_html_bytes(data, str(path))
    if isinstance(markup, ReadError):
        return markup
    extract = html_to_text(markup)
    if not extract.text.strip():
        return ReadError(
            str(path),
            "no text found in the HTML (only scripts, markup or images?): "
            "save the page's text, or its rendered HTML, instead",
        )
    return RawDocument(
        text=extract.text,
        source_path=str(path.resolve()),
        origin=path.name,
        format=fmt,
        metadata=extract.metadata,
    )
