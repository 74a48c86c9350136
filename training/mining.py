"""Mine (question, answer passage) examples from the structure of press conferences and
interviews, and the QMSum train queries with their gold turns.

A journalist's question turn (``Turn.is_question``) and the officials' turns that follow it, up
to the next question, are a natural pair. Answers are chunked as the index chunks them
(`rag.collection.ingestion.Ingestor.chunk`) and written as the index embeds them (`rag.index.context`), without
the question in the context (it would put the query inside its own positive). Every query comes
in the forms users type: the journalist's full question, its first question sentence and its
`short_question`. Whole documents are held out for validation (`split`), chosen by a hash of the
document id. Output is deterministic: the same corpora and parser give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ingest.models import Chunk, Document
from ingest.sentences import split_sentences
from rag.index.context import contextualise, passage_context, short_question
from training.bm25 import Bm25Index
from training.sources import (CORPORA, SourceDoc, eval_questions, iter_corpus, norm_question,
                              qmsum_train, sample_ids)

VAL_PERCENT = 10
MIN_QUERY_WORDS = 4
MIN_ANSWER_WORDS = 12
NEG_SAME = 3    # BM25-ranked other answers of the same document kept per example
NEG_OTHER = 5   # BM25-ranked answers of other documents kept per example
BM25_DEPTH = 40
DUPLICATE_JACCARD = 0.6  # a "negative" this close in words to the positive is a repeated answer


@dataclass
class Passage:
    """One index passage: `text` is exactly what the index embeds (context header + chunk)."""

    pid: str
    doc_id: str
    source: str
    split: str
    turn: int
    text: str


@dataclass
class Example:
    """One query, its positive passage, every passage of its answer, and mined negatives."""

    qid: str
    split: str
    source: str
    doc_id: str
    form: str
    query: str
    positive: str
    relevant: list[str]
    neg_same: list[str] = field(default_factory=list)
    neg_other: list[str] = field(default_factory=list)


def split_of(doc_id: str) -> str:
    """`val` for about VAL_PERCENT % of documents (by a hash of the id), else `train`."""
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "val" if bucket < VAL_PERCENT else "train"


def words(text: str) -> list[str]:
    """The words of a text (for length limits)."""
    return text.split()


def first_question_sentence(text: str) -> str | None:
    """The first sentence that asks (ends in "?") with at least MIN_QUERY_WORDS words."""
    for start, end in split_sentences(text):
        sentence = " ".join(text[start:end].split())
        if sentence.endswith("?") and len(words(sentence)) >= MIN_QUERY_WORDS:
            return sentence
    return None


def query_forms(question: str) -> list[tuple[str, str]]:
    """(form, text) for the full question, its first question sentence and its short form,
    without repeats."""
    full = " ".join(question.split())
    forms = [("full", full), ("first", first_question_sentence(question) or ""),
             ("short", short_question(question))]
    seen: set[str] = set()
    out = []
    for form, text in forms:
        key = norm_question(text)
        if len(words(text)) >= MIN_QUERY_WORDS and key and key not in seen:
            seen.add(key)
            out.append((form, text))
    return out


def passage_of(src: SourceDoc, chunk: Chunk, split: str) -> Passage:
    """The passage the index would hold for `chunk`, with no question in its context (the index
    heads an answer with the question it follows, "Asked: ...", which here is the query)."""
    text = contextualise(chunk.text, replace(passage_context(src.doc, chunk), question=None))
    return Passage(f"{chunk.doc_id}#{chunk.index}", chunk.doc_id, src.source, split, chunk.turn, text)


def qa_examples(src: SourceDoc, chunks: list[Chunk], split: str, excluded_questions: set[str]) -> list[Example]:
    """Examples from each question turn and the answer turns after it."""
    doc = src.doc
    by_turn: dict[int, list[Chunk]] = {}
    for chunk in chunks:
        by_turn.setdefault(chunk.turn, []).append(chunk)
    out: list[Example] = []
    turns = doc.turns
    for i, turn in enumerate(turns):
        if not turn.is_question:
            continue
        answer: list[Chunk] = []
        for later in turns[i + 1:]:
            if later.is_question:
                break
            if later.speaker:
                answer.extend(by_turn.get(later.index, []))
        answer_words = sum(len(words(c.text)) for c in answer)
        if not answer or answer_words < MIN_ANSWER_WORDS:
            continue
        positive = next((c for c in answer if len(words(c.text)) >= MIN_ANSWER_WORDS), answer[0])
        question = doc.text[turn.char_start:turn.char_end]
        for form, query in query_forms(question):
            if norm_question(query) in excluded_questions:
                continue
            out.append(Example(f"{doc.doc_id}#q{turn.index}:{form}", split, src.source, doc.doc_id, form,
                               query, f"{doc.doc_id}#{positive.index}",
                               [f"{doc.doc_id}#{c.index}" for c in answer]))
    return out


def qmsum_examples(src: SourceDoc, chunks: list[Chunk], raw_turns: list[dict], queries: list[dict],
                   split: str, excluded_questions: set[str]) -> list[Example]:
    """QMSum train queries; their relevant passages are the chunks inside their gold turns
    (spans inclusive on both ends)."""
    from eval.qmsum import turn_offsets

    offsets = turn_offsets(src.doc.text, raw_turns)
    out: list[Example] = []
    for q in queries:
        ranges = []
        for first, last in q["relevant_text_span"]:
            first, last = int(first), min(int(last), len(offsets) - 1)
            if 0 <= first <= last:
                ranges.append((offsets[first][0], offsets[last][1]))
        relevant = [c for c in chunks if any(c.char_start < e and s < c.char_end for s, e in ranges)]
        if not relevant or norm_question(q["query"]) in excluded_questions:
            continue
        ids = [f"{src.doc.doc_id}#{c.index}" for c in relevant]
        out.append(Example(f"{src.doc.doc_id}#{q['qid']}:qmsum", split, src.source, src.doc.doc_id,
                           "qmsum", " ".join(q["query"].split()), ids[0], ids))
    return out


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def _word_set(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def add_negatives(examples: list[Example], passages: list[Passage],
                  log: Callable[[str], None] | None = None) -> None:
    """BM25 hard negatives for each example, over the passages of its own split: the best
    ranked other answers of the same document, and of other documents (repeated answers, by
    word overlap with the positive, are not negatives)."""
    index = Bm25Index([p.text for p in passages])
    row = {p.pid: i for i, p in enumerate(passages)}
    doc_rows: dict[str, np.ndarray] = {}
    for i, p in enumerate(passages):
        doc_rows.setdefault(p.doc_id, []).append(i)  # type: ignore[arg-type]
    doc_rows = {k: np.asarray(v) for k, v in doc_rows.items()}
    word_sets: dict[int, set[str]] = {}

    def wset(i: int) -> set[str]:
        if i not in word_sets:
            word_sets[i] = _word_set(passages[i].text)
        return word_sets[i]

    for n, ex in enumerate(examples):
        if log and n % 5000 == 0:
            log(f"BM25 negatives: {n}/{len(examples)}")
        scores = index.scores(ex.query)
        relevant = {row[r] for r in ex.relevant if r in row}
        pos = row[ex.positive]
        own = doc_rows[ex.doc_id]
        same = own[np.lexsort((own, -scores[own]))]
        ex.neg_same = [passages[i].pid for i in same if i not in relevant and scores[i] > 0][:NEG_SAME]
        masked = scores.copy()
        masked[own] = 0.0
        top = np.argpartition(-masked, min(BM25_DEPTH, len(masked) - 1))[:BM25_DEPTH]
        top = top[np.lexsort((top, -masked[top]))]
        ex.neg_other = [passages[i].pid for i in top
                        if masked[i] > 0 and _jaccard(wset(i), wset(pos)) < DUPLICATE_JACCARD][:NEG_OTHER]


@dataclass
class MinedData:
    """Everything mined, in deterministic order."""

    passages: list[Passage]
    examples: list[Example]
    counts: dict[str, int]


def iter_sources(data_root: Path, excluded: set[str], skipped: dict[str, int] | None = None
                 ) -> Iterator[tuple[SourceDoc, list[dict] | None, list[dict] | None]]:
    """(document, QMSum turns, QMSum queries) for every training document, corpora in a fixed order."""
    for name in CORPORA:
        for src in iter_corpus(data_root, name, excluded, skipped):
            if any(t.is_question for t in src.doc.turns):
                yield src, None, None
    for src, turns, queries in qmsum_train(data_root):
        yield src, turns, queries


def mine(data_root: Path, repo: Path, chunker, log=print) -> MinedData:
    """Mine every corpus. `chunker(doc) -> chunks` is the index's chunking
    (`Ingestor.chunk`); `repo` holds data/sample/MANIFEST.tsv and eval/datasets."""
    excluded = sample_ids(repo / "data/sample/MANIFEST.tsv")
    excluded_questions = eval_questions(repo / "eval/datasets")
    skipped = {"sample": 0, "briefing": 0}
    passages: list[Passage] = []
    examples: list[Example] = []
    counts: dict[str, int] = {}
    for src, turns, queries in iter_sources(data_root, excluded, skipped):
        doc: Document = src.doc
        split = split_of(doc.doc_id)
        chunks = chunker(doc)
        if turns is None:
            found = qa_examples(src, chunks, split, excluded_questions)
        else:
            found = qmsum_examples(src, chunks, turns, queries or [], split, excluded_questions)
        if not found:
            continue
        new = [passage_of(src, c, split) for c in chunks if not c.is_question]
        passages.extend(new)
        known = {p.pid for p in new}
        found = [e for e in found if e.positive in known]
        for e in found:
            e.relevant = [r for r in e.relevant if r in known]
        examples.extend(found)
        counts[f"docs_{src.source}_{split}"] = counts.get(f"docs_{src.source}_{split}", 0) + 1
        if sum(v for k, v in counts.items() if k.startswith("docs_")) % 500 == 0:
            log(f"mined {len(examples)} examples, {len(passages)} passages")
    for split in ("train", "val"):
        log(f"BM25 negatives for {split} ...")
        add_negatives([e for e in examples if e.split == split],
                      [p for p in passages if p.split == split], log)
    for e in examples:
        key = f"examples_{e.source}_{e.split}_{e.form}"
        counts[key] = counts.get(key, 0) + 1
    for p in passages:
        counts[f"passages_{p.split}"] = counts.get(f"passages_{p.split}", 0) + 1
    counts["excluded_sample_ids"] = len(excluded)
    counts["excluded_eval_questions"] = len(excluded_questions)
    counts["sample_documents_skipped"] = skipped["sample"]
    counts["briefings_skipped"] = skipped["briefing"]
    return MinedData(passages, examples, dict(sorted(counts.items())))


def write_jsonl(path: Path, rows: Iterable[object]) -> str:
    """Write dataclass rows as JSON lines; returns the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            line = json.dumps(asdict(row), ensure_ascii=False, sort_keys=True) + "\n"  # type: ignore[call-overload]
            handle.write(line)
            digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def read_passages(path: Path) -> dict[str, Passage]:
    """pid -> Passage from a passages.jsonl."""
    with path.open(encoding="utf-8") as handle:
        return {p.pid: p for p in (Passage(**json.loads(line)) for line in handle)}


def read_examples(path: Path) -> list[Example]:
    """Examples from an examples.jsonl, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [Example(**json.loads(line)) for line in handle]


def sample(rows: list, count: int, seed: int) -> list:
    """A fixed random subset (the rows themselves when there are fewer)."""
    if len(rows) <= count:
        return list(rows)
    return random.Random(seed).sample(rows, count)
