"""The Inspect tab in Chromium: upload a run file, filter the instance table to "A hit,
B sibling", open a row in Explore, write a note, reload the page and find the note again; the
outcome at depth 10 and 1, a condition, the signed contrast both ways, the target beside the passage
that beat it, note search and tag, and an uploaded run that comes back after a reload (kept in
the browser's storage)."""
from __future__ import annotations

import re

import pytest

from app_server import DEFAULT, launched, new_explorer
from demo.inspection import BELOW, at_depth, contrast, filter_rows
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


LOSSES = ["sibling", "generic", "off-topic", "not retrieved"]


def click_label(page, group, text):
    page.locator(f"{group} label").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first.click()


def by_id(ids):
    return sorted(ids, key=lambda i: tuple(int(p) for p in i.split("_")))


def test_depth_conditions_signed_contrast_notes_and_a_kept_run(page, url, explorer, tmp_path):
    bench = explorer.benchmark("demo")
    run = write_bm25_run(explorer, tmp_path / "kept.trec", list(bench.instances), depth=20)
    rows = explorer.inspect("demo", DEFAULT, 10)["rows"]
    at10 = [r["instance_id"] for r in filter_rows(at_depth(rows, 10), {"minilm": LOSSES})]
    at1 = [r["instance_id"] for r in filter_rows(at_depth(rows, 1), {"minilm": LOSSES})]
    assert len(at1) > len(at10), "MiniLM should lose more instances at depth 1 than at 10"

    open_app(page, url)
    open_inspect(page)
    page.set_input_files("#run-upload input[type=file]", str(run))
    wait_text(page, "#run-info", "Kept in this browser")
    pick(page, "#inspect-a", "", "minilm")
    pick(page, "#inspect-b", "", "bm25")
    for o in LOSSES:
        click_label(page, "#inspect-a-outcomes", o)
    click_label(page, "#inspect-depth", "10")
    page.click("#inspect-build")
    if at10:
        wait_text(page, "#inspect-summary", f"{len(at10)} of 240 instances shown, outcome at k=10")
    else:  # MiniLM hits every instance at 10: the empty view says so, not a blank table
        wait_text(page, "#inspect-empty", "No instance matches: 240 instances → minilm outcome sibling or generic "
                                          "or off-topic or not retrieved at depth 10: 0")
        assert not page.locator("#inspect-table").is_visible()
        page.screenshot(path=str(SHOTS / "inspect-03-empty-at-10.png"), full_page=True)

    click_label(page, "#inspect-depth", "1")
    wait_text(page, "#inspect-summary", f"{len(at1)} of 240 instances shown, outcome at depth 1, nDCG@10")
    cell(page, by_id(at1)[0]).wait_for()
    on_screen = ids_in_table(page)  # the virtual table draws the rows in view
    assert len(on_screen) >= 10 and on_screen == by_id(at1)[:len(on_screen)]
    assert page.inner_text("#inspect-empty").strip() == ""
    # headers stay on one line (no letter-by-letter wrapping)
    heights = page.eval_on_selector_all("#inspect-table th", "ths => ths.map(t => t.getBoundingClientRect().height)")
    assert heights and max(heights) < 2 * min(h for h in heights if h > 0) + 1
    page.screenshot(path=str(SHOTS / "inspect-04-depth-1.png"), full_page=True)

    click_label(page, "#inspect-conditions", "A's target below B's")
    below = filter_rows(filter_rows(at_depth(rows, 1), {"minilm": LOSSES}), checks=[(BELOW, "minilm", "bm25")])
    wait_text(page, "#inspect-summary", f"{len(below)} of 240 instances shown")
    click_label(page, "#inspect-conditions", "A's target below B's")
    for o in LOSSES:
        click_label(page, "#inspect-a-outcomes", o)
    wait_text(page, "#inspect-summary", "240 of 240 instances shown")

    for view, worse in (("contrast: A worse than B first", "a"), ("contrast: B worse than A first", "b")):
        want = [r["instance_id"] for r in contrast(at_depth(rows, 1), "minilm", "bm25", worse=worse)][:10]
        page.locator("#inspect-view label", has_text=view).click()
        page.wait_for_function("(want) => { const cells = [...document.querySelectorAll("
                               "'#inspect-table .virtual-row[role=row]')].slice(0, want.length).map(r => "
                               "r.querySelector('[role=gridcell]').innerText.trim()); "
                               "return JSON.stringify(cells) === JSON.stringify(want); }", arg=want)
    page.screenshot(path=str(SHOTS / "inspect-05-b-worse-first.png"), full_page=True)

    # a row: its target beside the passage that beat it, "why here?" for that passage
    iid = want[0]
    cell(page, iid).click()
    wait_text(page, "#inspect-selected", iid)
    page.wait_for_selector("#inspect-pair .pair-target")
    page.click("#inspect-why-target")
    wait_text(page, "#inspect-why", "Why here?")
    assert page.locator("#inspect-why .why").is_visible()

    token = f"zebra-{iid}"
    pick(page, "#note-tag", "", "over-literal match")
    page.fill("#note-text textarea", f"The {token} passage wins on shared words.")
    page.click("#note-save")
    wait_text(page, "#note-status", "saved to")
    page.locator("#inspect-view label", has_text="all instances").click()
    wait_text(page, "#inspect-summary", "240 of 240 instances shown")
    page.fill("#inspect-search textarea, #inspect-search input", token.upper())
    page.press("#inspect-search textarea, #inspect-search input", "Enter")
    wait_text(page, "#inspect-summary", "1 of 240 instances shown")
    assert ids_in_table(page) == [iid]
    page.fill("#inspect-search textarea, #inspect-search input", "")
    page.press("#inspect-search textarea, #inspect-search input", "Enter")
    pick(page, "#inspect-tag", "", "over-literal match")
    page.wait_for_function("(iid) => { const rows = document.querySelectorAll('#inspect-table .virtual-row[role=row]');"
                           " return rows.length >= 1 && rows.length < 240 && [...rows].some(r => "
                           "r.querySelector('[role=gridcell]').innerText.trim() === iid); }", arg=iid)

    # a reload: the run comes back from this browser's storage, selected, and Explore ranks with it
    page.reload()
    open_app(page, url)
    page.wait_for_function("() => [...document.querySelectorAll('#retrievers .token > span')]"
                           ".some(e => e.innerText.trim() === 'run:kept')")
    page.wait_for_selector('#rankings [data-retriever="run:kept"]')
    open_inspect(page)
    wait_text(page, "#run-info", "Back from this browser's storage: run:kept", "inspect-failed-kept-run")
    pick(page, "#inspect-a", "", "run:kept")
    page.click("#inspect-build")
    wait_text(page, "#inspect-summary", "run:kept")
    page.screenshot(path=str(SHOTS / "inspect-06-kept-run-after-reload.png"), full_page=True)
