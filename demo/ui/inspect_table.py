"""The Inspect tab's table: which rows a view shows and in what order (filters per system, the
contrast of two systems, "instruction hurts"), one page of them as Dataframe rows, and the HTML
around the table. Pure functions of Explorer.inspect's rows (benchmarks/app_full.py times them)."""
from __future__ import annotations

from html import escape

import gradio as gr

from demo.errors import UserError
from demo.inspection import (OUTCOME_HELP, SORTS, contrast, filter_rows, instruction_hurts, outcome_counts, sort_rows,
                             worst_per_query)
from demo.retrievers import ids as rids
from demo.retrievers.registry import parse_id
from demo.retrievers.ids import is_run
from demo.ui.render import render_error

PAGE = 50
ALL = "(all base queries)"
VIEWS = ["all instances", "contrast of A and B (most disagreement first)",
         "instruction hurts A (A worse than A@query)"]


def query_variant(rid: str) -> str | None:
    """R@query for a live model or a fusion of two; None for a run file (no instruction-free
    twin), a reranker or an id that does not parse."""
    if is_run(rid):
        return None
    try:
        ref = parse_id(rid)
    except UserError:
        return None
    if isinstance(ref, rids.Single):
        return rids.Single(ref.model_id, "query").id
    if isinstance(ref, rids.Fusion) and all(isinstance(p, rids.Single) for p in ref.parts):
        return rids.Fusion(tuple(rids.Single(p.model_id, "query") for p in ref.parts), ref.k).id
    return None


def table_retrievers(selected, a, view) -> list[str]:
    ids = list(dict.fromkeys(selected or []))
    if view == VIEWS[2] and a and query_variant(a) and query_variant(a) not in ids:
        ids.append(query_variant(a))
    return ids


def view_rows(rows, a, a_out, b, b_out, view, query, text, worst, sort):
    """The rows to show, in order: filters, then the view's order."""
    rows = filter_rows(rows, {r: o for r, o in ((a, a_out), (b, b_out)) if r}, None if query in (None, ALL) else query,
                       text)
    if worst and a:
        rows = worst_per_query(rows, a)
    if view == VIEWS[1] and a and b:
        return contrast(rows, a, b)
    if view == VIEWS[2] and a and query_variant(a):
        return instruction_hurts(rows, a, query_variant(a))
    return sort_rows(rows, sort or SORTS[0], a)


def page_table(view: dict, a: str | None, b: str | None, session_notes: dict) -> tuple[dict, str]:
    """One page of the view as Dataframe rows, and the label under it."""
    ids, page = view.get("ids", []), view.get("page", 0)
    rows = view.get("rows", {})
    systems = [r for r in (a, b) if r]
    head = ["instance", "base query"]
    for rid in systems:
        head += [f"{rid} rank", f"{rid} nDCG", f"{rid} outcome", f"{rid} top doc"]
    with_delta = bool(ids) and "delta" in rows[ids[0]]
    head += (["Δ nDCG"] if with_delta else []) + ["note"]
    data = []
    for iid in ids[page * PAGE:(page + 1) * PAGE]:
        row = rows[iid]
        line = [iid, row["query"]]
        for rid in systems:
            c = row["retrievers"].get(rid)
            line += ["–", "", "not in the run", ""] if c is None else [
                c["target_rank"] if c["target_rank"] is not None else "–", f"{100 * c['ndcg']:.0f}", c["outcome"],
                c["top_doc"] or ""]
        if with_delta:
            line.append(f"{100 * row['delta']:+.0f}")
        note = session_notes.get(iid)
        line.append(f"[{note['tag'] or 'note'}] {note['text']}".strip() if note else "")
        data.append(line)
    pages = max(1, -(-len(ids) // PAGE))
    label = (f"rows {page * PAGE + 1}–{min(len(ids), (page + 1) * PAGE)} of {len(ids):,} · page {page + 1} of {pages}"
             if ids else "no instance matches")
    return gr.update(value={"headers": head, "data": data or [[""] * len(head)]}), label


def summary_html(result: dict, shown: int, a: str | None, b: str | None) -> str:
    rows = result["rows"]
    parts = []
    for rid in [r for r in (a, b) if r]:
        counts = outcome_counts(rows, rid)
        covered = sum(counts.values())
        chips = " · ".join(f'<span title="{escape(OUTCOME_HELP[o], quote=True)}">{escape(o)} <b>{n}</b></span>'
                           for o, n in counts.items())
        cover = f" (covers {covered:,} of {len(rows):,})" if covered < len(rows) else ""
        parts.append(f"<div><code>{escape(rid)}</code>{escape(cover)}: {chips}</div>")
    errors = "".join(render_error(f"{rid}: {msg}") for rid, msg in result["errors"].items())
    return (f'<div class="legend">{shown:,} of {len(rows):,} instances shown, outcome at k={result["k"]}</div>'
            + "".join(parts) + errors)


def instance_html(row: dict, k: int) -> str:
    cells = "".join(
        f"<li><code>{escape(rid)}</code>: {escape(c['outcome'])}, target "
        f"{'#' + str(c['target_rank']) if c['target_rank'] is not None else 'not retrieved'}, "
        f"nDCG@{k} {100 * c['ndcg']:.0f}, first <code>{escape(c['top_doc'] or '–')}</code></li>"
        for rid, c in row["retrievers"].items())
    return (f'<div class="inspect-instance"><b>{escape(row["instance_id"])}</b> · {escape(row["query"])}'
            f'<div class="legend">{escape(row["instruction"])}</div>'
            f'<div class="legend">target <code>{escape(", ".join(row["targets"]))}</code></div><ul>{cells}</ul></div>')
