"""The talk and the first visit in Chromium (issue 19): the address bar is the state (every
field, Back/Forward, a reload mid-tour), each tour step's plots follow its retriever and show the
numbers its text quotes, plots are dark in dark mode with readable text, plot labels never
overlap at 390/1280/1920 px with 2 and 8 retrievers, presenter mode names the columns it hides,
pickers close when focus leaves them, and axe-core finds no serious or critical violation on the
Explore, Inspect and Scoreboard tabs, light and dark. Screenshots go to screenshots/."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from app_server import launched, new_explorer
from demo.tour import STEPS, open_step
from test_browser import SHOTS, pick, pytestmark  # noqa: F401  (same marks and skips)
from test_browser_layout import browser  # noqa: F401  (one Chromium per module)
from test_plots_browser import overlaps
from helpers import plotted_for

TIMEOUT = 180_000
EIGHT = ["bm25", "bm25@query", "bm25@instruction", "minilm", "minilm@query", "minilm@instruction", "mpnet",
         "mpnet@query"]


@pytest.fixture(scope="module")
def url():
    with launched(new_explorer(), warm=("bm25", "minilm", "mpnet")) as base:
        yield base


def _page(browser, url, query="", size=(1440, 900), scheme="light"):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme).new_page()
    page.set_default_timeout(TIMEOUT)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(url + query)
    page.wait_for_selector("#rankings .col")
    return page


def _params(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _wait_param(page, key, value):
    page.wait_for_function("([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value])


def _history(page, way):
    page.evaluate("window.__old = true")
    page.evaluate(f"history.{way}()")
    page.wait_for_function("() => !window.__old && window.__ixUrlReady")


def _columns(page):
    return page.eval_on_selector_all("#rankings .col", "els => els.map((c) => c.dataset.retriever)")


def _pick(page, elem_id, label_start):
    pick(page, f"#{elem_id}", None, label_start)


# ---- the address bar is the state ------------------------------------------------------------------
def test_every_view_change_writes_the_address_and_back_forward_and_reload_restore_it(browser, url):
    page = _page(browser, url, "?" + urlencode({"retrievers": "bm25,minilm"}))
    _wait_param(page, "instance", "101_1")  # the first write: the view on screen
    history0 = page.evaluate("history.length")
    _pick(page, "instance", "101_2")  # a new view: a new history entry
    _wait_param(page, "instance", "101_2")
    assert page.evaluate("history.length") == history0 + 1
    # k, grade and tab each write the address
    page.fill("#k input", "5")
    page.press("#k input", "Enter")
    _wait_param(page, "k", "5")
    _pick(page, "grade", "101_3")
    _wait_param(page, "grade", "101_3")
    # an edit of the text replaces the entry (one per view, not per keystroke)
    before = page.evaluate("history.length")
    page.fill("#instruction textarea", "Only the key steps, please.")
    _wait_param(page, "instruction", "Only the key steps, please.")
    assert page.evaluate("history.length") == before
    page.get_by_role("tab", name="Inspect").click()
    _wait_param(page, "tab", "inspect")
    shown = _params(page)
    assert shown["instance"] == "101_2" and shown["retrievers"] == "bm25,minilm" and shown["k"] == "5"
    # a reload restores exactly that
    page.reload()
    page.wait_for_function("() => window.__ixUrlReady")  # the load has restored the view
    assert _params(page) == shown
    assert page.get_by_role("tab", name="Inspect").get_attribute("aria-selected") == "true"
    page.get_by_role("tab", name="Explore").click()
    page.wait_for_function("() => document.querySelector('#instruction textarea')?.value === 'Only the key steps, please.'")
    assert page.input_value("#k input") == "5" and page.input_value("#grade input").startswith("101_3")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('tab')")
    # Back and Forward: each restores the address it goes to (the page reloads there, so playwright's
    # go_back, which waits for one navigation, is not used); Back to the entry with the Inspect tab,
    # Forward again, then Back through the history to the first instance
    _history(page, "back")
    assert _params(page)["tab"] == "inspect"
    assert page.get_by_role("tab", name="Inspect").get_attribute("aria-selected") == "true"
    _history(page, "forward")
    assert "tab" not in _params(page)
    for _ in range(6):
        _history(page, "back")
        if _params(page).get("instance") == "101_1":
            break
    assert _params(page)["instance"] == "101_1"
    page.wait_for_function("() => (document.querySelector('#instance input') || {}).value?.startsWith('101_1')")
    assert not page.errors, page.errors
    page.close()


def test_a_reload_mid_tour_stays_on_its_step_and_presenter_mode_is_in_the_address(browser, url):
    # Next right after the load: the plots of step 2 may still be drawing (they once wrote back a stale
    # copy of the session state, and step 3's address kept step 2's instance; ExploreUI.state)
    page = _page(browser, url, "?tour=2")
    _wait_param(page, "tour", "2")
    page.click("#tour-next")
    _wait_param(page, "tour", "3")
    page.wait_for_function("() => new URLSearchParams(location.search).get('instance') === '206_2'")
    page.click("#present-toggle")
    _wait_param(page, "present", "1")
    page.reload()
    page.wait_for_function("() => (document.querySelector('#tour-text') || {}).innerText?.includes('step 3 of')")
    assert page.evaluate("document.body.classList.contains('present')")
    assert "tour=3" in page.url and "present=1" in page.url
    _history(page, "back")  # step 2
    page.wait_for_function("() => (document.querySelector('#tour-text') || {}).innerText?.includes('step 2 of')")
    page.close()


def test_a_link_to_an_uploaded_run_says_it_cannot_travel(browser, url):
    page = _page(browser, url, "?" + urlencode({"retrievers": "bm25,run:mine"}))
    page.wait_for_function("() => document.querySelector('#query-info').innerText.includes('uploaded in another session')")
    page.close()


# ---- the tour: focus and agreement ---------------------------------------------------------------
PLOT_OF = {"robustness": "#robustness-plot", "rank-shift": "#rank-shift-plot", "sweep": "#sweep-plot",
           "dataset": "#dataset-plot"}

DRAWN_JS = """(sel) => { const gd = document.querySelector(sel + ' .js-plotly-plot');
  if (!gd || !gd.data || gd.offsetParent === null) return null;
  return {title: gd.layout.title.text, data: gd.data.map((t) => ({type: t.type, name: t.name, x: t.x, y: t.y,
          text: t.text, customdata: t.customdata, xaxis: t.xaxis, showlegend: t.showlegend}))}; }"""


@pytest.mark.parametrize("n", range(1, len(STEPS) + 1))
def test_each_step_shows_its_plot_follows_its_retriever_and_plots_what_it_says(browser, url, n):
    step = STEPS[n - 1]
    page = _page(browser, url, f"?tour={n}")
    page.wait_for_function("(rids) => [...document.querySelectorAll('#rankings .col')].map((c) => c.dataset.retriever)"
                           ".join(',') === rids.join(',')", arg=list(step.retrievers))
    sel = PLOT_OF[step.plot]
    page.wait_for_function("""([sel, rids]) => { const gd = document.querySelector(sel + ' .js-plotly-plot');
        return gd && gd.offsetParent !== null && gd.data && JSON.stringify(gd.data).includes(rids[rids.length - 1]); }""",
                           arg=[sel, list(step.retrievers)])
    drawn = page.evaluate(DRAWN_JS, sel)
    assert drawn["title"].endswith("whole dataset" if step.plot == "dataset" else "this query")
    others = [s for p, s in PLOT_OF.items() if p != step.plot and not (step.plot == "sweep" and s == "#sweep-plot")]
    visible = page.evaluate("(sels) => sels.filter((s) => { const e = document.querySelector(s);"
                            " return e && e.offsetParent !== null; })", others)
    assert visible == [], f"step {n} shows other plots too: {visible}"
    if step.plot == "rank-shift":
        assert page.input_value("#shift-retriever input") == step.focus
    text = page.inner_text("#tour-text")
    from plotly.graph_objects import Figure
    fig = Figure({"data": [{k: v for k, v in t.items() if v is not None and k != "xaxis"} for t in drawn["data"]]})
    for t, raw in zip(fig.data, drawn["data"]):
        if raw.get("xaxis"):
            t.xaxis = raw["xaxis"]
    numbers = re.findall(r"#?\d+", text)
    opened = open_step(_explorer(), STEPS, n)
    for rid, printed in opened["plotted"]:
        assert printed in numbers, (n, printed, text)
        assert int(printed.lstrip("#")) in plotted_for(fig, rid), (n, rid, printed)
    page.screenshot(path=str(SHOTS / f"talk-tour-{n}.png"), full_page=True)
    page.close()


_EXPLORER = []


def _explorer():
    if not _EXPLORER:
        _EXPLORER.append(new_explorer())
    return _EXPLORER[0]


# ---- dark plots ------------------------------------------------------------------------------------
PLOT_COLOURS_JS = """(sel) => { const svg = document.querySelector(sel + ' .main-svg');
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const bg = rgb(getComputedStyle(svg).backgroundColor || svg.style.background);
  const texts = [...document.querySelectorAll(sel + ' .gtitle, ' + sel + ' .xtick text, ' + sel + ' .ytick text')]
     .map((t) => rgb(t.style.fill || getComputedStyle(t).fill));
  return {bg, texts}; }"""


def _contrast(a, b):
    def lum(c):
        f = [(v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4) for v in c]
        return 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2]
    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("query", ["", "?present=1"])
def test_plots_are_dark_in_dark_mode_with_readable_text(browser, url, query):
    page = _page(browser, url, query, scheme="dark")
    for sel in ("#robustness-plot", "#rank-shift-plot", "#sweep-plot"):
        page.wait_for_selector(f"{sel} .main-svg")
        page.wait_for_function("(sel) => { const s = document.querySelector(sel + ' .main-svg');"
                               " return s && getComputedStyle(s).backgroundColor !== 'rgb(255, 255, 255)'; }", arg=sel)
        colours = page.evaluate(PLOT_COLOURS_JS, sel)
        assert sum(colours["bg"]) < 3 * 80, (sel, colours["bg"])  # dark, not plotly_white
        assert colours["texts"] and all(_contrast(t, colours["bg"]) >= 4.5 for t in colours["texts"]), (sel, colours)
    page.screenshot(path=str(SHOTS / f"talk-dark{query.replace('?', '-').replace('=', '')}.png"), full_page=True)
    page.close()


# ---- no overlapping labels --------------------------------------------------------------------------
LABELS_JS = """(sel) => [...document.querySelectorAll(sel + ' .xtick text, ' + sel + ' .ytick text, ' + sel +
  ' .x2tick text, ' + sel + ' .y2tick text, ' + sel + ' .bartext, ' + sel + ' .legendtext, ' + sel + ' .gtitle, ' +
  sel + ' .annotation-text, ' + sel + ' .textpoint text, ' + sel + ' .g-xtitle, ' + sel + ' .g-ytitle')]
  .filter((e) => e.textContent.trim()).map((e) => { const r = e.getBoundingClientRect();
    return {l: r.left, r: r.right, t: r.top, b: r.bottom, text: e.textContent}; }).filter((r) => r.r > r.l)"""
PLOT_AREA_JS = """(sel) => [...document.querySelectorAll(sel + ' .nsewdrag')].map((e) => { const r = e.getBoundingClientRect();
  return {l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""


@pytest.mark.parametrize("rids", [EIGHT[3:5], EIGHT], ids=["2", "8"])
@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_plot_labels_never_overlap(browser, url, width, rids):
    page = _page(browser, url, "?" + urlencode({"retrievers": ",".join(rids), "instruction": "Only the key steps.",
                                                "instance": "101_1"}), size=(width, 900))
    for sel in ("#robustness-plot", "#rank-shift-plot", "#sweep-plot"):
        page.wait_for_function("([sel, last]) => { const gd = document.querySelector(sel + ' .js-plotly-plot');"
                               " return gd && gd.data && JSON.stringify(gd.data).includes(last); }", arg=[sel, rids[-1]])
    page.set_viewport_size({"width": width, "height": 900})  # a resize after drawing, as in the report
    page.wait_for_timeout(800)
    for sel in ("#robustness-plot", "#rank-shift-plot", "#sweep-plot"):
        labels = page.evaluate(LABELS_JS, sel)
        bad = [(a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1:] if overlaps(a, b, 1)]
        assert not bad, (sel, width, len(rids), bad[:5])
        legend = [x for x in labels if x in page.evaluate(LABELS_JS, sel + " .legend")]
        for area in page.evaluate(PLOT_AREA_JS, sel):
            assert not [x["text"] for x in legend if overlaps(x, area, 1)], (sel, "legend over the chart")
    page.screenshot(path=str(SHOTS / f"talk-plots-{width}-{len(rids)}.png"), full_page=True)
    page.close()


# ---- presenter mode ----------------------------------------------------------------------------------
def test_presenter_mode_names_hidden_columns_plots_the_same_and_keeps_a_switcher(browser, url):
    rids = ["bm25", "bm25@query", "minilm", "minilm@query"]
    ex = _explorer()  # an instance where a shown column ranks the target 6th to 10th
    iid = next(i for i in ex.benchmark("demo").instances
               if any(6 <= (r.get("target_rank") or 0) <= 10
                      for r in list(ex.rank("demo", i, None, rids[:3], 10)["retrievers"].values())))
    page = _page(browser, url, "?" + urlencode({"present": "1", "retrievers": ",".join(rids), "instance": iid}),
                 size=(1280, 720))
    more = page.locator("#rankings .more-cols")
    more.wait_for(state="visible")
    assert more.inner_text().startswith("+1 more: minilm@query")
    page.wait_for_function("() => { const gd = document.querySelector('#robustness-plot .js-plotly-plot');"
                           " return gd && gd.data && gd.data[0].x.length === 3; }")
    assert page.locator("#variant").is_visible()  # the user / variant switcher stays
    # bm25@query ranks 101_3's target below its top 5: the column says where
    marks = page.eval_on_selector_all(".col .below-top", "els => els.filter((e) => e.offsetParent !== null)"
                                                         ".map((e) => e.innerText)")
    assert any(re.match(r"Target at #\d+, below the top 5", m) for m in marks), marks
    page.screenshot(path=str(SHOTS / "talk-present-1280x720.png"))
    page.close()


# ---- keyboard ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("picker", ["dataset", "query", "order", "instance"])
def test_a_picker_closes_when_focus_leaves_and_focus_moves_on(browser, url, picker):
    page = _page(browser, url)
    page.click(f"#{picker} input")
    page.wait_for_selector("[role=option]")
    listbox = page.get_attribute(f"#{picker} input", "aria-controls")
    page.keyboard.press("Tab")
    page.wait_for_timeout(400)
    # the list of the picker left behind is closed (the next picker may open its own on focus, as Gradio's do)
    assert page.get_attribute(f"#{picker} input", "aria-expanded") != "true"
    assert page.evaluate("(id) => { const l = document.getElementById(id); return !l || !l.getClientRects().length; }",
                         listbox)
    focused = page.evaluate("() => { const a = document.activeElement;"
                            " return a && a !== document.body ? (a.closest('[id]') || {}).id || a.tagName : null; }")
    assert focused and focused != picker, focused
    page.close()


# ---- axe-core ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("tab", ["Explore", "Inspect", "Scoreboard"])
def test_axe_finds_no_serious_or_critical_violation(browser, url, tab, scheme):
    axe_mod = pytest.importorskip("axe_playwright_python.sync_playwright")
    page = _page(browser, url, "", scheme=scheme)
    if tab != "Explore":
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(2500)
    else:
        page.wait_for_selector("#sweep-plot .main-svg")
    # Gradio dims a component to opacity .2 while an event updates it: axe must read settled colours
    page.wait_for_function("() => !document.querySelector('.pending')", timeout=60_000)
    page.wait_for_timeout(300)
    results = axe_mod.Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:4]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    page.close()
