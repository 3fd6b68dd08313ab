""""Why here" in Chromium: a BM25 card's terms add up to the score on the card, a
MiniLM card lists the instruction's sentences with the one that moved it most, both match the
service; the W key opens it from a focused card without adding tab stops, Esc closes it, and its
text has >= 4.5:1 contrast in light and dark. Prints the click-to-explanation latency."""
from __future__ import annotations

import re

import pytest

from demo.data.variants import sentences
from test_browser import SHOTS, TIMEOUT, default_instance, open_app, pytestmark  # noqa: F401
from test_browser import bench, browser, explorer, url  # noqa: F401  (module fixtures)
from test_browser_layout import CONTRAST_JS

PANEL = "#why-panel .why[data-method]"


def page_for(browser, scheme="light"):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT)
    return pg


@pytest.fixture
def page(browser):  # noqa: F811
    pg = page_for(browser)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def card(page, rid, n):
    return page.locator(f'#rankings [data-retriever="{rid}"] .card').nth(n)


def open_why(page, rid, n):
    """Click the card's "why?" button; the panel for that doc, and the time it took in the page (ms)."""
    doc = card(page, rid, n).get_attribute("data-doc")
    card(page, rid, n).locator(".why-btn").click()
    page.wait_for_function("([rid, doc]) => { const w = document.querySelector('#why-panel .why[data-method]');"
                           " return w && w.querySelector('.why-head').textContent.includes(doc) &&"
                           " w.querySelector('.why-head').textContent.includes(rid); }", arg=[rid, doc])
    return doc, page.evaluate("() => performance.now() - window.__ixWhyAt")


def numbers(page, sel):
    return [float(x) for x in page.eval_on_selector_all(sel, "els => els.map((e) => e.textContent)")]


def test_why_here_for_a_bm25_card_and_a_minilm_card(page, url, explorer, bench):  # noqa: F811
    open_app(page, url)
    inst = default_instance(bench)
    # BM25, the second card: terms, marked by where they come from, adding up to the card's score
    doc, ms_bm25 = open_why(page, "bm25", 1)
    want = explorer.explain("demo", inst.instance_id, inst.instruction, "bm25", doc)
    shown_score = card(page, "bm25", 1).locator(".score").inner_text()
    assert page.inner_text("#why-panel .why-total") == shown_score == f"{want['score']:.3f}"
    terms = page.eval_on_selector_all("#why-panel .why-term", "els => els.map((e) => [e.querySelector('mark').textContent,"
                                      " e.dataset.source, e.querySelector('mark').className])")
    assert [t[0] for t in terms] == [t["term"] for t in want["terms"][:len(terms)]] and terms
    assert {t[1] for t in terms} >= {"query", "instruction"}
    assert all(cls == ("hi" if src == "instruction" else "hq") for _, src, cls in terms)
    parts = numbers(page, "#why-panel .why-term .why-num, #why-panel .why-rest .why-num")
    assert abs(sum(parts) - float(shown_score)) <= 0.0005 * (len(parts) + 1)  # each part rounded to 3 places
    page.screenshot(path=str(SHOTS / "why-bm25.png"))

    # MiniLM: every instruction sentence left out in turn, the one that moved the doc most marked
    doc, ms_minilm = open_why(page, "minilm", 1)
    want = explorer.explain("demo", inst.instance_id, inst.instruction, "minilm", doc)
    assert page.locator(PANEL).get_attribute("data-method") == "occlusion"
    said = page.eval_on_selector_all("#why-panel .why-sentence > div:first-child", "els => els.map((e) => e.textContent)")
    parts = sentences(inst.instruction)
    assert len(said) == len(parts) >= 2
    for line, text in zip(said, parts):
        assert re.sub(r" moved it most$", "", line) == f"Without “{text}”"
    most = [i for i, s in enumerate(want["sentences"]) if s["moved_most"]]
    assert page.eval_on_selector_all("#why-panel .why-sentence", "els => els.flatMap((e, i) => "
                                     "e.classList.contains('moved-most') ? [i] : [])") == most
    assert page.inner_text("#why-panel .why-note") == want["note"]
    page.screenshot(path=str(SHOTS / "why-minilm.png"))
    print(f"\nwhy-here click to explanation: bm25 {ms_bm25:.0f} ms, minilm {ms_minilm:.0f} ms")

    # Esc closes it
    page.keyboard.press("Escape")
    assert not page.locator(PANEL).is_visible()


def test_w_on_a_focused_card_opens_it_without_extra_tab_stops(page, url, explorer, bench):  # noqa: F811
    open_app(page, url)
    stops = page.evaluate("""() => [...document.querySelectorAll('#rankings a, #rankings button, #rankings summary,'
        + ' #rankings [tabindex]')].filter((e) => e.tabIndex >= 0 && e.offsetParent).length""")
    assert stops <= 8, stops  # the "why?" buttons are not tab stops
    first = card(page, "minilm", 0)
    first.focus()
    page.keyboard.press("ArrowDown")
    doc = card(page, "minilm", 1).get_attribute("data-doc")
    page.keyboard.press("w")
    page.wait_for_function("(doc) => { const w = document.querySelector('#why-panel .why[data-method]');"
                           " return w && w.textContent.includes(doc); }", arg=doc)
    assert page.evaluate("() => document.activeElement.dataset.doc") == doc  # focus stays on the cards
    page.keyboard.press("Escape")
    assert not page.locator(PANEL).is_visible()
    page.keyboard.press("w")  # again; then an edit closes it (it explained the old text)
    page.wait_for_selector(PANEL, state="visible")
    page.locator("#instruction textarea").fill("Short, please.")
    assert not page.locator(PANEL).is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_why_panel_contrast(browser, url, scheme):  # noqa: F811
    page = page_for(browser, scheme)
    try:
        open_app(page, url)
        open_why(page, "bm25", 0)
        low = []
        for sel in (".why-btn", ".why-head", ".why-head code", ".why-table th", ".why-table td", "#why-panel mark",
                    ".why-note"):
            found = page.evaluate(CONTRAST_JS, sel)
            assert found, sel
            low += [(sel, f["text"], round(f["ratio"], 2)) for f in found if f["ratio"] < 4.5]
        open_why(page, "minilm", 0)
        for sel in (".why-sentence", ".why-most", ".why-change"):
            found = page.evaluate(CONTRAST_JS, sel)
            low += [(sel, f["text"], round(f["ratio"], 2)) for f in found if f["ratio"] < 4.5]
        assert not low, f"below 4.5:1 in {scheme}: {low[:12]}"
        page.screenshot(path=str(SHOTS / f"why-{scheme}.png"))
    finally:
        page.context.close()
