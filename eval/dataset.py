"""Evaluation sets: questions with gold documents, verbatim gold quotes and optional filters.

One question per JSONL line; the format is documented in ``eval/datasets/README.md``.
`load_eval_set` reads and checks a file (errors name ``file:line``), `align_doc_ids` maps gold
document ids onto a collection's ids, `validate_against_store` checks the gold evidence against a
collection, and `resolve_gold_spans` turns gold quotes into character offsets in the stored text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from rag.answer.quotes import find_quote

if TYPE_CHECKING:
    from rag.library import Library

CATEGORIES = ("who-said-what", "when", "position-and-reason", "number", "comparison",
              "needs-filter", "unanswerable")
"""Categories used by the bundled statements set; other sets may use their own labels."""

FILTER_KEYS = ("speaker", "since", "until", "source")
_REQUIRED = ("id", "question", "answerable")
_KNOWN = {"id", "question", "answerable", "gold_docs", "gold_quotes", "gold_spans",
          "reference_answer", "filters", "category", "notes", "forbidden"}
_PATH_HASH = re.compile(r"-[0-9a-f]{8}$")
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


class EvalSetError(ValueError):
    """A malformed evaluation set; the message starts with ``file:line``."""


@dataclass(frozen=True)
class GoldQuote:
    """A passage that answers the question, copied verbatim from document `doc_id`."""

    doc_id: str
    quote: str


@dataclass(frozen=True)
class GoldSpan:
    """`text[char_start:char_end]` of stored document `doc_id` answers the question."""

    doc_id: str
    char_start: int
    char_end: int


@dataclass(frozen=True)
class EvalFilters:
    """Search filters as accepted by `Library.search` / `Library.ask`."""

    speaker: str | list[str] | None = None
    since: str | None = None
    until: str | None = None
    source: str | list[str] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """The filters that are set, as keyword arguments for `Library.search` / `ask`."""
        values = {"speaker": self.speaker, "since": self.since, "until": self.until,
                  "source": self.source}
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class EvalItem:
    """One evaluation question and what a correct retrieval / answer must contain."""

    id: str
    question: str
    answerable: bool
    gold_docs: list[str] = field(default_factory=list)
    gold_quotes: list[GoldQuote] = field(default_factory=list)
    gold_spans: list[GoldSpan] = field(default_factory=list)
    reference_answer: str | None = None
    filters: EvalFilters = field(default_factory=EvalFilters)
    category: str | None = None
    notes: str | None = None
    forbidden: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The item as one JSON object of the documented format (empty optionals left out)."""
        out: dict[str, Any] = {"id": self.id, "question": self.question,
                               "answerable": self.answerable, "gold_docs": list(self.gold_docs),
                               "gold_quotes": [{"doc_id": q.doc_id, "quote": q.quote}
                                               for q in self.gold_quotes]}
        if self.gold_spans:
            out["gold_spans"] = [{"doc_id": s.doc_id, "char_start": s.char_start,
                                  "char_end": s.char_end} for s in self.gold_spans]
        if self.reference_answer is not None:
            out["reference_answer"] = self.reference_answer
        if self.filters.as_kwargs():
            out["filters"] = self.filters.as_kwargs()
        if self.category is not None:
            out["category"] = self.category
        if self.notes is not None:
            out["notes"] = self.notes
        if self.forbidden:
            out["forbidden"] = list(self.forbidden)
        return out


# -- reading ---------------------------------------------------------------------------------
def load_eval_set(path: str | Path) -> list[EvalItem]:
    """Every question of a JSONL evaluation set; blank lines and ``#`` comment lines are skipped.

    Raises `EvalSetError` naming ``file:line`` for malformed JSON, missing or unknown keys,
    values of the wrong type and duplicate ids; `FileNotFoundError` when the file is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"evaluation set not found: {path}")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise EvalSetError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            item = parse_item(obj, where)
            if item.id in seen:
                raise EvalSetError(f"{where}: duplicate id {item.id!r} (first used on line {seen[item.id]})")
            seen[item.id] = number
            items.append(item)
    if not items:
        raise EvalSetError(f"{path}: no questions in the file")
    return items


def parse_item(obj: Any, where: str = "<item>") -> EvalItem:
    """One `EvalItem` from a decoded JSON object; `where` prefixes every error message."""
    if not isinstance(obj, dict):
        raise EvalSetError(f"{where}: expected a JSON object, got {_kind(obj)}")
    missing = [k for k in _REQUIRED if k not in obj]
    if missing:
        raise EvalSetError(f"{where}: missing required key(s): {', '.join(missing)}")
    unknown = sorted(set(obj) - _KNOWN)
    if unknown:
        raise EvalSetError(f"{where}: unknown key(s): {', '.join(unknown)} "
                           f"(allowed: {', '.join(sorted(_KNOWN))})")
    item_id = _text(obj, "id", where)
    question = _text(obj, "question", where)
    answerable = obj["answerable"]
    if not isinstance(answerable, bool):
        raise EvalSetError(f"{where}: 'answerable' must be true or false, got {_kind(answerable)}")
    gold_docs = _string_list(obj.get("gold_docs", []), "gold_docs", where)
    quotes = [_quote(q, f"gold_quotes[{i}]", where) for i, q in enumerate(_list(obj, "gold_quotes", where))]
    spans = [_span(s, f"gold_spans[{i}]", where) for i, s in enumerate(_list(obj, "gold_spans", where))]
    cited = [e.doc_id for e in (*quotes, *spans)]
    if "gold_docs" not in obj:
        gold_docs = list(dict.fromkeys(cited))
    for doc_id in cited:
        if doc_id not in gold_docs:
            raise EvalSetError(f"{where}: gold evidence cites {doc_id!r}, which is not in gold_docs")
    if answerable and not gold_docs:
        raise EvalSetError(f"{where}: answerable question {item_id!r} has no gold_docs or gold_quotes")
    if not answerable and (gold_docs or quotes or spans):
        raise EvalSetError(f"{where}: unanswerable question {item_id!r} must not list gold evidence")
    return EvalItem(
        id=item_id, question=question, answerable=answerable, gold_docs=gold_docs,
        gold_quotes=quotes, gold_spans=spans,
        reference_answer=_optional_text(obj, "reference_answer", where),
        filters=_filters(obj.get("filters"), where),
        category=_optional_text(obj, "category", where),
        notes=_optional_text(obj, "notes", where),
        forbidden=_string_list(obj.get("forbidden", []), "forbidden", where),
    )


def write_eval_set(items: Iterable[EvalItem], path: str | Path) -> None:
    """Write items as JSONL in the documented format (UTF-8, one object per line)."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")


# -- checking against a collection ---------------------------------------------------------
def doc_stem(doc_id: str) -> str:
    """`doc_id` without the 8-hex-digit path hash that ingest appends to file-based documents."""
    return _PATH_HASH.sub("", doc_id)


def align_doc_ids(items: Iterable[EvalItem], known_ids: Iterable[str]) -> list[EvalItem]:
    """Copies of the items with gold document ids rewritten to the ids of one collection.

    Ingest gives a document without an id of its own (a .txt, .html or .pdf file) the id
    ``<file-name-slug>-<hash of its path>``, so the same sample ingested from another folder gets
    other ids. An id that is in `known_ids` is kept; one that is not, but whose `doc_stem`
    matches exactly one known id's stem, is replaced by that id; any other is kept unchanged
    (`validate_against_store` then reports it).
    """
    known = set(known_ids)
    by_stem: dict[str, list[str]] = {}
    for doc_id in sorted(known):
        by_stem.setdefault(doc_stem(doc_id), []).append(doc_id)

    def fix(doc_id: str) -> str:
        if doc_id in known:
            return doc_id
        candidates = by_stem.get(doc_stem(doc_id), [])
        return candidates[0] if len(candidates) == 1 else doc_id

    return [replace(item, gold_docs=list(dict.fromkeys(fix(d) for d in item.gold_docs)),
                    gold_quotes=[GoldQuote(fix(q.doc_id), q.quote) for q in item.gold_quotes],
                    gold_spans=[GoldSpan(fix(s.doc_id), s.char_start, s.char_end) for s in item.gold_spans])
            for item in items]


def validate_against_store(items: Iterable[EvalItem], lib: "Library") -> list[str]:
    """Problems with the gold evidence in this collection; an empty list means all is found.

    After `align_doc_ids`, checks that every gold document is stored, every gold quote occurs
    verbatim (after the whitespace / quote-mark normalisation of `rag.answer.quotes`) in its
    document's stored text, and every gold span lies inside its document.
    """
    problems: list[str] = []
    texts: dict[str, str | None] = {}
    for item in align_doc_ids(items, lib.store.doc_ids()):
        for doc_id in item.gold_docs:
            if _stored_text(lib, doc_id, texts) is None:
                problems.append(f"{item.id}: gold document {doc_id!r} is not in the collection")
        for q in item.gold_quotes:
            text = _stored_text(lib, q.doc_id, texts)
            if text is not None and find_quote(text, q.quote) is None:
                problems.append(f"{item.id}: quote not found verbatim in {q.doc_id}: {_short(q.quote)!r}")
        for s in item.gold_spans:
            text = _stored_text(lib, s.doc_id, texts)
            if text is not None and not 0 <= s.char_start < s.char_end <= len(text):
                problems.append(f"{item.id}: span {s.char_start}-{s.char_end} lies outside "
                                f"{s.doc_id} ({len(text)} characters)")
    return problems


def resolve_gold_spans(items: Iterable[EvalItem], lib: "Library") -> list[EvalItem]:
    """The items aligned to this collection (`align_doc_ids`), each gold quote also as a span.

    Spans already given are kept; a quote that cannot be found adds nothing (see
    `validate_against_store` for the list of such problems).
    """
    texts: dict[str, str | None] = {}
    resolved: list[EvalItem] = []
    for item in align_doc_ids(items, lib.store.doc_ids()):
        spans = list(item.gold_spans)
        for q in item.gold_quotes:
            text = _stored_text(lib, q.doc_id, texts)
            found = find_quote(text, q.quote) if text is not None else None
            if found is not None:
                span = GoldSpan(q.doc_id, found[0], found[1])
                if span not in spans:
                    spans.append(span)
        resolved.append(replace(item, gold_spans=spans))
    return resolved


# -- helpers ---------------------------------------------------------------------------------
def _stored_text(lib: "Library", doc_id: str, cache: dict[str, str | None]) -> str | None:
    if doc_id not in cache:
        doc = lib.document(doc_id)
        cache[doc_id] = doc.text if doc is not None else None
    return cache[doc_id]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise EvalSetError(f"{where}: {key!r} must be a non-empty string, got {_kind(value)}")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EvalSetError(f"{where}: {key!r} must be a string, got {_kind(value)}")
    return value


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise EvalSetError(f"{where}: {key!r} must be a list, got {_kind(value)}")
    return value


def _string_list(value: Any, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EvalSetError(f"{where}: {key!r} must be a list of non-empty strings")
    return list(dict.fromkeys(value))


def _quote(value: Any, key: str, where: str) -> GoldQuote:
    if not isinstance(value, dict) or set(value) != {"doc_id", "quote"}:
        raise EvalSetError(f"{where}: {key} must be an object with exactly 'doc_id' and 'quote'")
    doc_id, quote = value["doc_id"], value["quote"]
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise EvalSetError(f"{where}: {key}.doc_id must be a non-empty string, got {_kind(doc_id)}")
    if not isinstance(quote, str) or not quote.strip():
        raise EvalSetError(f"{where}: {key}.quote must be a non-empty string, got {_kind(quote)}")
    return GoldQuote(doc_id, quote)


def _span(value: Any, key: str, where: str) -> GoldSpan:
    if not isinstance(value, dict) or set(value) != {"doc_id", "char_start", "char_end"}:
        raise EvalSetError(f"{where}: {key} must be an object with 'doc_id', 'char_start', 'char_end'")
    doc_id, start, end = value["doc_id"], value["char_start"], value["char_end"]
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise EvalSetError(f"{where}: {key}.doc_id must be a non-empty string, got {_kind(doc_id)}")
    for name, number in (("char_start", start), ("char_end", end)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise EvalSetError(f"{where}: {key}.{name} must be a non-negative integer, got {_kind(number)}")
    if start >= end:
        raise EvalSetError(f"{where}: {key} is empty or reversed ({start} >= {end})")
    return GoldSpan(doc_id, start, end)


def _filters(value: Any, where: str) -> EvalFilters:
    if value is None:
        return EvalFilters()
    if not isinstance(value, dict):
        raise EvalSetError(f"{where}: 'filters' must be an object, got {_kind(value)}")
    unknown = sorted(set(value) - set(FILTER_KEYS))
    if unknown:
        raise EvalSetError(f"{where}: unknown filter(s): {', '.join(unknown)} "
                           f"(allowed: {', '.join(FILTER_KEYS)})")
    for key in ("speaker", "source"):
        v = value.get(key)
        ok = v is None or (isinstance(v, str) and v.strip()) or (
            isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v))
        if not ok:
            raise EvalSetError(f"{where}: filters.{key} must be a string or a list of strings")
    for key in ("since", "until"):
        v = value.get(key)
        if v is not None and (not isinstance(v, str) or not _DATE.match(v)):
            raise EvalSetError(f"{where}: filters.{key} must be a date YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
    return EvalFilters(speaker=value.get("speaker"), since=value.get("since"),
                       until=value.get("until"), source=value.get("source"))
