"""HTML for the rankings, summary and side panels. Every user or data text is escaped with
html.escape before it is placed in markup; nothing from a user ever becomes markup."""
from __future__ import annotations

import re
from html import escape

from demo.data.lexical import content_words

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
        else:
            below = f'<div class="below">Target is at #{tr}, below the top {k}.</div>' if tr > k else \
                '<div class="below"></div>'
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
    return (f'<div class="rankings-wrap"><nav class="col-nav" aria-label="Show one column">{"".join(nav)}</nav>'
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


# Published InstructIR figures (nDCG@10, Robustness@10; Promptriever paper, Table 2), by model id.
PUBLISHED = {"bm25": ("BM25", 76.0, 26.9), "e5-mistral-7b-instruct": ("E5-Mistral", 86.3, 55.4),
             "promptriever-llama3.1-8b-instruct": ("Promptriever", 92.1, 63.1)}
PUBLISHED_OTHERS = [("TART-Contriever", 84.8, 47.5), ("Instructor-XL", 48.6, 21.5), ("RepLLaMA", 85.7, 50.2),
                    ("FollowIR-7B (reranker)", 81.3, 71.5)]


def is_instructir(dataset: str) -> bool:
    return "instructir" in dataset.lower()


def render_scoreboard(board: dict, dataset: str) -> str:
    """Live dataset-level figures per retriever; published InstructIR figures beside them when
    the dataset is InstructIR."""
    k = board["k"]
    show = is_instructir(dataset)
    head = f"<tr><th>retriever</th><th>nDCG@{k}</th><th>Robustness@{k}</th>" + \
           ("<th>published nDCG@10 / R@10</th>" if show else "") + "</tr>"
    rows = []
    for rid, m in board["retrievers"].items():
        pub = PUBLISHED.get(rid) if show else None
        cell = f"<td>{pub[1]:.1f} / {pub[2]:.1f} ({escape(pub[0])})</td>" if pub else ("<td>–</td>" if show else "")
        rows.append(f"<tr><td><code>{escape(rid)}</code></td><td>{100 * m[f'ndcg@{k}']:.1f}</td>"
                    f"<td>{100 * m[f'robustness@{k}']:.1f}</td>{cell}</tr>")
    f = board["floor"]
    rows.append(f"<tr class=\"floor\"><td>instruction-blind floor</td><td>{100 * f[f'ndcg@{k}']:.1f}</td>"
                f"<td>{100 * f[f'robustness@{k}']:.1f}</td>{'<td>49.7 / 32.1</td>' if show else ''}</tr>")
    others = ", ".join(f"{escape(n)} {a:.1f}/{b:.1f}" for n, a, b in
                       [v for v in PUBLISHED.values()] + PUBLISHED_OTHERS)
    note = ("" if show else "<p class=\"legend\">Published figures are on InstructIR; this dataset is "
            f"{escape(dataset)}, so they are listed for reference only.</p>")
    return (f'<table class="scoreboard">{head}{"".join(rows)}</table>{note}'
            f'<p class="legend">Published on InstructIR (nDCG@10/Robustness@10, Promptriever paper, Table 2): {others}. '
            f'Reproduce the live figures with <code>python -m demo evaluate --dataset {escape(dataset)} '
            f'--retrievers {escape(",".join(board["retrievers"]))} --k {k}</code>.</p>')
