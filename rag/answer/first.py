"""Who said it first: the earliest verified occurrences of a phrase or claim in the collection, by
date then position, with the first statement marked. "First" means first among the indexed
documents, not in the world.

- **Exact**: the phrase verbatim (after the quote normalisation of `rag.answer.quotes`: whitespace,
  quote marks and dashes; case aside; whole words). Every document whose stored text holds all
  the phrase's words is scanned (`Store.texts_containing`), so an occurrence cannot be missed
  because its passage ranked low.
- **Near-verbatim**: the sentence (or a clause of a sentence) whose MiniLM embedding is closest to
  the phrase's, among the `NEAR_PASSAGES` passages nearest by meaning, at or above
  `NEAR_THRESHOLD` (chosen on labelled paraphrases over data/sample: `bench/first_threshold.py`).
- **Questions**: an occurrence inside a journalist's question is shown as asked, never counted as
  said, and never marked first. Text outside any speaker turn (speaker labels) is not a statement.
- **Undated** documents go last and are marked; they are never first.
- Every quote shown is the stored sentence around the match, made by `rag.answer.citations.make_citation`
  and checked against the stored text character for character.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ingest.models import Document
from ingest.sentences import split_sentences
from rag.answer.answers import Citation
from rag.answer.citations import make_citation, speaker_at, turn_at
from rag.answer.quotes import normalise
from rag.answer.vector_cache import shared_cache
from rag.index.filters import date_bounds

if TYPE_CHECKING:
    from rag.answer.reader import Reader

NEAR_THRESHOLD = 0.78  # chosen with bench/first_threshold.py (bench/RESULTS.md, "Who said it first")
NEAR_PASSAGES = 20
MAX_EMBED = 80
WINDOW_RATIO = 1.0  # a clause window is at least as long as the phrase (bench/first_threshold.py)
DEFAULT_SHOWN = 10
MAX_PHRASE_CHARS = 500
MAX_QUOTE_CHARS = 700
_EDGE = " \t\r\n'\"“”‘’«».,;:!?()[]{}…-–—"
_CLAUSE = re.compile(r"[,;:]\s+|\s[-–—]+\s|\s\(|\)\s")


@dataclass
class Occurrence:
    """One place the phrase (or something near it) was said or asked, with its verified quote.

    `citation` holds the quote (the stored sentence around the match) and its span;
    `match_start`/`match_end` is the part that matched (the phrase itself, or the closest clause)."""

    citation: Citation
    match: str  # "exact" or "near"
    similarity: float  # 1.0 for an exact match, the cosine for a near one
    asked: bool  # inside a journalist's question: shown, never counted as said
    match_start: int
    match_end: int
    first: bool = False

    @property
    def undated(self) -> bool:
        """The document has no date: listed last, never first."""
        return _date_key(self.citation.date) is None

    @property
    def role(self) -> str:
        """ "said", or "asked" for a journalist's question."""
        return "asked" if self.asked else "said"

    def to_dict(self) -> dict[str, Any]:
        """The citation's fields (as `rag ask --json` prints them) plus how and where it matched."""
        return {**asdict(self.citation), "match": self.match, "similarity": round(self.similarity, 4),
                "role": self.role, "first": self.first, "undated": self.undated,
                "match_start": self.match_start, "match_end": self.match_end}


@dataclass
class FirstSaid:
    """The occurrences shown (earliest first), how many were found of each kind, and notes."""

    phrase: str
    occurrences: list[Occurrence]
    counts: dict[str, int]
    threshold: float
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> Occurrence | None:
        """The earliest dated statement (never a question), or None."""
        return next((o for o in self.occurrences if o.first), None)

    def to_dict(self) -> dict[str, Any]:
        """The `rag first --json` shape."""
        first = self.first
        return {"phrase": self.phrase, "first": first.to_dict() if first else None,
                "occurrences": [o.to_dict() for o in self.occurrences], "counts": dict(self.counts),
                "threshold": self.threshold, "notes": list(self.notes)}


@dataclass
class Found:
    """A place the phrase matched, before its quote is cut: cheap enough to keep one for every
    match in the collection (a common phrase has hundreds), sorted before any quote is made."""

    doc: Document
    start: int
    end: int
    match: str
    similarity: float
    asked: bool
    sentence: tuple[int, int] | None = None  # a near match is scored on its sentence

    @property
    def undated(self) -> bool:
        """The document has no (readable) date."""
        return _date_key(self.doc.date) is None


@dataclass
class Scope:
    """The filters of one query, resolved against the collection."""

    speakers: list[str] | None = None
    sources: list[str] | None = None
    since: str | None = None
    until: str | None = None

    def admits(self, doc: Document) -> bool:
        """The document's source and date pass the filters (a year-only date counts as the year)."""
        if self.sources is not None and (doc.source or "") not in self.sources:
            return False
        if not (self.since or self.until):
            return True
        bounds = _bounds(doc.date)
        if bounds is None:
            return False
        if self.since and bounds[1] < date_bounds(self.since)[0]:
            return False
        return not (self.until and bounds[0] > date_bounds(self.until)[1])

    def admits_speaker(self, speaker: str) -> bool:
        """The speaker passes the speaker filter."""
        return self.speakers is None or speaker.lower() in {s.lower() for s in self.speakers}


def resolve_scope(lib: "Reader", speaker: str | list[str] | None = None, since: str | None = None,
                  until: str | None = None, source: str | list[str] | None = None) -> Scope:
    """Filters checked and matched to known values (`UnknownFilterValue`, `ValueError` on dates)."""
    for value in (since, until):
        if value:
            date_bounds(value)
    return Scope(speakers=lib.resolve_speakers(_listed(speaker)) if speaker else None,
                 sources=lib.resolve_sources(_listed(source)) if source else None,
                 since=since or None, until=until or None)


def first_said(lib: "Reader", phrase: str, speaker: str | list[str] | None = None,
               since: str | None = None, until: str | None = None, source: str | list[str] | None = None,
               k: int = DEFAULT_SHOWN, threshold: float = NEAR_THRESHOLD,
               passages: int = NEAR_PASSAGES) -> FirstSaid:
    """The `k` earliest occurrences of `phrase`, exact and near-verbatim, the first statement marked."""
    core = clean_phrase(phrase)
    if k < 1:
        raise ValueError("-k must be at least 1 (occurrences to show)")
    scope = resolve_scope(lib, speaker, since, until, source)
    exact = exact_matches(lib, core, scope)
    near = [f for f in near_matches(lib, core, scope, passages)
            if f.similarity >= threshold and not any(_overlaps(f, x) for x in exact)]
    found = sorted(exact + near, key=order_key)
    first = next((f for f in found if not f.asked and not f.undated), None)
    shown = found[:k]
    if first is not None and first not in shown:
        shown = found[:k - 1] + [first]
    sentences: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    occurrences: list[Occurrence] = []
    for f in shown:
        occ = quote(f, sentences)
        if occ is not None:  # the quote is cut from the stored text: it always is
            occ.first = f is first
            occ.citation.n = len(occurrences) + 1
            occurrences.append(occ)
    counts = {"exact_said": sum(not f.asked for f in exact), "exact_asked": sum(f.asked for f in exact),
              "near_said": sum(not f.asked for f in near), "near_asked": sum(f.asked for f in near)}
    return FirstSaid(phrase=core, occurrences=occurrences, counts=counts, threshold=threshold,
                     notes=_notes(found, len(shown), first))


def clean_phrase(phrase: str) -> str:
    """The phrase with whitespace collapsed and surrounding quote marks and punctuation taken off."""
    core = " ".join(str(phrase or "").split()).strip(_EDGE)
    if not re.search(r"\w", core):
        raise ValueError('empty phrase: type the words to look for, e.g. rag first "special status of Donbass"')
    if len(core) > MAX_PHRASE_CHARS:
        raise ValueError(f"the phrase is {len(core)} characters long; keep it under {MAX_PHRASE_CHARS}")
    return core


# -- exact --------------------------------------------------------------------------------------
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A loose pattern for the phrase's words in order (any punctuation or space between them):
    every normalised occurrence matches it, so it finds the places `find_phrase` then checks."""
    words = re.findall(r"\w+", phrase)  # no look-behind: it is three times slower; find_phrase checks the start
    return re.compile(r"\W+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def find_phrase(text: str, phrase: str) -> list[tuple[int, int]]:
    """Spans of every whole-word occurrence of `phrase` in `text`, equal to it after the project's
    quote normalisation (whitespace, quote marks, dashes) with case ignored."""
    needle = normalise(phrase).lower()
    pattern = phrase_pattern(phrase)
    spans: list[tuple[int, int]] = []
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        whole_word = m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_")
        if whole_word and normalise(text[m.start():m.end()]).lower() == needle:
            spans.append(m.span())
        pos = m.start() + 1
    return spans


def exact_matches(lib: "Reader", phrase: str, scope: Scope) -> list[Found]:
    """Every verbatim occurrence in the collection that passes the filters (statements and
    questions), unsorted."""
    words = [w for w in re.findall(r"\w+", phrase) if w.isascii()]
    found: list[Found] = []
    for doc_id, text in lib.store.texts_containing(words):
        spans = find_phrase(text, phrase)
        if not spans:
            continue
        doc = lib.document(doc_id)
        if doc is None or not scope.admits(doc):
            continue
        for start, end in spans:
            asked = _said_at(doc, start, scope)
            if asked is not None:
                found.append(Found(doc, start, end, "exact", 1.0, asked))
    return found


def exact_occurrences(lib: "Reader", phrase: str, scope: Scope) -> list[Occurrence]:
    """`exact_matches` with their quotes, in collection order."""
    sentences: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    return [o for f in exact_matches(lib, phrase, scope) if (o := quote(f, sentences)) is not None]


# -- near-verbatim ------------------------------------------------------------------------------
def near_matches(lib: "Reader", phrase: str, scope: Scope, passages: int = NEAR_PASSAGES,
                 max_embed: int = MAX_EMBED, window_ratio: float | None = WINDOW_RATIO) -> list[Found]:
    """The sentences of the passages nearest to the phrase (hybrid search), each scored by its
    closest window (the sentence, a clause or two adjacent clauses) against the phrase; no
    threshold applied. At most `max_embed` texts are embedded, the likeliest first (the share of
    the phrase's terms a sentence holds, then its passage's rank), as the extractive answerer does."""
    hits = lib.search(phrase, k=passages, mode="hybrid", speaker=scope.speakers, since=scope.since,
                      until=scope.until, source=scope.sources)
    terms = lib.bm25.query_terms(phrase)
    phrase_words = len(phrase.split())
    likely: dict[tuple[str, int, int], float] = {}
    docs: dict[str, Document] = {}
    for rank, hit in enumerate(hits):
        doc = docs.get(hit.doc_id) or lib.document(hit.doc_id)
        if doc is None or doc.text[hit.char_start:hit.char_end] != hit.text:
            continue  # the index is behind the store: `rag check --repair`
        docs[doc.doc_id] = doc
        for s, e in _capped(doc.text, split_sentences(doc.text, hit.char_start, hit.char_end)):
            if (doc.doc_id, s, e) not in likely:
                tokens = lib.bm25.document_terms(doc.text[s:e])
                lex = len(terms & tokens) / len(terms) if terms else 0.0
                likely[(doc.doc_id, s, e)] = lex + 0.5 * (1.0 - rank / len(hits))
    units: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    budget = max_embed
    for key in sorted(likely, key=lambda u: -likely[u]):
        if budget <= 0:
            break
        doc_id, s, e = key
        spans = ([(s, e)] if window_ratio is None else
                 windows(docs[doc_id].text, s, e, phrase_words, window_ratio)[:budget])
        units[key] = spans
        budget -= len(spans)
    if not units:
        return []
    cache = shared_cache(lib.embedder)
    missing = cache.missing(docs[d].text[a:b] for (d, _, _), spans in units.items() for a, b in spans)
    vectors = lib.embedder.embed([phrase] + missing)
    cache.put(missing, vectors[1:])
    query = vectors[0]
    found: list[Found] = []
    for (doc_id, s, e), spans in units.items():
        doc = docs[doc_id]
        sims = [float(np.dot(query, cache.get(doc.text[a:b]))) for a, b in spans]
        best = int(np.argmax(sims))
        a, b = spans[best]
        asked = _said_at(doc, a, scope)
        if asked is not None:
            found.append(Found(doc, a, b, "near", sims[best], asked, sentence=(s, e)))
    return found


def near_occurrences(lib: "Reader", phrase: str, scope: Scope, passages: int = NEAR_PASSAGES,
                     max_embed: int = MAX_EMBED, window_ratio: float | None = WINDOW_RATIO) -> list[Occurrence]:
    """`near_matches` with their quotes (no threshold applied)."""
    found = near_matches(lib, phrase, scope, passages, max_embed, window_ratio)
    return [o for f in found if (o := quote(f, {})) is not None]


def windows(text: str, start: int, end: int, phrase_words: int,
            ratio: float = WINDOW_RATIO) -> list[tuple[int, int]]:
    """The sentence `text[start:end]` and, when it is much longer than the phrase, its clauses and
    pairs of adjacent clauses (a short phrase is compared with the part of a sentence it matches);
    a window of fewer than `ratio` times the phrase's words (and 3) matches on topic words alone and
    is left out."""
    spans = [(start, end)]
    if len(text[start:end].split()) <= 1.5 * phrase_words:
        return spans
    cuts = [start] + [m.end() for m in _CLAUSE.finditer(text, start, end)] + [end]
    clauses = [_trim(text, a, b) for a, b in zip(cuts, cuts[1:])]
    runs = clauses + [(a[0], b[1]) for a, b in zip(clauses, clauses[1:])]
    shortest = max(3, round(phrase_words * ratio))
    spans += [(a, b) for a, b in runs if b > a and len(text[a:b].split()) >= shortest]
    return list(dict.fromkeys(spans))


# -- shared -------------------------------------------------------------------------------------
def _said_at(doc: Document, start: int, scope: Scope) -> bool | None:
    """Whether the text at `start` is asked (a journalist's question) rather than said; None for
    text outside every speaker turn (a label) or by a speaker the filter leaves out."""
    if doc.turns and turn_at(doc, start) is None:
        return None
    speaker, asked = speaker_at(doc, start)
    return asked if scope.admits_speaker(speaker) else None


def quote(found: Found, sentences: dict[tuple[str, int, int], list[tuple[int, int]]]) -> Occurrence | None:
    """The occurrence with the sentence around the match as its quote (cut to MAX_QUOTE_CHARS),
    made by `rag.answer.citations.make_citation` from the stored document and checked against it
    character for character; `sentences` caches the sentence spans of each turn."""
    doc, start, end = found.doc, found.start, found.end
    if found.sentence is None:
        turn = turn_at(doc, start)
        lo, hi = (turn.char_start, turn.char_end) if turn else (0, len(doc.text))
        key = (doc.doc_id, lo, hi)
        if key not in sentences:
            sentences[key] = split_sentences(doc.text, lo, hi)
        around = [(s, e) for s, e in sentences[key] if s < end and e > start] or [(start, end)]
        found.sentence = _clip(doc.text, min(s for s, _ in around), max(e for _, e in around), start, end)
    qs, qe = found.sentence
    citation = make_citation(0, doc, qs, qe, score=found.similarity)
    if not (qs <= start < end <= qe and citation.quote == doc.text[qs:qe] and citation.quote.strip()):
        return None
    return Occurrence(citation=citation, match=found.match, similarity=found.similarity, asked=found.asked,
                      match_start=start, match_end=end)


def _clip(text: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """The sentence span [lo, hi), cut to about MAX_QUOTE_CHARS around the match at spaces."""
    if hi - lo <= MAX_QUOTE_CHARS:
        return lo, hi
    if end - start >= MAX_QUOTE_CHARS:
        return start, end
    a = max(lo, start - (MAX_QUOTE_CHARS - (end - start)) // 2)
    b = min(hi, a + MAX_QUOTE_CHARS)
    a = max(lo, b - MAX_QUOTE_CHARS)
    if a > lo:
        space = text.find(" ", a, start)
        a = space + 1 if space != -1 else start
    if b < hi:
        space = text.rfind(" ", end, b)
        b = space if space != -1 else end
    return _trim(text, a, b)


def _capped(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans, run-on ones (PDF tables, unpunctuated transcripts) cut at spaces."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > MAX_QUOTE_CHARS:
            cut = text.rfind(" ", s + MAX_QUOTE_CHARS // 2, s + MAX_QUOTE_CHARS)
            cut = cut if cut != -1 else s + MAX_QUOTE_CHARS
            out.append(_trim(text, s, cut))
            s = cut
        out.append(_trim(text, s, e))
    return [(a, b) for a, b in out if b > a]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _bounds(date: str | None) -> tuple[int, int] | None:
    try:
        return date_bounds((date or "")[:10]) if date else None
    except ValueError:
        return None


def _date_key(date: str | None) -> tuple[int, int, str] | None:
    bounds = _bounds(date)
    return None if bounds is None else (bounds[0], bounds[1], date or "")


def order_key(f: Found) -> tuple[Any, ...]:
    """Dated before undated; by earliest possible day, then the date as written (times), the
    document and the position in it."""
    key = _date_key(f.doc.date)
    return (key is None, key or (0, 0, ""), f.doc.doc_id, f.start)


def _overlaps(near: Found, exact: Found) -> bool:
    """The near match's sentence holds an exact match (it is shown as that one)."""
    s, e = near.sentence or (near.start, near.end)
    return near.doc.doc_id == exact.doc.doc_id and s < exact.end and e > exact.start


def _notes(found: list[Found], shown: int, first: Found | None) -> list[str]:
    notes: list[str] = []
    if not found:
        return ["not found in the collection, verbatim or near it by meaning"]
    if first is None:
        said = any(not f.asked for f in found)
        notes.append("only undated documents contain it as a statement: which came first is not known"
                     if said else "only journalists' questions contain it: nobody is recorded saying it")
    else:
        date = first.doc.date or ""
        if len(date) < 10:
            notes.append(f"the first is dated only to {date}: an occurrence within that period may be earlier")
        same_day = {f.doc.doc_id for f in found
                    if not f.asked and not f.undated and (f.doc.date or "")[:10] == date[:10]}
        same_day.discard(first.doc.doc_id)
        if same_day and len(date) <= 10:
            notes.append(f"{len(same_day)} other document{'s' * (len(same_day) != 1)} of the same day also "
                         "contain it; their order within the day is not known")
        earlier = [f for f in found if f.asked and order_key(f) < order_key(first)]
        if earlier:
            notes.append(f"a journalist's question used it earlier ({earlier[0].doc.date or 'undated'}); "
                         "questions are not counted as saying it")
    if shown < len(found):
        left = len(found) - shown
        notes.append(f"{left} later occurrence{'s' * (left != 1)} not shown (-k shows more)")
    return notes


def _listed(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
