"""The relevance model (cross-encoder) of rag.models.relevance: the numpy forward pass
(rag.models.light_cross_encoder) computes what transformers' BERT classifier computes, a damaged
or wrong file is refused with what to do, the setting names a model or none, and the extractive
answerer and the `ce` reranker use it. The weights here are made by the test in the layout
`python -m training train ce` writes (MiniLM's layers and a seeded one-logit head)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.models import relevance
from rag.models.model_files import sha256_of
from rag.settings import Settings

QUESTION = "How big has commerce between Moscow and Minsk become?"
PASSAGES = [
    "Sergey Lavrov (Minister of Foreign Affairs), Minsk, 2023-05-17: Press conference\n\n"
    "Last year, trade reached a record high of about $45 billion and continues to grow in 2023.",
    "We discussed the situation in the OSCE at length. " * 40,  # longer than the model reads: cut
    "Thank you.",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A cross-encoder checkpoint as training/crossencoder.py saves it (every tensor but the frozen
    word embeddings), with a seeded head so that logits differ between passages."""
    import torch
    from safetensors.torch import save_file

    from training.base import is_frozen
    from training.crossencoder import load_base_crossencoder

    torch.manual_seed(7)
    model, _ = load_base_crossencoder()
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 0.5)
    folder = tmp_path_factory.mktemp("ce")
    path = folder / relevance.WEIGHTS
    save_file({k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
               if not is_frozen(k)}, str(path))
    return path


def test_numpy_logits_equal_the_torch_models(checkpoint):
    import torch

    model, tokenizer = relevance.load_cross_encoder_module(checkpoint, None)
    with torch.inference_mode():
        features = tokenizer([QUESTION] * len(PASSAGES), PASSAGES, truncation="longest_first", max_length=192,
                             padding=True, return_tensors="pt")
        expected = model(**features).logits.view(-1).numpy()
    got = np.array(relevance.CrossEncoder("t", weights=checkpoint).score(QUESTION, PASSAGES))
    assert np.abs(got - expected).max() < 1e-3, (got, expected)
    assert len(set(np.round(got, 4))) == len(PASSAGES)  # the head tells the passages apart
    assert relevance.CrossEncoder("t", weights=checkpoint).score(QUESTION, []) == []


def test_damaged_or_wrong_files_are_refused(tmp_path, checkpoint):
    damaged = tmp_path / "damaged" / relevance.WEIGHTS
    damaged.parent.mkdir()
    shutil.copy(checkpoint, damaged)
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    expected = sha256_of(checkpoint)
    with pytest.raises(relevance.RelevanceModelError, match="damaged"):
        relevance.CrossEncoder("t", weights=damaged, expected_sha256=expected).check()
    with pytest.raises(relevance.RelevanceModelError, match="missing"):
        relevance.CrossEncoder("t", weights=tmp_path / "nope.safetensors").check()
    adapter = tmp_path / "adapter.safetensors"
    from safetensors.numpy import save_file

    save_file({"adapter.weight": np.zeros((384, 384), np.float16), "adapter.bias": np.zeros(384, np.float16)},
              str(adapter))
    with pytest.raises(relevance.RelevanceModelError, match="not a cross-encoder"):
        relevance.CrossEncoder("t", weights=adapter).check()


def test_the_setting_names_a_model_or_none(monkeypatch, tmp_path, checkpoint):
    monkeypatch.setenv("RAG_RELEVANCE_MODEL", "0")
    assert Settings.from_env(data_dir=tmp_path).relevance_model is None
    monkeypatch.setenv("RAG_RELEVANCE_MODEL", str(checkpoint.parent))
    settings = Settings.from_env(data_dir=tmp_path)
    assert relevance.open_relevance_model(settings.relevance_model)._weights == checkpoint
    monkeypatch.setenv("RAG_RELEVANCE_MODEL", str(tmp_path / "no-such-model"))
    with pytest.raises(ValueError, match=r"RAG_RELEVANCE_MODEL.*RAG_RELEVANCE_MODEL=0"):
        Settings.from_env(data_dir=tmp_path)


def test_the_answerer_and_the_reranker_read_with_the_model(checkpoint):
    from rag.answer.ce_rerank import CrossEncoderReranker, hit_text
    from rag.answer.extractive import CE_THRESHOLD, CE_WEIGHTS, ExtractiveAnswerer
    from rag.index.nodes import Hit
    from rag.models.embedding import Embedder

    model = relevance.CrossEncoder("t", weights=checkpoint)
    texts = ["Last year, trade between our countries reached a record high of about $45 billion.",
             "The weather in Minsk was pleasant and we walked along the river together.",
             "We agreed to meet again in the autumn to discuss the union programmes."]
    hits = [Hit(doc_id=f"d{i}", title="Press conference", speaker="Sergey Lavrov", date="2023-05-17", text=t,
                score=1.0 / (i + 1), char_start=0, char_end=len(t), is_question=False, turn=1, chunk=0,
                source="test", source_url="", place="Minsk", page=None, point_id=f"p{i}",
                role="Minister of Foreign Affairs") for i, t in enumerate(texts)]
    answerer = ExtractiveAnswerer(Embedder(), relevance=model)
    assert answerer.weights == CE_WEIGHTS and answerer.threshold == CE_THRESHOLD
    cands = answerer.candidates(QUESTION, hits)
    logits = model.score(QUESTION, [answerer.window(c) for c in cands])
    for c, logit in zip(cands, logits):
        assert c.ce == pytest.approx(1.0 / (1.0 + np.exp(-logit)), abs=1e-6)
    assert hit_text(hits[0]).startswith("Sergey Lavrov (Minister of Foreign Affairs), Minsk, 2023-05-17")

    reranker = CrossEncoderReranker(model, depth=3, weight=10.0)  # the model's order dominates the fusion
    ranked = reranker.rerank(QUESTION, hits)
    by_model = sorted(range(3), key=lambda i: -reranker.scores(QUESTION, hits)[i])
    assert [h.point_id for h in ranked] == [f"p{i}" for i in by_model]
    assert sorted(h.point_id for h in ranked) == ["p0", "p1", "p2"]
