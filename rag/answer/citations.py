"""Citations: build them from document spans, write their ready-to-paste attribution line, and run
the verification pass that every answer goes through before anyone sees it.

The verification pass is the guarantee behind "no invented quotes, ever": each citation's quote is
looked up in its stored document (`rag.answer.quotes.find_quote`, after whitespace/quote-mark/dash
normalisation); a quote that is not there is dropped together with its text and its ``[n]``
marker, the offsets become the ones where the quote really is, the metadata (speaker, date, title,
place, URL, page) is re-read from the document, and the survivors are renumbered 1..N in order of
appearance. With nothing left the answer abstains.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from ingest.models import Document, Turn
from ingest.sentences import split_sentences
from rag.answer.answers import Answer, Citation
from rag.answer.quotes import find_quote, normalise

ABSTAIN_TEXT = "The indexed statements don't answer this."
MARKER_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_MONTHS = ("January February March April May June July August September October November "
           "December").split()
# (pattern over lower-cased doc_type/title, phrase); the first match wins, doc_type before title.
_OCCASIONS: list[tuple[str, str]] = [
    (r"joint (news|press) conference", "at a joint news conference"),
    (r"news conference", "at a news conference"),
    (r"press conference", "at a press conference"),
    (r"doorstop", "in a doorstop interview"),
    (r"interview", "in an interview"),
    (r"press statements?", "in press statements"),
    (r"answers? to (journalists|media|reporters)|answered .*journalists", "answering journalists' questions"),
    (r"briefing", "at a briefing"),
    (r"\baddress\b", "in an address"),
    (r"speech|lecture", "in a speech"),
    (r"\bremarks\b", "in remarks"),
    (r"statement|communiqu|media release|press release", "in a statement"),
    (r"\bdebate\b", "in a debate"),
    (r"\bmeeting\b|\btalks\b", "at a meeting"),
]


def format_date(date: str | None) -> str:
    """ "2023-05-17" -> "17 May 2023", "2023-05" -> "May 2023", "1995" -> "1995"; "" if unknown."""
    if not date:
        return ""
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", date.strip())
    if not m:
        return date.strip()
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month and 1 <= int(month) <= 12:
        name = _MONTHS[int(month) - 1]
        return f"{int(day)} {name} {year}" if day and 1 <= int(day) <= 31 else f"{name} {year}"
    return year


def date_phrase(date: str | None) -> str:
    """ "on 17 May 2023", "in May 2023", "in 1995", or "" when undated."""
    text = format_date(date)
    if not text:
        return ""
    return f"on {text}" if text[0].isdigit() and " " in text else f"in {text}"


def occasion(doc_type: str | None, title: str | None) -> str:
    """ "at a joint news conference", "in an interview", ... from the document type or title; ""."""
    for field in (doc_type, title):
        low = (field or "").lower()
        if not low:
            continue
        for pattern, phrase in _OCCASIONS:
            if re.search(pattern, low):
                return phrase
    return ""


def shorten(quote: str, max_chars: int = 220) -> str:
    """The quote itself, or its first words up to about `max_chars` followed by " …"."""
    text = " ".join(quote.split())
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars].rstrip(",;:-–— ") + " …"


def attribution(quote: str, speaker: str | None, date: str | None = None, place: str | None = None,
                title: str | None = None, source_url: str | None = None, doc_type: str | None = None,
                asked: bool = False, max_quote_chars: int = 220) -> str:
    """A line to paste into an article, e.g.

    “We have tried to translate these solemn "mantras" …,” Sergey Lavrov said at a joint news
    conference in Moscow on 17 May 2023 (Foreign Minister Sergey Lavrov's remarks …, https://…).
    """
    body = shorten(quote, max_quote_chars)
    who = (speaker or "").strip()
    if asked and who.lower() in ("question", "questions", "journalist", "remark", "q", ""):
        who = "a journalist"
    context = [x for x in (occasion(doc_type, title), _in_place(place),
                           date_phrase(date)) if x]
    if who:
        if body.endswith("."):
            body = body[:-1] + ","
        elif not body.endswith(("?", "!", ",")):
            body += ","
        line = " ".join([f"“{body}”", f"{who} {'asked' if asked else 'said'}", *context])
    else:
        line = f"“{body}”" + (" – " + " ".join(context) if context else "")
    source = ", ".join(x.strip() for x in (title or "", source_url or "") if x and x.strip())
    if source:
        return f"{line} ({source})."
    return line if line.endswith("”") else f"{line}."


def _in_place(place: str | None) -> str:
    place = (place or "").strip()
    if not place:
        return ""
    return "in " + ("the " + place[4:] if place.startswith("The ") else place)


def turn_at(doc: Document, offset: int) -> Turn | None:
    """The speaker turn holding character `offset`, or None."""
    for turn in doc.turns:
        if turn.char_start <= offset < turn.char_end:
            return turn
    return None


def speaker_at(doc: Document, offset: int) -> tuple[str, bool]:
    """Who speaks at `offset` (turn speaker, or the document's only speaker) and whether it is a question."""
    turn = turn_at(doc, offset)
    if turn is not None and turn.speaker:
        return turn.speaker, turn.is_question
    if len(doc.speakers) == 1:
        return doc.speakers[0], False
    return "", bool(turn and turn.is_question)


def make_citation(n: int, doc: Document, start: int, end: int, score: float = 0.0,
                  speaker: str | None = None) -> Citation:
    """A citation for `doc.text[start:end]`, with metadata and attribution read from the document."""
    quote = doc.text[start:end]
    found_speaker, asked = speaker_at(doc, start)
    who = found_speaker or (speaker or "")
    return Citation(
        n=n, doc_id=doc.doc_id, title=doc.title or "", speaker=who, date=doc.date or "",
        place=doc.place or "", source_url=doc.source_url or "", page=doc.page_at(start), quote=quote,
        char_start=start, char_end=end, score=score,
        attribution=attribution(quote, who, doc.date, doc.place, doc.title, doc.source_url,
                                doc.doc_type, asked=asked),
    )


# -- the verification pass ------------------------------------------------------------------------
def verify_answer(answer: Answer, load: Callable[[str], Document | None]) -> Answer:
    """The answer with only citations whose quotes are found verbatim in their stored documents.

    Unverified quotes disappear from the text as well as from the citations; offsets, metadata and
    attributions come from the document; markers are renumbered 1..N in order of appearance.
    """
    if answer.abstained and not answer.citations:
        return replace(answer, text=answer.text or ABSTAIN_TEXT, citations=[])
    notes = list(answer.notes)
    docs: dict[str, Document | None] = {}
    kept: dict[int, Citation] = {}
    dropped: list[Citation] = []
    same_as: dict[int, int] = {}
    seen_spans: dict[tuple[str, int, int], int] = {}
    for cit in answer.citations:
        if cit.doc_id not in docs:
            docs[cit.doc_id] = load(cit.doc_id)
        doc = docs[cit.doc_id]
        span = find_quote(doc.text, cit.quote, near=cit.char_start) if doc is not None else None
        if doc is None or span is None:
            why = "its document is not in the collection" if doc is None else "it is not in the document"
            notes.append(f"dropped quote [{cit.n}] from {cit.doc_id}: {why}")
            dropped.append(cit)
            continue
        key = (doc.doc_id, span[0], span[1])
        if key in seen_spans:
            same_as[cit.n] = seen_spans[key]
            continue
        seen_spans[key] = cit.n
        fresh = make_citation(cit.n, doc, span[0], span[1], score=cit.score, speaker=cit.speaker)
        kept[cit.n] = fresh

    text = answer.text
    before = text.split("\n")
    for cit in dropped:
        text = _remove_quote(text, cit)
    after = text.split("\n")
    if len(after) == len(before):  # a heading line ("Speaker (date):") whose quotes all went goes too
        text = "\n".join(a for a, b in zip(after, before) if a == b or not a.rstrip().endswith(":"))
    text, order, stray = _renumber(text, kept, same_as)
    for n in stray:
        notes.append(f"removed marker [{n}]: no verified citation behind it")
    unreferenced = [n for n in kept if n not in order]
    for n in unreferenced:
        notes.append(f"dropped citation [{n}]: the answer text does not refer to it")
    citations = [replace(kept[old], n=new) for new, old in enumerate(order, 1)]
    text = _tidy(text)
    if not citations or not text.strip():
        return replace(answer, text=ABSTAIN_TEXT, citations=[], abstained=True, notes=notes)
    return replace(answer, text=text, citations=citations, abstained=False, notes=notes)


def _remove_quote(text: str, cit: Citation) -> str:
    """Text without an unverified quote: the quoted words before its marker and any verbatim copy."""
    text = re.sub(r"[“\"«][^”\"»\n]{0,3000}[”\"»]\s*\[" + str(cit.n) + r"\]", "", text)
    needle = normalise(cit.quote)
    while len(needle) >= 12:
        span = find_quote(text, cit.quote)
        if span is None:
            break
        s, e = span
        if s > 0 and text[s - 1] in "“\"«'‘":
            s -= 1
        if e < len(text) and text[e] in "”\"»'’":
            e += 1
        text = text[:s] + text[e:]
    return text


def _renumber(text: str, kept: dict[int, Citation], same_as: dict[int, int]) -> tuple[str, list[int], list[int]]:
    """Markers mapped to 1..N by first appearance; returns text, old numbers in order, stray numbers.

    A sentence whose markers all pointed at dropped citations loses its claim as well."""
    order: list[int] = []
    stray: list[int] = []

    def new_number(old: int) -> int | None:
        old = same_as.get(old, old)
        if old not in kept:
            if old not in stray:
                stray.append(old)
            return None
        if old not in order:
            order.append(old)
        return order.index(old) + 1

    def sub(match: re.Match[str]) -> str:
        valid: list[int] = []
        for x in match.group(1).split(","):
            n = new_number(int(x))
            if n is not None and n not in valid:
                valid.append(n)
        return "".join(f"[{n}]" for n in valid)

    lines = []
    for line in text.split("\n"):
        pieces = []
        last = 0
        for start, end in split_sentences(line):
            sentence = line[start:end]
            new = MARKER_RE.sub(sub, sentence)
            if MARKER_RE.search(sentence) and not MARKER_RE.search(new):
                new = ""  # every citation behind this claim was dropped: so is the claim
            pieces.append(line[last:start] + new)
            last = end
        pieces.append(line[last:])
        lines.append("".join(pieces))
    return "\n".join(lines), order, [n for n in stray if n not in order]


def _tidy(text: str) -> str:
    out = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line).rstrip()
        line = re.sub(r"[ \t]+([,.;:!?])", r"\1", line)
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
