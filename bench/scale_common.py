"""What the two scale benchmarks (scale_search.py, scale_library.py) share: the process's memory,
the machine and package versions for the report, and the speaker names and weights they draw."""

from __future__ import annotations

import gzip
import json
import os
import platform
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


def proc_status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon (heap) and RssFile (mapped files) of this process in MB."""
    out: dict[str, float] = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024.0
    return out


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model and the load average now."""
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "load": list(os.getloadavg())}


def versions() -> str:
    """Python and the packages that matter here."""
    found = []
    for name in ("qdrant-edge-py", "llama-index-core", "sentence-transformers", "torch", "numpy"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return f"Python {platform.python_version()}; " + ", ".join(found)


def read_speakers(ungdc: Path, top: int = 500) -> list[str]:
    """The `top` most frequent "speaker" values of a *.jsonl.gz file or a folder of them."""
    files = sorted(ungdc.glob("*.jsonl.gz")) if ungdc.is_dir() else [ungdc]
    counts: Counter[str] = Counter()
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                name = (json.loads(line).get("speaker") or "").strip()
                if name:
                    counts[name] += 1
    return [name for name, _ in counts.most_common(top)]


def zipf_weights(n: int, s: float = 0.8) -> np.ndarray:
    """Weights 1/rank^s, normalised."""
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()
