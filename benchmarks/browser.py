"""Browser benchmark (issue 8): how soon the page follows the editor, in Chromium.

    cd /work/main && .venv/bin/python -m benchmarks.browser [--pastes 20 --phrases 8 --variants 8]

build_app(explorer) is launched in this process on a free port (dataset demo, retrievers
bm25,bm25@query,minilm,minilm@query, k=10, models loaded and the corpus embedded first), and
Debian's /usr/bin/chromium (1440x900) is driven by playwright. Every time is taken inside the
page with performance.now(), so Python's round trips do not count:

1. paste-to-columns: the editor gets a new text as one paste (an `input` event with inputType
   insertFromPaste; each text is the instruction plus three random words, so it misses every
   memo); time until every column shows the new encoded text. Then paste-to-plots: until the
   sweep plot has been redrawn after it. Targets: columns <= 200 ms p50, plots <= 300 ms p50.
2. variant click: a click on a variant in the picker until the columns show it (one round trip:
   the handler sets the editor and returns the columns; the plots follow).
3. typing: a phrase typed key by key (playwright, 60-140 ms between keys, as a person types);
   last-keystroke-to-settled is the time from the last keydown until the last change of the
   columns (the columns then stay unchanged for 1.5 s). Target <= 400 ms. The number of
   refreshes per phrase (requests of the page: queue joins, and the unqueued typing refreshes) is printed too.
4. the query picker: opening it (every base query listed: 1,267 at InstructIR size), typing a
   word to filter it, and Random until the columns show another query.

--dataset takes any dataset source (default demo), e.g. the InstructIR-size folder that
benchmarks.app_full builds, with INSTRUCTIR_EXPLORER_ARTIFACTS and INSTRUCTIR_EXPLORER_CACHE set
as that benchmark left them.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time

from benchmarks.app import free_port  # noqa: E402

RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
WORDS = ("quickly gently budget weekend beginner detailed spare cheap summer winter quiet safe simple "
         "careful young old busy tired travel rural city kitchen garden office school night").split()
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SETUP_JS = """() => {
  window.__ix = {lastKey: 0, lastChange: 0, changes: 0, gaps: []};
  document.addEventListener('keydown', () => { const t = performance.now();
    if (window.__ix.lastKey) window.__ix.gaps.push(t - window.__ix.lastKey); window.__ix.lastKey = t; }, true);
  new MutationObserver(() => { window.__ix.lastChange = performance.now(); window.__ix.changes++; })
    .observe(document.querySelector('#rankings'), {childList: true, subtree: true, characterData: true});
}"""

# resolves with [ms to columns, ms to plots] for one pasted text
PASTE_JS = """([text, want]) => new Promise((resolve) => {
  const area = document.querySelector('#instruction textarea');
  const plot = document.querySelector('#sweep-plot');
  let cols = null; const t0 = performance.now();
  const done = () => { const pre = document.querySelector('#rankings [data-retriever="minilm"] .encoded pre');
                       return pre && pre.textContent === want; };
  const oc = new MutationObserver(() => { if (cols === null && done()) { cols = performance.now() - t0; oc.disconnect(); } });
  oc.observe(document.querySelector('#rankings'), {childList: true, subtree: true, characterData: true});
  const op = new MutationObserver(() => { if (cols !== null) { op.disconnect();
    requestAnimationFrame(() => resolve([cols, performance.now() - t0])); } });
  op.observe(plot, {childList: true, subtree: true, attributes: true});
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(area, text);
  area.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'insertFromPaste'}));
})"""

VARIANT_JS = """(want) => new Promise((resolve) => {
  const t0 = window.__ixClick;
  const check = () => { const pre = document.querySelector('#rankings [data-retriever="minilm"] .encoded pre');
                        return pre && pre.textContent === want; };
  if (check()) return resolve(performance.now() - t0);
  const o = new MutationObserver(() => { if (check()) { o.disconnect(); resolve(performance.now() - t0); } });
  o.observe(document.querySelector('#rankings'), {childList: true, subtree: true, characterData: true});
})"""


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def line(name, xs, target=None):
    t = f"  target <= {target} ms: {'met' if statistics.median(xs) <= target else 'MISSED'}" if target else ""
    print(f"{name:<34} p50 {statistics.median(xs):7.1f} ms  p90 {pct(xs, .9):7.1f} ms  "
          f"min {min(xs):6.1f}  max {max(xs):7.1f}  (n={len(xs)}){t}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pastes", type=int, default=20)
    ap.add_argument("--variants", type=int, default=8)
    ap.add_argument("--phrases", type=int, default=8)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--dataset", default="demo", help="a dataset source (default demo)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    import demo  # noqa: F401  (offline flags)
    from playwright.sync_api import sync_playwright

    from demo.service import Explorer
    from demo.ui.app import build_app, launch_kwargs

    from urllib.parse import quote
    dataset = args.dataset
    explorer = Explorer()
    for mid in ("bm25", "minilm"):
        explorer.corpus(dataset, mid)
    bench = explorer.benchmark(dataset)
    oracle = Explorer()  # the variants' expected texts (section 2), apart from the app's memo
    inst = bench.instances[bench.groups[next(iter(bench.groups))][0]]
    port = free_port()
    app = build_app(explorer)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    print(f"load average before: {os.getloadavg()}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(120_000)
            joins = []
            page.on("request", lambda r: joins.append(time.time()) if re.search("/queue/join|/run/", r.url) else None)
            page.goto(f"http://127.0.0.1:{port}/?dataset={quote(dataset)}&instance={quote(inst.instance_id)}")
            page.wait_for_selector("#sweep-plot .js-plotly-plot .main-svg")
            page.wait_for_timeout(1500)
            page.evaluate(SETUP_JS)

            def fresh():
                return inst.instruction + " " + " ".join(rng.sample(WORDS, 3)) + f" {rng.randint(0, 10**6)}"

            for _ in range(2):  # warm-up: first requests through the queue
                t = fresh()
                page.evaluate(PASTE_JS, [t, f"{t} [SEP] {inst.query}"])
            cols, plots = [], []
            for _ in range(args.pastes):
                t = fresh()
                c, pl = page.evaluate(PASTE_JS, [t, f"{t} [SEP] {inst.query}"])
                cols.append(c)
                plots.append(pl)
                page.wait_for_timeout(300)
            line("1. paste-to-columns", cols, 200)
            line("1. paste-to-plots", plots, 300)

            variants = explorer.instance(dataset, inst.instance_id)["variants"]
            picks = [v for v in variants if v["kind"] != "original" or v["text"] != inst.instruction]
            times = []
            for v in rng.sample(picks, min(args.variants, len(picks))):
                # the text MiniLM reads for this variant (query-first, query-only and the like are not the plain
                # template), from an Explorer of its own and before the click: through the app's Explorer, or
                # during the click, this ranking would race the page's request for the same text
                enc = oracle.rank(dataset, inst.instance_id, v["text"], ["minilm"], 10)["retrievers"]["minilm"]["encoded"]
                page.locator("#variant input").click()
                option = page.locator("[role=option]", has_text=v["label"]).first
                option.evaluate("(o) => o.addEventListener('mousedown', () => { window.__ixClick = performance.now(); }, {once: true})")
                option.click()
                times.append(page.evaluate(VARIANT_JS, enc))
                page.wait_for_timeout(400)
            line("2. variant-click-to-columns", times, 200)

            settled, refreshes = [], []
            area = page.locator("#instruction textarea")
            # back to the instance's own instruction: the last variant may be one (query first, query only)
            # whose text MiniLM does not read as "<text> [SEP] <query>", which the typing below expects
            page.click("#reset")
            page.wait_for_function("""(want) => { const pre = document.querySelector('#rankings [data-retriever="minilm"] .encoded pre');
                                      return pre && pre.textContent === want; }""", arg=f"{inst.instruction} [SEP] {inst.query}")
            for _ in range(args.phrases):
                area.click()
                area.press("Control+End")
                page.wait_for_timeout(600)
                n0 = len(joins)
                page.evaluate("() => { window.__ix.gaps = []; window.__ix.lastKey = 0; }")
                phrase = " " + " ".join(rng.sample(WORDS, 3))
                for ch in phrase:
                    area.press_sequentially(ch)
                    page.wait_for_timeout(rng.randint(60, 140))
                want = f"{area.input_value()} [SEP] {inst.query}"
                page.wait_for_function("""(want) => { const pre = document.querySelector('#rankings [data-retriever="minilm"] .encoded pre');
                                          return pre && pre.textContent === want; }""", arg=want)
                page.wait_for_function("() => performance.now() - window.__ix.lastChange > 1500")
                settled.append(page.evaluate("() => window.__ix.lastChange - window.__ix.lastKey"))
                gaps = sorted(page.evaluate("() => window.__ix.gaps"))
                refreshes.append((len(joins) - n0, len(phrase), gaps[len(gaps) // 2], gaps[-1]))
            line("3. last-keystroke-to-settled", settled, 400)
            print("   per phrase: requests/keys (key gap p50, max ms): " +
                  ", ".join(f"{r}/{k} ({g:.0f}, {m:.0f})" for r, k, g, m in refreshes))
            print("   (a refresh is two requests: the columns, then the plots)")

            opened, filtered, randoms = [], [], []
            word = max(inst.query.lower().split(), key=len)  # a word of the query: the filter keeps it
            for _ in range(5):
                page.keyboard.press("Escape")
                page.wait_for_timeout(300)
                t = time.perf_counter()
                page.locator("#query input").click()
                page.wait_for_selector("[role=option]")
                opened.append((time.perf_counter() - t) * 1000)
                listed = page.locator("[role=option]").count()
                t = time.perf_counter()
                page.locator("#query input").press("Control+a")
                page.locator("#query input").press_sequentially(word)  # as a person types: the filter follows keys
                page.wait_for_function("(n) => document.querySelectorAll('[role=option]').length < n", arg=listed)
                filtered.append((time.perf_counter() - t) * 1000)
                page.keyboard.press("Escape")
                before = page.eval_on_selector('#rankings [data-retriever="minilm"] .encoded pre', "e => e.textContent")
                t = time.perf_counter()
                page.click("#random")
                page.wait_for_function("""(old) => { const pre = document.querySelector('#rankings [data-retriever="minilm"] .encoded pre');
                                          return pre && pre.textContent !== old; }""", arg=before)
                randoms.append((time.perf_counter() - t) * 1000)
                page.wait_for_selector("#sweep-plot .js-plotly-plot .main-svg")
            print(f"4. query picker ({len(bench.groups):,} queries; {listed:,} options listed on open)")
            line("4. open the picker", opened)
            line(f"4. type {word!r}, options filtered", filtered)
            line("4. Random, to new columns", randoms)
            browser.close()
    finally:
        app.close()
    print(f"load average after: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
