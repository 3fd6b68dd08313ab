"""The Inspect tab in Chromium: upload a run file, filter the instance table to "A hit,
B sibling", open a row in Explore, write a note, reload the page and find the note again."""
from __future__ import annotations

import re

import pytest

from app_server import DEFAULT, launched, new_explorer
from test_browser import SHOTS, browser, open_app, page, pick, pytestmark  # noqa: F401 (fixtures, marks)
from helpers import write_bm25_run


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def url(explorer):
    with launched(explorer) as base:
        yield base


def ids_in_table(page):
    """First cells of the rows on screen (Gradio 6 draws them as role=row divs; the <table> in
    the DOM is a hidden copy for measuring)."""
    return page.eval_on_selector_all("#inspect-table .virtual-row[role=row]",
                                     "rows => rows.map(r => r.querySelector('[role=gridcell]').innerText.trim())")


def cell(page, text):
    return page.locator("#inspect-table [role=gridcell]").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first


def wait_text(page, selector, text, shot="inspect-failed"):
    """Wait until the element's text includes `text`; on a timeout, a screenshot and what it shows."""
    try:
        page.wait_for_function("([sel, t]) => { const el = document.querySelector(sel); "
                               "return el && el.innerText.includes(t); }", arg=[selector, text])
    except Exception:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        shown = page.inner_text(selector) if page.locator(selector).count() else "(absent)"
        raise AssertionError(f"{selector} never showed {text!r}; it shows {shown[:400]!r}") from None


def open_inspect(page):
    page.get_by_role("tab", name="Inspect").click()
    page.wait_for_selector("#inspect-build")


def test_upload_filter_open_note_reload(page, url, explorer, tmp_path):
    bench = explorer.benchmark("demo")
    run = write_bm25_run(explorer, tmp_path / "sys.trec", list(bench.instances), depth=1000)
    # the app shares this explorer: ranking every instance here makes the table quick to build there
    table = explorer.inspect("demo", DEFAULT, 10)["rows"]
    expected = sorted((r["instance_id"] for r in table if r["retrievers"]["bm25"]["outcome"] == "hit"
                       and r["retrievers"]["bm25@query"]["outcome"] == "sibling"),
                      key=lambda i: tuple(int(p) for p in i.split("_")))
    assert expected, "the bundled data should have instances BM25 gets only with the instruction"

    open_app(page, url)
    open_inspect(page)
    page.set_input_files("#run-upload input[type=file]", str(run))
    wait_text(page, "#run-info", "covers 240 of 240")
    page.wait_for_function("() => [...document.querySelectorAll('#retrievers .token > span')]"
                           ".some(e => e.innerText.trim() === 'run:sys')")

    pick(page, "#inspect-a", "", "run:sys")
    pick(page, "#inspect-b", "", "bm25@query")
    page.locator("#inspect-a-outcomes label", has_text="hit").click()
    page.locator("#inspect-b-outcomes label", has_text="sibling").click()
    page.click("#inspect-build")
    wait_text(page, "#inspect-summary", f"{len(expected)} of 240 instances shown")
    cell(page, expected[0]).wait_for()
    assert ids_in_table(page)[:min(len(expected), 50)] == expected[:50]
    page.screenshot(path=str(SHOTS / "inspect-01-filtered.png"), full_page=True)

    iid = expected[0]
    cell(page, iid).click()
    wait_text(page, "#inspect-selected", iid)
    pick(page, "#note-tag", "", "instruction ignored")
    note = f"BM25 needs the instruction's words for {iid}; without them a sibling wins."
    page.fill("#note-text textarea", note)
    page.click("#note-save")
    wait_text(page, "#note-status", "saved to")
    wait_text(page, "#inspect-table", note[:30])

    page.click("#inspect-open")
    page.wait_for_function("(iid) => document.querySelector('#instance input').value.startsWith(iid)", arg=iid)
    assert page.locator("#rankings").is_visible()
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('#rankings [data-retriever=\"run:sys\"] .encoded pre')]"
        ".some(p => p.textContent.includes(t))", arg=f"query {iid}")

    page.reload()
    open_app(page, url)
    open_inspect(page)
    page.fill("#inspect-search textarea, #inspect-search input", iid)
    page.press("#inspect-search textarea, #inspect-search input", "Enter")
    wait_text(page, "#inspect-table", note[:30], "inspect-failed-after-reload")
    assert "instruction ignored" in page.inner_text("#inspect-table")
    page.screenshot(path=str(SHOTS / "inspect-02-note-after-reload.png"), full_page=True)
