"""Query adapters (rag.models.relevance): an adapter file is read as `python -m training export
query-adapter` writes it, a wrong or damaged file is refused with what to do, the setting names
one, and only search queries go through it (the sentences compared with a question do not).
No adapter is committed (bench/RESULTS.md: the one trained did not earn it), so the adapters here
are made by the test, in the exported layout, with a known map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from rag.models import relevance
from rag.models.model_files import sha256_of
from rag.models.embedding import Embedder
from rag.settings import Settings

DIM = relevance.DIMENSION
QUESTION = "How big has commerce between Moscow and Minsk become?"


def _adapter(folder: Path, matrix: np.ndarray, bias: np.ndarray) -> Path:
    """An adapter file as training/export.py writes it (fp16 tensors adapter.weight, adapter.bias)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / relevance.WEIGHTS
    save_file({"adapter.weight": matrix.astype(np.float16), "adapter.bias": bias.astype(np.float16)}, str(path))
    return path


@pytest.fixture()
def swap(tmp_path) -> Path:
    """An adapter whose map swaps the first two coordinates: q + A q = (q1, q0, q2, ...)."""
    a = np.zeros((DIM, DIM), np.float32)
    a[0, 0] = a[1, 1] = -1.0
    a[0, 1] = a[1, 0] = 1.0
    return _adapter(tmp_path / "swap", a, np.zeros(DIM, np.float32))


def test_the_adapter_applies_its_map_and_normalises(swap):
    rng = np.random.default_rng(3)
    q = rng.normal(size=(4, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    out = relevance.open_query_adapter(str(swap.parent)).transform(q)  # a folder or the file itself
    expected = q.copy()
    expected[:, [0, 1]] = q[:, [1, 0]]
    assert np.allclose(out, expected, atol=1e-6)
    shifted = relevance.QueryAdapter("shift", _adapter(swap.parent.parent / "shift", np.zeros((DIM, DIM)),
                                                       np.full(DIM, 0.5))).transform(q)
    assert np.allclose(np.linalg.norm(shifted, axis=1), 1.0, atol=1e-6)
    assert np.allclose(shifted, (q + 0.5) / np.linalg.norm(q + 0.5, axis=1, keepdims=True), atol=1e-3)


def test_wrong_or_damaged_files_are_refused(tmp_path, swap):
    q = np.ones((1, DIM), np.float32) / np.sqrt(DIM)
    sha = sha256_of(swap)
    data = bytearray(swap.read_bytes())
    data[-100] ^= 0xFF
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(bytes(data))
    with pytest.raises(relevance.RelevanceModelError, match="sha256"):
        relevance.QueryAdapter("damaged", damaged, sha).transform(q)
    with pytest.raises(relevance.RelevanceModelError, match="missing"):
        relevance.QueryAdapter("absent", tmp_path / "absent.safetensors").transform(q)
    small = _adapter(tmp_path / "small", np.zeros((8, 8)), np.zeros(8))
    with pytest.raises(relevance.RelevanceModelError, match="not all-MiniLM-L6-v2's 384"):
        relevance.QueryAdapter("small", small).transform(q)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a tensor file at all")
    with pytest.raises(relevance.RelevanceModelError, match="is not a query adapter"):
        relevance.QueryAdapter("junk", junk).transform(q)
    with pytest.raises(relevance.RelevanceModelError, match="make model"):
        relevance.open_query_adapter(str(tmp_path / "nowhere"))


def test_the_setting_names_an_adapter(monkeypatch, swap, tmp_path):
    with pytest.raises(ValueError, match=r"RAG_QUERY_ADAPTER.*neither a committed adapter"):
        Settings(query_adapter=str(tmp_path / "nope"))
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file at all")
    with pytest.raises(ValueError, match=r"RAG_QUERY_ADAPTER.*is not a query adapter"):
        Settings(query_adapter=str(tmp_path / "junk.safetensors"))
    monkeypatch.setenv("RAG_QUERY_ADAPTER", "0")
    assert Settings.from_env().query_adapter is None
    monkeypatch.setenv("RAG_QUERY_ADAPTER", str(swap))
    assert Settings.from_env().query_adapter == str(swap)
    monkeypatch.delenv("RAG_QUERY_ADAPTER")
    assert Settings.from_env().query_adapter is None  # off unless asked for


def test_search_queries_go_through_the_adapter_and_sentences_do_not(swap):
    plain, adapted = Embedder(), Embedder(query_adapter=str(swap))
    base = plain.embed_queries([QUESTION])
    assert np.allclose(adapted.embed_queries([QUESTION]), base)  # sentences compared with a question
    assert np.allclose(plain.embed_search_queries([QUESTION]), base)
    moved = np.asarray(adapted.embed_search_query(QUESTION), dtype=np.float32)
    assert np.allclose(moved[[1, 0]], base[0, [0, 1]], atol=1e-6) and np.allclose(moved[2:], base[0, 2:], atol=1e-6)
    assert not np.allclose(moved, base[0])
