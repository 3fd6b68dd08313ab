"""The "why here" panel of the Explore tab: on demand, for one result card, why
the retriever of its column put that passage where it is (demo.explain gives the plain dict).

The page script (layout.PAGE_JS) opens it from a card's "why here?" button or the W key on a focused
card: it stores {"retriever", "doc"} in window.__ixWhy and clicks the hidden #why-go button,
whose first step (in the browser) shows "working…" and copies the request into a hidden
textbox; the second step asks the service, with the instance and the editor's text as they
are now. Every text from the data or the user is escaped here."""
from __future__ import annotations

import json
from html import escape

import gradio as gr

from demo.errors import UserError
from demo.ui.binding import PRIVATE, bind
from demo.ui.render import render_error

TOP_TERMS = 10  # the rest of BM25's terms are summed in one row, so the rows still add up to the score
SOURCES = {"query": ("hq", "query"), "instruction": ("hi", "instruction"), "both": ("hq", "query + instruction")}

# Step 1, in the browser: the request from the page script, and a "working" line at once.
START_JS = """() => {
  const r = window.__ixWhy || {};
  const esc = (s) => String(s || '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  return [JSON.stringify(r), '<div class="why" role="region" aria-label="Why here"><p class="why-note">Working out why ' +
          esc(r.doc) + ' is here for ' + esc(r.retriever) + '…</p></div>'];
}"""


def _head(out: dict) -> str:
    where = f"#{out['rank']}" if out["rank"] is not None else "not retrieved"
    score = f" · score {out['score']:.3f}" if out["score"] is not None else ""
    return (f'<div class="why-head"><b>Why here?</b> <code>{escape(out["doc_id"])}</code> in '
            f'{escape(out["label"])} <code>{escape(out["retriever"])}</code>: <b class="why-where">{where}</b>{score}'
            f'<button type="button" class="why-close" aria-label="Close (Esc)" title="Close (Esc)">×</button></div>')


def _terms(out: dict) -> str:
    rows = []
    for t in out["terms"][:TOP_TERMS]:
        cls, said = SOURCES[t["source"]]
        rows.append(f'<tr class="why-term" data-source="{t["source"]}"><td><mark class="{cls}">{escape(t["term"])}</mark></td>'
                    f'<td class="why-src">{said}</td><td>{t["count"]}</td><td>{t["doc_tf"]}</td>'
                    f'<td class="why-num">{t["contribution"]:.3f}</td></tr>')
    rest = out["terms"][TOP_TERMS:]
    if rest:
        rows.append(f'<tr class="why-rest"><td colspan="4">{len(rest)} more term{"s" if len(rest) != 1 else ""}</td>'
                    f'<td class="why-num">{sum(t["contribution"] for t in rest):.3f}</td></tr>')
    total = f'{out["score"]:.3f}' if out["score"] is not None else "–"
    return ('<table class="why-table"><thead><tr><th>term</th><th class="why-src">from</th><th title="times in the input">×</th>'
            '<th title="times in the passage">in doc</th><th>adds</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody><tfoot><tr><td colspan="4">BM25 score (the sum)</td>'
            f'<td class="why-num why-total">{total}</td></tr></tfoot></table>')


def _change(row: dict) -> str:
    if row["rank"] is None:
        where = "not retrieved"
    else:
        c = row["rank_change"] or 0
        where = f"#{row['rank']}" + (f" (↑{c})" if c > 0 else f" (↓{-c})" if c < 0 else "")
    score = f"{row['score']:.3f} ({row['score_change']:+.4f})" if row["score"] is not None else "–"
    return f'<span class="why-where">{where}</span> · score {score}'


def _sentences(out: dict) -> str:
    items = []
    for s in out["sentences"]:
        mark = ' <span class="why-most">moved it most</span>' if s["moved_most"] else ""
        items.append(f'<li class="why-sentence{" moved-most" if s["moved_most"] else ""}">'
                     f'<div>Without “{escape(s["text"])}”{mark}</div><div class="why-change">{_change(s)}</div></li>')
    return f'<p class="why-sub">Each instruction sentence left out in turn:</p><ol class="why-sentences">{"".join(items)}</ol>'


def render_why(out: dict) -> str:
    """The panel for one explanation (the dict of demo.explain)."""
    body = _terms(out) if out["method"] == "terms" else _sentences(out)
    return (f'<div class="why" role="region" aria-label="Why here" data-method="{escape(out["method"])}">'
            f'{_head(out)}{body}<p class="why-note">{escape(out["note"])}</p></div>')


def render_why_error(message: str) -> str:
    return (f'<div class="why" role="region" aria-label="Why here"><div class="why-head"><b>Why here?</b>'
            f'<button type="button" class="why-close" aria-label="Close (Esc)" title="Close (Esc)">×</button></div>'
            f'{render_error(message)}</div>')


def explain_html(explorer, request: str, dataset: str, text: str, state: dict) -> str:
    """The handler: the request from the page ({"retriever", "doc"}), the instance in the
    session's state and the editor's text, through the service."""
    info = (state or {}).get("instance")
    try:
        req = json.loads(request or "{}")
        if not info or not req.get("retriever") or not req.get("doc"):
            return render_why_error("Nothing to explain yet: pick a result first.")
        return render_why(explorer.explain(dataset, info["instance_id"], text, req["retriever"], req["doc"]))
    except (UserError, ValueError) as e:
        return render_why_error(str(e))


def build(explorer, dataset: gr.components.Component, instruction: gr.components.Component, state: gr.State) -> None:
    """The panel and its two hidden parts; call inside the Explore tab's layout."""
    panel = gr.HTML(elem_id="why-panel", container=False)
    request = gr.Textbox(visible="hidden", elem_id="why-request")
    go = gr.Button(visible="hidden", elem_id="why-go")
    go.click(None, None, [request, panel], js=START_JS, **PRIVATE).then(
        bind(explain_html, explorer), [request, dataset, instruction, state], panel,
        show_progress="hidden", **PRIVATE)
