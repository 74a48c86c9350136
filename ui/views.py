"""HTML for the web page: answers with citation cards, ranked passages, a document with its cited
span highlighted, upload results. Every piece of stored or user text is escaped here.

Clickable elements carry ``data-open`` (document id) with ``data-start``/``data-end`` (character
span) or ``data-copy`` (text for the clipboard); the page script (`ui/assets.py`) turns clicks on
them into events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Iterable, Sequence

from ingest.models import Document
from rag.answer.answers import Answer, Citation
from rag.answer.citations import date_phrase, format_date
from rag.index.nodes import Hit

if TYPE_CHECKING:
    from rag.answer.compare import Comparison
    from rag.answer.first import FirstSaid, Occurrence

_MARKER = re.compile(r"\[(\d{1,3})\]")


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _link(url: str | None, label: str = "source") -> str:
    """A link that opens in a new tab, only for http(s) URLs (never javascript: or file:)."""
    if not url or not re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return ""
    return (f'<a class="src-link" href="{_e(url.strip())}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{_e(label)} ↗</a>')


def _open_attrs(doc_id: str, start: int, end: int) -> str:
    return f'data-open="{_e(doc_id)}" data-start="{int(start)}" data-end="{int(end)}"'


def message(text: str, kind: str = "info") -> str:
    """A one-line notice; kind is info, error or empty."""
    icon = {"error": "⚠", "empty": "∅"}.get(kind, "ℹ")
    return f'<div class="msg msg-{_e(kind)}" role="status"><span>{icon}</span> {_e(text)}</div>'


def placeholder(text: str) -> str:
    """Grey hint shown before anything was asked."""
    return f'<div class="placeholder">{_e(text)}</div>'


def _meta_line(speaker: str, date: str, title: str, place: str = "") -> str:
    parts = [f'<span class="who">{_e(speaker or "unknown speaker")}</span>',
             f'<span class="when">{_e(date or "undated")}</span>']
    if place:
        parts.append(f'<span class="where">{_e(place)}</span>')
    parts.append(f'<span class="title">{_e(title)}</span>')
    return '<span class="sep">·</span>'.join(parts)


# -- answers ------------------------------------------------------------------------------
def answer_html(answer: Answer) -> str:
    """The answer with clickable [n] markers, then one card per citation; abstention said plainly."""
    by_n = {c.n: c for c in answer.citations}
    if not answer.citations:
        notes = "".join(f"<li>{_e(n)}</li>" for n in answer.notes)
        return (f'<div class="abstain" role="status"><div class="abstain-head">No answer in the indexed '
                f'statements</div><p>{_e(answer.text)}</p>'
                + (f'<details class="notes"><summary>Why</summary><ul>{notes}</ul></details>' if notes else "")
                + '<p class="hint">Try other words or remove a filter.</p></div>'
                + (f'<h3 class="cards-head">Closest passages <span class="hint">they do not answer the question; '
                   f'click one to read it in its document</span></h3>{hits_html(answer.passages[:3], "")}'
                   if answer.passages else ""))
    body = _with_markers(answer.text, by_n)
    cards = "\n".join(citation_card(c) for c in answer.citations)
    notes = ""
    if answer.notes:
        notes = ('<details class="notes"><summary>What was left out and why</summary><ul>'
                 + "".join(f"<li>{_e(n)}</li>" for n in answer.notes) + "</ul></details>")
    count = len(answer.citations)
    if answer.abstained:  # the closest statements of others, when the person asked about said nothing on it
        return (f'<div class="abstain" role="status"><div class="abstain-head">No answer in the words asked '
                f'for</div><div class="answer-text">{body}</div>{notes}</div>'
                f'<h3 class="cards-head">{count} closest verified quote{"s" if count != 1 else ""}, by others '
                f'<span class="hint">they are not the words of the person asked about</span></h3>'
                f'<div class="cards">{cards}</div>')
    return (f'<div class="answer"><div class="answer-text">{body}</div>{notes}</div>'
            f'<h3 class="cards-head">{count} verified quote{"s" if count != 1 else ""} '
            f'<span class="hint">click a quote to read it in its document</span></h3>'
            f'<div class="cards">{cards}</div>')


def _with_markers(text: str, by_n: dict[int, Citation]) -> str:
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(text):
        out.append(_e(text[pos:match.start()]))
        cit = by_n.get(int(match.group(1)))
        if cit is None:
            out.append(_e(match.group(0)))
        else:
            out.append(f'<a class="cite-ref" href="#" title="{_e(cit.speaker)}, {_e(cit.date)}" '
                       f'{_open_attrs(cit.doc_id, cit.char_start, cit.char_end)}>[{cit.n}]</a>')
        pos = match.end()
    out.append(_e(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def citation_card(c: Citation) -> str:
    """One quote: large and readable, who/when/where, source link, open and copy buttons."""
    page = f'<span class="page">p. {int(c.page)}</span>' if c.page else ""
    return (
        f'<article class="card" id="cite-{int(c.n)}">'
        f'<div class="card-n">{int(c.n)}</div>'
        f'<blockquote class="quote" {_open_attrs(c.doc_id, c.char_start, c.char_end)} '
        f'title="Open the document at this quote">“{_e(c.quote)}”</blockquote>'
        f'<div class="card-meta">{_meta_line(c.speaker, c.date, c.title, c.place)}{page}</div>'
        f'<div class="card-actions">'
        f'<button class="act open" {_open_attrs(c.doc_id, c.char_start, c.char_end)}>Read in document</button>'
        f'<button class="act copy" data-copy="{_e(c.attribution)}" title="{_e(c.attribution)}">'
        f'Copy attribution</button>{_link(c.source_url)}</div></article>'
    )


# -- passages -----------------------------------------------------------------------------
def hits_html(hits: Sequence[Hit], query: str) -> str:
    """Ranked passages as cards; each opens its document at the passage."""
    if not hits:
        return message(f"No passages match {query!r} with these filters.", "empty")
    cards = []
    for rank, h in enumerate(hits, 1):
        role = '<span class="badge q">question</span>' if h.is_question else ""
        page = f'<span class="page">p. {int(h.page)}</span>' if h.page else ""
        cards.append(
            f'<article class="hit" {_open_attrs(h.doc_id, h.char_start, h.char_end)} '
            f'title="Open the document at this passage">'
            f'<div class="hit-head"><span class="rank">{rank}</span>'
            f'<span class="who">{_e(h.speaker or "unknown speaker")}</span><span class="sep">·</span>'
            f'<span class="when">{_e(h.date or "undated")}</span>'
            + (f'<span class="sep">·</span><span class="where">{_e(h.place)}</span>' if h.place else "")
            + f'{page}{role}<span class="score" title="retrieval score">{h.score:.3f}</span></div>'
            f'<div class="hit-title">{_e(h.title or h.doc_id)}</div>'
            f'<p class="hit-text">{_e(h.text)}</p></article>')
    return f'<div class="hits">{"".join(cards)}</div>'


# -- documents ----------------------------------------------------------------------------
@dataclass
class _Segment:
    kind: str  # "turn", "question" or "text"
    label: str
    start: int
    end: int


def _segments(doc: Document) -> list[_Segment]:
    """The text cut into speaker turns and the text between them (labels dropped, shown as headers)."""
    segs: list[_Segment] = []
    pos = 0
    for turn in sorted(doc.turns, key=lambda t: t.char_start):
        if turn.char_start < pos:
            continue
        gap_end = turn.char_start
        if turn.label:
            at = doc.text.rfind(turn.label, pos, turn.char_start)
            if at >= 0 and not doc.text[at + len(turn.label):turn.char_start].strip(" :\t\n—-"):
                gap_end = at
        if doc.text[pos:gap_end].strip():
            segs.append(_Segment("text", "", pos, gap_end))
        label = turn.speaker or turn.label or ""
        if turn.label and turn.speaker and turn.label != turn.speaker:
            # "President of Russia Vladimir Putin" says more than "Vladimir Putin"; "PM" says less
            label = turn.label if turn.speaker in turn.label else f"{turn.speaker} ({turn.label})"
        segs.append(_Segment("question" if turn.is_question else "turn", label, turn.char_start, turn.char_end))
        pos = turn.char_end
    if doc.text[pos:].strip() or not segs:
        segs.append(_Segment("text", "", pos, len(doc.text)))
    return segs


def _highlighted(text: str, start: int, end: int, span: tuple[int, int] | None, first: list[bool]) -> str:
    if span is None or span[1] <= start or span[0] >= end:
        return _e(text[start:end])
    a, b = max(span[0], start), min(span[1], end)
    mark_id = ' id="cited"' if first[0] else ""
    first[0] = False
    return (_e(text[start:a]) + f'<mark class="cited"{mark_id}>' + _e(text[a:b]) + "</mark>"
            + _e(text[b:end]))


def document_html(doc: Document, span: tuple[int, int] | None = None) -> str:
    """Metadata, then the turns one under another with the speaker over each; `span` is marked."""
    if span is not None:
        s, e = max(0, int(span[0])), min(len(doc.text), int(span[1]))
        span = (s, e) if e > s else None
    rows = [("Date", doc.date), ("Place", doc.place), ("Type", doc.doc_type),
            ("Speakers", ", ".join(doc.speakers)), ("Organisation", doc.organisation),
            ("Number", doc.doc_number), ("Source", doc.source)]
    meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v)
    link = _link(doc.source_url, "original")
    first = [True]
    body: list[str] = []
    for seg in _segments(doc):
        inner = _highlighted(doc.text, seg.start, seg.end, span, first)
        if seg.kind == "text":
            body.append(f'<div class="seg text">{inner}</div>')
        else:
            body.append(f'<section class="seg {seg.kind}"><div class="speaker">{_e(seg.label)}</div>'
                        f'<div class="said">{inner}</div></section>')
    jump = ('<button class="act jump" data-jump="cited">Jump to the highlighted passage</button>'
            if span else "")
    return (f'<div class="doc"><h2 class="doc-title">{_e(doc.title or doc.doc_id)}</h2>'
            f'<aside class="doc-head"><div class="panel-title">{_e(doc.title or doc.doc_id)}</div><dl>{meta}</dl><div class="doc-links">{link}{jump}'
            f'<code class="doc-id" title="document id">{_e(doc.doc_id)}</code></div></aside>'
            f'<div class="doc-body">{"".join(body)}</div></div>')


# -- library ------------------------------------------------------------------------------
def stats_html(stats: dict) -> str:
    """One line over the page: how much is indexed."""
    if not stats.get("documents"):
        return '<div class="stats">The library is empty: add files in the <b>Library</b> tab.</div>'
    lo, hi = stats.get("date_min") or "?", stats.get("date_max") or "?"
    return (f'<div class="stats"><b>{int(stats["documents"])}</b> documents · '
            f'<b>{int(stats["chunks"])}</b> passages · <b>{int(stats["speakers"])}</b> speakers · '
            f'{_e(lo[:4])}–{_e(hi[:4])}</div>')


def upload_results_html(rows: Iterable[tuple[str, str, str]]) -> str:
    """A table of (file, result, details); result is added, updated, unchanged or failed."""
    body = "".join(
        f'<tr class="r-{_e(result)}"><td class="file">{_e(name)}</td>'
        f'<td><span class="badge {_e(result)}">{_e(result)}</span></td><td>{_e(details)}</td></tr>'
        for name, result, details in rows)
    if not body:
        return message("Choose one or more files first.", "info")
    return ('<table class="results"><thead><tr><th>File</th><th>Result</th><th>Details</th></tr>'
            f'</thead><tbody>{body}</tbody></table>')


def timeline_table_html(rows: Sequence[dict], period: str = "") -> str:
    """The passages behind the plot, oldest first; a row opens its passage."""
    if not rows:
        return message("No passages in this period." if period else "No dated passages.", "empty")
    body = "".join(
        f'<tr {_open_attrs(r["doc_id"], r["start"], r["end"])} title="Open the passage">'
        f'<td class="d">{_e(r["date"])}</td><td class="s">{_e(r["speaker"])}</td>'
        f'<td><div class="x">{_e(r["excerpt"])}</div><div class="t">{_e(r["title"])}</div></td></tr>'
        for r in rows)
    head = f'<div class="tl-period">{_e(period)}</div>' if period else ""
    return (f'{head}<div class="tl-scroll"><table class="tl-rows"><thead><tr><th>Date</th><th>Speaker</th>'
            f'<th>Passage</th></tr></thead><tbody>{body}</tbody></table></div>')


def library_html(rows: Sequence, total: int) -> str:
    """The documents (title, date, speakers, passages, source); a row opens the document."""
    if not total:
        return message("No documents yet: add files above.", "empty")
    if not rows:
        return message("No document matches this filter.", "empty")
    body = "".join(
        f'<tr {_open_attrs(r.doc_id, 0, 0)} title="Read this document">'
        f'<td><div class="lt">{_e(r.title)}</div><div class="t">{_e(r.doc_type)}</div></td>'
        f'<td class="d">{_e(r.date[:10] or "undated")}</td><td>{_e(", ".join(r.speakers))}</td>'
        f'<td class="n">{int(r.passages)}</td><td class="src">{_e(r.source)}</td></tr>'
        for r in rows)
    shown = f"{len(rows)} of {total} documents" if len(rows) != total else f"{total} documents"
    return (f'<div class="lib-count">{shown}</div><div class="lib-scroll"><table class="lib-rows"><thead><tr>'
            f'<th>Title</th><th>Date</th><th>Speakers</th><th>Passages</th><th>Source</th></tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


# -- side by side and first said ----------------------------------------------------------
def _quote_actions(c: Citation, start: int, end: int) -> str:
    return (f'<div class="card-actions"><button class="act open" {_open_attrs(c.doc_id, start, end)}>'
            f'Read in document</button><button class="act copy" data-copy="{_e(c.attribution)}" '
            f'title="{_e(c.attribution)}">Copy attribution</button>{_link(c.source_url)}</div>')


def comparison_html(result: Comparison) -> str:
    """One column per speaker: their verified quotes on the topic, dated, each opening its span;
    a speaker with nothing on it says so (never someone else's words)."""
    cols = []
    for col in result.speakers:
        also = (f'<div class="cmp-also">also as {_e(", ".join(col.matches[1:]))}</div>'
                if len(col.matches) > 1 else "")
        if col.abstained:
            body = f'<div class="cmp-none" role="status">{_e(col.message)}</div>'
        else:
            body = "".join(
                f'<article class="cmp-card"><div class="cmp-date">{_e(format_date(c.date) or "undated")}</div>'
                f'<blockquote class="quote" {_open_attrs(c.doc_id, c.char_start, c.char_end)} '
                f'title="Open the document at this quote">“{_e(c.quote)}”</blockquote>'
                f'<div class="card-meta"><span class="title">{_e(c.title or c.doc_id)}</span>'
                + (f'<span class="sep">·</span><span class="where">{_e(c.place)}</span>' if c.place else "")
                + (f'<span class="page">p. {int(c.page)}</span>' if c.page else "")
                + f'</div>{_quote_actions(c, c.char_start, c.char_end)}</article>'
                for c in col.citations)
        cols.append(f'<section class="cmp-col"><h3 class="cmp-who">{_e(col.speaker)}</h3>{also}{body}</section>')
    said = sum(not c.abstained for c in result.speakers)
    head = (f'<div class="cmp-head">On <b>“{_e(result.topic)}”</b>: {said} of {len(result.speakers)} speakers '
            f'have verified quotes <span class="hint">best first; click a quote to read it in its document'
            f'</span></div>')
    return f'{head}<div class="cmp-grid" style="--cmp-cols: {len(cols)}">{"".join(cols)}</div>'


def first_html(result: FirstSaid) -> str:
    """The occurrences earliest first, the first statement marked, questions and undated marked;
    each opens its document with the matching words highlighted."""
    counts = result.counts
    asked = counts["exact_asked"] + counts["near_asked"]
    summary = (f'<div class="first-summary"><b>“{_e(result.phrase)}”</b>: {counts["exact_said"]} verbatim and '
               f'{counts["near_said"]} near-verbatim statement{"s" * (counts["near_said"] != 1)}'
               + (f', {asked} in journalists\' questions' if asked else "")
               + ' <span class="hint">in this collection; click one to read it in its document</span></div>')
    first = result.first
    banner = ""
    if first is not None:
        c = first.citation
        banner = (f'<div class="first-banner" role="status">First said by <b>{_e(c.speaker or "an unknown speaker")}'
                  f'</b> {_e(date_phrase(c.date))} <span class="title">{_e(c.title or c.doc_id)}</span></div>')
    if not result.occurrences:
        return summary + message("Not found in the collection, verbatim or near it by meaning.", "empty")
    items = "".join(_occurrence_html(o) for o in result.occurrences)
    notes = "".join(f"<li>{_e(n)}</li>" for n in result.notes)
    return (f'{summary}{banner}<ol class="first-list">{items}</ol>'
            + (f'<ul class="first-notes">{notes}</ul>' if notes else ""))


def _occurrence_html(o: Occurrence) -> str:
    c = o.citation
    badges = []
    if o.first:
        badges.append('<span class="badge first">first said</span>')
    if o.asked:
        badges.append('<span class="badge q" title="a journalist\'s question: not counted as saying it">'
                      'asked, not said</span>')
    if o.undated:
        badges.append('<span class="badge undated" title="listed last: when it was said is unknown">undated</span>')
    how = "verbatim" if o.match == "exact" else f"near-verbatim {o.similarity:.2f}"
    a, b = o.match_start - c.char_start, o.match_end - c.char_start
    quote = f'{_e(c.quote[:a])}<mark class="hit">{_e(c.quote[a:b])}</mark>{_e(c.quote[b:])}'
    who = (c.speaker or "a journalist") if o.asked else (c.speaker or "unknown speaker")
    classes = " ".join(x for x in ("occ", "first" if o.first else "", "asked" if o.asked else "",
                                   "undated" if o.undated else "") if x)
    return (f'<li class="{classes}"><div class="occ-head">{"".join(badges)}'
            f'<span class="when">{_e(format_date(c.date) or "undated")}</span><span class="sep">·</span>'
            f'<span class="who">{_e(who)}</span><span class="sep">·</span><span class="how">{_e(how)}</span></div>'
            f'<blockquote class="quote" {_open_attrs(c.doc_id, o.match_start, o.match_end)} '
            f'title="Open the document at these words">“{quote}”</blockquote>'
            f'<div class="hit-title">{_e(c.title or c.doc_id)}</div>'
            f'{_quote_actions(c, o.match_start, o.match_end)}</li>')


def speakers_html(people: Sequence[dict]) -> str:
    """Who speaks in the collection, one identity a row: the name used, the other names the
    documents give the same person, roles, passages, documents and dates (to check attribution)."""
    if not people:
        return message("No speakers yet: add files above.", "empty")
    rows = []
    for p in people:
        kind = "" if p["kind"] == "person" else f'<div class="t">{_e(p["kind"])}</div>'
        others = ", ".join(a for a in p["aliases"] if a != p["speaker"])
        dates = f'{(p["first"] or "?")[:10]} – {(p["last"] or "?")[:10]}'
        rows.append(f'<tr class="k-{_e(p["kind"])}"><td><div class="lt">{_e(p["speaker"])}</div>{kind}</td>'
                    f'<td>{_e(others)}</td><td>{_e("; ".join(p["roles"][:4]))}</td>'
                    f'<td class="n">{int(p["passages"])}</td><td class="n">{int(p["documents"])}</td>'
                    f'<td class="d">{_e(dates)}</td></tr>')
    return (f'<div class="lib-count">{len(people)} speakers</div><div class="lib-scroll"><table class="lib-rows" '
            f'id="speakers-table"><thead><tr><th>Speaker</th><th>Also named</th><th>Roles</th><th>Passages</th>'
            f'<th>Documents</th><th>Dates</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
