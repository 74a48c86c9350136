"""Recover a statement's structure: strip page furniture, read the header (title, date, place,
organisation, document number), merge the source's metadata, and split speaker turns.

The stored text is the cleaned text: furniture is cut from the top and the bottom only, so
the rest stays byte-identical to the input and PDF page offsets shift by a constant.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ingest.labels import starts_with_label
from ingest.models import Document, RawDocument
from ingest.offices import guess_country, holder
from ingest.turns import TurnContext, is_label, normalise_person, read_label, split_turns, title_people

ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

PARSER_VERSION = "3"
"""Bumped when the structure parser changes what it finds (turns, speakers, roles): stored
documents of an older version are parsed again by `rag reindex`, and their files by the next
`rag ingest` that names them."""

# --- page furniture -------------------------------------------------------------------------
TOP_FURNITURE_RE = re.compile(
    r"^(?:UNITED24\b.*|.*\bMake a charitable donation in support of Ukraine!?"
    r"|(?:Sponsored|Advertis(?:e|ing|ement))(?: Links)?)$",
    re.I,
)
BOTTOM_FURNITURE_RE = re.compile(
    r"^(?:NEWSLETTER|Join the [\w.\- ]{1,60} mailing list\.?|Subscribe to (?:our|the) newsletter\.?"
    r"|.*\bGlobalSecurity\.org\b.*|Copyright ©.*|© ?\d{4}.*All rights reserved\.?"
    r"|Site Map(?: \|.*)?|Privacy Policy(?: \|.*)?|Page last modified:.*"
    r"|\[?\s*ends?\s*\]?\.?)$",
    re.I,
)
# Short section names of republishing sites, dropped only when they sit above the organisation line.
SECTION_HEADING_RE = re.compile(r"^[A-Z][\w&'’ ,/-]{0,60}(?:\([A-Z]{2,8}\))?$")

# --- header lines ---------------------------------------------------------------------------
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
DATE_RES = [
    re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.I),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b"),
]
_WEEKDAY = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
_TIME = r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)?"
DATE_LINE_RE = re.compile(
    rf"^{_WEEKDAY}(?:\d{{1,2}}(?:st|nd|rd|th)?\s+[A-Za-z]{{3,9}}\.?,?\s+\d{{4}}|[A-Za-z]{{3,9}}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\.\d{{1,2}}\.\d{{4}}){_TIME}$"
)
DOC_NUMBER_RES = [
    re.compile(r"^(?P<num>\d{1,5}-\d{2}-\d{2}-\d{4})$"),  # MFA Russia: 943-17-05-2023
    re.compile(r"^(?:No|Nr|Ref(?:erence)?|Document No|Doc\. No)\.?\s*[:#]?\s*(?P<num>[A-Z0-9][\w./-]{0,40})$", re.I),
]
ORGANISATION_RE = re.compile(
    r"^(?:The\s+)?(?:[A-Z][\w.'’-]*\s+){0,4}(?:Ministry|Department|Embassy|Permanent Mission|Mission|"
    r"White House|Office|Secretariat|Government|Press Service|Executive Office|Kremlin|"
    r"State Department|Foreign Office)\b[\w ,.'’()-]*$"
)
PLACE_LINE_RE = re.compile(
    r"^[A-Z][\w'’.-]*(?:[ -][A-Z][\w'’.-]*){0,3}(?:, [A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})?$"
)
NOT_PLACE_WORDS = frozenset("good thank thanks hello ladies friends colleagues mr mrs ms madam dear excellencies "
                            "question questions transcript speech interview statement remarks".split())
TITLE_FIRST_WORDS = frozenset("transcript speech interview statement remarks".split())  # "Interview with ..."
HEADER_NOTE_RE = re.compile(r"^(?:E\s*&\s*O\s*E\b.*|(?:-\s*)?PROOF ONLY|CHECK AGAINST DELIVERY|"
                            r"\d{1,2}[:.]\d{2}\s*(?:[AaPp]\.?\s?[Mm]\.?)?(?:\s+[A-Z]{2,4})?|"
                            r"\*?\s*(?:EMBARGOED|Embargoed)\b.*)$", re.I)
MAX_HEADER_LINES = 8

# --- title reading --------------------------------------------------------------------------
TRAILING_DATE_RES = [re.compile(p.pattern + r"[\s.)]*$", p.flags) for p in DATE_RES]
PLACE_BEFORE_DATE_RE = re.compile(r",\s*(?P<place>[A-Z][\w'’.-]*(?:[ -][A-Z][\w'’.-]*){0,3})\s*,?\s*$")
TITLE_POSSESSIVE_RE = re.compile(r"^(?P<name>[^,:;]{3,120}?)['’]s\s")
TITLE_BY_RE = re.compile(
    r"\b(?:(?:remarks|statement|speech|address|interview|answers|news conference|press conference|"
    r"article|message|lecture|briefing)\s+by|(?:news|press) conference\s+of)\s+(?P<name>[A-Z][^,:;]*)",
    re.I,
)
DOC_TYPES_FROM_TITLE = [
    (re.compile(r"\bjoint (?:news|press) conference\b", re.I), "Joint news conference"),
    (re.compile(r"\bnews conference\b", re.I), "News conference"),
    (re.compile(r"\bpress conference\b", re.I), "Press conference"),
    (re.compile(r"\bpress statements?\b", re.I), "Press statements"),
    (re.compile(r"\bdoorstop\b", re.I), "Doorstop"),
    (re.compile(r"\binterview\b", re.I), "Interview"),
    (re.compile(r"\bbriefing\b", re.I), "Briefing"),
    (re.compile(r"\bspeech\b", re.I), "Speech"),
    (re.compile(r"\baddress\b", re.I), "Address"),
    (re.compile(r"\bremarks\b", re.I), "Remarks"),
    (re.compile(r"\bstatement\b", re.I), "Statement"),
]
CATEGORY_TYPES = {"transcripts": "Transcript", "documents": "Document", "announcements": "Announcement"}
CONSUMED_KEYS = frozenset({"id", "_id", "text", "title", "date", "speaker", "source_url", "url", "place",
                           "source", "doc_type", "organisation", "organization", "doc_number"})


@dataclass
class Header:
    """What the lines at the top of a statement say, and where its body starts."""

    title: str | None = None
    date: str | None = None
    place: str | None = None
    organisation: str | None = None
    doc_number: str | None = None
    body_start: int = 0


def _slug(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "doc"


def _sha8(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def make_doc_id(raw: RawDocument) -> str:
    """A stable id: the source's own id when it has one; for a file, a slug of its name plus a
    short hash of its path inside the ingested folder (`raw.key`), so the id survives moving the
    folder and editing the file; for a JSONL record without id, a hash of its text."""
    source_id = raw.metadata.get("id", raw.metadata.get("_id"))
    if source_id not in (None, ""):
        source_id = str(source_id)
        if ID_RE.fullmatch(source_id):
            return source_id
        return f"{_slug(source_id)}-{_sha8(source_id)}"
    identity = raw.text if raw.format == "jsonl" else (raw.key or raw.source_path)
    return f"{_slug(PurePath(raw.source_path).stem)}-{_sha8(identity)}"


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO ``YYYY-MM-DD`` ("17 May 2023", "May 17, 2023", ISO)."""
    found: list[tuple[int, str]] = []
    for pattern in DATE_RES:
        match = pattern.search(text)
        if not match:
            continue
        month_raw = match.group("month")
        month = int(month_raw) if month_raw.isdigit() else MONTHS.get(month_raw.lower().rstrip("."), 0)
        day, year = int(match.group("day")), int(match.group("year"))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append((match.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    return min(found)[1] if found else None


def _metadata_date(metadata: dict[str, Any]) -> str | None:
    date = metadata.get("date")
    if date not in (None, ""):
        text = str(date).strip()
        if re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", text):
            return text
        if re.match(r"\d{4}-\d{2}-\d{2}[T ]", text):
            return text[:10]
        return parse_date(text) or text
    year = metadata.get("year")
    return str(year) if year not in (None, "") else None


# --- furniture ------------------------------------------------------------------------------
def _lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line in text[start:end], line text stripped."""
    end = len(text) if end is None else end
    spans = []
    for match in re.finditer(r"[^\n]+", text[start:end]):
        s, e = start + match.start(), start + match.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def furniture_bounds(text: str) -> tuple[int, int]:
    """The slice of `text` left after cutting banners and section headings at the top and
    newsletter/copyright footers at the bottom, stripped of surrounding whitespace."""
    lines = _lines(text)
    top = 0
    while top < len(lines) and TOP_FURNITURE_RE.match(text[slice(*lines[top])]):
        top += 1
    if top:  # a republication: section headings above the organisation line go too
        for k in range(top, min(top + 3, len(lines))):
            if ORGANISATION_RE.match(text[slice(*lines[k])]):
                if all(SECTION_HEADING_RE.match(text[slice(*lines[j])]) for j in range(top, k)):
                    top = k
                break
    bottom = len(lines)
    while bottom > top and BOTTOM_FURNITURE_RE.match(text[slice(*lines[bottom - 1])]):
        bottom -= 1
    if top >= bottom:
        return 0, 0
    return lines[top][0], lines[bottom - 1][1]


def _remap_pages(page_starts: list[int], start: int, end: int) -> list[int]:
    return [min(max(p - start, 0), end - start) for p in page_starts]


# --- header ---------------------------------------------------------------------------------
def _same_title(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s.replace("’", "'")).strip().lower()

    return norm(a) == norm(b)


def _looks_like_title(line: str) -> bool:
    words = line.split()
    return (4 <= len(words) <= 60 and not line.endswith((".", ":", ",", ";", "!", "?")) and line[:1].isupper()
            and words[0].lower().strip(",") not in NOT_PLACE_WORDS - TITLE_FIRST_WORDS)


def read_header(text: str, known_title: str | None = None) -> Header:
    """Read title, date, document number, organisation and place lines at the top of `text`.

    Stops at the first line that is none of these (the body) or at a speaker label.
    """
    header = Header()
    for start, end in _lines(text)[:MAX_HEADER_LINES]:
        line = text[start:end]
        if starts_with_label(line):
            break
        num = next((m for m in (r.match(line) for r in DOC_NUMBER_RES) if m), None)
        if DATE_LINE_RE.match(line) and parse_date(line) and not header.date:
            header.date = parse_date(line)
        elif num and not header.doc_number:
            header.doc_number = num.group("num")
        elif known_title and _same_title(line, known_title):
            header.title = line
        elif ORGANISATION_RE.match(line) and len(line.split()) <= 12 and not header.organisation:
            header.organisation = line
        elif HEADER_NOTE_RE.match(line):
            pass
        elif not known_title and not header.title and _looks_like_title(line):
            header.title = line
        elif (PLACE_LINE_RE.match(line) and len(line) <= 40 and not header.place and not line.endswith(".")
              and not {w.lower().strip(",.:") for w in line.split()} & NOT_PLACE_WORDS):
            header.place = line
        else:
            break
        header.body_start = end
    return header


def _title_place_date(title: str) -> tuple[str | None, str | None]:
    """Place and date from a title ending "..., Moscow, May 17, 2023"."""
    for pattern in TRAILING_DATE_RES:
        match = pattern.search(title)
        if match:
            place = PLACE_BEFORE_DATE_RE.search(title, 0, match.start())
            return (place.group("place") if place else None), parse_date(match.group(0))
    return None, None


def speaker_from_title(title: str | None) -> str | None:
    """The speaker a title names: "Foreign Minister Sergey Lavrov's remarks ..." -> Sergey Lavrov,
    "Statement by President of Russia Vladimir Putin on ..." -> Vladimir Putin."""
    return title_speaker(title)[0]


def title_speaker(title: str | None) -> tuple[str | None, str | None]:
    """The speaker a title names and the office it gives them: "Press Briefing by Press Secretary
    Dana Whitfield" -> ("Dana Whitfield", "Press Secretary")."""
    if not title:
        return None, None
    candidates = []
    match = TITLE_POSSESSIVE_RE.match(title)
    if match:
        candidates.append(match.group("name"))
    match = TITLE_BY_RE.search(title)
    if match:
        words = []
        for word in match.group("name").split():
            if not (word[:1].isupper() or word in ("of", "the")):
                break
            words.append(word)
        while words and words[-1] in ("of", "the"):
            words.pop()
        candidates.append(" ".join(words))
    for candidate in candidates:
        if candidate and is_label(candidate):
            info = read_label(candidate)
            if info.speaker and not info.is_question and not info.anonymous and len(info.speaker.split()) >= 2 and (
                not info.has_role or info.speaker != candidate
            ):
                return info.speaker, info.role
    return None, None


ADDRESS_TO_NATION_RE = re.compile(r"\bGod bless (?:America|the United States)\b|\bmy fellow Americans\b", re.I)


def _address_speaker(text: str, date: str | None, doc_type: str | None) -> str | None:
    """The speaker of an unlabelled address to the American nation ("... God bless America."):
    the President in office on its date. Nobody for any other document."""
    if (doc_type or "").lower() != "address" or not date or not ADDRESS_TO_NATION_RE.search(text):
        return None
    if guess_country(text) != "us":
        return None
    return holder("us", "president", date)


def doc_type_of(metadata: dict[str, Any], title: str | None) -> str | None:
    """Document type: the source's own, else recognised from the title, else from
    ``release_type`` or ``categories``."""
    if metadata.get("doc_type"):
        return str(metadata["doc_type"])
    for pattern, name in DOC_TYPES_FROM_TITLE:
        if title and pattern.search(title):
            return name
    release = str(metadata.get("release_type") or "").strip()
    if release:
        return release[:1].upper() + release[1:].lower()
    categories = metadata.get("categories") or metadata.get("keywords") or ""
    items = categories if isinstance(categories, list) else str(categories).split(",")
    for item in items:
        name = CATEGORY_TYPES.get(str(item).strip().lower())
        if name:
            return name
    return None


def _is_interview(title: str | None, doc_type: str | None) -> bool:
    text = (title or "").lower()
    if any(word in text for word in ("doorstop", "press conference", "news conference")):
        return False
    return "interview" in text or (doc_type or "").lower() == "interview"


def _str_or_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


_FILE_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[_ -]+(.*)$")


def _file_name_hints(raw: RawDocument) -> tuple[str | None, str | None, str | None]:
    """Date, title and source guessed from a file's name and folder, e.g.
    ``miller/1995-11-27_address-bosnia.txt`` → ("1995-11-27", "Address bosnia", "miller").
    Corpus records (JSONL) carry their own metadata and get nothing from the file name."""
    if raw.format == "jsonl":
        return None, None, None
    path = PurePath(raw.source_path)
    stem = path.name.split(".")[0]
    match = _FILE_DATE_RE.match(stem)
    date = parse_date(match.group(1)) if match else None
    words = (match.group(2) if match else stem).replace("_", " ").replace("-", " ").strip()
    title = words[:1].upper() + words[1:] if words else None
    return date, title, _site(raw.metadata.get("source_url")) or path.parent.name or None


def _site(url: object) -> str | None:
    """The host of a page's URL ("en.kremlin.ru"), used as the source of a saved web page."""
    match = re.match(r"^[a-z]+://([^/:?#]+)", str(url or ""), re.I)
    return match.group(1).lower() if match else None


def parse_document(raw: RawDocument) -> Document:
    """Turn one raw file or record into a Document with metadata, clean text and speaker turns."""
    meta = raw.metadata
    start, end = furniture_bounds(raw.text)
    text = raw.text[start:end]
    known_title = _str_or_none(meta.get("title"))
    header = read_header(text, known_title)
    file_date, file_title, file_source = _file_name_hints(raw)
    title = known_title or header.title or file_title
    title_place, title_date = _title_place_date(title) if title else (None, None)
    doc_type = doc_type_of(meta, title)

    source_speaker = normalise_person(str(meta["speaker"])) if _str_or_none(meta.get("speaker")) else None
    named, named_role = title_speaker(title)
    date = _metadata_date(meta) or header.date or title_date or file_date
    address_speaker = None if (source_speaker or named) else _address_speaker(text, date, doc_type)
    ctx = TurnContext(
        main_speaker=source_speaker or named or address_speaker,
        opening_speaker=named or source_speaker or address_speaker,
        title=title,
        is_interview=_is_interview(title, doc_type),
        date=date,
        main_role=named_role if (named and (not source_speaker or named == source_speaker))
        else ("President" if address_speaker else None),
        people=title_people(title),
    )
    turns = split_turns(text, header.body_start, ctx)
    speakers: list[str] = []
    for turn in turns:
        if turn.speaker and not turn.is_question and turn.speaker not in speakers:
            speakers.append(turn.speaker)

    extra = {k: v for k, v in meta.items() if k not in CONSUMED_KEYS and v not in (None, "", [], {})}
    return Document(
        doc_id=make_doc_id(raw),
        text=text,
        source_path=raw.source_path,
        format=raw.format,
        title=title,
        date=date,
        place=_str_or_none(meta.get("place")) or title_place or header.place,
        organisation=_str_or_none(meta.get("organisation") or meta.get("organization")) or header.organisation,
        doc_number=_str_or_none(meta.get("doc_number")) or header.doc_number,
        source_url=_str_or_none(meta.get("source_url") or meta.get("url")),
        source=_str_or_none(meta.get("source")) or file_source,
        doc_type=doc_type,
        speakers=speakers,
        turns=turns,
        page_starts=_remap_pages(raw.page_starts, start, end),
        extra=extra,
        source_meta=dict(meta),
        parser=PARSER_VERSION,
    )



def reparse(doc: Document) -> Document:
    """The stored document parsed again by this version of the parser, from its stored text and
    the metadata its source gave (for documents stored before that metadata was kept, what the
    store holds: title, date, place, ..., and the speaker its role labels were given). Keeps its
    id and source path; nothing of the stored text is lost (furniture was cut when it was stored)."""
    kept = bool(doc.source_meta) or bool(doc.parser)  # a parser-versioned row kept its metadata, even {}
    meta = dict(doc.source_meta) if kept else _stored_metadata(doc)
    raw = RawDocument(text=doc.text, source_path=doc.source_path, origin=doc.doc_id, format=doc.format,
                      metadata=meta, page_starts=list(doc.page_starts))
    fresh = parse_document(raw)
    fresh.doc_id, fresh.source_path = doc.doc_id, doc.source_path
    if not kept:
        fresh.source_meta = {}
    return fresh


def _stored_metadata(doc: Document) -> dict[str, Any]:
    """Metadata rebuilt from what an older store kept about a document."""
    meta: dict[str, Any] = {k: v for k, v in {
        "title": doc.title, "date": doc.date, "place": doc.place, "source_url": doc.source_url,
        "source": doc.source, "organisation": doc.organisation, "doc_number": doc.doc_number,
    }.items() if v}
    meta.update(doc.extra)
    roles = {"pm", "prime minister", "the prime minister", "president", "the president"}
    for turn in doc.turns:
        if turn.speaker and not turn.is_question and (turn.label is None or turn.label.strip().lower() in roles):
            meta["speaker"] = turn.speaker  # the record's speaker, as the old parser read it
            break
    return meta
