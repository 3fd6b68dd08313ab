"""End to end in Chromium (Debian's /usr/bin/chromium driven by Python playwright): the app's
whole loop, from first page to deep links, against build_app launched in this process.
Screenshots go to screenshots/ (gitignored)."""
from __future__ import annotations

from demo.ui.render import summarize
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest

from demo.ui.render import summarize  # the summary sentence is the UI's (docs/architecture.md)

from app_server import DEFAULT, launched, new_explorer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TIMEOUT = 60_000  # ms; the first refresh may build the models
PLOTS = ["#robustness-plot", "#rank-shift-plot", "#sweep-plot"]
XSS = "<img src=x onerror=window.__xss=1>"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="python playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

HASH_JS = """(sel) => { const el = document.querySelector(sel); if (!el) return null;
  const s = el.innerHTML; let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return s.length + ':' + h; }"""


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def bench(explorer):
    return explorer.benchmark("demo")


@pytest.fixture(scope="module")
def url(explorer):
    with launched(explorer) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# ---- helpers -----------------------------------------------------------------------------------------
def open_app(page, url, **params):
    page.goto(url + ("?" + urlencode(params) if params else ""))
    page.wait_for_selector("#rankings [data-retriever]")
    page.wait_for_selector("#summary .summary")
    for sel in PLOTS:
        page.wait_for_selector(f"{sel} .js-plotly-plot .main-svg")


def columns(page):
    return page.eval_on_selector_all("#rankings [data-retriever]", "els => els.map(e => e.dataset.retriever)")


def encoded_text(page, rid):
    return page.text_content(f'#rankings [data-retriever="{rid}"] .encoded pre')


def summary(page):
    return page.inner_text("#summary .summary").strip()


def wait_summary(page, expected):
    try:
        page.wait_for_function(
            "(t) => { const s = document.querySelector('#summary .summary'); return s && s.innerText.trim() === t; }",
            arg=expected)
    except Exception:
        shown = page.inner_text("#summary")
        page.screenshot(path=str(SHOTS / "failed-summary.png"), full_page=True)
        raise AssertionError(f"summary never became {expected!r}; it shows {shown!r}") from None


def wait_view(page, explorer, instance_id, instruction, rids=DEFAULT):
    """Wait until the page shows the service's result for this instruction: the exact encoded
    text of every column and the summary sentence."""
    expected = explorer.rank("demo", instance_id, instruction, list(rids), 10)
    want = {rid: r["encoded"] for rid, r in expected["retrievers"].items()}
    try:
        page.wait_for_function(
            """(want) => Object.entries(want).every(([rid, text]) => {
                 const pre = document.querySelector(`#rankings [data-retriever="${rid}"] .encoded pre`);
                 return pre && pre.textContent === text; })""", arg=want)
    except Exception:
        raise AssertionError(f"the columns never showed {want!r}") from None
    wait_summary(page, summarize(expected))
    return expected


def hashes(page):
    return {sel: page.evaluate(HASH_JS, sel) for sel in PLOTS + ["#rankings"]}


def wait_changed(page, sel, old):
    page.wait_for_function(f"([sel, old]) => ({HASH_JS})(sel) !== old", arg=[sel, old])


def pick(page, dropdown, typed, option_text):
    """A Gradio dropdown: click its input, type to filter, click the option."""
    box = page.locator(f"{dropdown} input")
    box.click()
    if typed:
        box.press("Control+a")
        box.press_sequentially(typed)
    page.locator("[role=option]", has_text=option_text).first.click()


def selected_retrievers(page):
    """The chips of the retrievers multiselect, in order."""
    return page.eval_on_selector_all("#retrievers .token > span", "els => els.map(e => e.innerText.trim())")


def type_instruction(page, text):
    area = page.locator("#instruction textarea")
    area.fill(text)  # fires `input`, as typing does


def default_instance(bench):
    return bench.instances[bench.groups[next(iter(bench.groups))][0]]


def changing_edit(explorer, inst, rids=DEFAULT):
    """Another user's instruction that moves this instance's target in minilm and in bm25."""
    for sid in explorer.benchmark("demo").groups[inst.query_id]:
        text = explorer.benchmark("demo").instances[sid].instruction
        if sid == inst.instance_id:
            continue
        r = explorer.rank("demo", inst.instance_id, text, list(rids), 10)["retrievers"]
        if all(r[m]["ndcg"] != r[m]["original_ndcg"] for m in ("bm25", "minilm")):
            return text
    raise AssertionError("no sibling instruction changes both columns")


# ---- tests ------------------------------------------------------------------------------------------------
def test_page_loads_with_four_columns_a_target_and_three_plots(page, url, explorer, bench):
    open_app(page, url)
    assert columns(page) == DEFAULT
    assert page.locator("#rankings .badge.target", has_text="TARGET").count() >= 1
    inst = default_instance(bench)
    assert page.locator("#instruction textarea").input_value() == inst.instruction
    assert page.locator("#instance input").input_value().startswith(inst.instance_id)
    assert summary(page) == summarize(explorer.rank("demo", inst.instance_id, inst.instruction, DEFAULT, 10))
    for sel in PLOTS:
        assert page.locator(f"{sel} .js-plotly-plot").count() == 1
        assert page.locator(f"{sel} .main-svg").count() >= 1
    # every column shows the exact encoded text
    encoded = page.eval_on_selector_all("#rankings [data-retriever] .encoded pre", "els => els.map(e => e.textContent)")
    assert encoded == [f"{inst.instruction} [SEP] {inst.query}", inst.query] * 2
    page.screenshot(path=str(SHOTS / "01-loaded.png"), full_page=True)


def test_picking_another_base_query_updates_the_columns(page, url, explorer, bench):
    open_app(page, url)
    before = hashes(page)["#rankings"]
    qid = list(bench.groups)[5]
    new = bench.instances[bench.groups[qid][0]]
    pick(page, "#query", new.query, new.query)
    page.wait_for_function("(id) => document.querySelector('#instance input').value.startsWith(id)",
                           arg=new.instance_id)
    assert page.locator("#instruction textarea").input_value() == new.instruction
    wait_view(page, explorer, new.instance_id, new.instruction)
    wait_changed(page, "#rankings", before)
    assert columns(page) == DEFAULT
    expected = explorer.rank("demo", new.instance_id, None, DEFAULT, 10)["retrievers"]
    for rid in DEFAULT:  # the columns show this query's rankings, in order
        shown = page.eval_on_selector_all(f'#rankings [data-retriever="{rid}"] .card', "els => els.map(e => e.dataset.doc)")
        assert shown == [c["doc_id"] for c in expected[rid]["ranking"]], rid
    page.screenshot(path=str(SHOTS / "02-other-query.png"), full_page=True)


def test_editing_the_instruction_updates_summary_shifts_and_plots(page, url, explorer, bench):
    open_app(page, url)
    inst = default_instance(bench)
    edit = changing_edit(explorer, inst)
    before = hashes(page)
    type_instruction(page, edit)
    expected = wait_view(page, explorer, inst.instance_id, edit)
    assert "rose" in summarize(expected) or "fell" in summarize(expected)
    page.wait_for_selector("#rankings .shift.up, #rankings .shift.down, #rankings .shift.new")
    for sel in PLOTS + ["#rankings"]:
        wait_changed(page, sel, before[sel])
    # the shift badges are the service's shifts
    for rid in ("bm25", "minilm"):
        marks = page.eval_on_selector_all(f'#rankings [data-retriever="{rid}"] .card .shift', "els => els.map(e => e.textContent)")
        want = []
        for c in expected["retrievers"][rid]["ranking"]:
            s = c["shift"]
            if c["original_rank"] is None or c["original_rank"] > 10 or s:  # a doc that did not move carries no mark
                want.append("new" if c["original_rank"] is None or c["original_rank"] > 10 else f"↑{s}" if s > 0 else f"↓{-s}")
        assert marks == want, rid
    assert page.locator('#rankings [data-retriever="bm25@query"] .shift').count() == 0  # nothing moved there
    # the sweep gets a column for the edit
    assert "edit" in page.inner_html("#sweep-plot")
    page.screenshot(path=str(SHOTS / "03-edited.png"), full_page=True)


def test_typing_and_deleting_with_the_keyboard_update_live(page, url, explorer, bench):
    """Live while typing, without leaving the box: keys that insert text and keys that delete it."""
    open_app(page, url)
    inst = default_instance(bench)
    area = page.locator("#instruction textarea")
    area.click()
    area.press("Control+a")
    area.press("Delete")  # no keypress event: only a change-driven refresh sees this
    wait_view(page, explorer, inst.instance_id, "")
    area.press_sequentially("budget", delay=20)
    wait_view(page, explorer, inst.instance_id, "budget")
    assert encoded_text(page, "bm25") == f"budget [SEP] {inst.query}"
    area.press("Backspace")
    wait_view(page, explorer, inst.instance_id, "budge")
    assert encoded_text(page, "bm25") == f"budge [SEP] {inst.query}"
    assert page.evaluate("() => document.activeElement.tagName") == "TEXTAREA"  # never blurred


def test_variants_apply_a_perturbation_and_a_paraphrase(page, url, explorer, bench):
    inst = next(i for i in bench.instances.values() if i.instance_id in bench.paraphrases and
                i.instance_id != default_instance(bench).instance_id)
    open_app(page, url, instance=inst.instance_id)
    page.wait_for_function("(id) => document.querySelector('#instance input').value.startsWith(id)",
                           arg=inst.instance_id)
    wait_view(page, explorer, inst.instance_id, None)
    variants = {v["label"]: v["text"] for v in explorer.instance("demo", inst.instance_id)["variants"]}
    area = page.locator("#instruction textarea")

    for label in ("Typos", "Query first, then instruction", "Paraphrase 1"):
        before = hashes(page)["#rankings"]
        pick(page, "#variant", None, label)
        page.wait_for_function("(t) => document.querySelector('#instruction textarea').value === t",
                               arg=variants[label])
        assert area.input_value() == variants[label] != inst.instruction
        wait_view(page, explorer, inst.instance_id, variants[label])
        wait_changed(page, "#rankings", before)
        encoded = encoded_text(page, "bm25")
        if label.startswith("Query first"):
            assert encoded == f"{inst.query} [SEP] {inst.instruction}"
        else:
            assert encoded == f"{variants[label]} [SEP] {inst.query}"
    page.screenshot(path=str(SHOTS / "04-paraphrase.png"), full_page=True)

    pick(page, "#variant", None, "Query only (no instruction)")
    page.wait_for_function("() => document.querySelector('#instruction textarea').value === ''")
    wait_view(page, explorer, inst.instance_id, "")
    assert encoded_text(page, "minilm") == inst.query


def test_deep_link_restores_instance_instruction_and_columns(page, url, explorer, bench):
    qid = list(bench.groups)[3]
    iid = bench.groups[qid][1]
    text = "Über-simple please: I'm 12 & want the short answer (no jargon)!"
    open_app(page, url, dataset="demo", instance=iid, instruction=text, retrievers="bm25,minilm")
    page.wait_for_function("() => document.querySelectorAll('#rankings [data-retriever]').length === 2")
    assert columns(page) == ["bm25", "minilm"]
    assert page.locator("#instance input").input_value().startswith(iid)
    assert page.locator("#query input").input_value().startswith(bench.instances[iid].query)
    assert page.locator("#instruction textarea").input_value() == text
    wait_view(page, explorer, iid, text, ["bm25", "minilm"])
    assert selected_retrievers(page) == ["bm25", "minilm"]
    page.screenshot(path=str(SHOTS / "05-deep-link.png"), full_page=True)


def test_a_bad_deep_link_falls_back_with_a_message(page, url):
    open_app(page, url, dataset="no/such/folder", retrievers="bm25,nonsense")
    assert columns(page) == ["bm25"]
    said = page.inner_text("#query-info")
    assert "no/such/folder" in said and "Unknown retriever 'nonsense' left out." in said  # each part that failed
    assert page.locator("#instance input").input_value()  # the default view instead


def test_an_xss_instruction_stays_text(page, url, explorer, bench):
    open_app(page, url)
    inst = default_instance(bench)
    type_instruction(page, XSS)
    wait_view(page, explorer, inst.instance_id, XSS)
    assert encoded_text(page, "bm25") == f"{XSS} [SEP] {inst.query}"
    page.locator("#instruction textarea").blur()
    page.wait_for_timeout(500)  # give a would-be onerror handler its chance
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#rankings img, #summary img").count() == 0
    # the same text through a deep link
    open_app(page, url, instance=inst.instance_id, instruction=XSS, retrievers="bm25")
    assert page.locator("#instruction textarea").input_value() == XSS
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#rankings img").count() == 0
    page.screenshot(path=str(SHOTS / "06-xss.png"), full_page=True)


def test_hovering_a_card_highlights_the_same_doc_in_every_column(page, url):
    open_app(page, url)
    # a doc shown in at least two columns
    shared = page.evaluate("""() => {
        const seen = {};
        document.querySelectorAll('#rankings .card[data-doc]').forEach((c) => {
            seen[c.dataset.doc] = (seen[c.dataset.doc] || 0) + 1; });
        return Object.keys(seen).find((d) => seen[d] >= 2) || null; }""")
    assert shared, "no doc appears in two columns"
    cards = page.locator(f'#rankings .card[data-doc="{shared}"]')
    cards.first.hover()
    page.wait_for_function("(d) => [...document.querySelectorAll(`#rankings .card[data-doc='${d}']`)]"
                           ".every((c) => c.classList.contains('hl'))", arg=shared)
    assert page.locator("#rankings .card.hl").count() == cards.count()
    page.hover("#app-header")
    page.wait_for_function("() => !document.querySelector('#rankings .card.hl')")


def test_export_gives_csv_json_and_trec_of_the_current_view(page, url, explorer, bench):
    open_app(page, url)
    page.get_by_text("Share and export").click()
    page.click("#export")
    page.wait_for_function("() => document.querySelectorAll('#exports a[download]').length >= 6")
    names = page.eval_on_selector_all("#exports a[download]", "els => els.map(e => e.getAttribute('download'))")
    assert any(n.endswith(".csv") for n in names) and any(n.endswith(".json") for n in names)
    assert sum(n.endswith(".trec") for n in names) == 4  # one run file per retriever
    link = page.input_value("#share-link textarea, #share-link input")
    assert link.startswith("?dataset=demo&instance=") and "retrievers=" in link


def test_a_dataset_folder_opens_and_a_bad_one_keeps_the_view(page, url, tmp_path):
    from helpers import write_release
    folder = write_release(tmp_path / "tiny")
    open_app(page, url)
    box = page.locator("#dataset input")

    def type_dataset(text):
        box.click()
        box.press("Control+a")
        box.press_sequentially(text)
        box.press("Enter")

    type_dataset(str(folder))
    page.wait_for_function("() => document.querySelector('#query-info').innerText.includes('how to brew tea')")
    page.wait_for_function("() => [...document.querySelectorAll('#rankings .card')].some((c) => c.dataset.doc === 'a_1')")
    type_dataset(str(tmp_path / "missing"))
    page.wait_for_function("() => document.querySelector('#query-info').innerText.includes('Cannot open dataset')")
    assert page.input_value("#dataset input") == str(folder)  # reverted to the dataset still shown
    assert "how to brew tea" in page.inner_text("#query-info")
    assert page.locator("#rankings [data-retriever]").count() == 4
