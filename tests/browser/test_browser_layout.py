"""The page in Chromium at 1280x720, 1440x900, 1920x1080 and 390x844, light and dark (issue 11):
results above the fold, no orphan column, one column at a time on a phone, text contrast of
the rendered elements >= 4.5:1, grading that follows the text, lossless links, the keyboard path
and the debounced refresh. One app server and one browser for the module; one page per
viewport and colour scheme. Screenshots go to screenshots/ (gitignored)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode

from demo.ui.render import summarize
import pytest

from demo.ui.render import summarize  # the summary sentence is the UI's (docs/architecture.md)

from app_server import DEFAULT
from test_browser import ARGS, CHROMIUM, SHOTS, TIMEOUT, pytestmark, selected_retrievers, wait_view  # noqa: F401
from test_browser import bench, explorer, url  # noqa: F401  (module fixtures: one app server here)

SIZES = [(1280, 720), (1440, 900), (1920, 1080), (390, 844)]
SCHEMES = ["light", "dark"]
INSTANCE, OTHER = "101_1", "101_2"  # parent of a toddler; the line cook, same base query

# WCAG relative luminance and contrast, with the effective background found by walking up the
# ancestors and compositing translucent layers.
CONTRAST_JS = """(sel) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3]; return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const out = [];
  document.querySelectorAll(sel).forEach((el) => {
    if (!el.offsetParent || !el.innerText.trim()) return;
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({text: el.innerText.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05)});
  });
  return out; }"""
CHECKED = ["#summary .summary", ".col-title", ".col-title code", ".col-metrics span", ".col-metrics b", ".rank",
           ".doc-id", ".score", ".badge.target", ".badge.sibling", ".shift", "mark.hq", "mark.hi", ".legend",
           ".snippet", ".encoded summary", ".full summary", "#app-header h1", "#app-header p",
           "[data-testid=block-info]", ".plot-note", ".pmrr", ".was"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(browser):
    """One page per (viewport, scheme), made on first use and reused."""
    made, errors = {}, []

    def get(size, scheme):
        if (size, scheme) not in made:
            ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
            ctx.grant_permissions(["clipboard-read", "clipboard-write"])
            pg = ctx.new_page()
            pg.set_default_timeout(TIMEOUT)
            pg.on("pageerror", lambda e: errors.append(str(e)))
            made[(size, scheme)] = pg
        return made[(size, scheme)]
    yield get
    for pg in made.values():
        pg.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def show(page, url, **params):
    page.goto(url + ("?" + urlencode(params) if params else ""))
    page.wait_for_selector("#rankings [data-retriever] .card", state="attached")  # another tab may be on top
    page.wait_for_selector("#summary .summary", state="attached")
    if params.get("tab", "explore") == "explore":
        page.wait_for_selector("#sweep-plot .js-plotly-plot .main-svg")


def share_link(page):
    """The link box, opening its accordion if it is closed."""
    if not page.locator("#share-link").is_visible():
        page.get_by_text("Share and export").click()
    return page.input_value("#share-link textarea, #share-link input")


def other_users_view(bench):
    return {"instance": INSTANCE, "instruction": bench.instances[OTHER].instruction}


def rect(page, sel):
    return page.eval_on_selector(sel, "e => { const r = e.getBoundingClientRect(); "
                                      "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_puts_results_above_the_fold(pages, url, bench, size, scheme):
    page = pages(size, scheme)
    show(page, url, **other_users_view(bench))
    width, height = size
    page.screenshot(path=str(SHOTS / f"layout-{width}x{height}-{scheme}.png"))
    cols = page.eval_on_selector_all("#rankings .col", "els => els.map((e) => { const r = e.getBoundingClientRect();"
                                     " return {top: r.top, left: r.left, right: r.right, "
                                     "head: e.querySelector('.col-head').getBoundingClientRect().bottom}; })")
    assert len(cols) == len(DEFAULT)
    assert len({round(c["top"]) for c in cols}) == 1, "a column wrapped onto another row"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1, "the page scrolls sideways"
    if width >= 1000:
        for c in cols:  # the top of every column: its header and the first result
            assert c["right"] <= width and c["head"] + 60 <= height, (c, size)
        assert rect(page, "#instruction textarea")["top"] >= 0 and rect(page, "#summary .summary")["bottom"] <= height
        if width >= 1440:  # the plots sit beside the columns, on the same screen as the editor
            assert rect(page, "#robustness-plot")["top"] < height and rect(page, "#robustness-plot")["left"] > cols[-1]["right"]
    else:  # a phone: one column at a time, plots within the width
        inside = [c for c in cols if c["left"] >= -1 and c["right"] <= width + 1]
        assert len(inside) == 1, cols
        assert page.locator(".col-goto").count() == len(DEFAULT) and page.locator(".col-goto").first.is_visible()
        page.locator(".col-goto").nth(2).click()
        page.wait_for_function("() => { const c = document.querySelector('#col-2').getBoundingClientRect();"
                               " return c.left >= -1 && c.right <= window.innerWidth + 1; }")
        for sel in ("#robustness-plot", "#rank-shift-plot", "#sweep-plot"):
            r = rect(page, sel)
            assert r["left"] >= 0 and r["right"] <= width + 1, (sel, r)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_text_and_badges_have_enough_contrast(pages, url, bench, scheme):
    page = pages((1440, 900), scheme)
    show(page, url, **other_users_view(bench))  # badges, shifts, p-MRR and the grading note all on screen
    assert page.evaluate("() => document.body.classList.contains('dark')") == (scheme == "dark")
    low, seen = [], set()
    for sel in CHECKED:
        found = page.evaluate(CONTRAST_JS, sel)
        seen.update([sel] if found else [])
        low += [(sel, f["text"], round(f["ratio"], 2)) for f in found if f["ratio"] < 4.5]
    assert not low, f"below 4.5:1 in {scheme}: {low[:12]}"
    assert {".badge.target", ".badge.sibling", ".shift", "mark.hq", "#summary .summary", ".pmrr"} <= seen


def test_grading_follows_the_text_and_a_chosen_target(pages, url, bench, explorer):
    page = pages((1440, 900), "light")
    text = bench.instances[OTHER].instruction
    show(page, url, instance=INSTANCE, instruction=text)
    expected = wait_view(page, explorer, INSTANCE, text)
    assert summarize(expected).startswith(f"Graded against the target of {OTHER}")
    them, me = bench.instances[OTHER].targets, bench.instances[INSTANCE].targets
    targets = page.eval_on_selector_all("#rankings .card.is-target", "els => els.map((e) => e.dataset.doc)")
    assert targets and set(targets) <= set(them)
    mine = page.locator(f'#rankings .card[data-doc="{me[0]}"] .badge.sibling')
    assert mine.count() >= 1 and mine.first.inner_text() == f"SIBLING · {bench.instances[INSTANCE].persona}"
    for rid in DEFAULT:  # nDCG on the page is the other user's
        shown = page.inner_text(f'#rankings [data-retriever="{rid}"] .ndcg')
        assert shown == f"{100 * expected['retrievers'][rid]['ndcg']:.1f}"
    # free text: grade against the chosen user's target, and the summary says so
    area = page.locator("#instruction textarea")
    area.fill("Short and practical, please.")
    wait_view(page, explorer, INSTANCE, "Short and practical, please.")
    page.locator("#grade input").click()
    page.locator("[role=option]", has_text=OTHER).first.click()
    page.wait_for_function("() => document.querySelector('#summary .summary').innerText.includes('as chosen')")
    targets = page.eval_on_selector_all("#rankings .card.is-target", "els => els.map((e) => e.dataset.doc)")
    assert set(targets) <= set(them)
    assert f"grade={OTHER}" in share_link(page)


def test_a_link_restores_k_order_tab_and_grading_and_says_what_it_could_not(pages, url, bench):
    page = pages((1440, 900), "light")
    show(page, url, instance="201_2", retrievers="bm25,minilm", k=5, order="robustness", grade="201_1")
    assert page.input_value("#k input") == "5"
    assert page.eval_on_selector_all("#rankings .col", "els => els.map((e) => e.querySelectorAll('.card').length)") == [5, 5]
    assert page.input_value("#order input") == "lowest Robustness@10 of bm25"  # a link made before orders named one
    assert page.input_value("#grade input").startswith("201_1")
    link = share_link(page)
    assert {k: v[0] for k, v in parse_qs(link[1:]).items()} == {
        "dataset": "demo", "instance": "201_2", "retrievers": "bm25,minilm", "k": "5", "order": "robustness:bm25",
        "grade": "201_1"}
    # k applies on Enter
    box = page.locator("#k input")
    box.fill("7")
    box.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('#rankings .col')].every((c) => c.querySelectorAll('.card').length === 7)")
    # copy: a confirmation, and the full address on the clipboard
    share_link(page)
    page.click("#copy-link")
    page.wait_for_function("() => document.querySelector('#copy-status').innerText.trim() !== ''")
    assert page.inner_text("#copy-status").strip() == "Link copied."
    assert page.evaluate("() => navigator.clipboard.readText()").startswith(url + "?dataset=demo&instance=201_2")
    # the tab is part of the link, and a link opens it
    page.click("#tab-scoreboard-button")
    page.wait_for_function("() => (document.querySelector('#share-link textarea, #share-link input') || {}).value?.includes('tab=scoreboard')")
    show(page, url, tab="scoreboard", instance="nope_9", retrievers="bm25,zzz", k="500")
    assert page.locator("#scoreboard-btn").is_visible()
    said = page.inner_text("#query-info")
    for part in ("'nope_9' is not in demo", "Unknown retriever 'zzz'", "k='500'"):
        assert part in said, said


def test_keyboard_path_skip_links_arrow_keys_and_focus_sync(pages, url):
    page = pages((1440, 900), "light")
    show(page, url)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    stops = page.evaluate("""() => [...document.querySelectorAll('#rankings a, #rankings button, #rankings summary,'
        + ' #rankings [tabindex]')].filter((e) => e.tabIndex >= 0 && e.offsetParent).length""")
    assert stops <= 2 * len(DEFAULT), stops  # first card + encoded text per column, not 40 passage toggles
    first = page.locator('#rankings [data-retriever="minilm"] .card').first
    first.focus()
    page.keyboard.press("ArrowDown")
    doc = page.evaluate("() => document.activeElement.dataset.doc")
    assert doc == page.locator('#rankings [data-retriever="minilm"] .card').nth(1).get_attribute("data-doc")
    assert page.locator(f'#rankings .card.hl[data-doc="{doc}"]').count() == \
        page.locator(f'#rankings .card[data-doc="{doc}"]').count()  # focus highlights it everywhere, as hover does
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.querySelector('details.full').open")


def test_typing_is_debounced_into_few_refreshes(pages, url, explorer, bench):
    page = pages((1440, 900), "light")
    show(page, url)
    joins = []
    page.on("request", lambda r: joins.append(r) if re.search("/queue/join|/run/", r.url) else None)
    area = page.locator("#instruction textarea")
    area.click()
    area.press("Control+End")
    area.press_sequentially(" Keep it short", delay=40)  # 14 keys, 40 ms apart: under the debounce
    inst = bench.instances[INSTANCE]
    wait_view(page, explorer, INSTANCE, inst.instruction + " Keep it short")
    page.wait_for_timeout(500)
    # each refresh is two joins (columns, then plots): without the debounce 14 keys make 28. A loaded
    # machine can stall the key loop past the 200 ms debounce once or twice, so allow up to 4 refreshes.
    assert 1 <= len(joins) <= 8, len(joins)


def test_the_query_order_follows_the_retrievers_picked(pages, url):
    """Issue 7: order by one retriever or the gap between two; the choices name the selected
    retrievers, and removing one relabels them (an order naming it falls back to dataset order)."""
    page = pages((1440, 900), "light")
    show(page, url, instance="101_1", retrievers="bm25,minilm,minilm@query", order="gap:minilm|minilm@query")
    assert page.input_value("#order input") == "Robustness gap: minilm over minilm@query"
    assert "vs minilm@query" in page.input_value("#query input")
    page.locator("#retrievers .token", has_text="minilm@query").locator(".token-remove").click()
    page.wait_for_function("() => document.querySelector('#order input').value === 'dataset order'")
    page.locator("#order input").click()
    options = page.eval_on_selector_all("[role=option]", "els => els.map((e) => e.innerText.trim())")
    assert "lowest Robustness@10 of minilm" in options and not any("minilm@query" in o for o in options)
    page.locator("[role=option]", has_text="lowest Robustness@10 of bm25").click()
    page.wait_for_function("() => document.querySelector('#query input').value.includes('bm25 R@10')")
    assert "order=robustness%3Abm25" in share_link(page) or "order=robustness:bm25" in share_link(page)
