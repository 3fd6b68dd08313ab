"""Presenter mode: `?present=1` or the toggle. Larger type, the picker bar folded away,
at most PRESENT_COLUMNS columns, each cut to its top PRESENT_TOP, so that the summary and the
columns fit a 1280×720 projector without scrolling. It is a class on <body>, so toggling costs no
round trip; the plots follow through the hidden `present` flag (their fonts are set in Python,
not in CSS) and show the same retrievers as the columns (plots_panel.on_screen).

A live demo needs a switcher: the variant picker (other users' instructions, paraphrases,
perturbations) stays, compact, beside the editor. Nothing is hidden silently: the columns that do
not fit are named above the others ("+1 more: minilm@query", render.render_rankings), and a
target below the top 5 is marked with its rank under its column."""

from demo.ui.render import PRESENT_COLUMNS, PRESENT_TOP  # noqa: F401 (defined beside the columns' HTML)

PRESENT_CSS = """
body.present { font-size: 18px; }
body.present .gradio-container { font-size: 18px; }
body.present #app-header p, body.present #picker-bar, body.present #explainer,
body.present .explore-extras { display: none !important; }
body.present #header-row, body.present #tabs .tab-wrapper, body.present #grade, body.present #reset,
body.present #variant-info, body.present #first-line,
body.present #instruction label > span:first-child, body.present .col .encoded,
body.present .col-nav, body.present #share, body.present #query-info { display: none !important; }
body.present .columns { grid-auto-columns: minmax(0, 1fr); max-height: none; }
body.present .columns > .col:nth-of-type(n+4) { display: none; }
body.present .more-cols { display: block !important; }
body.present .below-top { display: block !important; }
body.present #editor-row { flex-wrap: nowrap; }
body.present #editor-row > div:nth-child(2) { min-width: 220px !important; max-width: 30%; }
body.present #variant label > span:first-child { font-size: .8rem; }
body.present .col > .card ~ .card ~ .card ~ .card ~ .card ~ .card { display: none; }
body.present .col .card .snippet { -webkit-line-clamp: 1; font-size: 1rem; }
body.present .col .card { padding: 3px 8px; }
body.present #instruction textarea { font-size: 1.05rem; field-sizing: content; height: auto !important; min-height: 0 !important; }
body.present #summary .legend { display: none; }
body.present #results-row { flex-wrap: wrap; }
body.present #results-row > div { min-width: 100% !important; }
body.present .col .card .full, body.present .col .card .why-btn, body.present .col .encoded { display: none; }
body.present .col-title { font-size: 1.2rem; }
body.present .col-metrics, body.present .card-head { font-size: 1rem; }
body.present .summary { font-size: 1.15rem; }
body.present .tour-text { font-size: 1.1rem; }
/* the step's plot is the only one, right below the columns: no jump link taking a line of the projector */
body.present .tour-plot-link { display: none; }
body.present #tour { padding-top: 4px; padding-bottom: 4px; }
"""

# Applies ?present=1 at load, and returns the flag for the plots.
PRESENT_ON_LOAD_JS = """
() => {
  const on = new URLSearchParams(window.location.search).get('present') === '1';
  document.body.classList.toggle('present', on);
  return on;
}
"""

# The toggle: flips the class, keeps the address in step (so a copied link keeps the mode).
PRESENT_TOGGLE_JS = """
(flag) => {
  const on = !document.body.classList.contains('present');
  document.body.classList.toggle('present', on);
  const url = new URL(window.location.href);
  if (on) { url.searchParams.set('present', '1'); } else { url.searchParams.delete('present'); }
  window.history.replaceState(null, '', url);
  return on;
}
"""

# Whether the page is dark (Gradio puts `.dark` on <body> from the OS setting or ?__theme=dark):
# the plots take a dark template then (demo.plot_style).
DARK_ON_LOAD_JS = """
() => document.body.classList.contains('dark') || document.documentElement.classList.contains('dark')
"""
