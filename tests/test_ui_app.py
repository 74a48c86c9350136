"""The web page end to end: `rag serve` in a subprocess on a copy of the ingested sample, driven by
Debian's Chromium through Playwright and by `gradio_client`; plus the safety checks over HTTP.

One server for the whole module. Screenshots of every browser step go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path

import httpx
import pytest

from browser import CHROMIUM, chromium, served_copy, shot

pytestmark = pytest.mark.slow

QUOKKA = """Press statement by Foreign Minister Alva Zorblatt on the Quokka Accord, Canberra, 3 March 2021

Alva Zorblatt: Today we signed the Quokka Accord on marsupial conservation. The Quokka Accord commits both
governments to protect the island habitats of the quokka for the next twenty years.

Question: Will the Quokka Accord be ratified this year?

Alva Zorblatt: Ratification of the Quokka Accord is expected before the end of the year.
"""
WOMBAT = """# Joint statement on the Wombat Burrow Treaty, 9 April 2021

Minister Hollis Brank: The Wombat Burrow Treaty protects burrow networks across the border ranges.
We agreed that the Wombat Burrow Treaty will be reviewed every five years.
"""
QUESTIONS = ["What did Lavrov say about the OSCE?", "How has Putin described NATO expansion?",
             "What did the Prime Minister say about Afghanistan?", "What was said about the Minsk agreements?"]
BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage garbage\n"


def _norm(text: str) -> str:
    text = unescape(text)
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(a, b)
    return " ".join(text.split())


def _speakers(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'<span class="who">([^<]*)</span>', html)]


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def _click_and_wait(page, button: str, container: str, selector: str, timeout: float = 120_000) -> None:
    """Click `button`, then wait for a fresh `selector` inside `container` (old results are marked stale)."""
    page.evaluate("""([c, s]) => document.querySelectorAll(s.split(',').map(x => c + ' ' + x.trim()).join(','))
        .forEach(e => e.setAttribute('data-stale', '1'))""", [container, selector])
    page.click(button)
    fresh = ", ".join(f"{container} {part.strip()}:not([data-stale])" for part in selector.split(","))
    page.wait_for_selector(fresh, timeout=timeout)


@pytest.fixture(scope="module")
def server(sample_library, tmp_path_factory):
    """`rag serve` on a copy of the session's ingested sample (no second ingest)."""
    with served_copy(sample_library, tmp_path_factory.mktemp("ui"),
                     # Gradio logs its own refusals of a wrong file type with a traceback
                     expected_tracebacks=lambda log: log.count('gradio.exceptions.Error: "Invalid file type')) as srv:
        yield srv


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    paths = {"quokka": folder / "2021-03-03_quokka-accord.txt", "wombat": folder / "2021-04-09_wombat-treaty.md",
             "broken": folder / "broken.pdf", "quokka_cli": folder / "2021-03-04_quokka-followup.txt"}
    paths["quokka"].write_text(QUOKKA)
    paths["wombat"].write_text(WOMBAT)
    paths["broken"].write_bytes(BROKEN_PDF)
    paths["quokka_cli"].write_text(QUOKKA.replace("3 March", "4 March").replace("twenty", "thirty"))
    return paths


# -- safety over plain HTTP --------------------------------------------------------------
TRAVERSALS = [
    "/file=/etc/passwd", "/gradio_api/file=/etc/passwd", "/gradio_api/file=../../../../etc/passwd",
    "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=//etc/passwd", "/gradio_api/file=file:///etc/passwd", "/gradio_api/file=/proc/self/environ",
    "/gradio_api/file=/tmp/gradio/../../etc/passwd", "/static/../../../etc/passwd",
    "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd", "/gradio_api/file=pyproject.toml",
    "/gradio_api/file={root}/pyproject.toml", "/gradio_api/file={data}/store.sqlite3",
    "/gradio_api/file={data}/uploads/2021-03-03_quokka-accord.txt",
]


def test_no_file_outside_what_the_page_needs(server) -> None:
    root = Path(__file__).resolve().parent.parent
    data = Path(server.proc.args[-1]).resolve()
    for template in TRAVERSALS:
        url = template.format(root=root, data=data)
        resp = httpx.get(server.url + url, timeout=10)
        assert resp.status_code in (400, 403, 404), (url, resp.status_code)
        assert "root:" not in resp.text and "SQLite" not in resp.text and "[project]" not in resp.text, url


def test_uploads_over_the_size_limit_are_refused(server, tmp_path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)
    with big.open("rb") as handle:
        resp = httpx.post(server.url + "/gradio_api/upload", files={"files": ("big.txt", handle, "text/plain")},
                          timeout=60)
    assert resp.status_code in (400, 413), resp.status_code
    assert "Traceback" not in resp.text


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, read from /proc (no traffic sent)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            host, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:  # 0A = LISTEN
                found.add(host)
    return found


def test_loopback_only_and_no_analytics(server) -> None:
    assert httpx.get(server.url + "/config", timeout=10).json().get("analytics_enabled") is False
    addresses = _listening_addresses(server.port)
    assert addresses, "the server's listening socket was not found"
    # 127.0.0.1 as /proc prints it (little-endian hex); nothing bound to 0.0.0.0 or another address
    assert addresses == {"0100007F"}, addresses


# -- the browser -------------------------------------------------------------------------
def test_browser_flows(server, files) -> None:
    missing = [what for what, ok in (("Debian's chromium (apt-get install chromium)", Path(CHROMIUM).exists()),
                                     ("playwright (pip install playwright)", _has_playwright())) if not ok]
    if missing:  # `make install-test` installs both
        pytest.fail("the browser test needs " + " and ".join(missing))
    with chromium(1280, 900) as (context, page):
        page.on("dialog", lambda d: d.accept())
        page.goto(server.url)
        page.wait_for_selector("#stats b", timeout=60_000)
        shot(page, "01-home")

        # a question the statements do not answer: said plainly
        page.fill("#question textarea", "How do I bake sourdough bread at home?")
        page.click("#ask-btn")
        page.wait_for_selector("#answer .abstain", timeout=120_000)
        assert "No answer in the indexed statements" in page.inner_text("#answer")
        assert page.locator("#answer .card").count() == 0
        shot(page, "02-abstention")

        # ask, see a cited answer
        for question in QUESTIONS:
            page.fill("#question textarea", question)
            _click_and_wait(page, "#ask-btn", "#answer", ".card, .abstain, .msg")
            if page.locator("#answer .card").count():
                break
        assert page.locator("#answer .card").count() >= 1, page.inner_text("#answer")
        assert page.locator("#answer a.cite-ref").count() >= 1
        first = page.locator("#answer .card").first
        quote = _norm(first.locator("blockquote.quote").inner_text()).strip('"')
        assert first.locator(".card-meta .who").inner_text()
        shot(page, "03-answer", full_page=True)

        # copy the attribution line
        first.locator("button.copy").click()
        page.wait_for_function("document.querySelector('#answer .card button.copy').textContent.includes('Copied')")
        attribution = first.locator("button.copy").get_attribute("data-copy")
        assert page.evaluate("navigator.clipboard.readText()") == attribution

        # click the citation: the Read tab opens with the quote highlighted and in view
        first.locator("blockquote.quote").click()
        mark = page.locator("#doc-view mark.cited").first
        mark.wait_for(state="visible", timeout=60_000)
        page.wait_for_function("""() => { const r = document.querySelector('#doc-view mark.cited')
            .getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }""", timeout=10_000)
        marked = _norm(" ".join(page.locator("#doc-view mark.cited").all_inner_texts()))
        assert quote and quote in marked
        shot(page, "04-read-highlighted")

        # search, then the same search narrowed to one speaker
        page.click("#tab-search-button, button[role=tab]:has-text('Search')")
        page.fill("#query textarea", "NATO expansion")
        page.click("#search-btn")
        page.wait_for_selector("#results .hit", timeout=120_000)
        before = _speakers(page.inner_html("#results"))
        assert len(set(before)) > 1
        shot(page, "05-search")
        page.click("#f-speaker input")
        page.keyboard.type("Julia Gillard")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.click("#search-btn")
        page.wait_for_function("""() => { const w = [...document.querySelectorAll('#results .hit .who')];
            return w.length > 0 && w.every(e => e.textContent === 'Julia Gillard'); }""", timeout=120_000)
        after = _speakers(page.inner_html("#results"))
        assert after != before and set(after) == {"Julia Gillard"}
        shot(page, "06-search-speaker-filter")

        # the timeline for the same query, a row opens its passage
        page.click("button[role=tab]:has-text('Timeline')")
        page.fill("#tl-query textarea", "NATO expansion")
        page.click("#tl-btn")
        page.wait_for_selector("#tl-table tbody tr", timeout=120_000)
        assert set(page.locator("#tl-table td.s").all_inner_texts()) == {"Julia Gillard"}
        page.wait_for_selector("#tl-plot canvas, #tl-plot svg", timeout=30_000)
        shot(page, "07-timeline", full_page=True)
        page.locator("#tl-table tbody tr").first.click()
        page.locator("#doc-view mark.cited").first.wait_for(state="visible", timeout=60_000)

        # clear the filter, upload a file, find it by search
        page.locator("#f-speaker .remove-all").click()
        page.click("button[role=tab]:has-text('Library')")
        page.set_input_files("#upload input[type=file]", str(files["quokka"]))
        page.wait_for_selector("#upload :text('quokka-accord')", timeout=60_000)
        page.click("#add-btn")
        page.wait_for_selector("#upload-results .badge", timeout=180_000)
        assert page.locator("#upload-results .badge").first.inner_text() == "added", page.inner_text("#upload-results")
        shot(page, "08-upload-added")
        # the speakers list: one row a person, the other names the documents give them beside it
        page.wait_for_function("""() => { const t = document.querySelector('#speakers-table');
            return t && t.textContent.includes('Alva Zorblatt'); }""", timeout=60_000)
        trump = page.locator("#speakers-table tbody tr", has_text="Donald Trump")
        assert trump.count() == 1 and "President Trump" in trump.inner_text()
        assert page.locator("#speakers-table tbody tr", has_text="President Trump").count() == 1
        shot(page, "08b-speakers", full_page=True)
        page.click("button[role=tab]:has-text('Search')")
        page.fill("#query textarea", "Quokka Accord ratification")
        page.click("#search-btn")
        page.wait_for_function("""() => { const h = document.querySelector('#results .hit');
            return h && h.textContent.includes('Quokka Accord'); }""", timeout=120_000)
        assert page.locator("#results .hit .who").first.inner_text() != "Julia Gillard"
        shot(page, "09-search-finds-upload")

        # a broken PDF: one line saying what is wrong, no stack trace
        page.click("button[role=tab]:has-text('Library')")
        page.set_input_files("#upload input[type=file]", str(files["broken"]))
        page.wait_for_selector("#upload :text('broken.pdf')", timeout=60_000)
        page.click("#add-btn")
        page.wait_for_selector("#upload-results .badge.failed", timeout=120_000)
        text = page.inner_text("#upload-results")
        assert "broken.pdf" in text and "PDF" in text and "Traceback" not in text and "/tmp" not in text
        shot(page, "10-upload-broken-pdf")

        # remove the uploaded document
        page.click("#remove-choice input")
        page.keyboard.type("Quokka")
        page.locator("#remove-choice li[role=option]", has_text="Quokka").first.click()
        page.click("#remove-btn")
        page.wait_for_selector("#remove-result :text('Removed')", timeout=60_000)
        shot(page, "11-removed")

        # laptop and narrow widths: nothing sticks out sideways
        for width in (1280, 900):
            page.set_viewport_size({"width": width, "height": 900})
            page.click("button[role=tab]:has-text('Ask')")
            time.sleep(0.5)
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
            shot(page, f"12-ask-{width}px", full_page=True)
            page.click("button[role=tab]:has-text('Read')")
            time.sleep(0.5)
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
            shot(page, f"13-read-{width}px")


# -- the same flows through gradio_client -------------------------------------------------
def test_client_flows(server, files) -> None:
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False)
    stats, *_ = client.predict("", api_name="/library")
    assert "documents" in stats

    for question in QUESTIONS:
        html = client.predict(question, [], [], "", "", api_name="/ask")
        cards = re.findall(r'<blockquote class="quote" data-open="([^"]+)" data-start="(\d+)" data-end="(\d+)"', html)
        if cards:
            break
    assert cards and 'class="cite-ref"' in html, html[:500]
    abstain = client.predict("How many moons does Jupiter have?", [], [], "", "", api_name="/ask")
    assert 'class="abstain"' in abstain and 'class="card"' not in abstain
    doc_id, start, end = cards[0]
    doc = client.predict(doc_id, int(start), int(end), api_name="/open_document")
    marked = re.search(r'<mark class="cited" id="cited">(.*?)</mark>', doc, re.S)
    assert marked and _norm(marked.group(1))

    everyone = _speakers(client.predict("NATO expansion", 10, "hybrid", [], [], "", "", api_name="/search"))
    putin = _speakers(client.predict("NATO expansion", 10, "hybrid", ["Vladimir Putin"], [], "", "",
                                     api_name="/search"))
    assert set(putin) == {"Vladimir Putin"} and putin != everyone
    dated = client.predict("NATO expansion", 10, "hybrid", [], [], "2019", "2019", api_name="/search")
    assert all(d.startswith("2019") for d in re.findall(r'<span class="when">([^<]*)</span>', dated))

    plot, yearly, caption, table = client.predict("NATO expansion", 50, [], [], "", "", api_name="/timeline")
    assert plot["data"] and yearly["data"] and "passages from" in caption and "<tr data-open=" in table

    result, _ = client.predict([handle_file(str(files["wombat"])), handle_file(str(files["broken"]))],
                               api_name="/add_files")
    assert "badge added" in result and "badge failed" in result and "Traceback" not in result
    hits = client.predict("Wombat Burrow Treaty", 3, "hybrid", [], [], "", "", api_name="/search")
    new_id = re.search(r'data-open="([^"]+)"', hits).group(1)
    assert "Wombat" in hits.split("</article>")[0]
    again, _ = client.predict([handle_file(str(files["wombat"]))], api_name="/add_files")
    assert "badge unchanged" in again

    assert "Removed" in client.predict(new_id, api_name="/remove_document")
    gone = client.predict("Wombat Burrow Treaty", 3, "hybrid", [], [], "", "", api_name="/search")
    assert new_id not in gone
    assert "No document" in client.predict(new_id, 0, 0, api_name="/open_document")


def test_client_errors_are_one_line(server, tmp_path) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(server.url, verbose=False)
    cases = [
        client.predict("NATO", 5, "hybrid", [], [], "2023-13", "", api_name="/search"),
        client.predict("NATO", 5, "hybrid", ["Nobody Atall"], [], "", "", api_name="/search"),
        client.predict("   ", [], [], "", "", api_name="/ask"),
        client.predict("x" * 5000, [], [], "", "", api_name="/ask"),
        client.predict("../../etc/passwd", 0, 10, api_name="/open_document"),
    ]
    for html in cases:
        assert 'class="msg msg-' in html and "Traceback" not in html and "File \"" not in html
    assert "invalid month" in cases[0] and "Nobody Atall" in cases[1]

    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00" * 10)
    with pytest.raises(AppError, match="Invalid file type"):  # Gradio's own type check comes first
        client.predict([handle_file(str(exe))], api_name="/add_files")
    evil = tmp_path / "evil.txt"
    evil.write_bytes(b"\x00\x01binary" * 10)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    result, _ = client.predict([handle_file(str(evil)), handle_file(str(fake))], api_name="/add_files")
    assert result.count("badge failed") == 2 and "binary content" in result and "not a PDF" in result
    assert "Traceback" not in result
