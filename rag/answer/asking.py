"""`ask`: retrieve passages for a question, let an answerer compose an answer, then verify every
quote against its stored document before returning it (`rag.answer.citations.verify_answer`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rag.answer.answers import Answer, Answerer
from rag.answer.citations import verify_answer
from rag.answer.extractive import ExtractiveAnswerer, mentioned_speakers
from rag.answer.named_speaker import asked_for
from rag.answer.vector_cache import shared_cache
from rag.index.nodes import Hit

if TYPE_CHECKING:
    from rag.answer.reader import Reader
    from rag.store.speakers import Identity

MAX_QUESTION_CHARS = 2000
ANSWERERS = ("extractive", "llm")


def ask(lib: "Reader", question: str, speaker: str | list[str] | None = None, since: str | None = None,
        until: str | None = None, source: str | list[str] | None = None,
        answerer: str | Answerer = "extractive", k_passages: int = 20, speaker_hint: bool = True,
        **options: Any) -> Answer:
    """An answer in the speakers' own words; every citation in it has been verified.

    `answerer` is "extractive" (default), "llm" (options: llm_gguf, llm_url, llm_model, ...) or any
    object with the `Answerer` interface. With `speaker_hint`, a question that names a known
    speaker ("What did Lavrov say ...") also retrieves that speaker's passages (no hard filter).
    """
    if question is None or not str(question).strip():
        raise ValueError("empty question: ask something in plain English, "
                         "e.g. rag ask \"What did Lavrov say about the OSCE?\"")
    question = " ".join(str(question).split())
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question)} characters long; keep it under "
                         f"{MAX_QUESTION_CHARS} (ask about one thing at a time)")
    if k_passages < 1:
        raise ValueError("k_passages must be at least 1")
    impl = make_answerer(lib, answerer, **options)
    asked, stranger = asked_for(lib.speaker_index(), question) if speaker_hint and not speaker else ([], None)
    if asked:
        return _ask_named(lib, impl, question, asked, k_passages, since=since, until=until, source=source)
    if stranger:
        return _ask_stranger(lib, impl, question, stranger, k_passages, since=since, until=until, source=source)
    hits = retrieve(lib, question, k_passages, speaker=speaker, since=since, until=until, source=source,
                    speaker_hint=speaker_hint)
    return _answer(lib, impl, question, hits)


def _answer(lib: "Reader", impl: Answerer, question: str, hits: list[Hit]) -> Answer:
    """The answerer's draft over these passages, every quote verified."""
    verified = verify_answer(impl.answer(question, hits), lib.document)
    verified.answerer = getattr(impl, "name", "extractive")
    if verified.abstained and not verified.passages:
        verified.passages = hits[:5]
    return verified


def _ask_named(lib: "Reader", impl: Answerer, question: str, asked: list[Identity], k: int,
               since: str | None, until: str | None, source: str | list[str] | None) -> Answer:
    """A question asking for one person's words ("What did Putin say about NATO?") is answered in
    their words only; when nothing of theirs answers, the answer says so first and shows the
    closest statements of others, marked as not theirs (abstained: the question is not answered)."""
    names = [alias for ident in asked for alias in ident.aliases]
    who = " or ".join(ident.name for ident in asked)
    theirs = lib.search(question, k=k, speaker=names, since=since, until=until, source=source)
    own = _answer(lib, impl, question, theirs) if theirs else None
    if own is not None and not own.abstained:
        return own
    others = lib.search(question, k=k, since=since, until=until, source=source)
    closest = _not_theirs(_answer(lib, impl, question, others), f"No statement by {who} on this was found.",
                          f"nothing {who} said in the collection answers the question"
                          + ("" if theirs else f" (no passage of {who} matches the filters)"))
    if not closest.citations:
        closest.passages = (own.passages if own is not None and own.passages else others[:5])
    return closest


def _not_theirs(closest: Answer, missing: str, note: str) -> Answer:
    """`closest` (others' words) as the answer to a question asking for someone's own words: it
    says `missing` first, then "Closest, by others:" and the quotes; abstained, `note` first."""
    closest.abstained = True
    closest.notes = [note, *closest.notes]
    if closest.citations:
        lead, _, rest = closest.text.partition("\n")
        body = rest if lead.startswith("In the speakers' own words") else closest.text
        closest.text = f"{missing} Closest, by others:\n{body}"
    else:
        closest.text = missing
    return closest


def _ask_stranger(lib: "Reader", impl: Answerer, question: str, name: str, k: int,
                  since: str | None, until: str | None, source: str | list[str] | None) -> Answer:
    """A question asking for the words of someone nobody in the collection is ("What did Sergey
    Aleinik say ...?"): the answer says so first and shows the closest statements of others,
    marked as not theirs (abstained), rather than quoting someone else as if it answered."""
    hits = retrieve(lib, question, k, since=since, until=until, source=source, speaker_hint=False)
    return _not_theirs(_answer(lib, impl, question, hits),
                       f"No statement by {name} was found: nobody of that name speaks in the collection.",
                       f"nobody named {name} speaks in the collection")


def retrieve(lib: "Reader", question: str, k: int, speaker: str | list[str] | None = None,
             since: str | None = None, until: str | None = None, source: str | list[str] | None = None,
             speaker_hint: bool = True) -> list[Hit]:
    """Hybrid search; when the question names a known speaker and no speaker filter is set, that
    speaker's best passages are fused in (reciprocal rank fusion) so that they are not crowded out."""
    hits = lib.search(question, k=k, speaker=speaker, since=since, until=until, source=source)
    if speaker or not speaker_hint:
        return hits
    named = mentioned_speakers(question, [s for s, _ in lib.store.speakers()])
    if not named:
        return hits
    theirs = lib.search(question, k=k, speaker=named, since=since, until=until, source=source)
    return fuse([hits, theirs], k)


def fuse(lists: list[list[Hit]], k: int, rrf_k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion of hit lists (same passage = same point id)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits):
            scores[hit.point_id] = scores.get(hit.point_id, 0.0) + 1.0 / (rrf_k + rank + 1)
            first.setdefault(hit.point_id, hit)
    order = sorted(scores, key=lambda pid: -scores[pid])
    return [first[pid] for pid in order[:k]]


def make_answerer(lib: "Reader", answerer: str | Answerer, **options: Any) -> Answerer:
    """The answerer by name (options go to its constructor), or the given object as it is."""
    if not isinstance(answerer, str):
        if not callable(getattr(answerer, "answer", None)):
            raise ValueError("an answerer needs an answer(question, passages) method")
        return answerer
    if answerer == "extractive":
        extra = {k: v for k, v in options.items() if not k.startswith("llm_") or v is not None}
        stray = [k for k in extra if k.startswith("llm_")]
        if stray:
            raise ValueError(f"{', '.join('--' + s.replace('_', '-') for s in stray)}: only for "
                             "--answerer llm")
        try:
            extra.setdefault("relevance", lib.relevance_model())
            return ExtractiveAnswerer(lib.embedder, documents=lib.document, bm25=lib.bm25,
                                      vector_cache=shared_cache(lib.embedder), **extra)
        except TypeError as exc:
            raise ValueError(f"unknown option for the extractive answerer: {exc}") from exc
    if answerer == "llm" and options.get("llm_mode") == "select":
        from rag.answer.selector import SelectorAnswerer
        from rag.models.llm_backends import make_llm

        llm = make_llm(llm_gguf=options.get("llm_gguf"), llm_url=options.get("llm_url"),
                       llm_model=options.get("llm_model"))
        return SelectorAnswerer(llm=llm, extractive=ExtractiveAnswerer(
            lib.embedder, documents=lib.document, bm25=lib.bm25, vector_cache=shared_cache(lib.embedder),
            relevance=lib.relevance_model()))
    if answerer == "llm":
        if options.get("llm_mode") not in (None, "write"):
            raise ValueError(f"unknown --llm-mode {options['llm_mode']!r}: choose write or select")
        options = {k: v for k, v in options.items() if k != "llm_mode"}
        try:
            module = importlib.import_module("rag.answer.generative")
            factory = getattr(module, "make_llm_answerer")
        except (ImportError, AttributeError) as exc:
            raise RuntimeError(
                "the LLM answerer is not available in this installation (rag.answer.generative."
                f"make_llm_answerer: {exc}); use --answerer extractive, or install the LLM extra"
            ) from exc
        return factory(**{"embedder": lib.embedder, **options})  # the judge reuses the loaded model
    raise ValueError(f"unknown answerer {answerer!r}; choose one of: {', '.join(ANSWERERS)}")
