"""The Compare and First tabs end to end: `rag serve` on a copy of the ingested sample, driven by
Debian's Chromium through Playwright: fill the form, run, see the columns / the marked first
occurrence, click a quote and land in Read with its span highlighted. Screenshots go to
test-artifacts/ (compare-*.png, first-*.png)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from browser import CHROMIUM, chromium, served_copy, shot

pytestmark = pytest.mark.slow


def _norm(text: str) -> str:
    text = unescape(text)
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(a, b)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def server(sample_library, tmp_path_factory):
    """`rag serve` on a copy of the session's ingested sample (no second ingest)."""
    with served_copy(sample_library, tmp_path_factory.mktemp("ui-cf")) as srv:
        yield srv


def _browser_ready() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the browser test needs playwright (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.fail("the browser test needs Debian's chromium (apt-get install chromium)")


def _pick_speaker(page, name: str) -> None:
    page.click("#cmp-speakers input")
    page.keyboard.type(name)
    page.locator("#cmp-speakers li[role=option]", has_text=name).first.click()
    page.keyboard.press("Escape")


def _read_highlight(page) -> str:
    mark = page.locator("#doc-view mark.cited").first
    mark.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("""() => { const r = document.querySelector('#doc-view mark.cited')
        .getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }""", timeout=10_000)
    return _norm(" ".join(page.locator("#doc-view mark.cited").all_inner_texts()))


def test_compare_tab(server) -> None:
    _browser_ready()
    with chromium(1280, 900) as (_, page):
        page.goto(server.url)
        page.wait_for_selector("#stats b", timeout=60_000)
        page.click("button[role=tab]:has-text('Compare')")
        page.fill("#cmp-topic textarea", "the OSCE")
        _pick_speaker(page, "Vladimir Putin")
        _pick_speaker(page, "Julia Gillard")
        _pick_speaker(page, "Sergey Lavrov")
        page.click("#cmp-btn")
        page.wait_for_selector("#comparison .cmp-grid", timeout=180_000)
        heads = page.locator("#comparison .cmp-who").all_inner_texts()
        assert heads == ["Vladimir Putin", "Julia Gillard", "Sergey Lavrov"]
        cols = page.locator("#comparison .cmp-col")
        assert cols.nth(0).locator(".cmp-card").count() >= 1
        assert cols.nth(1).locator(".cmp-card").count() == 0
        assert "No statement by Julia Gillard on this was found." in cols.nth(1).inner_text()
        lavrov = cols.nth(2).locator(".cmp-card").first
        assert lavrov.locator(".cmp-date").inner_text() == "17 May 2023"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1281
        shot(page, "compare-tab", full_page=True)

        quote = _norm(lavrov.locator("blockquote.quote").inner_text()).strip('"')
        assert "OSCE" in quote
        lavrov.locator("blockquote.quote").click()
        marked = _read_highlight(page)
        assert quote in marked
        shot(page, "compare-read")


def test_first_tab(server) -> None:
    _browser_ready()
    with chromium(1280, 900) as (_, page):
        page.goto(server.url)
        page.wait_for_selector("#stats b", timeout=60_000)
        page.click("button[role=tab]:has-text('First')")
        page.fill("#first-phrase textarea", "“our alliance with the United States”")
        page.click("#first-btn")
        page.wait_for_selector("#first-results .first-list li.occ", timeout=180_000)
        banner = page.inner_text("#first-results .first-banner")
        assert "First said by Kevin Rudd on 30 March 2008" in banner
        first = page.locator("#first-results li.occ.first")
        assert first.count() == 1 and page.locator("#first-results li.occ").first.get_attribute("class") == "occ first"
        assert "first said" in first.locator(".badge.first").inner_text()
        assert first.locator(".how").inner_text() == "verbatim"
        hit = _norm(first.locator("mark.hit").inner_text())
        assert hit.lower() == "our alliance with the united states"
        dates = page.locator("#first-results li.occ .when").all_inner_texts()
        assert dates[:3] == ["30 March 2008", "2 May 2009", "19 November 2011"]
        shot(page, "first-tab", full_page=True)

        page.locator("#first-results li.occ").nth(1).locator("blockquote.quote").click()
        marked = _read_highlight(page)
        assert marked.lower() == "our alliance with the united states"
        assert "Defence White Paper" in page.inner_text("#doc-view .doc-title")

        # a phrase only a journalist used: shown as asked, nobody marked first
        page.click("button[role=tab]:has-text('First')")
        page.fill("#first-phrase textarea", "America's increasing military presence in Australia")
        page.click("#first-btn")
        page.wait_for_selector("#first-results li.occ.asked", timeout=180_000)
        assert page.locator("#first-results li.occ.first").count() == 0
        assert page.locator("#first-results .first-banner").count() == 0
        assert "asked, not said" in page.inner_text("#first-results li.occ.asked")
        assert "only journalists' questions contain it" in page.inner_text("#first-results .first-notes")
        shot(page, "first-journalist-only", full_page=True)

        # a bad filter: one line, no stack trace
        page.fill("#f-since input, #f-since textarea", "2023-13")
        page.click("#first-btn")
        page.wait_for_selector("#first-results .msg-error", timeout=60_000)
        assert re.search(r"invalid month", page.inner_text("#first-results"))
