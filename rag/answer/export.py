"""Quote export: the verified quotes of an answer as CSL-JSON, RIS, BibTeX or Markdown.

Each citation becomes one record (`QuoteRecord`) with the speaker, their role, date, place, title,
source URL and the exact span (`doc_id`, `char_start`, `char_end`, `page`), under an id that is
the same in every format and every run (`lavrov2023-1f3a9c`: speaker's surname, year, a hash of
the span). The formats, and why these types:

- **CSL-JSON** (Zotero, Mendeley, pandoc, citeproc): type ``interview`` when the document is a
  question-and-answer occasion (its `doc_type` names an interview, a press, news or joint news
  conference, a doorstop or a briefing; or, with no telling `doc_type`, its turns include a
  journalist's question), ``speech`` otherwise. Zotero imports ``speech`` as a Presentation and
  ``interview`` as an Interview with the speaker as interviewee. `author` is the speaker (a
  ``literal`` name for an organisation, an office without a name, or "unknown"), `issued` the
  date as far as it is known, `note` the quote followed by a last line with who said it and the
  span; `custom` holds the same span, the role and the attribution line as data.
- **RIS**: ``TY  - SLIDE``. RIS has no speech or interview type; Zotero reads SLIDE as a
  Presentation (the item type it exchanges with CSL as ``speech``) and keeps AU as the presenter,
  CY as the place, DA as the date, M3 as the kind of occasion. Zotero's own interview export,
  PCOMM, comes back as a *letter*, so it is not used. N1 holds the quote, a second N1 the speaker,
  role and span.
- **BibTeX**: ``@misc``: a statement is not a paper in proceedings (``@inproceedings`` needs a
  `booktitle` and a publisher of proceedings); ``@misc`` with `howpublished` (occasion, place) and
  `note` (the quote, then the span) is what bibliography styles print sensibly for speeches.
  LaTeX specials are escaped, non-ASCII text is kept as UTF-8 (biber, or bibtex with inputenc).
- **Markdown**: each quote as a blockquote, then its attribution with a link to the source and
  the span, ready to paste into a draft.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

from ingest.models import Document
from rag.answer.answers import Answer, Citation
from rag.answer.citations import date_phrase, format_date, occasion

FORMATS: tuple[str, ...] = ("csl-json", "ris", "bibtex", "markdown")
SUFFIXES: dict[str, str] = {"csl-json": ".json", "ris": ".ris", "bibtex": ".bib", "markdown": ".md"}
MEDIA_TYPES: dict[str, str] = {"csl-json": "application/vnd.citationstyles.csl+json",
                               "ris": "application/x-research-info-systems",
                               "bibtex": "application/x-bibtex", "markdown": "text/markdown"}
UNKNOWN = "unknown"

# a doc_type (or, failing that, its absence plus question turns) that makes a quote an interview
_INTERVIEW_RE = re.compile(r"interview|press conference|news conference|doorstop|briefing|"
                           r"press statements?|q ?& ?a|questions and answers|media questions", re.I)
_SPEECH_RE = re.compile(r"speech|address|remarks|statement|lecture|message|communiqu|release|"
                        r"article|letter|debate|meeting|talks", re.I)
# words that make a speaker an organisation or an office rather than a named person
_ORG_WORDS = frozenset("""ministry department government office embassy mission council committee
    commission secretariat agency delegation administration service parliament assembly union
    organisation organization federation republic kingdom nations states kremlin spokesperson
    spokesman spokeswoman presidency cabinet bureau directorate press""".split())
_ROLE_ONLY = frozenset("""the of and for prime minister deputy foreign president vice secretary
    premier treasurer chancellor speaker chairman chair governor mayor ambassador senator leader
    spokesperson spokesman spokeswoman director general chief""".split())
_PARTICLES = frozenset("da de del della der di du la le van von den ter ten bin ibn al el ben dos das".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())


@dataclass(frozen=True)
class QuoteRecord:
    """One verified quote with everything a reference manager needs to cite and find it."""

    id: str
    quote: str
    speaker: str
    role: str | None
    date: str | None
    place: str | None
    title: str
    url: str | None
    doc_id: str
    char_start: int
    char_end: int
    page: int | None
    kind: str  # "speech" or "interview"
    doc_type: str | None
    attribution: str

    @property
    def span(self) -> str:
        """Where the quote is: ``DOC_ID, chars 8778-9431[, p. 3]`` (as `rag ask` prints it)."""
        return f"{self.doc_id}, chars {self.char_start}-{self.char_end}" + (f", p. {self.page}" if self.page else "")

    @property
    def who(self) -> str:
        """Speaker and role: "Sergey Lavrov, Minister of Foreign Affairs"."""
        return f"{self.speaker}, {self.role}" if self.role else self.speaker


def quote_kind(doc: Document | None) -> str:
    """ "interview" for a question-and-answer occasion, "speech" otherwise (see the module doc)."""
    if doc is None:
        return "speech"
    doc_type = doc.doc_type or ""
    if _INTERVIEW_RE.search(doc_type):
        return "interview"
    if _SPEECH_RE.search(doc_type):
        return "speech"
    return "interview" if any(t.is_question for t in doc.turns) else "speech"


def records(answer: Answer, document: Callable[[str], Document | None]) -> list[QuoteRecord]:
    """One record per verified citation of `answer` (none when it abstained); `document` loads a
    stored document by id (`Library.document`), for its type."""
    if answer.abstained:
        return []
    docs: dict[str, Document | None] = {}
    out: list[QuoteRecord] = []
    taken: set[str] = set()
    for c in answer.citations:
        if c.doc_id not in docs:
            docs[c.doc_id] = document(c.doc_id)
        doc = docs[c.doc_id]
        record = to_record(c, doc)
        if record.id in taken:  # the same span twice, or a hash collision: keep ids unique
            n = 2
            while f"{record.id}-{n}" in taken:
                n += 1
            record = QuoteRecord(**{**asdict(record), "id": f"{record.id}-{n}"})
        taken.add(record.id)
        out.append(record)
    return out


def to_record(c: Citation, doc: Document | None = None) -> QuoteRecord:
    """The record of one citation; `doc` (its stored document) decides speech or interview and gives
    the role of the turn the quote is from."""
    speaker = " ".join((c.speaker or "").split()) or UNKNOWN
    role = getattr(c, "role", None) or turn_role(doc, c.char_start, c.char_end)  # Citation.role, where set
    role = " ".join(str(role or "").split()) or None
    return QuoteRecord(
        id=record_id(speaker, c.date, c.doc_id, c.char_start, c.char_end), quote=c.quote, speaker=speaker,
        role=role, date=(c.date or "").strip() or None, place=(c.place or "").strip() or None,
        title=(c.title or "").strip() or c.doc_id, url=(c.source_url or "").strip() or None, doc_id=c.doc_id,
        char_start=c.char_start, char_end=c.char_end, page=c.page, kind=quote_kind(doc),
        doc_type=doc.doc_type if doc is not None else None, attribution=c.attribution)


def turn_role(doc: Document | None, start: int, end: int) -> str | None:
    """The role (office) the stored document gives the speaker of the turn that holds the span
    `start:end`; None when no turn holds it or the turn has none. Citations carry no role of their
    own, so without this every export had role null."""
    if doc is None:
        return None
    for turn in doc.turns:
        if turn.char_start <= start and end <= turn.char_end and not turn.is_question:
            return turn.role or None
    return None


def record_id(speaker: str, date: str | None, doc_id: str, start: int, end: int) -> str:
    """ "lavrov2023-1f3a9c": ASCII surname, year ("nd" if undated), 6 hex digits of the span's hash;
    the same quote gets the same id in every export."""
    name = person_name(speaker)
    base = name.get("family") or name.get("literal") or UNKNOWN
    word = base.split()[-1] if name.get("family") else base.split()[0]
    ascii_word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "", ascii_word) or "quote"
    year = _date_parts(date)[0] if _date_parts(date) else "nd"
    digest = hashlib.sha1(f"{doc_id}\x00{start}\x00{end}".encode()).hexdigest()[:6]
    return f"{slug}{year}-{digest}"


def person_name(speaker: str) -> dict[str, str]:
    """A CSL name: {"family", "given"[, "suffix"]} for a person, {"literal"} for an organisation,
    an office without a name, or an unknown speaker."""
    words = speaker.split()
    low = [w.lower().strip(".,") for w in words]
    if not words or speaker == UNKNOWN or set(low) & _ORG_WORDS or all(w in _ROLE_ONLY for w in low):
        return {"literal": speaker or UNKNOWN}
    suffix = ""
    if len(words) > 2 and low[-1].rstrip(".") in {s.rstrip(".") for s in _SUFFIXES}:
        suffix, words = words[-1], words[:-1]
        words[-1] = words[-1].rstrip(",")
    if len(words) == 1:
        name = {"family": words[0]}
    else:
        cut = len(words) - 1
        while cut > 1 and words[cut - 1].lower() in _PARTICLES:  # "Ursula von der Leyen"
            cut -= 1
        name = {"family": " ".join(words[cut:]), "given": " ".join(words[:cut])}
    if suffix:
        name["suffix"] = suffix
    return name


def _date_parts(date: str | None) -> list[int]:
    """[year], [year, month] or [year, month, day] from an ISO date; [] if it has no year."""
    m = re.match(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", date or "")
    if not m:
        return []
    parts = [int(m.group(1))]
    if m.group(2) and 1 <= int(m.group(2)) <= 12:
        parts.append(int(m.group(2)))
        if m.group(3) and 1 <= int(m.group(3)) <= 31:
            parts.append(int(m.group(3)))
    return parts


def _flat(text: str) -> str:
    """The quote on one line (RIS and BibTeX values cannot hold paragraph breaks)."""
    return " ".join(text.split())


def _meta_line(r: QuoteRecord) -> str:
    return f"Said by {r.who}. Source: {r.span}."


# -- CSL-JSON -------------------------------------------------------------------------------------
def csl_item(r: QuoteRecord) -> dict[str, Any]:
    """One CSL-JSON item (CSL 1.0.2 data schema)."""
    item: dict[str, Any] = {"id": r.id, "type": r.kind, "author": [person_name(r.speaker)], "title": r.title}
    parts = _date_parts(r.date)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    elif r.date:
        item["issued"] = {"literal": r.date}
    if r.url:
        item["URL"] = r.url
    if r.place:
        item["publisher-place"] = r.place
        item["event-place"] = r.place
    if r.doc_type:
        item["genre"] = r.doc_type
    item["note"] = f"{r.quote}\n\n{_meta_line(r)}"
    item["custom"] = {"doc_id": r.doc_id, "char_start": r.char_start, "char_end": r.char_end,
                      "page": r.page, "speaker": r.speaker, "role": r.role, "attribution": r.attribution}
    return item


def to_csl_json(recs: Iterable[QuoteRecord]) -> str:
    """A JSON array of CSL items (an empty array when there is nothing to export)."""
    return json.dumps([csl_item(r) for r in recs], ensure_ascii=False, indent=2) + "\n"


# -- RIS ------------------------------------------------------------------------------------------
def _ris_author(speaker: str) -> str:
    name = person_name(speaker)
    if "literal" in name:
        return name["literal"].replace(",", " ")  # no comma: Zotero keeps it as one field
    out = name["family"] + (f", {name['given']}" if name.get("given") else "")
    return out + (f", {name['suffix']}" if name.get("suffix") else "")


def _ris_date(date: str | None) -> str | None:
    parts = _date_parts(date)
    if not parts:
        return None
    cells = [f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:]]
    return "/".join(cells + [""] * (3 - len(parts) + 1))  # "2023/05/17/", "2023/05//", "2023///"


def to_ris(recs: Iterable[QuoteRecord]) -> str:
    """RIS records, one per quote (empty text when there is nothing to export)."""
    lines: list[str] = []
    for r in recs:
        tags: list[tuple[str, str | None]] = [
            ("TY", "SLIDE"), ("ID", r.id), ("AU", _ris_author(r.speaker)), ("TI", _flat(r.title)),
            ("DA", _ris_date(r.date)), ("PY", str(_date_parts(r.date)[0]) if _date_parts(r.date) else None),
            ("CY", r.place), ("UR", r.url), ("M3", r.doc_type), ("N1", _flat(r.quote)), ("N1", _meta_line(r))]
        lines.extend(f"{tag}  - {_flat(value)}" for tag, value in tags if value)
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines)


# -- BibTeX ---------------------------------------------------------------------------------------
_BIBTEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
                    "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_escape(text: str) -> str:
    """LaTeX's special characters escaped; everything else (non-ASCII included) as it is."""
    return "".join(_BIBTEX_SPECIALS.get(ch, ch) for ch in _flat(text))


def _bibtex_author(speaker: str) -> str:
    name = person_name(speaker)
    if "literal" in name:
        return "{" + bibtex_escape(name["literal"]) + "}"  # braced: one name, "and" not a separator
    parts = [bibtex_escape(name["family"])]
    if name.get("suffix"):
        parts.append(bibtex_escape(name["suffix"]))
    if name.get("given"):
        parts.append(bibtex_escape(name["given"]))
    return ", ".join(parts)


def to_bibtex(recs: Iterable[QuoteRecord]) -> str:
    """@misc entries, one per quote (empty text when there is nothing to export)."""
    entries: list[str] = []
    for r in recs:
        parts = _date_parts(r.date)
        how = ", ".join(x for x in ((r.doc_type or "").strip(), r.place or "", format_date(r.date)) if x)
        fields: list[tuple[str, str | None]] = [
            ("author", _bibtex_author(r.speaker)), ("title", "{" + bibtex_escape(r.title) + "}"),
            ("howpublished", bibtex_escape(how) if how else None),
            ("year", str(parts[0]) if parts else None),
            ("month", str(parts[1]) if len(parts) > 1 else None),
            ("date", "-".join(f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate(parts)) if parts else None),
            ("url", _bibtex_url(r.url) if r.url else None),
            ("note", bibtex_escape(f"“{_flat(r.quote)}” {_meta_line(r)}")),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@misc{{{r.id},\n{body}\n}}\n")
    return "\n".join(entries)


def _bibtex_url(url: str) -> str:
    """URLs go verbatim (biblatex reads `url` as a verbatim field); braces and backslashes, which
    would unbalance the entry, percent-encoded."""
    return url.replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


# -- Markdown -------------------------------------------------------------------------------------
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|$~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])(?=\s|$)")


def md_escape(text: str) -> str:
    """Text that Markdown shows as written: emphasis, code, links, HTML, entities, tables, strike-through,
    $math$, and list or heading marks at a line start are backslash-escaped."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _MD_INLINE.sub(r"\\\1", text))


def _md_link(label: str, url: str | None) -> str:
    if not url or not re.match(r"^https?://", url, re.I):
        return f"*{md_escape(label)}*"
    target = f"<{url}>" if re.search(r"[\s()<>]", url) else url
    return f"[{md_escape(label)}]({target.replace(' ', '%20')})"


def to_markdown(recs: Iterable[QuoteRecord]) -> str:
    """Each quote as a blockquote, then who said it, when and where, the linked source and the span."""
    blocks: list[str] = []
    for r in recs:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", r.quote.strip()) if p.strip()]
        quote = "\n>\n".join(f"> {md_escape(p)}" for p in paragraphs)
        context = " ".join(x for x in (occasion(r.doc_type, r.title), _in(r.place), date_phrase(r.date)) if x)
        who = md_escape(r.who) + (f", {context}" if context else "")
        blocks.append(f"{quote}\n\n— {who}. {_md_link(r.title, r.url)} · {_md_code(r.span)}\n")
    return "\n".join(blocks)


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if len(fence) > 1 else f"`{text}`"


def _in(place: str | None) -> str:
    return f"in {md_escape(place)}" if place else ""


# -- one entry point ------------------------------------------------------------------------------
_WRITERS: dict[str, Callable[[Iterable[QuoteRecord]], str]] = {
    "csl-json": to_csl_json, "ris": to_ris, "bibtex": to_bibtex, "markdown": to_markdown}


def export(fmt: str, recs: Iterable[QuoteRecord]) -> str:
    """The records in format `fmt` (one of `FORMATS`)."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    return writer(list(recs))
