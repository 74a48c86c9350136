"""`rag compare` and `rag first`: print side-by-side quotes and the earliest occurrences, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import TYPE_CHECKING, Any, Callable, TextIO

if TYPE_CHECKING:  # the parser is built without them: `rag --help` loads no model code
    from rag.answer.compare import Comparison
    from rag.answer.first import FirstSaid
    from rag.library import Library


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `rag compare`."""
    p.add_argument("topic", help='what to compare, e.g. "NATO expansion"')
    p.add_argument("--speaker", action="append", required=True,
                   help="a speaker to compare (give 2 to 4; substring match)")
    _filter_arguments(p, speaker=False)
    p.add_argument("-k", type=int, default=3, help="quotes per speaker (default 3)")
    p.add_argument("--json", action="store_true", help="print the columns as JSON")


def add_first_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `rag first`."""
    p.add_argument("phrase", help='a phrase or a claim, e.g. "special status of Donbass"')
    _filter_arguments(p, speaker=True)
    p.add_argument("-k", type=int, default=10, help="occurrences to show, earliest first (default 10)")
    p.add_argument("--json", action="store_true", help="print the occurrences as JSON")


def _filter_arguments(p: argparse.ArgumentParser, speaker: bool) -> None:
    if speaker:
        p.add_argument("--speaker", action="append", help="only this speaker (repeatable; substring match)")
    p.add_argument("--since", help="on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", help="on or before this date")
    p.add_argument("--source", action="append", help="only this source (substring match)")


def run_compare(lib: "Library", args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Compare the speakers on `args.topic` and print the result; 0 also when some said nothing."""
    from rag.answer.compare import compare

    result = compare(lib, args.topic, args.speaker or [], since=args.since, until=args.until,
                     source=args.source, k=args.k)
    return _print(result, format_comparison, args.json, out)


def run_first(lib: "Library", args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Find the earliest occurrences of `args.phrase` and print them; 0 also when none is found."""
    from rag.answer.first import first_said

    result = first_said(lib, args.phrase, speaker=args.speaker, since=args.since, until=args.until,
                        source=args.source, k=args.k)
    return _print(result, format_first, args.json, out)


def format_comparison(result: Comparison, width: int = 100) -> str:
    """One block per speaker: their quotes, each with its date, document and span."""
    lines = [f"On {result.topic!r}:"]
    for col in result.speakers:
        also = f" (also: {', '.join(col.matches[1:])})" if len(col.matches) > 1 else ""
        lines += ["", f"== {col.speaker}{also}"]
        if col.abstained:
            lines.append(f"   {col.message}")
            continue
        for c in col.citations:
            lines.append(textwrap.fill(f"[{c.n}] {c.date or 'undated'}: “{' '.join(c.quote.split())}”",
                                       width=width, subsequent_indent="    "))
            lines.append(f"    {c.title or c.doc_id} ({c.doc_id}, chars {c.char_start}-{c.char_end}"
                         + (f", p. {c.page}" if c.page else "") + ")")
    return "\n".join(lines)


def format_first(result: FirstSaid, width: int = 100) -> str:
    """The occurrences earliest first; the first statement marked FIRST, questions marked ASKED."""
    c = result.counts
    lines = [f"{result.phrase!r}: {c['exact_said']} verbatim and {c['near_said']} near-verbatim statements, "
             f"{c['exact_asked'] + c['near_asked']} in journalists' questions"]
    for o in result.occurrences:
        cit = o.citation
        mark = "FIRST" if o.first else "ASKED" if o.asked else "     "
        how = "verbatim" if o.match == "exact" else f"near {o.similarity:.2f}"
        who = (f"asked by {cit.speaker or 'a journalist'}" if o.asked else cit.speaker or "unknown speaker")
        lines.append("")
        lines.append(f"{mark} {cit.date or 'undated (listed last)'} · {who} · {how}")
        lines.append(textwrap.fill(f"“{' '.join(cit.quote.split())}”", width=width, initial_indent="      ",
                                   subsequent_indent="      "))
        lines.append(f"      {cit.title or cit.doc_id} ({cit.doc_id}, chars {o.match_start}-{o.match_end})")
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _print(result: Any, formatted: Callable[[Any], str], as_json: bool, out: TextIO | None) -> int:
    """The result as JSON (`--json`) or as text; 0."""
    text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if as_json else formatted(result)
    print(text, file=out or sys.stdout)
    return 0
