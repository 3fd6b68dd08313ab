"""The Inspect tab (DESIGN §12): the instance table of the retrievers selected in the picker bar
(and of run files uploaded for this session), filtered per system ("A hit, B sibling"), the
contrast of two systems, the "instruction hurts" view, and notes per instance.

Thin handlers over the service (Explorer.inspect) and the pure helpers of demo.inspection and
demo.notes. Per-session state: the filtered view (gr.State), this session's notes and runs.
A row opens the instance in the Explore tab through explore.pick and explore.live."""
from __future__ import annotations

import os
import tempfile
from html import escape
from pathlib import Path

import gradio as gr

from demo import notes
from demo.errors import UserError
from demo.inspection import (OUTCOME_HELP, OUTCOMES, SORTS, contrast, filter_rows, instruction_hurts,
                             outcome_counts, rows_to_csv, sort_rows, worst_per_query)
from demo.retrievers import ids as rids
from demo.retrievers.registry import parse_id
from demo.runs import load_bytes
from demo.service import Explorer
from demo.settings import public_mode
from demo.ui.controls import Bar, retriever_choices
from demo.ui.render import render_error

PRIVATE = dict(api_visibility="private")
PAGE = 50
MAX_RUN_BYTES = 100 * 2**20
ALL = "(all base queries)"
VIEWS = ["all instances", "contrast of A and B (most disagreement first)",
         "instruction hurts A (A worse than A@query)"]


def query_variant(rid: str) -> str | None:
    """R@query for a live model or a fusion of two; None for a run file (no instruction-free
    twin), a reranker or an id that does not parse."""
    if rids.is_run(rid):
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


def build(explorer: Explorer, bar: Bar, explore, tabs: gr.Tabs) -> None:
    public = public_mode()

    def folder_of(folder: str | None) -> str:
        return (folder or "").strip() or str(notes.default_folder())

    def session_notes(dataset: str, held: dict, folder: str) -> dict:
        """This dataset's notes: the session's copy, read from the notes folder the first time
        (never in public mode, where notes live only in the session)."""
        held = held or {}
        if held.get("dataset") == dataset and held.get("folder") == folder:
            return held
        loaded = {} if public else notes.load(notes.notes_path(folder, dataset))
        return {"dataset": dataset, "folder": folder, "notes": loaded}

    # ---- handlers ------------------------------------------------------------------------------
    def on_retrievers(selected, a, b):
        ids = list(selected or [])
        a = a if a in ids else (ids[0] if ids else None)
        b = b if b in ids and b != a else next((r for r in ids if r != a), None)
        return gr.update(choices=ids, value=a), gr.update(choices=ids, value=b)

    def compute(dataset, selected, k, runs, a, a_out, b, b_out, view, query, text, worst, sort, held, folder,
                progress=gr.Progress()):
        folder = folder_of(folder)
        ids = table_retrievers(selected, a, view)
        if not ids:
            return {}, held, render_error("Select at least one retriever in the bar above."), gr.update(), "", \
                gr.update()
        progress(0.0, desc="ranking every instance (the first time for a model takes a while)")
        try:  # the bar moves a query at a time (about 15 s for 9,906 instances and four retrievers)
            result = explorer.inspect(dataset, ids, k, runs=runs, progress=lambda what, d, t: progress(
                d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
            bench = explorer.benchmark(dataset)
        except UserError as e:
            return {}, held, render_error(str(e)), gr.update(), "", gr.update()
        held = session_notes(dataset, held, folder)
        rows = view_rows(result["rows"], a, a_out, b, b_out, view, query, text, worst, sort)
        view_state = {"ids": [r["instance_id"] for r in rows], "rows": {r["instance_id"]: r for r in rows},
                      "page": 0, "k": result["k"], "dataset": dataset, "retrievers": ids}
        table, label = page_table(view_state, a, b, held["notes"])
        queries = [ALL] + [(f"{bench.instances[m[0]].query} · {q}", q) for q, m in bench.groups.items()]
        return view_state, held, summary_html(result, len(rows), a, b), table, label, \
            gr.update(choices=queries, value=query if query else ALL)

    def on_page(view, step, a, b, held):
        view = dict(view or {})
        pages = max(1, -(-len(view.get("ids", [])) // PAGE))
        view["page"] = min(max(0, view.get("page", 0) + step), pages - 1)
        table, label = page_table(view, a, b, (held or {}).get("notes", {}))
        return view, table, label

    def on_select(view, held, evt: gr.SelectData):
        row_value = evt.row_value or []
        iid = str(row_value[0]) if row_value else None
        row = (view or {}).get("rows", {}).get(iid)
        if row is None:
            return None, "", gr.update(), gr.update(), ""
        note = (held or {}).get("notes", {}).get(iid, {})
        return iid, instance_html(row, view["k"]), note.get("tag") or None, note.get("text", ""), ""

    def on_open(dataset, iid, order, selected, runs):
        if not iid:
            return (gr.update(),) * (len(explore.picks) + 1)
        # with this session's runs: the query picker may be ordered by one of them
        return tuple(explore.pick(dataset, None, iid, order, selected, runs)) + (gr.Tabs(selected="explore"),)

    def on_save(dataset, iid, tag, text, held, folder, view, a, b):
        folder = folder_of(folder)
        if not iid:
            return held, render_error("Pick a row of the table first."), gr.update()
        try:
            note = notes.make_note(iid, tag, text)
            held = session_notes(dataset, held, folder)
            if not public:
                notes.save(notes.notes_path(folder, dataset), note)
        except UserError as e:
            return held, render_error(str(e)), gr.update()
        held = {**held, "notes": notes.apply(held["notes"], note)}
        where = "kept in this session only (public mode): download them below" if public else \
            f"saved to {notes.notes_path(folder, dataset)}"
        table, _ = page_table(view or {}, a, b, held["notes"])
        return held, f'<div class="legend">Note on {escape(iid)} {escape(where)}.</div>', table

    def on_download(dataset, held, folder, view):
        held = session_notes(dataset, held, folder_of(folder))
        out = Path(tempfile.mkdtemp(prefix="instructir-notes-"))
        files = {"notes.csv": notes.to_csv(held["notes"]), "notes.jsonl": notes.to_jsonl(held["notes"])}
        if view and view.get("ids"):
            rows = [view["rows"][i] for i in view["ids"]]
            files["instances.csv"] = rows_to_csv(rows, view["retrievers"], view["k"], held["notes"])
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
        return held, [str(out / n) for n in files]

    def on_notes_upload(path, dataset, held, folder):
        folder = folder_of(folder)
        if not path:
            return held, ""
        try:
            bench = explorer.benchmark(dataset)
            data = _read_limited(path, MAX_RUN_BYTES)
            incoming = notes.parse(data, Path(path).name, bench.instances)
            held = session_notes(dataset, held, folder)
            if not public:
                notes.save_all(notes.notes_path(folder, dataset), incoming.values())
        except UserError as e:
            return held, render_error(str(e))
        merged = dict(held["notes"])
        for note in incoming.values():
            merged = notes.apply(merged, note)
        return {**held, "notes": merged}, f'<div class="legend">{len(incoming)} notes added.</div>'

    def on_run_upload(path, dataset, runs, selected):
        """A run file for this session: read, checked against the dataset, added to the pickers."""
        if not path:
            return runs, gr.update(), ""
        name = Path(path).name
        try:
            data = _read_limited(path, MAX_RUN_BYTES)
            bench = explorer.benchmark(dataset)
            run = load_bytes(data, bench, name)
        except UserError as e:
            return runs, gr.update(), render_error(str(e))
        runs = {**(runs or {}), run.name: run}
        run_ids = [r.retriever_id for r in explorer.runs(dataset, runs).values()]
        value = list(dict.fromkeys(list(selected or []) + [run.retriever_id]))
        return runs, gr.update(choices=retriever_choices(run_ids), value=value), \
            f'<div class="legend">{escape(run.describe(bench))}; it is now a column in Explore and a system here.</div>'

    # ---- layout ---------------------------------------------------------------------------------------
    gr.Markdown("Every instance of the dataset for the retrievers selected above: where the target landed and "
                "what outranked it. **hit** target in the top k · **sibling** another user's target outranks it "
                "(the instruction was not followed) · **generic** the untailored passage outranks it · "
                "**off-topic** something else outranks it · **not retrieved**. Click a row to see it, write a "
                "note, or open it in Explore.", elem_id="inspect-help")
    with gr.Row(equal_height=False):
        run_file = gr.File(label="Add a run file for this session (TREC or JSON, gzipped or not; at most 100 MB)",
                           file_count="single", type="filepath", elem_id="run-upload", scale=2)
        run_info = gr.HTML(elem_id="run-info")
    with gr.Row(equal_height=False):
        a = gr.Dropdown(label="System A", elem_id="inspect-a", scale=1)
        a_out = gr.CheckboxGroup(list(OUTCOMES), label="A's outcome (none ticked: any)", elem_id="inspect-a-outcomes",
                                 scale=2)
        b = gr.Dropdown(label="System B", elem_id="inspect-b", scale=1)
        b_out = gr.CheckboxGroup(list(OUTCOMES), label="B's outcome (none ticked: any)", elem_id="inspect-b-outcomes",
                                 scale=2)
    with gr.Row(equal_height=False):
        view = gr.Radio(VIEWS, value=VIEWS[0], label="View", elem_id="inspect-view", scale=3)
        query = gr.Dropdown([ALL], value=ALL, label="Base query", filterable=True, elem_id="inspect-query", scale=2)
        text = gr.Textbox(label="Search id, query or instruction", elem_id="inspect-search", scale=2)
        with gr.Column(scale=2, min_width=200):
            sort = gr.Dropdown(list(SORTS), value=SORTS[0], label="Sort by (A's numbers)", elem_id="inspect-sort")
            worst = gr.Checkbox(label="Only the worst instance of each query (by A)", elem_id="inspect-worst")
    build_btn = gr.Button("Build the instance table", variant="primary", elem_id="inspect-build")
    summary = gr.HTML(elem_id="inspect-summary")
    table = gr.Dataframe(interactive=False, wrap=True, max_height=640, elem_id="inspect-table")
    with gr.Row():
        prev_btn = gr.Button("◀ previous", size="sm", elem_id="inspect-prev", scale=1)
        page_label = gr.Markdown(elem_id="inspect-page")
        next_btn = gr.Button("next ▶", size="sm", elem_id="inspect-next", scale=1)
    with gr.Group():
        chosen_html = gr.HTML(elem_id="inspect-selected")
        with gr.Row(equal_height=False):
            tag = gr.Dropdown(list(notes.TAGS), value=None, label="Tag", elem_id="note-tag", scale=1)
            note_text = gr.Textbox(label="Note", lines=2, max_lines=6, elem_id="note-text", scale=3)
            with gr.Column(scale=1, min_width=160):
                save_btn = gr.Button("Save note", elem_id="note-save", variant="primary", size="sm")
                open_btn = gr.Button("Open in Explore", elem_id="inspect-open", size="sm")
        note_status = gr.HTML(elem_id="note-status")
    with gr.Accordion("Notes: folder, download, upload", open=False, elem_id="notes-box"):
        folder = gr.Textbox(value=str(notes.default_folder()), label="Notes folder (annotations.jsonl per dataset)",
                            elem_id="notes-folder", visible=not public)
        if public:
            gr.Markdown("Public mode: notes stay in this browser session; download them before you leave.")
        with gr.Row():
            download_btn = gr.Button("Download notes (CSV, JSONL) and the table (CSV)", elem_id="notes-download")
            note_files = gr.File(file_count="multiple", label="Downloads", elem_id="notes-files")
        notes_file = gr.File(label="Upload notes (CSV or JSONL as downloaded here)", type="filepath",
                             elem_id="notes-upload")
        notes_info = gr.HTML(elem_id="notes-info")

    view_state, notes_state, chosen = gr.State({}), gr.State({}), gr.State(None)

    # ---- events ---------------------------------------------------------------------------------------
    bar.retrievers.change(on_retrievers, [bar.retrievers, a, b], [a, b], **PRIVATE)
    inputs = [bar.dataset, bar.retrievers, bar.k, bar.runs, a, a_out, b, b_out, view, query, text, worst, sort,
              notes_state, folder]
    outputs = [view_state, notes_state, summary, table, page_label, query]
    gr.on([build_btn.click, a.input, a_out.input, b.input, b_out.input, view.input, query.input, text.submit,
           worst.input, sort.input], compute, inputs, outputs, trigger_mode="always_last", **PRIVATE)
    prev_btn.click(lambda v, a_, b_, h: on_page(v, -1, a_, b_, h), [view_state, a, b, notes_state],
                   [view_state, table, page_label], **PRIVATE)
    next_btn.click(lambda v, a_, b_, h: on_page(v, 1, a_, b_, h), [view_state, a, b, notes_state],
                   [view_state, table, page_label], **PRIVATE)
    table.select(on_select, [view_state, notes_state], [chosen, chosen_html, tag, note_text, note_status], **PRIVATE)
    open_btn.click(on_open, [bar.dataset, chosen, bar.order, bar.retrievers, bar.runs], explore.picks + [tabs],
                   **PRIVATE).then(**explore.live)
    save_btn.click(on_save, [bar.dataset, chosen, tag, note_text, notes_state, folder, view_state, a, b],
                   [notes_state, note_status, table], **PRIVATE)
    download_btn.click(on_download, [bar.dataset, notes_state, folder, view_state], [notes_state, note_files],
                       **PRIVATE)
    notes_file.upload(on_notes_upload, [notes_file, bar.dataset, notes_state, folder], [notes_state, notes_info],
                      **PRIVATE)
    run_file.upload(on_run_upload, [run_file, bar.dataset, bar.runs, bar.retrievers],
                    [bar.runs, bar.retrievers, run_info], **PRIVATE).then(
        on_retrievers, [bar.retrievers, a, b], [a, b], **PRIVATE)


def _read_limited(path: str, limit: int) -> bytes:
    size = os.path.getsize(path)
    if size > limit:
        raise UserError(f"{Path(path).name} is {size / 2**20:.0f} MB; the limit is {limit // 2**20} MB "
                        "(gzip it, or keep the top 100 docs per query)")
    return Path(path).read_bytes()
