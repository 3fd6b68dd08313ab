"""The tour and presenter mode in Chromium: ?tour=N opens a step's prepared view,
Next and the arrow keys move through the steps, and with ?present=1 the summary and the top 5 of
every column fit a 1280×720 projector (also at 1920×1080), in light and dark. Screenshots go to
screenshots/."""
from __future__ import annotations

import time

import pytest

from test_browser import ARGS, CHROMIUM, SHOTS, pytestmark  # noqa: F401  (same marks and skips)
from app_server import launched, new_explorer
from test_browser_layout import browser  # noqa: F401  (one Chromium per module)
from demo.tour import STEPS

# A step may compute a whole-dataset scoreboard (mpnet, rrf) on first use, and the server may still
# be finishing the previous test's steps: more room than the other browser tests' 60 s.
TIMEOUT = 180_000

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None


@pytest.fixture(scope="module")
def url():
    explorer = new_explorer()
    with launched(explorer, warm=("bm25", "minilm", "mpnet")) as base:
        yield base


def _page(browser, url, query, size=(1440, 900), scheme="light"):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme).new_page()
    page.goto(url + query)
    return page


def _settled(page, step):
    """Wait until the picker shows the step's instance and the columns its retrievers."""
    page.wait_for_function(
        """([iid, rids]) => { const v = document.querySelector('#instance input');
             const cols = [...document.querySelectorAll('#rankings .col')].map((c) => c.dataset.retriever);
             return v && v.value.startsWith(iid) && cols.join(',') === rids.join(','); }""",
        arg=[step.instance_id, list(step.retrievers)], timeout=TIMEOUT)


def _shown(page) -> dict:
    return page.evaluate("""() => ({
        step: (document.querySelector('#tour-text') || {}).innerText || '',
        retrievers: [...document.querySelectorAll('#rankings .col')].map((c) => c.dataset.retriever),
        instruction: document.querySelector('#instruction textarea').value})""")


def test_deep_link_opens_a_step_and_next_and_arrows_move(browser, url):
    page = _page(browser, url, "?tour=2")
    _settled(page, STEPS[1])
    shown = _shown(page)
    assert "step 2 of" in shown["step"] and STEPS[1].title in shown["step"]
    assert shown["retrievers"] == list(STEPS[1].retrievers)
    page.click("#tour-next")
    _settled(page, STEPS[2])
    shown = _shown(page)
    assert "step 3 of" in shown["step"]
    assert shown["retrievers"] == list(STEPS[2].retrievers)
    page.locator("body").click(position={"x": 5, "y": 5})  # focus outside any input
    page.keyboard.press("ArrowLeft")
    _settled(page, STEPS[1])
    assert "step 2 of" in _shown(page)["step"]
    page.screenshot(path=str(SHOTS / "tour-step2.png"))
    page.close()


def test_a_bad_step_in_a_link_says_so(browser, url):
    page = _page(browser, url, f"?tour={len(STEPS) + 5}")
    page.wait_for_selector("#rankings .col", timeout=TIMEOUT)
    page.wait_for_function("() => (document.querySelector('#tour-text') || {}).innerText", timeout=TIMEOUT)
    assert f"steps 1 to {len(STEPS)}" in _shown(page)["step"]
    page.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_presenter_mode_fits_a_projector(browser, url, size, scheme):
    page = _page(browser, url, "?tour=5&present=1", size, scheme)
    _settled(page, STEPS[4])
    page.wait_for_timeout(1000)
    facts = page.evaluate("""() => {
        const visible = (el) => el && el.offsetParent !== null && getComputedStyle(el).display !== 'none';
        const cols = [...document.querySelectorAll('#rankings .col')].filter(visible);
        const bottom = (el) => el.getBoundingClientRect().bottom;
        return {
          font: parseFloat(getComputedStyle(document.body).fontSize),
          present: document.body.classList.contains('present'),
          columns: cols.length,
          barHidden: !visible(document.querySelector('#picker-bar')),
          summaryBottom: bottom(document.querySelector('#summary')),
          fifthBottoms: cols.map((c) => { const cards = [...c.querySelectorAll('.card')].filter(visible);
                                         return cards.length >= 5 ? bottom(cards[4]) : 1e9; }),
          visibleCards: cols.map((c) => [...c.querySelectorAll('.card')].filter(visible).length),
        }; }""")
    page.screenshot(path=str(SHOTS / f"present-{size[0]}x{size[1]}-{scheme}.png"))
    assert facts["present"] and facts["font"] >= 18
    assert facts["barHidden"]
    assert 1 <= facts["columns"] <= 3
    assert facts["summaryBottom"] <= size[1]
    assert all(b <= size[1] for b in facts["fifthBottoms"]), facts
    assert all(n == 5 for n in facts["visibleCards"]), facts
    page.close()


def test_presenter_toggle_keeps_the_address_in_step(browser, url):
    page = _page(browser, url, "")
    page.wait_for_selector("#rankings .col", timeout=TIMEOUT)
    page.click("#present-toggle")
    page.wait_for_function("() => document.body.classList.contains('present')", timeout=TIMEOUT)
    assert "present=1" in page.url
    page.click("#present-toggle")
    page.wait_for_function("() => !document.body.classList.contains('present')", timeout=TIMEOUT)
    assert "present=1" not in page.url
    time.sleep(0.2)
    page.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_whole_tour_in_presenter_mode(browser, url, size):
    """Start the tour with its button and walk every step with Next, as a lecturer would: each
    step's columns and narrative appear, and the columns' top 5 stay on screen."""
    page = _page(browser, url, "?present=1", size)
    page.wait_for_selector("#rankings .col", timeout=TIMEOUT)
    page.click("#tour-start")
    for n, step in enumerate(STEPS, 1):
        if n > 1:
            page.click("#tour-next")
        _settled(page, step)
        shown = _shown(page)
        assert f"step {n} of {len(STEPS)}" in shown["step"] and step.title in shown["step"]
        bottoms = page.evaluate("""() => [...document.querySelectorAll('#rankings .col')]
            .filter((c) => c.offsetParent !== null)
            .map((c) => { const cards = [...c.querySelectorAll('.card')].filter((x) => x.offsetParent !== null);
                          return cards.length ? cards[Math.min(4, cards.length - 1)].getBoundingClientRect().bottom : 0; })""")
        assert bottoms and max(bottoms) <= size[1], (n, bottoms)
        page.screenshot(path=str(SHOTS / f"tour-{n}-{size[0]}x{size[1]}.png"))
    assert page.locator("#tour-next").is_disabled()
    page.close()
