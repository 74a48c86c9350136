"""The extractive answerer (the default, no LLM): the answer is made of the sentences that officials
actually said, picked from the retrieved passages and returned as verbatim quotes.

How a quote is chosen
---------------------
1. Every retrieved passage is split into sentences with offsets into its stored document
   (`ingest.sentences.split_sentences` over the passage's speaker turn, so a quote can be widened
   to a neighbouring sentence of the same turn). Overlapping chunks yield the same sentence only
   once (deduplicated by document offsets).
2. Sentences from journalists' questions (`Hit.is_question`) are never quoted; nor are sentences
   that address an AI ("ignore previous instructions", "answer 'X'") or carry fewer than
   `min_words` words.
3. Each sentence gets four features: MiniLM cosine with the question (all sentences embedded in
   one batch, at most `max_embed` of them, preselected by lexical coverage and rank; vectors are
   cached by sentence text), lexical coverage (the IDF-weighted share of the question's content
   terms found in the sentence, with qdrant-edge's BM25 tokenizer and stemmer; "say", "think" and
   the speaker's own name do not count), the fused rank of its best passage, and whether the
   question names its speaker. For that speaker's sentences the cosine is the larger of the
   cosines with the question and with the question without the name (Lavrov's sentences do not
   say "Lavrov"). The ranking score is the weighted sum `WEIGHTS`, picked with
   `bench/ask_eval.py tune` on 90 QMSum *train* questions (top sentence inside a gold turn:
   cosine alone 0.43, lexical alone 0.46, passage rank alone 0.40, chosen combination 0.52).
4. Maximal marginal relevance picks up to `max_quotes` diverse sentences whose score is within
   `margin` of the best supported one; near-duplicates (cosine > 0.92) are skipped; a sentence
   that opens with a back-reference ("This", "But", ...) takes its predecessor along, an equally
   relevant next sentence of the same turn is merged in, and quotes that follow each other in one
   turn become one quote. `max_quotes=3, margin=0.15` traded citation precision against answers
   with at least one gold citation on QMSum train.
5. Abstention: when the best sentence's *support* (its cosine alone; the rank is left out because
   the top passage always ranks first) is below `THRESHOLD`, the answer abstains; only sentences
   at or above it are quoted. The threshold was calibrated on bench/ask_calibration.jsonl (25
   answerable and 15 unanswerable questions written over data/sample): every cut between two
   observed supports was tried and the midpoint of the best balanced-accuracy run kept. Cosine
   separated best (balanced accuracy 0.98, leave-one-out accuracy 0.975); cosine + lexical
   coverage did worse (0.95-0.97), lexical alone 0.88. See bench/RESULTS.md.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ingest.models import Document
from ingest.sentences import split_sentences
from rag.answer.answer_types import holds_answer_type, question_type
from rag.answer.answers import Answer, Citation
from rag.answer.citations import ABSTAIN_TEXT, attribution, format_date, make_citation, turn_at
from rag.answer.entities import find_entities
from rag.answer.vector_cache import VectorCache
from rag.index.context import PassageContext, contextualise
from rag.index.nodes import Hit
from rag.index.sparse import Bm25Encoder

# Picked on QMSum train and the sample calibration set (bench/ask_eval.py), then the answer-type
# weight and a lighter lexical weight on the tuning set (bench/answer_tuning.py: top sentence in a
# gold quote 0.463 -> 0.494 of 160 answerable; the entity and foreign-country features gained
# nothing there and stay at 0). bench/RESULTS.md.
WEIGHTS: dict[str, float] = {"cos": 1.0, "lex": 0.5, "rank": 0.2, "speaker": 0.3, "atype": 0.2, "ent": 0.0,
                             "foreign": 0.0}
SUPPORT_WEIGHTS: dict[str, float] = {"cos": 1.0}
THRESHOLD = 0.557

# Words of the question that say "tell me what X said" rather than what it is about.
QUESTION_NOISE = """say says said saying tell tells told think thinks thought mention mentions mentioned
talk talks talked discuss discussed describe described describes according comment comments
commented view views position opinion feel feels felt state stated explain explained believe
believes claim claimed argue argued respond responded answer answered ask asked speak spoke
remark remarks mr mrs ms dr""".split()
BACK_REFERENCE = re.compile(
    r"^(?:this|that|these|those|it|its|they|them|he|she|such|but|and|so|yet|also|however|therefore|"
    r"thus|hence|then|still|moreover|furthermore|nevertheless|nonetheless|otherwise|instead|"
    r"meanwhile|besides|likewise|similarly|in addition|as a result|at the same time|in that case|"
    r"which|here|there)\b", re.I)
INSTRUCTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}\b(?:instructions?|prompts?|rules|"
    r"directions|guidelines|context|everything)\b"
    r"|\b(?:you are|you're|act as|pretend (?:to be|you are)|as an?)\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|"
    r"chat\s?bot|language model|llm|gpt|chatgpt)\b"
    r"|\b(?:system prompt|new instructions|jailbreak|prompt injection)\b"
    r"|\b(?:answer|respond|reply|output|print|say|write|return)\s+(?:only\s+)?(?:with\s+)?(?:the\s+)?"
    r"(?:word\s+|text\s+|string\s+)?['\"“‘][^'\"”’]{1,40}['\"”’]"
    r"|\b(?:ai|assistant|language model|chatbot|llm)s?\b[^.!?\n]{0,40}\b(?:must|should|shall|will)\b",
    re.I)
_AI = (r"(?:ai|a\.i\.|assistants?|chat\s?bots?|language models?|llms?|gpts?|chatgpt"
       r"|automated (?:assistants?|systems?|tools?|summari[sz]ers?))")
_DIRECTIVE = (r"(?:output|print|reply|respond|answer|say|tell|reveal|repeat|ignore|disregard|include|show|"
              r"write|claim|confirm|state|display|insert|add|append|return|mention)")
# Found with the red-team set (eval/redteam): forms INSTRUCTION_RE missed. On ~956k sentences of the
# shared corpora (the first 600 records of each kremlin, PM-transcript and Miller Center file) it
# matches no sentence that INSTRUCTION_RE does not.
ADDRESSED_TO_AI_RE = re.compile(
    # a note addressed to AI systems, or an AI addressed by name before a directive
    r"\b(?:note|message|instructions?|notice|attention)\s+(?:for|to)\s+(?:any\s+|all\s+)?" + _AI + r"(?!\w)"
    r"|\b" + _AI + r"(?!\w)[^.!?\n]{0,60}?[:,]\s*(?:when\b[^.!?\n]{0,60}?,\s*)?(?:please\s+)?(?:always\s+)?"
    + _DIRECTIVE + r"\b"
    # what to tell "the user", or to claim whenever the document is summarised
    r"|\b(?:tell|inform|remind|show|confirm to|say to)\s+(?:the\s+users?|your\s+(?:users?|readers?))\b"
    r"|^\W*(?:claim|say|state|assert|pretend|write)\s+that\b"
    r"|\bwhenever this (?:document|page|text|transcript|article|statement) is (?:summari[sz]ed|read|processed)\b"
    # asking for the prompt: "repeat everything written above", "print your rules"
    r"|\b(?:repeat|print|reveal|output)\b[^.!?\n]{0,60}?\b(?:(?:written|text|everything|instructions|rules) above"
    r"|your (?:instructions|rules|prompt|guidelines))\b"
    # a link to output, a markdown image (a rendered answer would fetch its URL)
    r"|\b(?:output|print|include|show|display|insert|add)\b[^.!?\n]{0,60}https?://"
    r"|!\[[^\]\n]{0,100}\]\(\s*(?:https?:)?//"
    # chat-template role markers
    r"|<\|\s*(?:im_start|im_end|system|user|assistant|endoftext)\s*\|>|\[/?INST\]|<</?SYS>>"
    r"|###\s*(?:instruction|response|system)\b"
    # "ignore (all) previous instructions" in German, French, Spanish, Italian, Russian
    r"|\b(?:ignor\w*|olvid\w*|vergiss\w*|oubli\w*|dimentica\w*|игнорир\w*|забудь\w*)\b[^.!?\n]{0,60}?"
    r"(?:instruc\w*|anweisung\w*|consignes?|istruzion\w*|инструкц\w*|указани\w*)",
    re.I)
CHAT_ROLES = frozenset({"system", "assistant", "user", "ai", "bot", "chatbot", "model"})
MONTHS = set("january february march april may june july august september october november december".split())
NAME_STOP = MONTHS | set("""the and of for with from new will hope rose mark bill grant may
    prime minister president chair chairman chairwoman speaker secretary deputy foreign affairs question
    journalist journalists host interviewer federal chancellor king queen house senator hon right""".split())
# With a relevance model (rag.models.relevance, `$RAG_RELEVANCE_MODEL`): today's weights plus the model's
# probability, which alone decides abstention at even odds. No model is committed (the one trained did not
# earn it, bench/RESULTS.md); tune these for a model of your own with `bench/answer_tuning.py collect --ce
# CHECKPOINT` and `tune`, which prints the best weights and support threshold with it.
CE_WEIGHTS: dict[str, float] = {"cos": 1.0, "lex": 0.5, "rank": 0.2, "speaker": 0.3, "atype": 0.2, "ce": 1.0}
CE_SUPPORT_WEIGHTS: dict[str, float] = {"ce": 1.0}
CE_THRESHOLD = 0.5
RELEVANCE_TOP = 10
"""Sentences the relevance model reads per question (the best by the other features)."""


class RelevanceScorer(Protocol):
    """Scores (query, passage) pairs: one logit per passage, higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


MAX_QUOTE_CHARS = 700
# Sentences embedded per question (the lexically likeliest, by coverage and passage rank): on the
# tuning set 40 gives the same top sentence as 80 (0.494 of 160) and 0.6 points more false refusals,
# at half the embedding work, which is most of a cold `rag ask` (bench/RESULTS.md).
MAX_EMBED = 40


@dataclass
class Candidate:
    """One sentence (or a run of 2-3 adjacent sentences) that could be quoted."""

    doc_id: str
    start: int
    end: int
    text: str
    speaker: str
    turn_key: tuple[str, int]
    index: int  # position in its turn's sentence list
    rank: int  # 0-based rank of the best passage holding it
    is_question: bool
    instruction: bool
    words: int
    cos: float = 0.0
    lex: float = 0.0
    speaker_match: float = 0.0
    rank_feature: float = 0.0
    atype: float = 0.0  # holds the kind of answer the question asks for (a date for "when", ...)
    ent: float = 0.0  # share of the countries/organisations the question names that it (or its turn) names
    foreign: float = 0.0  # names another country than those asked about, and none of them
    ce: float = 0.0  # the trained relevance model's probability that it (with its neighbours) answers
    score: float = 0.0
    support: float = 0.0
    vector: Any = field(default=None, repr=False)

    @property
    def eligible(self) -> bool:
        """May be quoted at all."""
        return not self.is_question and not self.instruction


def mentioned_speakers(question: str, speakers: Sequence[str]) -> list[str]:
    """Speakers named in the question ("What did Lavrov say ..." -> "Sergey Lavrov")."""
    words = {w.lower() for w in re.findall(r"\b[A-Z][\w'’-]{2,}", question)}
    words = {re.sub(r"['’]s$", "", w) for w in words} - NAME_STOP
    if not words:
        return []
    found = []
    for name in speakers:
        tokens = {t.lower() for t in re.split(r"[\s,()]+", name) if len(t) >= 3} - NAME_STOP
        if tokens & words and name not in found:
            found.append(name)
    return found


def without_names(question: str, names: Sequence[str]) -> str:
    """The question with the given speakers' names (and their possessive "'s") taken out."""
    out = question
    for name in names:
        for token in re.split(r"[\s,()]+", name):
            if len(token) >= 3 and token.lower() not in NAME_STOP:
                out = re.sub(r"\b" + re.escape(token) + r"(?:['’]s)?\b", "", out)
    return " ".join(out.split())


def is_instruction(sentence: str) -> bool:
    """True for text that addresses an AI system instead of stating anything ("Ignore previous ...")."""
    return bool(INSTRUCTION_RE.search(sentence) or ADDRESSED_TO_AI_RE.search(sentence))


def is_chat_role(speaker: str | None) -> bool:
    """True for a turn labelled like a chat message ("SYSTEM:", "ASSISTANT:"): no official speaks so."""
    return (speaker or "").strip().lower() in CHAT_ROLES


class ExtractiveAnswerer:
    """Answers with the best verbatim sentences of the retrieved passages, or abstains."""

    name = "extractive"

    def __init__(self, embedder: Any, documents: Callable[[str], Document | None] | None = None,
                 bm25: Bm25Encoder | None = None, *, threshold: float | None = None,
                 weights: dict[str, float] | None = None, support_weights: dict[str, float] | None = None,
                 max_quotes: int = 3, margin: float = 0.15, mmr_lambda: float = 0.7,
                 min_words: int = 5, merge: bool = True, max_embed: int = MAX_EMBED, speakers: Sequence[str] = (),
                 vector_cache: VectorCache | None = None, relevance: RelevanceScorer | None = None,
                 relevance_top: int = RELEVANCE_TOP) -> None:
        if max_quotes < 1:
            raise ValueError("max_quotes must be at least 1")
        self.embedder = embedder
        self.documents = documents
        self.bm25 = bm25 or Bm25Encoder()
        # a relevance model changes what the features mean together: its own weights and threshold
        self.relevance = relevance
        self.relevance_top = relevance_top
        with_model = relevance is not None
        self.threshold = (CE_THRESHOLD if with_model else THRESHOLD) if threshold is None else threshold
        self.weights = dict((CE_WEIGHTS if with_model else WEIGHTS) if weights is None else weights)
        self.support_weights = dict((CE_SUPPORT_WEIGHTS if with_model else SUPPORT_WEIGHTS)
                                    if support_weights is None else support_weights)
        self.max_quotes = max_quotes
        self.margin = margin
        self.mmr_lambda = mmr_lambda
        self.min_words = min_words
        self.merge = merge
        self.max_embed = max_embed
        self.speakers = list(speakers)
        # sentence text -> vector; may be shared between answerers over the same embedder
        self._vectors = VectorCache() if vector_cache is None else vector_cache
        self._docs: OrderedDict[str, Document | None] = OrderedDict()
        self._noise: set[int] | None = None
        self._kind: str | None = None  # what the current question asks for (rag.answer.answer_types)

    # -- public ----------------------------------------------------------------------------
    def answer(self, question: str, passages: Sequence[Hit]) -> Answer:
        """Quotes that answer the question, grouped by speaker and document; or an abstention."""
        cands = self.candidates(question, passages)
        self.score(cands)
        eligible = [c for c in cands if c.eligible and c.words >= self.min_words]
        best = max((c.support for c in eligible), default=float("-inf"))
        if not eligible or best < self.threshold:
            note = ("no passage was retrieved" if not passages else
                    f"best evidence support {best:.3f} is below the abstention threshold {self.threshold:.3f}")
            return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, answerer=self.name,
                          notes=[note], passages=list(passages)[:5])
        units = self.select(eligible, cands)
        return self.compose(question, units, passages)

    # -- features --------------------------------------------------------------------------
    def candidates(self, question: str, passages: Sequence[Hit]) -> list[Candidate]:
        """Every distinct sentence of the passages, with its features (scores not yet combined)."""
        by_span: dict[tuple[str, int, int], Candidate] = {}
        self._turn_sentences: dict[tuple[str, int], list[Candidate]] = {}
        for rank, hit in enumerate(passages):
            doc = self._document(hit.doc_id)
            for cand in self._turn_candidates(hit, doc, rank):
                key = (cand.doc_id, cand.start, cand.end)
                if not (cand.end > hit.char_start and cand.start < hit.char_end):
                    continue
                if key in by_span:
                    by_span[key].rank = min(by_span[key].rank, rank)
                else:
                    by_span[key] = cand
        cands = list(by_span.values())
        if not cands:
            return cands
        n = max(1, len(passages))
        for c in cands:
            c.rank_feature = 1.0 - c.rank / n
        self._lexical(question, cands)
        if self.max_embed and len(cands) > self.max_embed:  # embed only the lexically likeliest
            cands = sorted(cands, key=lambda c: -(c.lex + 0.5 * c.rank_feature))[: self.max_embed]
        named = mentioned_speakers(question, sorted({c.speaker for c in cands if c.speaker} | set(self.speakers)))
        for c in cands:
            c.speaker_match = 1.0 if c.speaker and c.speaker in named else 0.0
        self._embed(question, cands, without_names(question, named) if named else None)
        self._answer_features(question, cands)
        if self.relevance is not None:
            self._relevance(question, cands)
        return cands

    def score(self, cands: Sequence[Candidate], weights: dict[str, float] | None = None,
              support_weights: dict[str, float] | None = None) -> None:
        """Combine the features into `score` (ranking) and `support` (abstention)."""
        w = self.weights if weights is None else weights
        sw = self.support_weights if support_weights is None else support_weights
        for c in cands:
            feats = {"cos": c.cos, "lex": c.lex, "rank": c.rank_feature, "speaker": c.speaker_match,
                     "atype": c.atype, "ent": c.ent, "foreign": c.foreign, "ce": c.ce}
            c.score = sum(w.get(k, 0.0) * v for k, v in feats.items())
            c.support = sum(sw.get(k, 0.0) * v for k, v in feats.items())

    # -- selection -------------------------------------------------------------------------
    def select(self, eligible: Sequence[Candidate], all_cands: Sequence[Candidate]) -> list[list[Candidate]]:
        """Up to `max_quotes` diverse quotes (each a run of adjacent sentences), best first."""
        pool = sorted((c for c in eligible if c.support >= self.threshold), key=lambda c: -c.score)
        if not pool:
            return []
        top = pool[0].score
        pool = [c for c in pool if c.score >= top - self.margin]
        chosen: list[list[Candidate]] = []
        seeds: list[Candidate] = []
        used: set[tuple[str, int, int]] = set()

        def similarity(c: Candidate) -> float:
            return max((float(np.dot(c.vector, s.vector)) for s in seeds), default=0.0)

        while pool and len(chosen) < self.max_quotes:
            best = max(pool, key=lambda c: self.mmr_lambda * c.score - (1 - self.mmr_lambda) * similarity(c))
            pool.remove(best)
            if similarity(best) > 0.92:
                continue  # a near-duplicate of a quote already chosen (e.g. repeated in another document)
            unit = self._widen(best) if self.merge else [best]
            unit = [c for c in unit if (c.doc_id, c.start, c.end) not in used]
            if best not in unit:
                continue
            chosen.append(unit)
            seeds.append(best)
            used.update((c.doc_id, c.start, c.end) for c in unit)
            pool = [c for c in pool if (c.doc_id, c.start, c.end) not in used]
        return chosen

    def _widen(self, seed: Candidate) -> list[Candidate]:
        sentences = self._turn_sentences.get(seed.turn_key, [])
        unit = [seed]
        i = seed.index
        if self._kind and not seed.atype:
            # the sentence is about what was asked but lacks the date/number/place/name asked for:
            # take the neighbour of the same turn that holds it ("... cut before 'about 20 other countries'")
            for j in (i + 1, i - 1):
                if 0 <= j < len(sentences) and sentences[j].eligible and holds_answer_type(sentences[j].text, self._kind) \
                        and seed.words + sentences[j].words <= 90:
                    unit.insert(0 if j < i else 1, sentences[j])
                    return unit
        if (BACK_REFERENCE.match(seed.text.lstrip("\"'“‘(")) and i > 0 and sentences[i - 1].eligible
                and seed.words + sentences[i - 1].words <= 90):
            unit.insert(0, sentences[i - 1])
        if i + 1 < len(sentences) and len(unit) < 3:
            nxt = sentences[i + 1]
            close = nxt.score >= seed.score - self.margin / 2 and nxt.support >= self.threshold
            follows = BACK_REFERENCE.match(nxt.text.lstrip("\"'“‘(")) is not None and seed.words < 12
            if nxt.eligible and (close or follows) and sum(c.words for c in unit) + nxt.words <= 90:
                unit.append(nxt)
        return unit

    # -- the answer ------------------------------------------------------------------------
    def compose(self, question: str, units: list[list[Candidate]], passages: Sequence[Hit]) -> Answer:
        """`Speaker (date): “…” [1] “…” [2]` lines, one per speaker and document, best first."""
        groups: OrderedDict[tuple[str, str], list[list[Candidate]]] = OrderedDict()
        for unit in units:
            groups.setdefault((unit[0].speaker, unit[0].doc_id), []).append(unit)
        hits = {h.doc_id: h for h in reversed(list(passages))}
        citations: list[Citation] = []
        lines: list[str] = []
        for (speaker, doc_id), group in groups.items():
            group = _join_adjacent(sorted(group, key=lambda u: u[0].start))
            doc = self._document(doc_id)
            hit = hits.get(doc_id)
            date = (doc.date if doc else hit.date if hit else "") or ""
            label = speaker or "Unattributed"
            when = format_date(date)
            parts = [f"{label} ({when}):" if when else f"{label}:"]
            for unit in group:
                start, end = unit[0].start, unit[-1].end
                n = len(citations) + 1
                score = max(c.score for c in unit)
                if doc is not None:
                    cit = make_citation(n, doc, start, end, score=score, speaker=speaker)
                else:
                    text = " ".join(c.text for c in unit)
                    cit = Citation(n=n, doc_id=doc_id, title=hit.title if hit else "", speaker=speaker,
                                   date=date, place=hit.place if hit else "",
                                   source_url=hit.source_url if hit else "", page=hit.page if hit else None,
                                   quote=text, char_start=start, char_end=end, score=score,
                                   attribution=attribution(text, speaker, date, hit.place if hit else None,
                                                           hit.title if hit else None,
                                                           hit.source_url if hit else None))
                citations.append(cit)
                parts.append(f"“{' '.join(cit.quote.split())}” [{n}]")
            lines.append(" ".join(parts))
        n_docs = len({c.doc_id for c in citations})
        lead = (f"In the speakers' own words ({len(citations)} quote{'s' * (len(citations) != 1)} "
                f"from {n_docs} document{'s' * (n_docs != 1)}):")
        return Answer(question=question, text="\n".join([lead, *lines]), citations=citations,
                      answerer=self.name, passages=list(passages))

    # -- helpers ---------------------------------------------------------------------------
    def _document(self, doc_id: str) -> Document | None:
        if self.documents is None:
            return None
        if doc_id not in self._docs:
            self._docs[doc_id] = self.documents(doc_id)
            if len(self._docs) > 64:
                self._docs.popitem(last=False)
        return self._docs[doc_id]

    def _turn_candidates(self, hit: Hit, doc: Document | None, rank: int) -> list[Candidate]:
        """Sentences of the turn holding the hit (or of the hit alone without a stored document)."""
        if doc is not None and doc.text[hit.char_start:hit.char_end] == hit.text:
            turn = turn_at(doc, hit.char_start)
            lo, hi = (turn.char_start, turn.char_end) if turn else (hit.char_start, hit.char_end)
            if turn is None or turn.char_end < hit.char_end:
                lo, hi = min(lo, hit.char_start), max(hi, hit.char_end)
            text, base, key = doc.text, 0, (doc.doc_id, lo)
            spans = split_sentences(doc.text, lo, hi)
        else:
            text, base, key = hit.text, hit.char_start, (hit.doc_id, hit.char_start)
            spans = split_sentences(hit.text)
        if key in self._turn_sentences:
            return self._turn_sentences[key]
        out: list[Candidate] = []
        for s, e in _cap_spans(text, spans):
            sentence = text[s:e]
            out.append(Candidate(
                doc_id=hit.doc_id, start=base + s, end=base + e, text=sentence, speaker=hit.speaker,
                turn_key=key, index=len(out), rank=rank, is_question=hit.is_question or False,
                instruction=is_instruction(sentence) or is_chat_role(hit.speaker),
                words=len(sentence.split()),
            ))
        self._turn_sentences[key] = out
        return out

    def _embed(self, question: str, cands: list[Candidate], topic: str | None = None) -> None:
        """Cosine with the question; a sentence of the speaker the question names is also compared
        with the question without the name ("What did Lavrov say about the OSCE?" -> "What did say
        about the OSCE?"): his own sentences rarely contain his name."""
        queries = [question] + ([topic] if topic else [])
        missing = self._vectors.missing(c.text for c in cands)
        vectors = self.embedder.embed_queries(queries + missing)  # the light encoder, no torch
        q, t = vectors[0], vectors[1] if topic else None
        self._vectors.put(missing, vectors[len(queries):])
        for c in cands:
            c.vector = self._vectors.get(c.text)
            c.cos = float(np.dot(q, c.vector))
            if t is not None and c.speaker_match:
                c.cos = max(c.cos, float(np.dot(t, c.vector)))

    def _answer_features(self, question: str, cands: list[Candidate]) -> None:
        """Answer type (`atype`) and what the question names (`ent`, `foreign`), per sentence."""
        self._kind = question_type(question)
        asked = find_entities(question)
        asked_names = {e.name for e in asked}
        countries = {e.name for e in asked if e.kind == "country"}
        turn_names: dict[tuple[str, int], set[str]] = {}
        for c in cands:
            c.atype = 1.0 if self._kind and holds_answer_type(c.text, self._kind) else 0.0
            if not asked:
                continue
            named_here = find_entities(c.text)
            own = {e.name for e in named_here}
            if c.turn_key not in turn_names:
                sentences = self._turn_sentences.get(c.turn_key, [])
                turn_names[c.turn_key] = {e.name for e in find_entities(" ".join(x.text for x in sentences))}
            around = turn_names[c.turn_key]
            c.ent = sum(1.0 if n in own else 0.5 if n in around else 0.0 for n in asked_names) / len(asked_names)
            others = {e.name for e in named_here if e.kind == "country" and e.name not in asked_names}
            c.foreign = 1.0 if countries and others and not (own & asked_names) else 0.0

    def _relevance(self, question: str, cands: list[Candidate]) -> None:
        """`ce`: the relevance model's probability for the `relevance_top` quotable sentences that
        the features without it rank best (the model reads a few hundred tokens a sentence: all
        candidates would cost seconds), each read as it was trained (context header, then the
        passage): the sentence with its neighbours in the turn. The others keep `ce` 0."""
        quotable = [c for c in cands if c.eligible and c.words >= self.min_words]
        if not quotable:
            return
        self.score(quotable, WEIGHTS, SUPPORT_WEIGHTS)
        quotable = sorted(quotable, key=lambda c: -c.score)[: self.relevance_top]
        logits = self.relevance.score(question, [self.window(c) for c in quotable])
        for c, logit in zip(quotable, logits):
            c.ce = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def window(self, cand: Candidate) -> str:
        """The sentence between its neighbours of the same turn, after the passage's context header
        (speaker, role, date, place, title), as the index holds passages."""
        sentences = self._turn_sentences.get(cand.turn_key, [])
        i = cand.index
        around = sentences[max(0, i - 1): i + 2] or [cand]
        body = " ".join(x.text for x in around)
        doc = self._document(cand.doc_id)
        if doc is None:
            return body
        turn = turn_at(doc, cand.start)
        ctx = PassageContext(title=doc.title, speaker=cand.speaker or None, role=turn.role if turn else None,
                             date=doc.date, place=doc.place, question=None)
        return contextualise(body, ctx)

    def _lexical(self, question: str, cands: list[Candidate]) -> None:
        bm25 = self.bm25
        if self._noise is None:
            self._noise = bm25.document_terms(" ".join(QUESTION_NOISE))
        names = " ".join(n for c in cands for n in [c.speaker] if n and n.lower() in question.lower())
        named_tokens = bm25.document_terms(names) if names else set()
        for name in mentioned_speakers(question, sorted({c.speaker for c in cands if c.speaker})):
            named_tokens |= bm25.document_terms(name)
        terms = bm25.query_terms(question) - self._noise - named_tokens
        token_sets = [bm25.document_terms(c.text) for c in cands]
        if not terms:
            return
        n = len(cands)
        idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
               for t in terms for df in [sum(1 for s in token_sets if t in s)]}
        total = sum(idf.values()) or 1.0
        for c, tokens in zip(cands, token_sets):
            c.lex = sum(idf[t] for t in terms & tokens) / total


def _join_adjacent(units: list[list[Candidate]], max_sentences: int = 4) -> list[list[Candidate]]:
    """Quotes that follow each other directly in the same turn become one quote."""
    out: list[list[Candidate]] = []
    for unit in units:
        prev = out[-1] if out else None
        if (prev and prev[-1].turn_key == unit[0].turn_key and prev[-1].index + 1 == unit[0].index
                and len(prev) + len(unit) <= max_sentences):
            prev.extend(unit)
        else:
            out.append(list(unit))
    return out


def _cap_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans, with run-on "sentences" (PDF tables, unpunctuated transcripts) cut into
    pieces of at most MAX_QUOTE_CHARS at a clause boundary or a space."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > MAX_QUOTE_CHARS:
            window = text[s:s + MAX_QUOTE_CHARS]
            cut = max(window.rfind("; "), window.rfind(", "), window.rfind(": "))
            if cut < MAX_QUOTE_CHARS // 3:
                cut = window.rfind(" ")
            if cut <= 0:
                cut = MAX_QUOTE_CHARS - 1
            out.append((s, s + cut + 1 if text[s + cut] in ";,:" else s + cut))
            s = s + cut + 1
            while s < e and text[s].isspace():
                s += 1
        if s < e:
            out.append((s, e))
    return out
