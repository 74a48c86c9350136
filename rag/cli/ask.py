"""`rag ask`: print an answer and its verified citations, as text or as JSON, or export its quotes."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rag.answer.answers import Answer
from rag.answer.json_shapes import answer_json, dumps

if TYPE_CHECKING:
    from rag.library import Library

LLM_OPTIONS = ("llm_gguf", "llm_url", "llm_model", "llm_mode")


def ask_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options for Library.ask from the command line (the LLM ones only for --answerer llm)."""
    answerer = getattr(args, "answerer", None) or "extractive"
    options: dict[str, Any] = {}
    given = {k: getattr(args, k, None) for k in LLM_OPTIONS if getattr(args, k, None) is not None}
    if answerer == "llm":
        options.update(given)
    elif given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        print(f"note: {flags} ignored: they only apply to --answerer llm", file=sys.stderr)
    return options


def run_ask(lib: "Library", args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Answer `args.question` and print it; 0 also when the statements don't answer it."""
    out = out or sys.stdout
    fmt, dest = getattr(args, "export", None), getattr(args, "out", None)
    if dest is not None and not fmt:
        print("error: --out names the file for --export: add --export csl-json, ris, bibtex or markdown",
              file=sys.stderr)
        return 2
    if dest is not None and not dest.parent.is_dir():
        print(f"error: no folder {dest.parent} for --out {dest}: create it or choose another file", file=sys.stderr)
        return 2
    try:
        answer = lib.ask(args.question, speaker=getattr(args, "speaker", None),
                         since=getattr(args, "since", None), until=getattr(args, "until", None),
                         source=getattr(args, "source", None),
                         answerer=getattr(args, "answerer", None) or "extractive", **ask_options(args))
    except RuntimeError as exc:  # e.g. the LLM answerer is not installed or its server is down
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if fmt:
        code = export_quotes(lib, answer, fmt, dest, out)
        if dest is None or code:
            return code  # the export alone on stdout, so that it can be piped
    if getattr(args, "json", False):
        print(dumps(answer_json(answer)), file=out)
    else:
        print(format_answer(answer), file=out)
    return 0


def export_quotes(lib: "Library", answer: Answer, fmt: str, dest: Path | None, out: TextIO) -> int:
    """Write the answer's verified quotes in `fmt` to `dest` (or `out`); say on stderr how many.
    An abstained answer exports an empty list (`[]` in CSL-JSON) and says there was nothing to export."""
    from rag.answer.export import export, records

    recs = records(answer, lib.document)
    text = export(fmt, recs)
    if dest is None:
        out.write(text)
        out.flush()
    else:
        try:
            write_atomically(dest, text)
        except OSError as exc:
            print(f"error: cannot write {dest}: {exc.strerror or exc}; choose another --out", file=sys.stderr)
            return 2
    if not recs:
        print("nothing to export: the indexed statements don't answer this (no verified quotes)", file=sys.stderr)
    elif dest is not None:
        print(f"wrote {len(recs)} quote{'s' if len(recs) != 1 else ''} as {fmt} to {dest}", file=sys.stderr)
    return 0


def write_atomically(dest: Path, text: str) -> None:
    """`text` into `dest` through a temporary file beside it, so that a failed write leaves no half file."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer text, then one block per citation: quote, who/when/where, the span, the line to paste."""
    lines = [answer.text]
    if answer.abstained and not answer.citations:
        if answer.passages:
            lines.append("")
            lines.append("Nearest passages (they do not answer the question):")
            for h in answer.passages[:3]:
                who = h.speaker or "unknown speaker"
                lines.append(f"  - {who} · {h.date or 'undated'} · {h.title or h.doc_id} "
                             f"({h.doc_id}, chars {h.char_start}-{h.char_end})")
        return "\n".join(lines)
    lines.append("")
    for c in answer.citations:
        lines.append(f"[{c.n}] “{' '.join(c.quote.split())}”")
        meta = " · ".join(x for x in (c.speaker or "unknown speaker", c.date or "undated", c.title) if x)
        lines.append(f"    {meta}")
        where = f"{c.doc_id}, chars {c.char_start}-{c.char_end}" + (f", p. {c.page}" if c.page else "")
        lines.append(f"    {where}" + (f" · {c.source_url}" if c.source_url else ""))
        lines.append(textwrap.fill(c.attribution, width=width, initial_indent="    ",
                                   subsequent_indent="    "))
    for note in answer.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines).rstrip()
