"""Typing refreshes skip Gradio's queue and may overlap (demo.ui.latest): in Chromium, a slow
refresh of an older text that finishes after a newer one must not replace it, on the columns
or on the plots; and the editor's requests are the unqueued ones."""
from __future__ import annotations

import re
import threading
import time

import pytest

from app_server import launched, new_explorer
from demo.plots import robustness_summary
from test_browser import pytestmark, wait_view  # noqa: F401  (same marks and skips)
from test_browser_layout import browser  # noqa: F401  (one Chromium per module)

SLOW = "slowly please"  # an instruction holding this is ranked after a pause (see SlowExplorer)
PAUSE_S = 1.5
RIDS = ["bm25", "minilm"]


class SlowExplorer:
    """The real Explorer; rank pauses for texts holding SLOW, so that a request sent first
    finishes last. Counts the pauses, so the test knows the overlap happened."""

    def __init__(self, inner):
        self.inner, self.paused = inner, 0
        self._lock = threading.Lock()

    def rank(self, dataset, instance_id, instruction, *args, **kwargs):
        if SLOW in (instruction or ""):
            with self._lock:
                self.paused += 1
            time.sleep(PAUSE_S)
        return self.inner.rank(dataset, instance_id, instruction, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def slow():
    return SlowExplorer(new_explorer())


@pytest.fixture(scope="module")
def url(slow):
    with launched(slow, warm=("bm25", "minilm")) as base:
        yield base


PASTE_JS = """(text) => { const area = document.querySelector('#instruction textarea');
  area.value = text; area.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'insertFromPaste'})); }"""
SHOWN_JS = """() => [...document.querySelectorAll('#rankings .encoded pre')].map((p) => p.textContent)"""


def test_an_overtaken_typing_refresh_never_replaces_the_newer_text(browser, url, slow):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    requests, answers = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: answers.append((r.status, r.url)) if "/gradio_api/run/" in r.url else None)
    page.goto(url + "?instance=101_1&retrievers=" + ",".join(RIDS))
    page.wait_for_selector("#sweep-plot .js-plotly-plot .main-svg")
    base = page.input_value("#instruction textarea")
    older, newer = base + " " + SLOW, base + " Only the short version."
    paused = slow.paused
    page.evaluate(PASTE_JS, older)  # sent first, answered last
    page.wait_for_timeout(300)
    page.evaluate(PASTE_JS, newer)
    wait_view(page, slow.inner, "101_1", newer, RIDS)
    page.wait_for_timeout(PAUSE_S * 1000 + 1500)  # the older refresh has finished by now
    assert slow.paused == paused + 1  # the older one was computing while the newer one arrived
    assert all(t.startswith(newer) or t.endswith(newer) or newer in t for t in page.evaluate(SHOWN_JS))
    # the plots follow the newer text too: their summary is the newer ranking's
    want = robustness_summary(slow.inner.rank("demo", "101_1", newer, RIDS, 10))
    page.wait_for_function("(want) => document.querySelector('#robustness-text').innerText.trim() === want", arg=want)
    assert newer in page.input_value("#instruction textarea")
    assert any(re.search(r"/gradio_api/run/", u) for u in requests)  # the typing path skips the queue
    assert not any(SLOW in t for t in page.evaluate(SHOWN_JS))
    # an overtaken request answers "nothing to update", not an error
    assert answers and all(status == 200 for status, _ in answers), answers
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    page.close()
