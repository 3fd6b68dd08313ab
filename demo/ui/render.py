"""HTML for the rankings, summary and side panels. Every user or data text is escaped with
html.escape before it is placed in markup; nothing from a user ever becomes markup."""
from __future__ import annotations

import re
from html import escape

from demo.data.lexical import content_words
from demo.published import ROWS, for_model
from demo.compare import MEASURES

PRESENT_COLUMNS, PRESENT_TOP = 3, 5  # what presenter mode shows (demo.ui.present)

WORD = re.compile(r"(\w[\w']*)")
SNIPPET_WORDS = 45


def highlight(text: str, query_terms: set[str], instruction_terms: set[str]) -> str:
    """Escape text and mark query terms and instruction terms in two colours."""
    out = []
    for piece in WORD.split(text):
        low = piece.lower()
        if low in query_terms:
            out.append(f'<mark class="hq">{escape(piece)}</mark>')
        elif low in instruction_terms:
            out.append(f'<mark class="hi">{escape(piece)}</mark>')
        else:
            out.append(escape(piece))
    return "".join(out)


def _snippet(text: str) -> str:
    words = text.split()
    return " ".join(words[:SNIPPET_WORDS]) + (" …" if len(words) > SNIPPET_WORDS else "")


def shift_badge(card: dict, k: int) -> str:
    """How far the doc moved against the original instruction; nothing when it did not move
    (an "=" on every card before any edit was noise)."""
    was = card["original_rank"]
    if was is None or was > k:
        where = f"#{was}" if was is not None else "not retrieved"
        return f'<span class="shift new" title="was {where} with the original instruction">new</span>'
    s = card["shift"]
    if s > 0:
        return f'<span class="shift up" title="was #{card["original_rank"]}">↑{s}</span>'
    if s < 0:
        return f'<span class="shift down" title="was #{card["original_rank"]}">↓{-s}</span>'
    return ""


def render_card(card: dict, text: str, k: int, terms: tuple[set, set], focusable: bool = False) -> str:
    """One result. Cards are reached with the arrow keys inside a column (one tab stop per
    column, see layout.PAGE_JS); the full-passage toggle and the "why here?" button (W on a focused
    card, demo.ui.why) are not tab stops of their own."""
    badges = ""
    if card["is_target"]:
        badges += '<span class="badge target" title="the passage this text asks for">TARGET</span>'
    elif card["is_sibling"]:
        owner = card.get("sibling_of") or "another user"
        badges += (f'<span class="badge sibling" title="{escape(owner, quote=True)}\'s target: right query, other user">'
                   f'SIBLING · {escape(owner)}</span>')
    cls = "card" + (" is-target" if card["is_target"] else " is-sibling" if card["is_sibling"] else "")
    return (f'<div class="{cls}" data-doc="{escape(card["doc_id"], quote=True)}" tabindex="{0 if focusable else -1}">'
            f'<div class="card-head"><span class="rank">#{card["rank"]}</span>{shift_badge(card, k)}'
            f'<span class="doc-id">{escape(card["doc_id"])}</span>{badges}'
            f'<span class="score">{card["score"]:.3f}</span></div>'
            f'<div class="snippet">{highlight(_snippet(text), *terms)}</div>'
            f'<button type="button" class="why-btn" tabindex="-1" title="Why is this passage here? (W on a focused result)">'
            f'why here?</button><details class="full"><summary tabindex="-1">full passage</summary><div>{highlight(text, *terms)}</div>'
            f'</details></div>')


def render_rankings(result: dict, docs, query: str, instruction: str) -> str:
    """One column per retriever, each with data-retriever="<id>". The columns are rows of one
    grid (CSS subgrid), so headers share a height and rank n sits level in every column; on a
    phone they scroll sideways one at a time, with a button per column above them."""
    k = result["k"]
    q_terms = content_words(query)
    terms = (q_terms, content_words(instruction) - q_terms)
    cols, nav = [], []
    for n, (rid, r) in enumerate(result["retrievers"].items()):
        col_id = f"col-{n}"
        nav.append(f'<button type="button" class="col-goto" data-goto="{col_id}">{escape(r["label"])}</button>')
        head = (f'<div class="col-title" title="{escape(r["label"], quote=True)} ({escape(rid, quote=True)})">'
                f'{escape(r["label"])} <code>{escape(rid)}</code></div>')
        if "error" in r:
            cols.append(f'<section class="col error" id="{col_id}" data-retriever="{escape(rid, quote=True)}">'
                        f'<div class="col-head">{head}</div>'
                        f'<div class="col-error">⚠ {escape(r["error"])}</div></section>')
            continue
        tr, otr = r["target_rank"], r["original_target_rank"]
        where = f"#{tr}" if tr is not None else "not retrieved"
        moved = "" if tr == otr else f' <span class="was">(was {f"#{otr}" if otr is not None else "not retrieved"})</span>'
        if tr is None and not r["encoded"].strip():
            below = '<div class="below">Nothing to encode for this retriever, so nothing was retrieved.</div>'
        elif tr is None:
            below = '<div class="below">The target was not retrieved (it shares no term with the input).</div>'
        elif tr > k:
            below = f'<div class="below">Target is at #{tr}, below the top {k}.</div>'
        elif tr > PRESENT_TOP:  # presenter mode shows the top 5 only: say where the target is
            below = f'<div class="below below-top">Target at #{tr}, below the top {PRESENT_TOP} shown.</div>'
        else:
            below = '<div class="below"></div>'
        cards = "".join(render_card(c, docs[c["doc_id"]].text, k, terms, focusable=i == 0)
                        for i, c in enumerate(r["ranking"]))
        cols.append(
            f'<section class="col" id="{col_id}" data-retriever="{escape(rid, quote=True)}" '
            f'aria-label="{escape(r["label"], quote=True)}: use the arrow keys to move between results, W to ask why one is here">'
            f'<div class="col-head">{head}'
            f'<div class="col-metrics"><span>nDCG@{k} <b class="ndcg">{100 * r["ndcg"]:.1f}</b></span>'
            f'<span>target <b class="trank">{where}</b>{moved}</span>{_pmrr(r)}</div></div>'
            f'{_note(r)}'
            f'<details class="encoded"><summary>encoded text</summary><pre>{escape(r["encoded"])}</pre></details>'
            f'{cards}{below}</section>')
    rows = 3 + max((len(r.get("ranking", [])) for r in result["retrievers"].values()), default=0)
    hidden = list(result["retrievers"])[PRESENT_COLUMNS:]
    more = (f'<div class="more-cols" role="note">+{len(hidden)} more: {escape(", ".join(hidden))} '
            f'(leave presenter mode to see {"it" if len(hidden) == 1 else "them"})</div>' if hidden else "")
    return (f'<div class="rankings-wrap">{more}<nav class="col-nav" aria-label="Show one column">{"".join(nav)}</nav>'
            f'<div class="columns" style="--rows:{rows}">{"".join(cols)}</div></div>')


def _note(r: dict) -> str:
    """A column's caveat, e.g. a run file that has no ranking for edited text."""
    return f'<div class="col-note">{escape(r["note"])}</div>' if r.get("note") else ""


def _pmrr(r: dict) -> str:
    if "p_mrr" not in r:
        return ""
    v = 100 * r["p_mrr"]
    cls = "up" if v > 0 else "down" if v < 0 else "same"
    gone = r.get("lost_target")
    where = f" (#{gone['original_rank']} → #{gone['rank']})" if gone else ""
    return (f'<span title="p-MRR of the previous target{where}, whose relevance this text takes away: '
            f'positive when it moves down, as it should">p-MRR <b class="pmrr {cls}">{v:+.0f}</b></span>')


def _at(rank: int | None) -> str:
    return f"#{rank}" if rank is not None else "not retrieved"


def _graded_note(result: dict) -> str:
    """Whose target the numbers grade against, when it is not the instance's own."""
    if result["graded_against"] == result["instance_id"]:
        return ""
    who = result["graded_against"] + (f" ({result['graded_persona']})" if result.get("graded_persona") else "")
    why = "as chosen" if result["graded_chosen"] else "whose instruction the editor holds"
    return f"Graded against the target of {who}, {why}. "


def _moves(results: dict, changed: bool) -> str:
    """One sentence per edit: how each retriever's target rank moved."""
    if not changed:
        return "Original instruction: " + "; ".join(
            f"{rid}: target {'at ' if r['target_rank'] else ''}{_at(r['target_rank'])}"
            for rid, r in results.items() if "error" not in r) + "."
    parts = []
    for rid, r in results.items():
        if "error" in r:
            parts.append(f"{rid}: unavailable")
            continue
        old, new = r["original_target_rank"], r["target_rank"]
        ignores = rid.endswith("@query")
        pm = f" (p-MRR {100 * r['p_mrr']:+.0f})" if "p_mrr" in r else ""
        gone = r.get("lost_target")
        if gone and gone["regraded"]:  # the target above is another user's; say where this one's went
            moved = gone["original_rank"] != gone["rank"]
            pm = f" (old target #{gone['original_rank']} → #{gone['rank']}, p-MRR {100 * r['p_mrr']:+.0f})" if moved else ""
        if new is None and not r["encoded"].strip():
            parts.append(f"{rid}: nothing to encode, nothing retrieved (target was {_at(old)})")
        elif old == new is None:
            parts.append(f"{rid}: target still not retrieved{pm}")
        elif old == new:
            parts.append(f"{rid} unchanged at {_at(new)}" + (" (it ignores the instruction)" if ignores else "") + pm)
        elif new is None or old is None:
            parts.append(f"{rid}: target {_at(old)} before, {_at(new)} now{pm}")
        else:
            parts.append(f"{rid}: target {'rose' if new < old else 'fell'} from #{old} to #{new}{pm}")
    return "; ".join(parts) + "."


def summarize(result: dict) -> str:
    """The sentences above the columns for a result of Explorer.rank: whose target grades the
    numbers (when not the instance's own), then how each retriever's target rank moved. Reads
    `changed` (the text differs from the instance's own) and `graded_chosen` (another instance's
    target was picked in "Grade against"), never a `summary` key."""
    return _graded_note(result) + _moves(result["retrievers"], result["changed"])


def render_summary(result: dict) -> str:
    """The summary panel: result["summary"] holds summarize(result) (the caller sets it, see
    demo.ui.explore.columns), with a line on p-MRR when the target lost its relevance."""
    lost = result.get("relevance_lost")
    if not lost:
        note = ""
    elif result.get("graded_against", result.get("instance_id")) != result.get("instance_id"):
        note = (f'<div class="legend">Badges, nDCG and ranks grade against {escape(result["graded_against"])}\'s '
                f'target; p-MRR: where {escape(result["instance_id"])}\'s own target went (&gt; 0: pushed down, as it should be).</div>')
    else:
        note = (f'<div class="legend">The editor holds {escape(lost)}: the target is no longer what this text '
                f'asks for, so a retriever that follows instructions should push it down (p-MRR &gt; 0).</div>')
    return f'<div class="summary">{escape(summarize(result))}</div>{note}'



def render_unavailable(models) -> str:
    """Registry models that cannot load here: listed, disabled, with the reason."""
    items = "".join(
        f'<label class="unavailable" title="{escape(reason, quote=True)}"><input type="checkbox" disabled> '
        f'{escape(mid)} <small>— {escape(reason)}</small></label>'
        for mid, _, reason in models if reason)
    n = sum(1 for *_, reason in models if reason)
    return (f'<details class="unavailable-list"><summary>{n} more models unavailable here</summary>'
            f'{items}</details>') if items else ""


def render_error(message: str) -> str:
    return f'<div class="app-error">⚠ {escape(message)}</div>'


def is_instructir(dataset: str) -> bool:
    return "instructir" in dataset.lower()


def _published_cell(row) -> str:
    """A published figure with its exact model, size and source in the title (hover) text."""
    return (f'<td title="{escape(row.title, quote=True)}">{row.ndcg10:.1f} / {row.robustness10:.1f} '
            f'({escape(row.label)})</td>')


def render_scoreboard(board: dict, dataset: str) -> str:
    """Live dataset-level figures per retriever; published InstructIR figures beside them when
    the dataset is InstructIR (demo.published, with their sources). The instruction-blind floor
    is computed here, never a published figure."""
    k = board["k"]
    show = is_instructir(dataset)
    head = f"<tr><th>retriever</th><th>nDCG@{k}</th><th>Robustness@{k}</th>" + \
           ("<th>published nDCG@10 / R@10</th>" if show else "") + "</tr>"
    rows = []
    for rid, m in board["retrievers"].items():
        pub = for_model(rid) if show else None
        cell = _published_cell(pub) if pub else ("<td>–</td>" if show else "")
        rows.append(f"<tr><td><code>{escape(rid)}</code></td><td>{100 * m[f'ndcg@{k}']:.1f}</td>"
                    f"<td>{100 * m[f'robustness@{k}']:.1f}</td>{cell}</tr>")
    f = board["floor"]
    floor_cell = ('<td title="computed by this project from the qrels (demo.metrics.floor)">computed here, '
                  'not published</td>') if show else ""
    rows.append(f"<tr class=\"floor\"><td>instruction-blind floor (computed)</td><td>{100 * f[f'ndcg@{k}']:.1f}</td>"
                f"<td>{100 * f[f'robustness@{k}']:.1f}</td>{floor_cell}</tr>")
    others = ", ".join(f'<span title="{escape(r.title, quote=True)}">{escape(r.label)}'
                       f'{f" [{escape(r.size)}]" if r.size else ""} {r.ndcg10:.1f}/{r.robustness10:.1f}</span>'
                       for r in ROWS)
    sources = "; ".join(dict.fromkeys(r.source for r in ROWS))
    note = ("" if show else "<p class=\"legend\">Published figures are on InstructIR; this dataset is "
            f"{escape(dataset)}, so they are listed for reference only.</p>")
    return (f'<table class="scoreboard">{head}{"".join(rows)}</table>{note}'
            f'<p class="legend">Published on InstructIR (nDCG@10/Robustness@10; {escape(sources)}; hover a figure '
            f'for the exact model and source): {others}. The instruction-blind floor is computed by this project, '
            f'not published. Reproduce the live figures with <code>python -m demo evaluate --dataset {escape(dataset)} '
            f'--retrievers {escape(",".join(board["retrievers"]))} --k {k}</code>.</p>')


def render_pairwise(comparison) -> str:
    """Per system nDCG@k and Robustness@k with 95% CIs and ranx-style marks, then per pair the
    difference and p-values (demo.compare.Comparison). Every name is escaped."""
    head = "<tr><th></th><th>retriever</th>" + "".join(
        f"<th>{comparison.label(m)}</th><th>95% CI</th>" for m in MEASURES) + "</tr>"
    rows = []
    for s in comparison.systems:
        cells = "".join(f"<td>{100 * s.value(m):.1f}<sup>{escape(''.join(s.better(m)))}</sup></td>"
                        f"<td>[{100 * s.ci(m).low:.1f}, {100 * s.ci(m).high:.1f}]</td>" for m in MEASURES)
        rows.append(f"<tr><td>{s.letter}</td><td><code>{escape(s.name)}</code></td>{cells}</tr>")

    def p(v: float) -> str:
        return "n/a" if v != v else "&lt;0.0001" if v < 0.0001 else f"{v:.4f}"
    marked = ' class="significant"'
    pairs = "".join(
        f"<tr{marked if t.p_holm < comparison.alpha else ''}><td><code>{escape(t.a)}</code></td>"
        f"<td><code>{escape(t.b)}</code></td><td>{comparison.label(t.measure)}</td><td>{100 * t.delta:+.1f}</td>"
        f"<td>{p(t.p_randomization)}</td><td>{p(t.p_ttest)}</td><td>{p(t.p_holm)}</td></tr>" for t in comparison.pairs)
    return (f'<table class="scoreboard pairwise-systems">{head}{"".join(rows)}</table>'
            f'<table class="scoreboard pairwise"><tr><th>A</th><th>B</th><th>measure</th><th>Δ (A − B)</th>'
            f'<th>p randomization</th><th>p t-test</th><th>p Holm</th></tr>{pairs}</table>'
            f'<p class="legend">Superscripts: the retrievers a figure is significantly better than (Holm-adjusted '
            f'randomization p &lt; {comparison.alpha}). nDCG@{comparison.k} is compared per instance, Robustness@'
            f'{comparison.k} per base query; 95% CIs bootstrap base queries ({comparison.resamples:,} resamples). '
            f'The same with <code>python -m demo compare</code>.</p>')
