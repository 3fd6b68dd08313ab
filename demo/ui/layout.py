"""Static parts of the page: CSS (light and dark), the page script and the explainers."""
from demo.service.checks import MAX_INSTRUCTION_CHARS

# Colours for light and dark (Gradio puts `.dark` on <body> when the browser or OS asks for dark,
# or with ?__theme=dark). Every text/background pair here is >= 4.5:1; tests/browser/test_browser_layout.py
# measures the rendered page in both schemes.
CSS = """
.gradio-container {
  --ix-text: #1e293b; --ix-muted: #475569; --ix-card: #ffffff; --ix-border: #cbd5e1;
  --ix-summary-bg: #eff6ff; --ix-accent: #1d4ed8; --ix-error-bg: #fef2f2; --ix-error: #991b1b;
  --ix-target-bg: #f0fdf4; --ix-target-border: #16a34a; --ix-sibling-bg: #fffbeb; --ix-sibling-border: #d97706;
  --ix-badge-target: #15803d; --ix-badge-sibling: #b45309; --ix-badge-text: #ffffff;
  --ix-up-bg: #dcfce7; --ix-up: #166534; --ix-down-bg: #fee2e2; --ix-down: #991b1b; --ix-new-bg: #e0e7ff; --ix-new: #3730a3;
  --ix-hq-bg: #bfdbfe; --ix-hi-bg: #fde68a; --ix-mark-text: #0f172a; --ix-focus: #4f46e5; --ix-pre-bg: #f1f5f9;
  --block-info-text-color: #475569;
  max-width: 100% !important;
}
.dark .gradio-container {
  --ix-text: #e2e8f0; --ix-muted: #b6c2d3; --ix-card: #172033; --ix-border: #475569;
  --ix-summary-bg: #172554; --ix-accent: #60a5fa; --ix-error-bg: #3f1212; --ix-error: #fecaca;
  --ix-target-bg: #0b2e1a; --ix-target-border: #22c55e; --ix-sibling-bg: #33230a; --ix-sibling-border: #f59e0b;
  --ix-badge-target: #15803d; --ix-badge-sibling: #b45309; --ix-badge-text: #ffffff;
  --ix-up-bg: #14532d; --ix-up: #bbf7d0; --ix-down-bg: #7f1d1d; --ix-down: #fecaca; --ix-new-bg: #312e81; --ix-new: #e0e7ff;
  --ix-hq-bg: #1e3a8a; --ix-hi-bg: #713f12; --ix-mark-text: #f8fafc; --ix-focus: #a5b4fc; --ix-pre-bg: #0f172a;
  --block-info-text-color: #b6c2d3;
}
#app-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; }
/* Gradio's own grey text (the footer, the upload box's "or"): >= 4.5:1 */
.show-api, .built-with, .settings { color: #4b5563 !important; }
.dark .show-api, .dark .built-with, .dark .settings { color: #cbd5e1 !important; }
.or { color: var(--ix-muted) !important; }
#app-header h1 { margin: 0; font-size: 1.25rem; color: var(--ix-text); }
#app-header p { margin: 0; color: var(--ix-muted); font-size: .85rem; }
#app-header p.tagline { color: var(--ix-text); font-size: .95rem; flex: 1 1 420px; }
#tour-start { font-weight: 700; }
#footer { margin-top: 8px; }
.more-cols { display: none; font-size: .9rem; color: var(--ix-text); margin: 0 0 4px; }
.below.below-top { display: none; }
#char-count { font-size: .8rem; color: var(--ix-muted); margin: 2px 0 0; min-height: 1em; }
#char-count.near { color: var(--ix-text); font-weight: 600; }
#char-count.over { color: var(--ix-error); font-weight: 700; }
.plot-note.stale { color: var(--ix-error); font-weight: 600; }
.skip-link { position: absolute; left: -9999px; top: 0; z-index: 100; padding: 6px 10px; background: var(--ix-card);
  color: var(--ix-accent); border: 2px solid var(--ix-focus); border-radius: 6px; }
.skip-link:focus { left: 8px; }
#picker-bar { gap: 8px; }
#picker-bar > div { min-width: 0; }
#random { align-self: center; }
/* the order and query lists name retrievers and figures: wider than their boxes, never past the screen */
#order .options, #query .options { min-width: min(360px, calc(100vw - 48px)) !important; }
#order .options li, #query .options li { width: auto !important; }
#retrievers .token { padding: 1px 6px; font-size: .8rem; }
/* a long query label ends in an ellipsis before the picker's arrow */
#query input, #instance input, #order input { text-overflow: ellipsis; padding-right: 22px; }
#reset { align-self: end; }
#live-refresh { display: none !important; }
.legend { font-size: .82rem; color: var(--ix-muted); }
.legend b, .legend code { color: var(--ix-text); }
.summary { font-size: .9rem; line-height: 1.35; padding: 5px 12px; border-left: 4px solid var(--ix-accent); background: var(--ix-summary-bg);
  color: var(--ix-text); border-radius: 6px; min-height: 1.4em; }
.app-error, .app-notice { padding: 6px 12px; border-left: 4px solid var(--ix-error); background: var(--ix-error-bg);
  color: var(--ix-text); border-radius: 6px; font-size: .9rem; }
.app-notice { border-left-color: var(--ix-accent); background: var(--ix-summary-bg); }
#copy-status { font-size: .85rem; color: var(--ix-text); min-height: 1.2em; }
/* the columns: one scroller; rows shared through subgrid so rank n sits level everywhere */
.rankings-wrap { color: var(--ix-text); }
.columns { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(230px, 1fr);
  grid-template-rows: repeat(var(--rows), auto); column-gap: 10px; overflow: auto;
  max-height: max(480px, calc(100vh - 150px)); padding-bottom: 4px; }
.col { display: grid; grid-row: 1 / span var(--rows); grid-template-rows: subgrid; grid-template-columns: minmax(0, 1fr);
  row-gap: 6px; align-content: start;
  border: 1px solid var(--ix-border); border-radius: 10px; padding: 0 8px 8px; background: var(--ix-card); min-width: 0; }
.col.error { background: var(--ix-error-bg); }
.col-head { position: sticky; top: 0; z-index: 2; background: var(--ix-card); padding-top: 6px; border-bottom: 1px solid var(--ix-border); }
.col-title { font-weight: 700; font-size: .95rem; color: var(--ix-text); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.col-title code { font-weight: 400; font-size: .78rem; color: var(--ix-muted); background: none; }
.col-metrics { display: flex; flex-wrap: wrap; gap: 2px 8px; font-size: .8rem; margin: 2px 0 4px; color: var(--ix-text); }
.col-metrics b { color: var(--ix-text); }
.col-metrics .was { color: var(--ix-muted); }
.col-nav { display: none; }
.encoded summary, .full summary { font-size: .78rem; color: var(--ix-muted); cursor: pointer; }
.encoded pre { white-space: pre-wrap; word-break: break-word; font-size: .75rem; background: var(--ix-pre-bg); color: var(--ix-text);
  padding: 6px; border-radius: 6px; max-height: 160px; overflow: auto; margin: 0; }
.card { border: 1px solid var(--ix-border); border-radius: 8px; padding: 5px 7px; background: var(--ix-card);
  transition: box-shadow .1s; color: var(--ix-text); }
.card.is-target { border: 2px solid var(--ix-target-border); background: var(--ix-target-bg); }
.card.is-sibling { border-color: var(--ix-sibling-border); background: var(--ix-sibling-bg); }
.card.hl { box-shadow: 0 0 0 3px var(--ix-focus); }
.card:focus, .col-goto:focus-visible, .skip-link:focus, #rankings summary:focus-visible { outline: 3px solid var(--ix-focus); outline-offset: 2px; }
.card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 3px 5px; font-size: .82rem; min-width: 0; }
.rank { font-weight: 700; color: var(--ix-text); }
.doc-id { font-family: ui-monospace, monospace; color: var(--ix-text); white-space: nowrap; flex: none; }
.score { margin-left: auto; color: var(--ix-muted); font-family: ui-monospace, monospace; }
.shift { font-size: .75rem; padding: 0 5px; border-radius: 8px; font-weight: 700; }
.shift.up { background: var(--ix-up-bg); color: var(--ix-up); } .shift.down { background: var(--ix-down-bg); color: var(--ix-down); }
.shift.new { background: var(--ix-new-bg); color: var(--ix-new); }
.badge { font-size: .72rem; font-weight: 700; padding: 1px 6px; border-radius: 6px; color: var(--ix-badge-text);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; flex: 0 1 auto; }
.badge.target { background: var(--ix-badge-target); } .badge.sibling { background: var(--ix-badge-sibling); }
.snippet { font-size: .82rem; line-height: 1.35; margin-top: 3px; color: var(--ix-text);
  display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden; }
.full div { font-size: .82rem; }
mark.hq, mark.hi { color: var(--ix-mark-text); padding: 0 1px; border-radius: 2px; }
mark.hq { background: var(--ix-hq-bg); } mark.hi { background: var(--ix-hi-bg); }
.pmrr.up { color: var(--ix-up); } .pmrr.down { color: var(--ix-down); }
.below { font-size: .84rem; color: var(--ix-error); }
.col-error { color: var(--ix-error); font-size: .9rem; }
.col-note { color: var(--ix-muted); font-size: .82rem; margin: 3px 0; font-style: italic; }
.plot-note { font-size: .8rem; color: var(--ix-muted); margin: 0 0 8px; }
.scoreboard { border-collapse: collapse; font-size: .9rem; color: var(--ix-text); }
.scoreboard td, .scoreboard th { padding: 3px 10px; border-bottom: 1px solid var(--ix-border); text-align: right; }
.scoreboard td:first-child, .scoreboard th:first-child { text-align: left; }
.scoreboard tr.floor td { color: var(--ix-muted); font-style: italic; }
.unavailable-list { font-size: .8rem; color: var(--ix-muted); }
.unavailable-list summary { cursor: pointer; }
.unavailable, .unavailable small { display: block; color: var(--ix-muted); }
/* "why here": a small button on each card; the panel floats above the page */
.why-btn { float: right; margin-top: 2px; font-size: .72rem; padding: 0 5px; border-radius: 6px; border: 1px solid var(--ix-border); background: var(--ix-card);
  color: var(--ix-accent); cursor: pointer; line-height: 1.4; }
.why { position: fixed; right: 16px; bottom: 16px; z-index: 60; width: min(460px, calc(100vw - 32px)); max-height: 70vh;
  overflow: auto; padding: 8px 12px; background: var(--ix-card); color: var(--ix-text); border: 1px solid var(--ix-border);
  border-left: 4px solid var(--ix-accent); border-radius: 10px; box-shadow: 0 6px 24px rgba(0, 0, 0, .25); font-size: .85rem; }
body[data-why="closed"] .why { display: none; }
.why-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 6px; padding-right: 24px; position: relative; }
.why-head code, .why-table td, .why-table th, .why-note, .why-sub, .why-change { color: var(--ix-text); }
.why-close { position: absolute; right: 0; top: -2px; font-size: 1.1rem; line-height: 1; padding: 2px 6px; border-radius: 6px;
  border: 1px solid var(--ix-border); background: var(--ix-card); color: var(--ix-text); cursor: pointer; }
.why-btn:focus-visible, .why-close:focus-visible { outline: 3px solid var(--ix-focus); outline-offset: 1px; }
.why-table { border-collapse: collapse; width: 100%; margin: 6px 0; }
.why-table td, .why-table th { padding: 1px 6px; border-bottom: 1px solid var(--ix-border); text-align: right; }
.why-table td:first-child, .why-table th:first-child, .why-table .why-src { text-align: left; }
.why-table tfoot td { font-weight: 700; border-bottom: none; }
.why-num { font-family: ui-monospace, monospace; }
.why-sentences { margin: 4px 0; padding-left: 20px; }
.why-sentence { margin: 3px 0; padding: 2px 6px; border-left: 3px solid transparent; }
.why-sentence.moved-most { border-left-color: var(--ix-accent); background: var(--ix-summary-bg); }
.why-most { white-space: nowrap; font-size: .72rem; font-weight: 700; padding: 0 5px; border-radius: 6px; background: var(--ix-accent); color: var(--ix-card); }
.why-note { margin: 4px 0 0; }
/* a phone: one column at a time, swiped or picked with the buttons above */
@media (max-width: 700px) {
  .col-nav { display: flex; gap: 6px; overflow-x: auto; padding: 4px 0 6px; }
  .col-goto { flex: none; font-size: .8rem; padding: 4px 10px; border-radius: 14px; border: 1px solid var(--ix-border);
    background: var(--ix-card); color: var(--ix-text); }
  .col-goto[aria-current="true"] { border-color: var(--ix-accent); font-weight: 700; }
  .columns { grid-auto-columns: 100%; scroll-snap-type: x mandatory; max-height: none; }
  .col { scroll-snap-align: start; }
  /* a phone: the editor and the first column first, the pickers after the results */
  #picker-bar { order: 3; }
  #tabs { order: 2; }
  #explainer, #footer { order: 4; }
  #picker-bar .form { flex-direction: row !important; flex-wrap: wrap !important; }
  #dataset, #order, #k { flex: 1 1 30% !important; min-width: 0 !important; }
  #query, #instance, #retrievers { flex: 1 1 100% !important; }
}
"""

# Page behaviour, one delegated listener per job (the columns are re-rendered on every refresh):
# - hover or keyboard focus on a card highlights that doc in every column;
# - arrow keys move between cards (up/down in a column, left/right across), Enter opens the passage;
# - on a phone, the buttons above the columns scroll to one column;
# - typing in the editor refreshes after a pause (DEBOUNCE_MS); a paste, a drop or any single edit that
#   inserts several characters refreshes at once. The refresh is a click on a hidden button, whose
#   event skips the queue and is numbered, so that an overtaken one sends nothing (demo.ui.latest).
# 200, not 150: at 150 a 2-core host running Chromium too refreshed on most keys at InstructIR size
# (10-40 requests per typed phrase, key events stalled) and settled later (benchmarks/RESULTS-browser.md).
DEBOUNCE_MS = 200
PAGE_JS = """
<script>
(() => {
  const sync = (card) => {
    document.querySelectorAll('.card.hl').forEach((c) => c.classList.remove('hl'));
    if (!card) return;
    document.querySelectorAll('.card[data-doc="' + CSS.escape(card.dataset.doc) + '"]').forEach((c) => c.classList.add('hl'));
  };
  // "why here" (demo.ui.why): the request goes through a hidden button; the panel floats
  const why = (card) => {
    window.__ixWhy = {retriever: card.closest('[data-retriever]').dataset.retriever, doc: card.dataset.doc};
    window.__ixWhyAt = performance.now();
    delete document.body.dataset.why;
    const b = document.querySelector('#why-go'); if (b) b.click();
  };
  const closeWhy = () => {
    document.body.dataset.why = 'closed';
    const r = window.__ixWhy;
    const card = r && document.querySelector('[data-retriever="' + CSS.escape(r.retriever) + '"] .card[data-doc="' + CSS.escape(r.doc) + '"]');
    if (card && document.activeElement && document.activeElement.closest('#why-panel')) card.focus();
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.dataset.why !== 'closed' && document.querySelector('#why-panel .why')) closeWhy();
  });
  document.addEventListener('mouseover', (e) => sync(e.target.closest ? e.target.closest('.card[data-doc]') : null));
  document.addEventListener('focusin', (e) => { if (e.target.closest) sync(e.target.closest('.card[data-doc]')); });
  document.addEventListener('keydown', (e) => {
    const card = e.target.closest ? e.target.closest('.card[data-doc]') : null;
    if (!card) return;
    const col = card.closest('.col'), cards = [...col.querySelectorAll('.card')], i = cards.indexOf(card);
    let next = null;
    if (e.key === 'ArrowDown') next = cards[i + 1];
    else if (e.key === 'ArrowUp') next = cards[i - 1];
    else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const sib = e.key === 'ArrowRight' ? col.nextElementSibling : col.previousElementSibling;
      const there = sib ? [...sib.querySelectorAll('.card')] : [];
      next = there[Math.min(i, there.length - 1)];
    } else if ((e.key === 'w' || e.key === 'W') && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault(); why(card); return;
    } else if (e.key === 'Enter' || e.key === ' ') {
      const d = card.querySelector('details.full'); if (d) { d.open = !d.open; e.preventDefault(); }
      return;
    }
    if (next) { e.preventDefault(); card.tabIndex = -1; next.tabIndex = 0; next.focus(); next.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
  });
  document.addEventListener('click', (e) => {
    if (!e.target.closest) return;
    const w = e.target.closest('.why-btn');
    if (w) { why(w.closest('.card')); return; }
    if (e.target.closest('.why-close')) { closeWhy(); return; }
    const b = e.target.closest('.col-goto');
    if (!b) return;
    const col = document.getElementById(b.dataset.goto);
    if (col) col.parentElement.scrollTo({left: col.offsetLeft - col.parentElement.offsetLeft, behavior: 'smooth'});
    b.parentElement.querySelectorAll('.col-goto').forEach((x) => x.setAttribute('aria-current', String(x === b)));
  });
  // the character counter under the editor: shown from 80% of the limit, red past it
  const count = (area) => {
    let el = document.getElementById('char-count');
    if (!el) {
      el = document.createElement('p'); el.id = 'char-count'; el.setAttribute('aria-live', 'polite');
      const box = area.closest('#instruction'); if (!box) return; box.appendChild(el);
    }
    const n = area.value.length;
    el.className = n > __MAX__ ? 'over' : n >= __MAX__ * 0.8 ? 'near' : '';
    el.textContent = n >= __MAX__ * 0.8 ? `${n.toLocaleString('en')} / ${(__MAX__).toLocaleString('en')} characters` +
      (n > __MAX__ ? ': too long, the rankings and plots are not updated' : '') : '';
  };
  // pickers (Gradio dropdowns) and the keyboard: Tab or focus leaving closes the open list (Escape is
  // Gradio's own way to close it), a choice made with Enter moves focus to the next control rather
  // than dropping it to <body>, and the chips' remove buttons say what they remove
  const openList = () => [...document.querySelectorAll('[role=listbox]')].some((l) => l.getClientRects().length > 0);
  const closeList = (input) => input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
  const focusables = 'button:not([disabled]), input:not([disabled]):not([type=hidden]), textarea, select, [tabindex="0"], a[href]';
  const nextAfter = (block) => [...document.querySelectorAll(focusables)].find((el) =>
    el.offsetParent !== null && !block.contains(el) && (block.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING));
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (!t.matches || !t.matches('.block input')) return;
    if (e.key === 'Tab' && t.getAttribute('role') === 'combobox') {
      // Gradio's filterable pickers keep their list open and drop focus to <body> on Tab: close the
      // list and move focus ourselves, to the next (or, with Shift, the previous) control
      e.preventDefault(); e.stopPropagation();
      closeList(t);
      const block = t.closest('.block');
      const all = [...document.querySelectorAll(focusables)].filter((el) => el.offsetParent !== null &&
        !el.closest('[role=listbox]') && (!block.contains(el) || el === t));
      const at = all.indexOf(t), to = all[at + (e.shiftKey ? -1 : 1)];
      if (to) to.focus();
      setTimeout(() => { if (t.getAttribute('aria-expanded') === 'true') closeList(t); }, 50);
      return;
    }
    if (e.key === 'Enter' && openList()) {
      const block = t.closest('.block');
      setTimeout(() => { if (document.activeElement === document.body || !document.activeElement) {
        const next = nextAfter(block); if (next) next.focus(); } }, 120);
    }
  }, true);
  document.addEventListener('focusout', (e) => {
    const t = e.target, to = e.relatedTarget;
    if (!t.matches || !t.matches('.block input') || !to || to.closest('[role=listbox]')) return;
    if (!t.closest('.block').contains(to) && openList()) closeList(t);
  });
  const nameChips = () => document.querySelectorAll('.token-remove').forEach((b) => {
    const chip = b.closest('.token'), label = chip && chip.innerText.trim();
    if (label && b.getAttribute('aria-label') !== 'Remove ' + label) {
      b.setAttribute('aria-label', 'Remove ' + label); b.title = 'Remove ' + label; }
  });
  let naming = 0;  // once per frame, however many nodes a refresh replaces
  new MutationObserver(() => { if (!naming) naming = requestAnimationFrame(() => { naming = 0; nameChips(); }); })
    .observe(document.documentElement, {childList: true, subtree: true});
  let timer = null;
  window.__ixLastRefresh = null;
  document.addEventListener('input', (e) => {
    if (!e.target.closest || !e.target.closest('#instruction textarea')) return;
    count(e.target);
    document.body.dataset.why = 'closed';  // an explanation of the old text would mislead
    clearTimeout(timer);
    const burst = ['insertFromPaste', 'insertFromDrop', 'insertReplacementText'].includes(e.inputType) ||
                  (typeof e.data === 'string' && e.data.length > 1);
    timer = setTimeout(() => {
      const b = document.querySelector('#live-refresh');
      if (b) { window.__ixLastRefresh = performance.now(); b.click(); }
    }, burst ? 0 : __DEBOUNCE__);
  });
})();
</script>
""".replace("__DEBOUNCE__", str(DEBOUNCE_MS)).replace("__MAX__", str(MAX_INSTRUCTION_CHARS))

COPY_LINK_JS = """
(link) => {
  const url = window.location.origin + window.location.pathname + (link || '');
  const say = (t) => { const s = document.querySelector('#copy-status'); if (s) s.textContent = t; };
  const fallback = () => {
    try { const t = document.createElement('textarea'); t.value = url; document.body.appendChild(t); t.select();
          const ok = document.execCommand('copy'); t.remove();
          say(ok ? 'Link copied.' : 'Could not copy: select the link and press Ctrl+C.'); }
    catch (err) { say('Could not copy: select the link and press Ctrl+C.'); }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(() => say('Link copied.'), fallback);
  } else { fallback(); }
  return link;
}
"""

HEADER = """
<a class="skip-link" href="#instruction">Skip to the instruction</a>
<a class="skip-link" href="#rankings">Skip to the results</a>
<a class="skip-link" href="#plots-panel">Skip to the plots</a>
<div id="app-header"><h1>InstructIR Explorer</h1>
<p class="tagline">Pick a query, edit a user's instruction, and see side by side whether retrievers still find
that user's passage.</p></div>
"""

EXPLAINER = """
**Instance.** One user instruction with one base query, and exactly one relevant passage, its *target*.
The other instances of the same query have their own targets, the *siblings*: right topic, wrong user.

**nDCG@10** (as trec_eval's `ndcg_cut.10`). With one relevant passage at rank *r*, nDCG@10 = 1/log2(r+1) if r ≤ 10,
else 0: rank 1 → 1.00, rank 2 → 0.63, rank 3 → 0.50, rank 10 → 0.29, rank 11 → 0.

**Robustness@10** (InstructIR). For each base query take the *worst* nDCG@10 over its instances (its users), then
average over queries. A retriever that ignores the instruction puts the same passage first for every user, so
at most one user is served well and the worst case is poor. Over a set of variants (paraphrases, your edits) the
same min-then-mean applies.

**p-MRR** (FollowIR). When an instruction change takes away a document's relevance, a good retriever moves it
*down*. For ranks R_og before and R_new after: if R_og > R_new (moved up, wrong) the score is R_new/R_og − 1, otherwise
1 − R_og/R_new; averaged per query, ×100. *Worked example:* the old target was #2 and after swapping in another
user's instruction it is #8: 1 − 2/8 = +0.75 (good). Had it risen from #8 to #2: 2/8 − 1 = −0.75 (bad).

**Modes.** `MODEL` encodes the instruction and the query in the model's own template (as the official evaluation);
`MODEL@query` drops the instruction (it cannot follow one); `MODEL@instruction` drops the query.
Open *encoded text* in a column to see the exact string the model read.

**Instruction-blind floor.** The best score possible while ignoring the instruction but ranking the query's
sibling family first: about 49.7 nDCG@10 / 32.1 Robustness@10 on InstructIR.

**Published InstructIR figures** (nDCG@10 / Robustness@10, Promptriever paper, Table 2): BM25 76.0/26.9,
TART-Contriever 84.8/47.5, Instructor-XL 48.6/21.5, E5-Mistral 86.3/55.4, RepLLaMA 85.7/50.2,
Promptriever 92.1/63.1, FollowIR-7B reranker 81.3/71.5. Reproduce any number shown here with
`python -m demo evaluate --dataset … --retrievers …`.
"""

# The colours of the cards and marks, under the editor (demo.ui.explore.context.query_html): the
# header keeps one sentence, so that the results stay above the fold at 1280x720.
LEGEND = ('<span class="legend"><mark class="hq">query terms</mark> <mark class="hi">instruction terms</mark>'
          ' · green: the target · amber: another user\'s target</span>')
