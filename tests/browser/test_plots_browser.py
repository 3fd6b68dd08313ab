"""The plots as Chromium draws them in the launched app, with Gradio's own plotly.js: the toolbar
holds only the PNG export and covers no title, rank labels at k = 50 and colour-bar labels do not
overlap, and a phone scrolls the sweep sideways instead of squeezing it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app_server import launched, new_explorer
from demo.plots import rank_shift_figure, sweep_figure

from test_browser import ARGS, CHROMIUM, pytestmark, sync_playwright  # noqa: F401  (flags, same marks and skips)

PLOTS = ["#robustness-plot", "#rank-shift-plot", "#sweep-plot"]
RIDS = ["bm25", "bm25@query"]

RECTS_JS = """([root, sel]) => [...document.querySelector(root).querySelectorAll(sel)]
  .map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
  .map(r => ({l: r.left, r: r.right, t: r.top, b: r.bottom}))"""

DRAW_JS = """async ([spec, width]) => {
  const d = document.createElement('div'); d.id = 'probe'; d.style.width = width + 'px';
  document.getElementById('probe')?.remove(); document.body.prepend(d);
  await window.Plotly.newPlot(d, spec.data, spec.layout, spec.config); }"""


def overlaps(a, b, slack=0.5):
    return a["l"] < b["r"] - slack and b["l"] < a["r"] - slack and a["t"] < b["b"] - slack and b["t"] < a["b"] - slack


def assert_apart(rects, what):
    assert rects, f"no {what} drawn"
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not overlaps(a, b), f"{what} overlap: {a} {b}"


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def page(explorer):
    with launched(explorer, warm=("bm25",)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=ARGS)
        pg = browser.new_page(viewport={"width": 1440, "height": 900})
        pg.set_default_timeout(60_000)
        pg.goto(base + "?retrievers=" + ",".join(RIDS))
        for sel in PLOTS:
            pg.wait_for_selector(f"{sel} .js-plotly-plot .main-svg")
        yield pg
        browser.close()


def test_the_toolbar_holds_the_png_export_only_and_covers_no_title(page):
    for sel in PLOTS:
        buttons = page.eval_on_selector_all(f"{sel} .modebar-btn", "els => els.map(e => e.dataset.title)")
        assert [b.lower() for b in buttons] == ["download plot as a png"], (sel, buttons)
        (bar,) = page.evaluate(RECTS_JS, [sel, ".modebar"])
        for title in page.evaluate(RECTS_JS, [sel, ".gtitle, .gtitle-subtitle, .annotation-text"]):
            assert not overlaps(bar, title), (sel, bar, title)


@pytest.mark.parametrize("width", [1440, 390])
def test_labels_do_not_overlap_at_k50_with_two_retrievers(page, explorer, width):
    bench = explorer.benchmark("demo")
    iid = next(iter(bench.instances))
    inst = bench.instances[iid]
    result = explorer.rank("demo", iid, inst.instruction + " Please.", RIDS, 50)
    page.evaluate(DRAW_JS, [json.loads(rank_shift_figure(result, "bm25").to_json()), width])
    for axis in ("ytick", "y2tick", "xtick", "x2tick"):
        assert_apart(page.evaluate(RECTS_JS, ["#probe", f"g.{axis} text"]), f"{axis} labels at {width}px")
    ticks = page.eval_on_selector_all("#probe g.ytick text, #probe g.y2tick text", "els => els.map(e => e.textContent)")
    assert all(t.isdigit() or t in (">50", "none") for t in ticks), ticks  # integers only: no 1.5

    sweep = explorer.sweep("demo", inst.query_id, RIDS, 50, iid, None)
    page.evaluate(DRAW_JS, [json.loads(sweep_figure(sweep).to_json()), max(width, 860)])
    assert_apart(page.evaluate(RECTS_JS, ["#probe", ".colorbar .cbaxis text, .colorbar .ycbtick text"]),
                 "colour bar labels")
    page.evaluate("document.getElementById('probe').remove()")


def test_a_phone_scrolls_the_sweep_sideways(page):
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.wait_for_timeout(500)  # plotly's responsive resize
        box = page.evaluate("""() => { const c = document.querySelector('#sweep-plot');
          const p = c.querySelector('.js-plotly-plot');
          return {scroll: c.scrollWidth, client: c.clientWidth, plot: p.getBoundingClientRect().width}; }""")
        assert box["plot"] >= 860 and box["scroll"] > box["client"], box
        rob = page.evaluate("() => document.querySelector('#robustness-plot .js-plotly-plot').getBoundingClientRect().width")
        assert rob <= 390, rob  # the bars still fit the phone
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})
