"""Passage vectors kept on disk in parts, so a long embedding job can stop and resume and its
results are shared by training and evaluation: `cache/<tag>/part-NNNNN.npz` holds (key, vector)
rows, the key being a hash of the exact text embedded (a text changed by a new parser or
context header is embedded again, never served a stale vector)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

PART = 256


def text_key(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class VectorCache:
    """text -> vector for one model tag, appended in parts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, np.ndarray] = {}
        parts = sorted(folder.glob("part-*.npz"))
        for path in parts:
            with np.load(path) as part:
                for key, vec in zip(part["keys"].tolist(), part["vectors"]):
                    self.rows[key] = vec
        self._next = len(parts)

    def has(self, text: str) -> bool:
        """True when `text` has a vector."""
        return text_key(text) in self.rows

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The texts without a vector yet, in the order given, without repeats."""
        seen: set[str] = set()
        out = []
        for t in texts:
            k = text_key(t)
            if k not in self.rows and k not in seen:
                seen.add(k)
                out.append(t)
        return out

    def fill(self, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray],
             log: Callable[[str], None], what: str = "") -> None:
        """Embed the missing texts, a part at a time (each part saved before the next starts)."""
        todo = self.missing(texts)
        if not todo:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        for i in range(0, len(todo), PART):
            part = todo[i:i + PART]
            vectors = np.asarray(embed(part), dtype=np.float32)
            keys = [text_key(t) for t in part]
            path = self.folder / f"part-{self._next:05d}.npz"
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, keys=np.asarray(keys), vectors=vectors)
            tmp.replace(path)
            self._next += 1
            self.rows.update(zip(keys, vectors))
            done = i + len(part)
            rate = done / (time.perf_counter() - start)
            log(f"embed {what} ({self.folder.name}): {done}/{len(todo)} ({rate:.1f}/s, "
                f"eta {(len(todo) - done) / rate / 60:.0f} min)")

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts` as rows (all must be present)."""
        if not texts:
            return np.zeros((0, 384), np.float32)
        return np.stack([self.rows[text_key(t)] for t in texts])
