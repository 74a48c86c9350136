""""Export quotes" on the Ask tab, in Debian's Chromium: ask, download the file, and find in it the
quotes the page shows, with their exact spans. `rag serve` runs on a copy of the ingested sample."""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, served_copy, shot

pytestmark = pytest.mark.slow

QUESTION = "What did Lavrov say about the OSCE?"


def _norm(text: str) -> str:
    text = unescape(text)
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(a, b)
    return " ".join(text.split())


def _unquote(text: str) -> str:
    """The quote inside the card's quotation marks."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@pytest.fixture(scope="module")
def server(sample_library, tmp_path_factory):
    """`rag serve` on a copy of the session's ingested sample (no second ingest)."""
    with served_copy(sample_library, tmp_path_factory.mktemp("ui-export")) as srv:
        yield srv


def _download(page, tmp_path: Path, name: str) -> tuple[str, str]:
    with page.expect_download(timeout=60_000) as info:
        page.click("#export-btn")
    target = tmp_path / name
    info.value.save_as(str(target))
    return info.value.suggested_filename, target.read_text(encoding="utf-8")


def test_export_quotes_from_the_ask_page(server, tmp_path) -> None:
    import rispy

    if not Path(CHROMIUM).exists():
        pytest.fail("the browser test needs Debian's chromium (apt-get install chromium)")
    with chromium(1280, 900) as (_context, page):
        page.goto(server.url)
        page.wait_for_selector("#stats b", timeout=60_000)
        button = page.locator("#export-btn")
        assert button.is_disabled() and "Nothing to export" in button.inner_text()

        page.fill("#question textarea", QUESTION)
        page.click("#ask-btn")
        page.wait_for_selector("#answer .card", timeout=120_000)
        page.wait_for_function("() => { const b = document.querySelector('#export-btn');"
                               " return b && !b.disabled && b.textContent.includes('Export'); }", timeout=60_000)
        cards = page.locator("#answer blockquote.quote")
        shown = [(cards.nth(i).get_attribute("data-open"), int(cards.nth(i).get_attribute("data-start")),
                  int(cards.nth(i).get_attribute("data-end")), _unquote(_norm(cards.nth(i).inner_text())))
                 for i in range(cards.count())]
        assert shown and f"Export {len(shown)} quote" in button.inner_text() and "as CSL-JSON" in button.inner_text()
        shot(page, "export-01-answer-with-export", full_page=True)

        name, text = _download(page, tmp_path, "quotes.json")
        assert name == "quotes-what-did-lavrov-say-about-the-osce.json"
        items = json.loads(text)
        assert [(i["custom"]["doc_id"], i["custom"]["char_start"], i["custom"]["char_end"]) for i in items] == [
            s[:3] for s in shown]
        for item, (_doc, _start, _end, quote) in zip(items, shown):
            assert item["type"] in ("speech", "interview") and item["author"] and item["id"]
            assert _norm(item["note"]).startswith(quote), (item["note"][:200], quote[:200])

        page.click("#export-format input")
        page.locator("li[role=option]", has_text="RIS").first.click()
        page.wait_for_function("() => { const b = document.querySelector('#export-btn');"
                               " return b && !b.disabled && b.textContent.includes('as RIS'); }", timeout=60_000)
        name, text = _download(page, tmp_path, "quotes.ris")
        assert name == "quotes-what-did-lavrov-say-about-the-osce.ris"
        entries = rispy.loads(text)
        assert [_norm(e["notes"][0]) for e in entries] == [s[3] for s in shown]
        shot(page, "export-02-ris-chosen")

        # an answer without quotes takes the export away again
        page.fill("#question textarea", "How do I bake sourdough bread at home?")
        page.click("#ask-btn")
        page.wait_for_selector("#answer .abstain", timeout=120_000)
        page.wait_for_function("() => { const b = document.querySelector('#export-btn');"
                               " return b && b.disabled && b.textContent.includes('Nothing to export'); }",
                               timeout=60_000)


def test_export_handler_writes_the_answer_shown(sample_library) -> None:
    import bibtexparser

    from ui.handlers import Handlers
    from ui.service import Service

    handlers = Handlers(Service(sample_library))
    html, answer = handlers.ask(QUESTION)
    assert 'class="card"' in html and answer is not None and answer.citations
    button = handlers.export_quotes("bibtex", answer)
    path = Path(button.value if isinstance(button.value, str) else button.value["path"])
    assert button.interactive and path.name == "quotes-what-did-lavrov-say-about-the-osce.bib"
    entries = bibtexparser.parse_string(path.read_text(encoding="utf-8")).entries
    assert [(e["note"].rsplit("Source: ", 1)[1]) for e in entries] == [
        f"{c.doc_id}, chars {c.char_start}-{c.char_end}" + (f", p. {c.page}" if c.page else "") + "."
        for c in answer.citations]
    for nothing in (None, handlers.ask("How do I bake sourdough bread at home?")[1]):
        empty = handlers.export_quotes("csl-json", nothing)
        assert not empty.interactive and empty.value is None and empty.label == "Nothing to export"
    assert handlers.export_quotes("endnote", answer).interactive is False
