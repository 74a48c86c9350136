"""The "Export quotes" file of the Ask tab: the answer's verified quotes written in the chosen format
to a temporary file that Gradio serves (it copies the file into its own cache and deletes it there
after an hour); our copies older than `KEEP_SECONDS` are deleted at the next export."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from ingest.models import Document
from rag.answer.answers import Answer
from rag.answer.export import FORMATS, SUFFIXES, export, records

KEEP_SECONDS = 600.0
NAMES: dict[str, str] = {"csl-json": "CSL-JSON", "ris": "RIS", "bibtex": "BibTeX", "markdown": "Markdown"}
CHOICES: list[tuple[str, str]] = [("CSL-JSON (Zotero, Mendeley)", "csl-json"), ("RIS", "ris"),
                                  ("BibTeX", "bibtex"), ("Markdown (for a draft)", "markdown")]


def file_name(question: str, fmt: str) -> str:
    """ "quotes-what-did-lavrov-say-about-the-osce.json": the question's words, the format's suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:48].strip("-")
    return f"quotes-{slug or 'answer'}{SUFFIXES[fmt]}"


class ExportFiles:
    """Writes export files under one private temporary folder, made on first use."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        """The folder (created on first use, under the system's temporary folder)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="rag-export-"))
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def write(self, answer: Answer | None, fmt: str,
              document: Callable[[str], Document | None]) -> tuple[Path | None, int]:
        """(path of the file, number of quotes) for `answer` in `fmt`; (None, 0) with nothing to export."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        recs = records(answer, document) if answer is not None else []
        if not recs:
            return None, 0
        self.prune()
        folder = Path(tempfile.mkdtemp(dir=self.root))
        path = folder / file_name(answer.question if answer else "", fmt)
        path.write_text(export(fmt, recs), encoding="utf-8")
        return path, len(recs)

    def prune(self, older_than: float = KEEP_SECONDS) -> None:
        """Delete our export folders older than `older_than` seconds (Gradio keeps its own copy)."""
        cutoff = time.time() - older_than
        for folder in self.root.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass
