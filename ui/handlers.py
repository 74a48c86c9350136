"""What each button and click on the page does: read the inputs, call the Service, return HTML and
tables. Every handler catches its errors and shows one line; the traceback goes to the server log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from rag.answer.answers import Answer
from ui import views
from ui.exports import NAMES as EXPORT_NAMES, ExportFiles
from ui.service import FileResult, Service
from ui.timeline import plot_frame, timeline_rows, to_ms, within, yearly_frame
from ui.uploads import UploadRejected, accept

log = logging.getLogger("ui")

MAX_QUERY_CHARS = 1000


def user_message(exc: BaseException, action: str) -> str:
    """One line for the user: the message of an input error, a generic line for anything else."""
    if isinstance(exc, (ValueError, UploadRejected)):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid input"
        return text[:400]
    log.error("error while %s", action, exc_info=exc)
    return f"Something went wrong while {action}. Try again; if it persists, the server log has the details."


def _filters(speakers: list[str] | str | None, sources: list[str] | str | None,
             since: str | None, until: str | None) -> dict[str, Any]:
    def names(value: list[str] | str | None) -> list[str] | None:
        if not value:
            return None
        items = [value] if isinstance(value, str) else list(value)
        items = [str(v).strip() for v in items if str(v).strip()]
        return items or None

    return {"speaker": names(speakers), "source": names(sources),
            "since": (since or "").strip() or None, "until": (until or "").strip() or None}


def _query(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValueError(f"Type a {what} first.")
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"That {what} is too long ({len(text)} characters); keep it under {MAX_QUERY_CHARS}.")
    return text


def _int(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


class Handlers:
    """The page's event handlers over one Service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.exports = ExportFiles()

    # -- Ask ------------------------------------------------------------------------------
    def ask(self, question: str, speakers: list[str] | None = None, sources: list[str] | None = None,
            since: str = "", until: str = "",
            progress: gr.Progress = gr.Progress()) -> tuple[str, Answer | None]:
        """An answer in the speakers' own words with a card per verified quote; and the Answer itself,
        which the page keeps (in a gr.State, not part of the API) for "Export quotes"."""
        try:
            text = _query(question, "question")
            progress(0.2, desc="Finding passages and checking quotes…")
            answer = self.service.ask(text, **_filters(speakers, sources, since, until))
            return views.answer_html(answer), answer
        except ModuleNotFoundError as exc:
            log.error("answering unavailable", exc_info=exc)
            return (views.message("Answering is not available in this installation; use the Search tab.", "error"),
                    None)
        except Exception as exc:  # noqa: BLE001 - shown as one line
            return views.message(user_message(exc, "answering"), "error"), None

    def export_quotes(self, fmt: str, answer: Answer | None) -> Any:
        """The "Export quotes" button for the answer shown: its file in `fmt`, or disabled when the
        answer has no verified quote."""
        try:
            path, count = self.exports.write(answer, fmt or "csl-json", self.service.document)
        except Exception as exc:  # noqa: BLE001
            log.error("export failed: %s", user_message(exc, "exporting quotes"))
            path, count = None, 0
        if path is None:
            return gr.DownloadButton("Nothing to export", value=None, interactive=False)
        label = f"Export {count} quote{'s' if count != 1 else ''} as {EXPORT_NAMES.get(fmt, fmt)}"
        return gr.DownloadButton(label, value=str(path), interactive=True)

    # -- Search ---------------------------------------------------------------------------
    def search(self, query: str, k: float = 10, mode: str = "hybrid", speakers: list[str] | None = None,
               sources: list[str] | None = None, since: str = "", until: str = "",
               progress: gr.Progress = gr.Progress()) -> str:
        """Ranked passages, each opening its document."""
        try:
            text = _query(query, "search")
            mode = mode if mode in ("hybrid", "dense", "bm25") else "hybrid"
            progress(0.2, desc="Searching…")
            hits = self.service.search(text, k=_int(k, 10, 1, 100), mode=mode,
                                       **_filters(speakers, sources, since, until))
            return views.hits_html(hits, text)
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "searching"), "error")

    # -- Timeline -------------------------------------------------------------------------
    def timeline(self, query: str, k: float = 100, speakers: list[str] | None = None,
                 sources: list[str] | None = None, since: str = "", until: str = "",
                 progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, str, str, list[dict]]:
        """Plots of the matching statements (questions left out) by date and speaker and per year,
        a caption, the table, and the rows behind it."""
        try:
            text = _query(query, "question or search")
            progress(0.2, desc="Collecting matching passages…")
            hits = self.service.search(text, k=_int(k, 100, 5, 300), answers_only=True,
                                       **_filters(speakers, sources, since, until))
            rows, undated = timeline_rows(hits)
        except Exception as exc:  # noqa: BLE001
            return None, None, views.message(user_message(exc, "building the timeline"), "error"), "", []
        if not rows:
            note = f" ({undated} undated)" if undated else ""
            return (None, None, views.message(f"No dated statements match this query with these filters{note}.",
                                              "empty"), "", [])
        first, last = rows[0]["date"][:4], rows[-1]["date"][:4]
        speakers_n = len({r["speaker"] for r in rows})
        extra = f"; {undated} undated not shown" if undated else ""
        caption = views.message(
            f"{len(rows)} passages from {speakers_n} speaker{'s' if speakers_n != 1 else ''}, "
            f"{first}–{last}{extra}. One point per document and speaker, bars count passages per year. "
            "Drag across the upper plot to narrow the table to a period; click a row to read the passage.")
        return plot_frame(rows), yearly_frame(rows), caption, views.timeline_table_html(rows), rows

    def narrow(self, rows: list[dict], evt: gr.SelectData) -> str:
        """The table limited to the period brushed on the plot."""
        try:
            lo, hi = (float(v) for v in evt.index[:2])
        except (TypeError, ValueError):
            return views.timeline_table_html(rows)
        kept = within(rows, lo, hi)
        period = (f"{len(kept)} of {len(rows)} passages, {_day(lo)} to {_day(hi)} "
                  "(“Show all periods” brings back the rest)")
        return views.timeline_table_html(kept, period)

    def all_periods(self, rows: list[dict]) -> str:
        """The table with every row again."""
        return views.timeline_table_html(rows) if rows else ""

    # -- Compare and First ----------------------------------------------------------------
    def compare(self, topic: str, speakers: list[str] | None = None, k: float = 3,
                sources: list[str] | None = None, since: str = "", until: str = "",
                progress: gr.Progress = gr.Progress()) -> str:
        """Per chosen speaker, their verified quotes on the topic, side by side."""
        try:
            text = _query(topic, "topic")
            names = _filters(speakers, None, None, None)["speaker"] or []
            if len(names) < 2:
                raise ValueError("Choose two to four speakers to compare.")
            progress(0.2, desc="Finding each speaker's words…")
            scope = _filters(None, sources, since, until)
            result = self.service.compare(text, names, k=_int(k, 3, 1, 6), source=scope["source"],
                                          since=scope["since"], until=scope["until"])
            return views.comparison_html(result)
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "comparing"), "error")

    def first(self, phrase: str, k: float = 10, speakers: list[str] | None = None,
              sources: list[str] | None = None, since: str = "", until: str = "",
              progress: gr.Progress = gr.Progress()) -> str:
        """The earliest verified occurrences of a phrase or claim, the first statement marked."""
        try:
            text = _query(phrase, "phrase or claim")
            progress(0.2, desc="Scanning the documents…")
            result = self.service.first(text, k=_int(k, 10, 1, 50), **_filters(speakers, sources, since, until))
            return views.first_html(result)
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "looking for the first occurrence"), "error")

    def speaker_choices(self) -> Any:
        """The people who speak in the collection, for the Compare picker (most passages first)."""
        try:
            people = [p for p in self.service.speakers() if p["kind"] == "person"]
            return gr.update(choices=[(f"{p['speaker']} ({p['passages']})", p["speaker"]) for p in people])
        except Exception as exc:  # noqa: BLE001
            log.error("reading the speakers", exc_info=exc)
            return gr.update()

    # -- Read -----------------------------------------------------------------------------
    def open_document(self, doc_id: str, char_start: float | None = None,
                      char_end: float | None = None) -> str:
        """A stored document with the span [char_start, char_end) highlighted."""
        try:
            doc = self.service.document(str(doc_id or ""))
            if doc is None:
                return views.message(f"No document {doc_id!r} in the library (it may have been removed).",
                                     "error")
            span = None
            if char_start is not None and char_end is not None:
                span = (_int(char_start, 0, 0, len(doc.text)), _int(char_end, 0, 0, len(doc.text)))
            return views.document_html(doc, span)
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "opening the document"), "error")

    def pick(self, evt: gr.SelectData) -> tuple[str, Any, Any]:
        """A click on a quote or passage: open its document at the span, on the Read tab."""
        value = evt.value if isinstance(evt.value, dict) else {}
        doc_id = str(value.get("doc_id") or "")
        html = self.open_document(doc_id, value.get("start"), value.get("end"))
        return html, gr.Tabs(selected="read"), gr.update(value=doc_id or None)

    # -- Library --------------------------------------------------------------------------
    def add_files(self, files: list[str] | str | None, progress: gr.Progress = gr.Progress()) -> tuple[str, None]:
        """Validate, store and ingest uploaded files one by one; a result line per file."""
        paths = [files] if isinstance(files, str) else list(files or [])
        if not paths:
            return views.upload_results_html([]), None
        results: list[FileResult] = []
        with self.service.write_lock:
            for i, item in enumerate(paths):
                temp = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
                name = temp.name
                progress((i, len(paths)), desc=f"Adding {name}", unit="files")
                try:
                    if not _is_upload(temp):
                        raise UploadRejected("not a file uploaded to this page")
                    stored = accept(temp, name, self.service.uploads_dir, self.service.limits.max_file_bytes)
                    result = self.service.add_file(stored.path, stored.name)
                    if stored.note:
                        result.details = f"{result.details} ({stored.note})"
                except Exception as exc:  # noqa: BLE001
                    result = FileResult(name, "failed", user_message(exc, f"adding {name}"))
                finally:
                    if _is_upload(temp):
                        _discard(temp)
                results.append(result)
        progress((len(paths), len(paths)), desc="Done", unit="files")
        return views.upload_results_html((r.name, r.result, r.details) for r in results), None

    def remove(self, doc_id: str | None) -> str:
        """Remove one document from the store and the index."""
        if not doc_id:
            return views.message("Choose a document to remove.", "info")
        try:
            doc = self.service.document(doc_id)
            title = (doc.title or doc_id) if doc else doc_id
            if not self.service.remove(doc_id):
                return views.message(f"No document {doc_id!r} (already removed?).", "error")
            return views.message(f"Removed “{title}”.")
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "removing the document"), "error")

    def library(self, text: str = "") -> str:
        """The documents table, narrowed to rows whose title, speakers, source or id contain `text`."""
        try:
            catalog = self.service.catalog()
        except Exception as exc:  # noqa: BLE001
            return views.message(user_message(exc, "reading the library"), "error")
        needle = (text or "").strip().lower()
        rows = [r for r in catalog if not needle or needle in " ".join(
            [r.title, r.date, r.source, r.doc_id, r.doc_type, *r.speakers]).lower()]
        return views.library_html(rows, len(catalog))

    def refresh(self, text: str = "") -> tuple[Any, ...]:
        """Everything that depends on the library's contents: header, filter choices, lists."""
        try:
            stats = self.service.stats()
            people = self.service.speakers()
            speakers = [(f"{p['speaker']} ({p['passages']})", p["speaker"]) for p in people if p["kind"] == "person"]
            speakers += [(f"{p['speaker']} ({p['passages']}, {p['kind']})", p["speaker"]) for p in people
                         if p["kind"] != "person"]
            sources = [(f"{s} ({n})", s) for s, n in self.service.sources()]
            catalog = self.service.catalog()
        except Exception as exc:  # noqa: BLE001
            msg = views.message(user_message(exc, "reading the library"), "error")
            return (msg,) + (gr.update(),) * 6
        docs = [(f"{r.date[:10] or 'undated'} · {r.title}"[:140], r.doc_id) for r in catalog]
        stats = {**stats, "speakers": sum(p["kind"] == "person" for p in people)}
        return (views.stats_html(stats), gr.update(choices=speakers), gr.update(choices=sources),
                gr.update(choices=docs), gr.update(choices=docs, value=None), self.library(text),
                views.speakers_html(people))


def _day(bound: float) -> str:
    return pd.to_datetime(to_ms(bound), unit="ms").strftime("%Y-%m-%d")


def _is_upload(path: Path) -> bool:
    """True for files inside Gradio's upload folder (never anything else on the server)."""
    from gradio.utils import get_upload_folder

    try:
        return path.resolve().is_relative_to(Path(get_upload_folder()).resolve())
    except OSError:
        return False


def _discard(temp: Path) -> None:
    """Delete Gradio's temporary copy of an upload once it is stored (or refused)."""
    try:
        temp.unlink(missing_ok=True)
    except OSError:
        pass
