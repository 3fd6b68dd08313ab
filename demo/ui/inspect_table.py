"""The Inspect tab's table: which rows a view shows and in what order (outcomes at a chosen depth,
filters per system, conditions such as "A's target below B's", search over notes, the signed
contrast of two systems, "instruction hurts"), one page of them as Dataframe rows, why a view is
empty, and the HTML around the table (the chosen row, its target beside the passage that beat it).
Pure functions of Explorer.inspect's rows (benchmarks/app_full.py times them)."""
from __future__ import annotations

from html import escape

import gradio as gr

from demo.errors import UserError
from demo.inspection import (ANY_NOTE, BELOW, NO_NOTE, NOT_FIRST, OUTCOME_HELP, SIBLING, SIBLING_ABOVE, SORTS,
                             at_depth, beaten_by, contrast, filter_rows, instruction_hurts, outcome_counts, sort_rows,
                             worst_per_query)
from demo.notes import TAGS
from demo.retrievers import ids as rids
from demo.retrievers.registry import parse_id
from demo.retrievers.ids import is_run
from demo.ui.render import render_error

PAGE = 50
ALL = "(all base queries)"
ALL_VIEW, A_WORSE, B_WORSE, HURTS = ("all instances", "contrast: A worse than B first (signed Δ nDCG)",
                                     "contrast: B worse than A first (signed Δ nDCG)",
                                     "instruction hurts A (A worse than A@query)")
VIEWS = [ALL_VIEW, A_WORSE, B_WORSE, HURTS]
DEPTH_K = "k"
DEPTHS = [("k (as nDCG)", DEPTH_K), ("1", "1"), ("3", "3"), ("5", "5"), ("10", "10")]
ANY_TAG = "(any or none)"
TAG_CHOICES = [ANY_TAG, ANY_NOTE, NO_NOTE, *TAGS]
# "Only where" conditions: (check of demo.inspection.CHECKS, the system it is about, the other one)
CONDITIONS = {"A's target below B's": (BELOW, "a", "b"), "B's target below A's": (BELOW, "b", "a"),
              "A's target not at #1": (NOT_FIRST, "a"), "B's target not at #1": (NOT_FIRST, "b"),
              "a sibling's target above A's": (SIBLING_ABOVE, "a"),
              "a sibling's target above B's": (SIBLING_ABOVE, "b")}


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
    if view == HURTS and a and query_variant(a) and query_variant(a) not in ids:
        ids.append(query_variant(a))
    return ids


def depth_of(depth, k: int) -> int:
    """The outcome depth a choice of DEPTHS means (DEPTH_K or nothing: the table's k)."""
    return k if depth in (None, "", DEPTH_K) else int(depth)


def _checks(conditions, a, b) -> list[tuple[str, tuple]]:
    """The ticked conditions as checks on retriever ids; one that names a missing system is left out."""
    named = {"a": a, "b": b}
    out = []
    for label in conditions or []:
        name, *who = CONDITIONS[label]
        systems = tuple(named[w] for w in who)
        if all(systems) and len(set(systems)) == len(systems):
            out.append((label, (name, *systems)))
    return out


def _steps(a, a_out, b, b_out, query, text, worst, conditions, notes, tag, depth_label):
    """The view's filters in order, each (what it keeps, rows -> rows): the empty view says which
    of them left nothing."""
    steps = []
    if query not in (None, "", ALL):
        steps.append((f"base query {query}", lambda rs: filter_rows(rs, query_id=query)))
    if (text or "").strip():
        steps.append((f"search “{text.strip()}” (id, query, instruction, note)",
                      lambda rs: filter_rows(rs, text=text, notes=notes)))
    if tag not in (None, "", ANY_TAG):
        steps.append((f"note tag {tag}", lambda rs: filter_rows(rs, notes=notes, tag=tag)))
    for rid, out in ((a, a_out), (b, b_out)):
        if rid and out:
            steps.append((f"{rid} outcome {' or '.join(out)} {depth_label}",
                          lambda rs, rid=rid, out=out: filter_rows(rs, {rid: out})))
    for label, check in _checks(conditions, a, b):
        steps.append((label.replace("A's", f"{a}'s").replace("B's", f"{b}'s"),
                      lambda rs, check=check: filter_rows(rs, checks=[check])))
    if worst and a:
        steps.append((f"the worst instance of each query by {a}", lambda rs: worst_per_query(rs, a)))
    return steps


def view_rows(rows, a, a_out, b, b_out, view, query, text, worst, sort, *, depth=None, conditions=(), notes=None,
              tag=None):
    """The rows to show, in order: outcomes at `depth` (None: the table's k), filters, then the
    view's order."""
    rows = at_depth(rows, depth)
    for _, keep in _steps(a, a_out, b, b_out, query, text, worst, conditions, notes, tag, ""):
        rows = keep(rows)
    if view in (A_WORSE, B_WORSE) and a and b:
        return contrast(rows, a, b, worse="a" if view == A_WORSE else "b")
    if view == HURTS and a and query_variant(a):
        return instruction_hurts(rows, a, query_variant(a))
    return sort_rows(rows, sort or SORTS[0], a)


def why_empty(rows, a, a_out, b, b_out, view, query, text, worst, *, depth=None, k=10, conditions=(), notes=None,
              tag=None) -> str:
    """Why a view shows no instance: each filter and how many instances were left after it."""
    if not rows:
        return "The dataset has no instances."
    depth_label = f"at depth {depth or k}"
    left, said = at_depth(rows, depth), [f"{len(rows):,} instances"]
    for label, keep in _steps(a, a_out, b, b_out, query, text, worst, conditions, notes, tag, depth_label):
        left = keep(left)
        said.append(f"{label}: {len(left):,}")
        if not left:
            break
    if left:  # the filters left rows: the view's own rule emptied them
        if view in (A_WORSE, B_WORSE):
            return f"The contrast needs two systems that both cover an instance ({a or '–'} and {b or '–'})."
        if view == HURTS:
            return (f"{a} never does worse with its instruction than without it here." if a and query_variant(a)
                    else f"{a or 'System A'} has no instruction-free twin (a run file or a reranker).")
    hint = " Untick an outcome or a condition, clear the search, or try another depth." if len(said) > 1 else ""
    return "No instance matches: " + " → ".join(said) + "." + hint


def headers(systems, k: int, depth: int, with_delta: bool) -> list[str]:
    head = ["instance", "query"]
    for rid in systems:
        head += [f"{rid} rank", f"{rid} nDCG@{k}", f"{rid} outcome@{depth}", f"{rid} first"]
    return head + (["Δ nDCG"] if with_delta else []) + ["note"]


def page_table(view: dict, a: str | None, b: str | None, session_notes: dict) -> tuple[dict, str]:
    """One page of the view as Dataframe rows, and the label under it. An empty view hides the
    table (the page says why it is empty instead of showing a blank table)."""
    ids, page = view.get("ids", []), view.get("page", 0)
    rows = view.get("rows", {})
    systems = [r for r in (a, b) if r]
    with_delta = bool(ids) and "delta" in rows[ids[0]]
    k = view.get("k", 10)
    head = headers(systems, k, view.get("depth") or k, with_delta)
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
             if ids else "")
    if not data:
        return gr.update(value={"headers": head, "data": [[""] * len(head)]}, visible=False), label
    return gr.update(value={"headers": head, "data": data}, visible=True), label


def empty_html(message: str) -> str:
    return f'<div class="inspect-empty" role="status">{escape(message)}</div>' if message else ""


def summary_html(result: dict, shown: int, a: str | None, b: str | None, depth: int | None = None) -> str:
    k = result["k"]
    depth = depth or k
    rows = at_depth(result["rows"], depth)
    parts = []
    for rid in [r for r in (a, b) if r]:
        counts = outcome_counts(rows, rid)
        covered = sum(counts.values())
        chips = " · ".join(f'<span title="{escape(OUTCOME_HELP[o], quote=True)}">{escape(o)} <b>{n}</b></span>'
                           for o, n in counts.items())
        cover = f" (covers {covered:,} of {len(rows):,})" if covered < len(rows) else ""
        parts.append(f"<div><code>{escape(rid)}</code>{escape(cover)}: {chips}</div>")
    errors = "".join(render_error(f"{rid}: {msg}") for rid, msg in result["errors"].items())
    at = f"outcome at depth {depth}, nDCG@{k}" if depth != k else f"outcome at k={k}"
    return f'<div class="legend">{shown:,} of {len(rows):,} instances shown, {at}</div>' + "".join(parts) + errors


def instance_html(row: dict, k: int, depth: int | None = None) -> str:
    depth = depth or k
    cells = "".join(
        f"<li><code>{escape(rid)}</code>: {escape(c['outcome'])} at depth {depth}, target "
        f"{'#' + str(c['target_rank']) if c['target_rank'] is not None else 'not retrieved'}, "
        f"nDCG@{k} {100 * c['ndcg']:.0f}, first <code>{escape(c['top_doc'] or '–')}</code></li>"
        for rid, c in row["retrievers"].items())
    return (f'<div class="inspect-instance"><b>{escape(row["instance_id"])}</b> · {escape(row["query"])}'
            f'<div class="legend">{escape(row["instruction"])}</div>'
            f'<div class="legend">target <code>{escape(", ".join(row["targets"]))}</code></div><ul>{cells}</ul></div>')


def pair(row: dict, rid: str) -> tuple[str | None, str | None]:
    """The target and the passage that beat it under `rid` (doc ids; None where there is none)."""
    cell = row["retrievers"].get(rid)
    if cell is None:
        return None, None
    beat = beaten_by(cell)
    return (row["targets"][0] if row["targets"] else None), (beat[0] if beat else None)


def pair_html(row: dict, rid: str | None, docs: dict, owners: dict) -> str:
    """The instance's target beside the passage that beat it under `rid`, each with its rank and
    text. `docs`: doc id -> Document; `owners`: sibling target -> the instance it is the target of."""
    cell = row["retrievers"].get(rid) if rid else None
    if cell is None:
        return empty_html(f"{rid or 'This system'} has no ranking for {row['instance_id']}.") if rid else ""
    target = row["targets"][0] if row["targets"] else None
    beat = beaten_by(cell)
    where = f"#{cell['target_rank']}" if cell["target_rank"] is not None else "not retrieved"

    def card(doc_id, head, cls):
        doc = docs.get(doc_id)
        title = f"<b>{escape(doc.title)}</b> " if doc is not None and doc.title else ""
        text = escape(doc.text) if doc is not None else ""
        return (f'<div class="pair-doc {cls}" data-doc="{escape(doc_id, quote=True)}"><div class="pair-head">{head}</div>'
                f'<div class="pair-text">{title}{text}</div></div>')

    left = card(target, f'<span class="badge target">TARGET</span> <code>{escape(target)}</code> · {where} '
                        f'in <code>{escape(rid)}</code>', "pair-target") if target else ""
    if beat is None:
        right = (f'<div class="pair-doc pair-none"><div class="pair-head">Nothing beat it: the target is first in '
                 f'<code>{escape(rid)}</code>.</div></div>' if cell["target_rank"] == 1 else
                 '<div class="pair-doc pair-none"><div class="pair-head">Nothing was retrieved.</div></div>')
    else:
        doc_id, rank, what = beat
        said = (f'<span class="badge sibling">SIBLING</span> the target of {escape(owners.get(doc_id, "another user"))}'
                if what == SIBLING else
                '<span class="badge generic">GENERIC</span> the untailored passage' if what != "first" else
                "ranked first")
        right = card(doc_id, f'{said} <code>{escape(doc_id)}</code> · #{rank}', "pair-beat")
    return f'<div class="inspect-pair" role="group" aria-label="The target and the passage that beat it">{left}{right}</div>'
