"""The `rag` command line: ingest, search, show, remove, reindex, stats, speakers, check, backup, restore."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Sequence

from rag.settings import QUANTIZATIONS, CollectionSettingsWarning, Settings

EXPORT_FORMATS = ("csl-json", "ris", "bibtex", "markdown")  # rag.answer.export.FORMATS, without importing it


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="where the store and the embedded index live "
                        "(default ./.rag, or $RAG_DATA_DIR)")
    parser.add_argument("--qdrant-url", help="use a Qdrant server or cluster instead of the embedded "
                        "index (or $RAG_QDRANT_URL); ':memory:' or 'path:DIR' for qdrant-client local mode")
    parser.add_argument("--collection", default="statements", help="Qdrant collection name")
    cluster = parser.add_argument_group(
        "Qdrant cluster", "used when the command creates the collection on a server (--qdrant-url); "
        "an existing collection keeps its own (see docs/cluster.md)")
    cluster.add_argument("--shards", type=int, metavar="N",
                         help="shards of the collection (or $RAG_QDRANT_SHARDS; server default: one "
                         "per node)")
    cluster.add_argument("--replicas", type=int, metavar="N",
                         help="copies of each shard (or $RAG_QDRANT_REPLICAS; server default 1)")
    cluster.add_argument("--write-consistency", type=int, metavar="N",
                         help="copies that must acknowledge a write (or $RAG_QDRANT_WRITE_CONSISTENCY; "
                         "server default 1)")
    index = parser.add_argument_group(
        "index layout", "used when the command creates the index (embedded or on a server); an "
        "existing index keeps its own")
    index.add_argument("--quantization", choices=QUANTIZATIONS,
                       help="int8: scalar-quantized dense vectors in RAM, a quarter of the memory, for "
                       "collections of a million passages and more (or $RAG_QUANTIZATION; default none)")
    index.add_argument("--hnsw-m", type=int, metavar="N", help="HNSW graph degree (default 16)")
    index.add_argument("--hnsw-ef-construct", type=int, metavar="N",
                       help="HNSW build-time search width (default 100)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="if another process is writing (or, with the embedded index, has it "
                        "open), wait up to SECONDS for it instead of failing at once (default 0)")


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their flags."""
    parser = argparse.ArgumentParser(prog="rag", description="Semantic search and cited answers over "
                                     "official statements, offline.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="read files and folders into the collection")
    p.add_argument("paths", nargs="+", type=Path, help="files (.txt .md .html .pdf .jsonl .jsonl.gz) or folders")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--max-file-mb", type=float, default=50.0, help="refuse larger files (default 50)")
    p.add_argument("--pdf-timeout", type=float, default=60.0, help="seconds per PDF (default 60)")
    _common(p)

    p = sub.add_parser("search", help="ranked passages for a query")
    p.add_argument("query")
    p.add_argument("--speaker", action="append", help="only this speaker (repeatable; substring match)")
    p.add_argument("--since", help="on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", help="on or before this date")
    p.add_argument("--source", action="append", help="only this source (substring match)")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print hits as JSON")
    _common(p)

    p = sub.add_parser("ask", help="answer a question with verified quotes")
    p.add_argument("question")
    p.add_argument("--speaker", action="append", help="only this speaker (repeatable; substring match)")
    p.add_argument("--since", help="on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", help="on or before this date")
    p.add_argument("--source", action="append", help="only this source (substring match)")
    p.add_argument("--answerer", choices=["extractive", "llm"], default="extractive")
    p.add_argument("--llm-gguf", help="a local GGUF model file (llama-cpp) for --answerer llm")
    p.add_argument("--llm-url", help="an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
    p.add_argument("--llm-model", help="model name on that server")
    p.add_argument("--llm-mode", choices=("write", "select"), help="write: the model writes the answer "
                   "with quotes (default); select: it only picks, by number, the candidate sentences that answer")
    p.add_argument("--json", action="store_true", help="print the answer and citations as JSON")
    p.add_argument("--export", choices=EXPORT_FORMATS, help="the verified quotes as CSL-JSON (Zotero), "
                   "RIS, BibTeX or Markdown, on stdout or into --out")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the --export file here (the answer "
                   "is then printed as usual)")
    _common(p)

    from rag.cli.compare import add_compare_arguments, add_first_arguments

    p = sub.add_parser("compare", help="what two to four speakers said on one topic, side by side")
    add_compare_arguments(p)
    _common(p)

    p = sub.add_parser("first", help="who said a phrase or claim first: the earliest verified occurrences")
    add_first_arguments(p)
    _common(p)

    p = sub.add_parser("serve", help="the web page, the REST API (/api) and the MCP server (/gradio_api/mcp/)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--api-token", metavar="TOKEN", help="require `Authorization: Bearer TOKEN` on every /api "
                   "and MCP request (or $RAG_API_TOKEN, which `ps` does not show); the page stays open")
    _common(p)

    p = sub.add_parser("show", help="print a stored document")
    p.add_argument("doc_id")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("remove", help="delete a document from the store and the index")
    p.add_argument("doc_id")
    _common(p)

    p = sub.add_parser("reindex", help="rebuild every vector from the stored documents")
    p.add_argument("--quiet", action="store_true")
    _common(p)

    p = sub.add_parser("optimize", help="build the search graph of the embedded index now (ingest does "
                       "it by itself once 20,000 passages wait for it)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _common(p)

    p = sub.add_parser("stats", help="documents, chunks, speakers, model")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("speakers", help="who speaks in the collection: each person with the names the "
                       "documents give them, roles, passages and dates")
    p.add_argument("--json", action="store_true", help="print the identities as JSON")
    p.add_argument("--all", action="store_true", help="also offices without a name, anonymous officials "
                   "and group voices")
    _common(p)

    p = sub.add_parser("check", help="check that the store and the index agree")
    p.add_argument("--repair", action="store_true", help="fix what is found (the store is the truth)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(p)

    p = sub.add_parser("backup", help="copy the store and the index into a new folder")
    p.add_argument("dir", type=Path, help="a new or empty folder")
    _common(p)

    p = sub.add_parser("restore", help="restore a backup into an empty data dir")
    p.add_argument("dir", type=Path, help="a folder written by `rag backup`")
    p.add_argument("--force", action="store_true", help="replace a non-empty data dir (its store and "
                   "index are moved aside into a .replaced-* folder, not deleted)")
    _common(p)

    from eval.cli import add_arguments as eval_arguments

    p = sub.add_parser("eval", help="measure retrieval and answers on a benchmark or your collection; "
                       "write report.md, results.json and plots")
    eval_arguments(p)
    return parser


def _settings(args: argparse.Namespace, progress: bool = True) -> Settings:
    return Settings.from_env(data_dir=args.data_dir, qdrant_url=args.qdrant_url,
                             collection=args.collection, progress=progress, shard_number=args.shards,
                             replication_factor=args.replicas,
                             write_consistency_factor=args.write_consistency,
                             quantization=args.quantization, hnsw_m=args.hnsw_m,
                             hnsw_ef_construct=args.hnsw_ef_construct)


def _print_hits(hits: list, as_json: bool) -> None:
    from rag.answer.json_shapes import dumps, hits_json

    if as_json:
        print(dumps(hits_json(hits)))
        return
    if not hits:
        print("no matching passages")
        return
    for i, h in enumerate(hits, 1):
        where = f"p. {h.page}, " if h.page else ""
        print(f"{i:>2}. [{h.score:.4f}] {h.speaker or 'unknown speaker'} · {h.date or 'undated'} · "
              f"{h.title or h.doc_id}")
        print(textwrap.indent(textwrap.fill(h.text, width=100), "    "))
        print(f"    ({h.doc_id}, {where}chars {h.char_start}-{h.char_end})")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rag` console script; returns the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "ask" and getattr(args, "out", None) is not None and not getattr(args, "export", None):
        parser.error("--out names the file for --export: add --export csl-json, ris, bibtex or markdown")
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        if args.command == "reindex":  # it recreates the collection with the settings asked for
            warnings.simplefilter("ignore", CollectionSettingsWarning)
        return _run(args)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """Our own warnings as one `warning:` line; any other in Python's usual form."""
    if issubclass(category, CollectionSettingsWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _run(args: argparse.Namespace) -> int:
    from rag.models.model_files import ModelFilesError
    from rag.remote import ServerError
    from rag.store.lock import BusyError
    from rag.store.store import ModelMismatchError

    try:
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "serve":
            from ui.app import serve

            return serve(_settings(args, progress=False), host=args.host, port=args.port, token=args.api_token)
        if args.command == "restore":
            return _restore(args)
        if args.command == "eval":
            from eval.cli import run as run_eval

            return run_eval(args)
        quiet = getattr(args, "quiet", False)
        with _library(args, quiet) as lib:
            if args.command == "search":
                hits = lib.search(args.query, k=args.k, speaker=args.speaker, since=args.since,
                                  until=args.until, source=args.source, mode=args.mode)
                _print_hits(hits, args.json)
            elif args.command == "ask":
                from rag.cli.ask import run_ask

                return run_ask(lib, args)
            elif args.command in ("compare", "first"):
                from rag.cli.compare import run_compare, run_first

                return (run_compare if args.command == "compare" else run_first)(lib, args)
            elif args.command == "show":
                return _show(lib, args)
            elif args.command == "optimize":
                result = lib.optimize(progress=not quiet)
                if args.json:
                    print(json.dumps(result))
                else:
                    print(f"{result['unindexed_before']:,} passages were outside the search graph, "
                          f"{result['unindexed_after']:,} now ({result['seconds']:.1f} s)")
            elif args.command == "remove":
                if not lib.remove(args.doc_id):
                    print(f"error: no document {args.doc_id!r}; `rag stats` or `rag search` shows ids",
                          file=sys.stderr)
                    return 1
                print(f"removed {args.doc_id}")
            elif args.command == "reindex":
                n = lib.reindex()
                print(f"reindexed {n} chunks with {lib.embedder.name}")
            elif args.command == "stats":
                _stats(lib, args.json)
            elif args.command == "speakers":
                _speakers(lib, args.json, args.all)
            elif args.command == "check":
                return _check(lib, args)
            elif args.command == "backup":
                info = lib.backup(args.dir)
                print(f"backed up {info['documents']} documents, {info['chunks']} chunks"
                      + (f", {info['points']} points" if info["points"] is not None else
                         " (store only: `rag reindex` rebuilds the server's collection after a restore)")
                      + f" to {args.dir}")
        return 0
    # ValueError includes rag.library.UnknownFilterValue, not imported here: a command that a
    # running `rag serve` answers needs none of the library's imports
    except (ModelMismatchError, ModelFilesError, ValueError, BusyError, FileNotFoundError, ServerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _library(args: argparse.Namespace, quiet: bool) -> "object":
    """The data dir's Library; for search, ask, show, stats and speakers while a `rag serve` holds its embedded
    index, the server instead (`rag.remote.RemoteLibrary`: same calls, same results)."""
    from rag.remote import COMMANDS

    settings = _settings(args, progress=not quiet)
    if args.command in COMMANDS and not settings.qdrant_url:
        from rag.store.serve_file import running_server

        server = running_server(settings.data_dir)
        if server is not None:
            from rag.remote import RemoteLibrary

            return RemoteLibrary(server)
    from rag.library import Library

    return Library(settings, lock_wait=args.wait, rebuild=args.command == "reindex")


def _ingest(args: argparse.Namespace) -> int:
    from ingest.readers import ReadLimits
    from rag.library import Library

    limits = ReadLimits(max_file_bytes=int(args.max_file_mb * 1024 * 1024), pdf_timeout_s=args.pdf_timeout)
    show = not args.quiet and not args.json
    with Library(_settings(args, progress=show), lock_wait=args.wait) as lib:
        report = lib.ingest(args.paths, limits=limits)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        if not show:
            for line in report.errors:
                print(f"error: {line}", file=sys.stderr)
        print(report.summary())
    return 0 if report.ok else 1


def _check(lib: "object", args: argparse.Namespace) -> int:
    report = lib.check(repair=args.repair)  # type: ignore[attr-defined]
    if args.json:
        print(report.to_json())
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _restore(args: argparse.Namespace) -> int:
    from rag.library import Library

    settings = _settings(args, progress=False)
    info = Library.restore(args.dir, settings, force=args.force, wait=args.wait)
    print(f"restored {info['documents']} documents, {info['chunks']} chunks (backup of {info['created']}) "
          f"into {settings.data_dir}")
    if info["replaced_moved_to"]:
        print(f"the previous store and index were moved to {info['replaced_moved_to']}")
    if info["needs_reindex"]:
        print("the backup holds no embedded index for these settings: run `rag reindex` to rebuild it")
    else:
        with Library(settings, lock_wait=args.wait) as lib:
            report = lib.check()
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    return 0


def _show(lib: "object", args: argparse.Namespace) -> int:
    from rag.answer.json_shapes import document_json, dumps

    doc = lib.document(args.doc_id)  # type: ignore[attr-defined]
    if doc is None:
        print(f"error: no document {args.doc_id!r}", file=sys.stderr)
        return 1
    if args.json:
        print(dumps(document_json(doc)))
        return 0
    for label, value in (("id", doc.doc_id), ("title", doc.title), ("date", doc.date), ("place", doc.place),
                         ("speakers", ", ".join(doc.speakers)), ("source", doc.source),
                         ("url", doc.source_url), ("file", doc.source_path)):
        if value:
            print(f"{label:>9}: {value}")
    print()
    print(doc.text)
    return 0


def _stats(lib: "object", as_json: bool) -> None:
    info = lib.stats()  # type: ignore[attr-defined]
    if as_json:
        from rag.answer.json_shapes import dumps

        print(dumps(info))
        return
    print(f"documents: {info['documents']}   chunks: {info['chunks']}   speakers: {info['speakers']}")
    print(f"dates: {info['date_min']} … {info['date_max']}")
    print(f"model: {info['model']} ({info['dimension']}-d)   index: {info['index']['backend']} "
          f"({info['index']['points']} points)")
    for row in info["top_speakers"]:
        print(f"  {row['chunks']:>6}  {row['speaker']}")
    if info.get("outdated_structure"):
        print(f"{info['outdated_structure']['documents']} documents were parsed by an older structure parser: "
              f"{info['outdated_structure']['fix']}")


def _speakers(lib: "object", as_json: bool, everyone: bool) -> None:
    from rag.answer.json_shapes import dumps, speakers_json

    people = speakers_json(lib.speakers(), everyone)  # type: ignore[attr-defined]
    if as_json:
        print(dumps(people))
        return
    if not people:
        print("no speakers yet: ingest some documents first")
        return
    for p in people:
        dates = f"{p['first'] or '?'} … {p['last'] or '?'}"
        other = [a for a in p["aliases"] if a != p["speaker"]]
        line = f"{p['passages']:>6}  {p['speaker']}"
        if p["kind"] != "person":
            line += f" [{p['kind']}]"
        line += f"  ·  {p['documents']} doc{'s' * (p['documents'] != 1)}, {dates}"
        if p["roles"]:
            line += f"  ·  {'; '.join(p['roles'][:3])}"
        print(line)
        if other:
            print(f"          also: {', '.join(other)}")
