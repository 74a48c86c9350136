"""The Gradio page: `build(service)` lays out the tabs and wires the events; `serve(settings)` runs it
together with the REST API (`ui.api`) and the MCP tools (`ui.mcp_tools`) in one process.

Tabs: Ask (cited answer), Timeline (matching passages by date and speaker), Search (ranked
passages), Compare (speakers side by side on a topic), First (who said a phrase first), Read (a
document with the cited span highlighted), Library (documents, upload, remove).
The filters above the tabs apply to Ask, Timeline, Search and First (Compare takes its own
speakers). Every event that callers may want to script has an `api_name` for `gradio_client`;
"Use via API" at the foot of the page lists only the four MCP tools, which return JSON.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, ever

import gradio as gr  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from rag.settings import Settings  # noqa: E402
from ui import views  # noqa: E402
from ui.api import TokenGate, api_token, create_app  # noqa: E402
from ui.assets import CLICKABLE_JS, CSS, DOCUMENT_JS  # noqa: E402
from ui.exports import CHOICES as EXPORT_CHOICES  # noqa: E402
from ui.handlers import Handlers  # noqa: E402
from ui.mcp_tools import add_tools  # noqa: E402
from ui.reads import Reads  # noqa: E402
from ui.server import Listening  # noqa: E402
from ui.service import Service  # noqa: E402
from ui.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES  # noqa: E402

log = logging.getLogger("ui")

EXAMPLES = [
    "What did Lavrov say about the OSCE?",
    "How has Putin described NATO expansion?",
    "What did Julia Gillard say about carbon pricing?",
]
DATE_HINT = "YYYY, YYYY-MM or YYYY-MM-DD"
QUEUE_CONCURRENCY = 2
QUEUE_MAX_SIZE = 200
PRIVATE = "private"


def build(service: Service) -> gr.Blocks:
    """The page over one Service (nothing is loaded here; the Library is already open)."""
    h = Handlers(service)
    with gr.Blocks(title="Official statements: search and cite", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        with gr.Row(elem_id="app-head"):
            gr.HTML("<h1>Official statements</h1><p class='tagline'>Ask, search and quote what "
                    "officials said, with the source of every quote one click away.</p>", scale=3)
            stats = gr.HTML(views.stats_html({}), scale=2, elem_id="stats", label="Stats")
        with gr.Accordion(f"Filters for Ask, Timeline, Search and First (Compare: source and dates) · dates as "
                          f"{DATE_HINT}", open=True,
                          elem_id="filters"):
            with gr.Row():
                speakers = gr.Dropdown(label="Speaker", choices=[], multiselect=True, scale=3, min_width=170,
                                       allow_custom_value=True, info="any speaker when empty", elem_id="f-speaker")
                sources = gr.Dropdown(label="Source", choices=[], multiselect=True, scale=3, min_width=170,
                                      allow_custom_value=True, info="any source when empty", elem_id="f-source")
                since = gr.Textbox(label="Since", placeholder="e.g. 2014", scale=1, min_width=125,
                                   max_length=10, elem_id="f-since")
                until = gr.Textbox(label="Until", placeholder="e.g. 2023", scale=1, min_width=125,
                                   max_length=10, elem_id="f-until")
        filters = [speakers, sources, since, until]

        with gr.Tabs(selected="ask") as tabs:
            with gr.Tab("Ask", id="ask", elem_id="tab-ask"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(label="Question", placeholder="e.g. What did Lavrov say about the "
                                          "OSCE in May 2023?", scale=6, max_lines=3, max_length=1000,
                                          elem_id="question", autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=100, elem_id="ask-btn")
                gr.Examples(EXAMPLES, inputs=question, label="Try")
                answer = gr.HTML(views.placeholder("The answer appears here, in the speakers' own words, "
                                                   "with a card for every quote."),
                                 js_on_load=CLICKABLE_JS, elem_id="answer", min_height=80, label="Answer")
                with gr.Row(equal_height=True, elem_id="export-row"):
                    export_fmt = gr.Dropdown(EXPORT_CHOICES, value="csl-json", label="Export quotes as", scale=3,
                                             min_width=200, elem_id="export-format")
                    export_btn = gr.DownloadButton("Nothing to export", value=None, interactive=False, scale=1,
                                                   min_width=170, elem_id="export-btn")
                shown = gr.State(None)  # the Answer on the page, for the export

            with gr.Tab("Timeline", id="timeline", elem_id="tab-timeline"):
                with gr.Row(equal_height=True):
                    tl_query = gr.Textbox(label="Question or search", placeholder="e.g. NATO expansion",
                                          scale=5, max_length=1000, elem_id="tl-query")
                    tl_k = gr.Slider(10, 300, value=100, step=10, label="Passages", scale=2, min_width=180)
                    tl_btn = gr.Button("Plot", variant="primary", scale=1, min_width=100, elem_id="tl-btn")
                tl_caption = gr.HTML(views.placeholder("When was it said, by whom, and how often: every "
                                                       "matching passage is a point."), label="Summary",
                                     elem_id="tl-caption")
                plot = gr.ScatterPlot(x="date", y="speaker", x_title="date", y_title="", label="Timeline",
                                      tooltip=["date", "speaker", "title", "passages"], height=360,
                                      show_label=False, elem_id="tl-plot")
                yearly = gr.BarPlot(x="year", y="passages", color="speaker", x_bin=1, y_aggregate="sum",
                                    x_axis_format="d",
                                    x_title="", y_title="passages", label="Per year", height=240,
                                    show_label=False, elem_id="tl-years")
                with gr.Row(equal_height=True):
                    gr.HTML("<b>Passages</b> <span class='hint'>oldest first; click a row to read it</span>",
                            scale=4)
                    tl_all = gr.Button("Show all periods", size="sm", scale=1, min_width=150, elem_id="tl-all")
                table = gr.HTML("", js_on_load=CLICKABLE_JS, elem_id="tl-table", label="Passages")
                tl_rows = gr.State([])

            with gr.Tab("Search", id="search", elem_id="tab-search"):
                with gr.Row(equal_height=True):
                    query = gr.Textbox(label="Search", placeholder="words or a question", scale=6,
                                       max_length=1000, elem_id="query")
                    search_btn = gr.Button("Search", variant="primary", scale=1, min_width=100,
                                           elem_id="search-btn")
                with gr.Row():
                    k = gr.Slider(1, 50, value=10, step=1, label="Results", scale=1, min_width=200)
                    mode = gr.Radio(["hybrid", "dense", "bm25"], value="hybrid", label="Match", scale=2,
                                    min_width=300, info="hybrid: meaning and words · dense: meaning · "
                                    "bm25: exact words")
                results = gr.HTML(views.placeholder("Ranked passages appear here; click one to read it in "
                                                    "its document."), js_on_load=CLICKABLE_JS,
                                  elem_id="results", label="Passages")

            with gr.Tab("Compare", id="compare", elem_id="tab-compare") as compare_tab:
                with gr.Row(equal_height=True):
                    cmp_topic = gr.Textbox(label="Topic", placeholder="e.g. the OSCE", scale=4, max_length=500,
                                           elem_id="cmp-topic")
                    cmp_speakers = gr.Dropdown(label="Speakers", choices=[], multiselect=True, max_choices=4,
                                               allow_custom_value=True, scale=4, min_width=220,
                                               info="two to four", elem_id="cmp-speakers")
                    cmp_k = gr.Slider(1, 6, value=3, step=1, label="Quotes each", scale=2, min_width=150)
                    cmp_btn = gr.Button("Compare", variant="primary", scale=1, min_width=100, elem_id="cmp-btn")
                comparison = gr.HTML(views.placeholder("What each speaker said on the topic, side by side, in "
                                                       "their own words; source and dates from the filters above."),
                                     js_on_load=CLICKABLE_JS, elem_id="comparison", label="Side by side")

            with gr.Tab("First", id="first", elem_id="tab-first"):
                with gr.Row(equal_height=True):
                    first_phrase = gr.Textbox(label="Phrase or claim", placeholder="e.g. special status of Donbass",
                                              scale=6, max_length=500, elem_id="first-phrase")
                    first_k = gr.Slider(1, 50, value=10, step=1, label="Occurrences", scale=2, min_width=180)
                    first_btn = gr.Button("Who said it first", variant="primary", scale=1, min_width=150,
                                          elem_id="first-btn")
                first_out = gr.HTML(views.placeholder("The earliest occurrences in this collection, verbatim and "
                                                      "near it by meaning, the first statement marked."),
                                    js_on_load=CLICKABLE_JS, elem_id="first-results", label="Occurrences")

            with gr.Tab("Read", id="read", elem_id="tab-read"):
                doc_choice = gr.Dropdown(label="Document", choices=[], elem_id="doc-choice", allow_custom_value=True,
                                         info="or click a quote, a passage or a timeline row")
                doc_view = gr.HTML(views.placeholder("Choose a document, or click a quote in Ask or a "
                                                     "passage in Search."), js_on_load=DOCUMENT_JS,
                                   elem_id="doc-view", label="Document")

            with gr.Tab("Library", id="library", elem_id="tab-library"):
                with gr.Row():
                    with gr.Column(scale=3, min_width=380):
                        gr.Markdown(f"### Add files\n{', '.join(ALLOWED_SUFFIXES)}, up to "
                                    f"{MAX_UPLOAD_BYTES // 2**20} MB each. Each file gets a result line.")
                        files = gr.File(file_count="multiple", type="filepath", label="Files",
                                        file_types=list(ALLOWED_SUFFIXES) + [".gz"], elem_id="upload")
                        add_btn = gr.Button("Add to library", variant="primary", elem_id="add-btn")
                        upload_out = gr.HTML("", elem_id="upload-results", label="Results")
                    with gr.Column(scale=2, min_width=300):
                        gr.Markdown("### Remove a document\nIts passages leave the index at once.")
                        remove_choice = gr.Dropdown(label="Document", choices=[], elem_id="remove-choice",
                                                    allow_custom_value=True)
                        remove_btn = gr.Button("Remove", variant="stop", elem_id="remove-btn")
                        remove_out = gr.HTML("", elem_id="remove-result", label="Result")
                gr.Markdown("### Documents\nClick a row to read it.")
                lib_filter = gr.Textbox(label="Filter", placeholder="title, speaker, source or date",
                                        max_length=200, elem_id="lib-filter")
                library = gr.HTML("", js_on_load=CLICKABLE_JS, elem_id="library", label="Documents")
                gr.Markdown("### Speakers\nEach person once, with the other names the documents give them: "
                            "check who a quote will be credited to.")
                speakers_list = gr.HTML("", elem_id="speakers-list", label="Speakers")

        refresh_out = [stats, speakers, sources, doc_choice, remove_choice, library, speakers_list]
        opened = [doc_view, tabs, doc_choice]

        # Ask
        for trigger, name in ((ask_btn.click, "ask"), (question.submit, None)):
            trigger(h.ask, [question, *filters], [answer, shown], api_name=name,
                    api_visibility="public" if name else PRIVATE, concurrency_id="read").then(
                h.export_quotes, [export_fmt, shown], export_btn, api_visibility=PRIVATE, concurrency_id="read")
        export_fmt.input(h.export_quotes, [export_fmt, shown], export_btn, api_visibility=PRIVATE,
                         concurrency_id="read")
        answer.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        # Timeline
        tl_outputs = [plot, yearly, tl_caption, table, tl_rows]
        for trigger, name in ((tl_btn.click, "timeline"), (tl_query.submit, None)):
            trigger(h.timeline, [tl_query, tl_k, *filters], tl_outputs, api_name=name,
                    api_visibility="public" if name else PRIVATE, concurrency_id="read")
        plot.select(h.narrow, tl_rows, table, api_visibility=PRIVATE)
        tl_all.click(h.all_periods, tl_rows, table, api_visibility=PRIVATE)
        table.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        # Search
        for trigger, name in ((search_btn.click, "search"), (query.submit, None)):
            trigger(h.search, [query, k, mode, *filters], results, api_name=name,
                    api_visibility="public" if name else PRIVATE, concurrency_id="read")
        results.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        # Compare (its own speakers; source and dates from the filters) and First (all the filters)
        for trigger, name in ((cmp_btn.click, "compare"), (cmp_topic.submit, None)):
            trigger(h.compare, [cmp_topic, cmp_speakers, cmp_k, sources, since, until], comparison, api_name=name,
                    api_visibility="public" if name else PRIVATE, concurrency_id="read")
        comparison.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        compare_tab.select(h.speaker_choices, None, cmp_speakers, api_visibility=PRIVATE)
        for trigger, name in ((first_btn.click, "first"), (first_phrase.submit, None)):
            trigger(h.first, [first_phrase, first_k, *filters], first_out, api_name=name,
                    api_visibility="public" if name else PRIVATE, concurrency_id="read")
        first_out.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        # Read
        doc_choice.input(h.open_document, doc_choice, doc_view, api_name="read_choice", api_visibility=PRIVATE,
                         concurrency_id="read")
        gr.api(h.open_document, api_name="open_document", concurrency_id="read")
        # Library
        add_btn.click(h.add_files, files, [upload_out, files], api_name="add_files",
                      concurrency_limit=1, concurrency_id="write").then(
            h.refresh, lib_filter, refresh_out, api_visibility=PRIVATE)
        remove_btn.click(h.remove, remove_choice, remove_out, api_name="remove_document",
                         concurrency_limit=1, concurrency_id="write",
                         js="(d) => (d && confirm('Remove this document from the library?')) ? d : null").then(
            h.refresh, lib_filter, refresh_out, api_visibility=PRIVATE)
        library.select(h.pick, None, opened, api_visibility=PRIVATE, concurrency_id="read")
        lib_filter.change(h.library, lib_filter, library, api_name="library_filter", api_visibility=PRIVATE,
                          trigger_mode="always_last")
        demo.load(h.refresh, lib_filter, refresh_out, api_name="library")
    return demo


def launch_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """The safety-relevant launch settings, in one place (tests read them too)."""
    return dict(server_name=host, server_port=port, share=False, show_error=True,
                max_file_size=MAX_UPLOAD_BYTES, allowed_paths=[],
                blocked_paths=[str(settings.data_dir.resolve())], ssr_mode=False, mcp_server=True,
                footer_links=["api"], css=CSS, theme=_theme(),
                quiet=True)


def _theme() -> gr.themes.Base:
    """Gradio's Soft theme with the system's fonts (nothing fetched from the network)."""
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate",
                          font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                                "sans-serif"],
                          font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"])


LAUNCH_ONLY = ("share", "quiet")
"""`launch()` options that `mount_gradio_app` has no use for: no share tunnel is ever opened, and
nothing is printed by Gradio when uvicorn is started here."""


def web_app(service: Service, settings: Settings, host: str, port: int, token: str | None = None) -> Any:
    """The page, the REST API (/api) and the MCP tools (/gradio_api/mcp/) as one FastAPI app, with
    every launch option of `launch_options` that matters for safety."""
    demo = build(service)
    reads = Reads(service)
    add_tools(demo, reads)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    app = create_app(reads, token)
    if token is not None:
        app.add_middleware(TokenGate, token=token, prefixes=("/gradio_api/mcp",))
    options = {k: v for k, v in launch_options(settings, host, port).items() if k not in LAUNCH_ONLY}
    return gr.mount_gradio_app(app, demo, path="/", **options)


def end_page_streams(listening: Listening) -> None:
    """End the heartbeat stream that every open tab of the page holds, as Gradio's own `close()`
    does, so that uvicorn's graceful shutdown does not wait for browsers."""
    for route in listening.app.routes:
        if isinstance(route, Mount) and hasattr(route.app, "stop_event"):
            listening.call_soon(route.app.stop_event.set)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, token: str | None = None) -> int:
    """Open the Library once, serve the page, the API and MCP until interrupted (Ctrl-C or SIGTERM),
    close cleanly. `token` (or $RAG_API_TOKEN) is required by every /api and MCP request."""
    from rag.library import Library
    from rag.store.serve_file import local_url, publish, withdraw

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "mcp"):  # a line per request otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    library = Library(settings)
    service = Service(library)
    service.warm_up()
    token = api_token(token)
    listening = Listening(web_app(service, settings, host, port, token), host, port)

    stopping = threading.Event()  # set by Ctrl-C or SIGTERM: no exception raised inside a join

    def _stop(signum: int, frame: Any) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        listening.start()
        url = local_url(host, port)
        publish(settings.data_dir, url, token is not None)
        print(f"serving {settings.data_dir} on http://{host}:{port}  (Ctrl-C to stop)\n"
              f"  REST API {url}/api (schema: {url}/api/openapi.json), MCP {url}/gradio_api/mcp/"
              + ("; both need the API token" if token else ""), flush=True)
        while not stopping.is_set() and listening.thread.is_alive():
            stopping.wait(0.5)
    except OSError as exc:  # the port is taken, or the server could not start
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        withdraw(settings.data_dir)
        end_page_streams(listening)
        try:
            listening.stop()  # requests in flight finish before the Library closes
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with service.write_lock, service.lock:
                library.close()
    return 0
