"""The Inspect tab's handlers: the instance table of the retrievers in the picker bar (and of
run files uploaded for this session) built and filtered, its pages, a row chosen, opened in
Explore or annotated, notes saved, downloaded and uploaded, run files added.

Module functions bound to an InspectCtx (demo.ui.binding.bind); each returns {component: value}.
Per-session state: the filtered view, this session's notes and runs (gr.State)."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import gradio as gr

from demo import notes
from demo.errors import UserError
from demo.inspection import rows_to_csv
from demo.runs import load_upload
from demo.service import Explorer
from demo.ui.controls import Bar, retriever_choices
from demo.ui.inspect_table import ALL, PAGE, instance_html, page_table, summary_html, table_retrievers, view_rows
from demo.ui.render import render_error
from demo.ui.sessions import uploads

MAX_RUN_BYTES = 100 * 2**20
NOTES_PREFIX = "instructir-notes-"  # notes downloads: swept after their time to live (demo.sweeper)


@dataclass(frozen=True, eq=False)
class InspectUI:
    """The Inspect tab's components."""
    run_file: gr.File
    run_info: gr.HTML
    a: gr.Dropdown
    a_out: gr.CheckboxGroup
    b: gr.Dropdown
    b_out: gr.CheckboxGroup
    view: gr.Radio
    query: gr.Dropdown
    text: gr.Textbox
    sort: gr.Dropdown
    worst: gr.Checkbox
    build_btn: gr.Button
    summary: gr.HTML
    table: gr.Dataframe
    prev_btn: gr.Button
    page_label: gr.Markdown
    next_btn: gr.Button
    chosen_html: gr.HTML
    tag: gr.Dropdown
    note_text: gr.Textbox
    save_btn: gr.Button
    open_btn: gr.Button
    note_status: gr.HTML
    folder: gr.Textbox
    download_btn: gr.Button
    note_files: gr.File
    notes_file: gr.File
    notes_info: gr.HTML
    view_state: gr.State  # {"ids", "rows", "page", "k", "dataset", "retrievers"}: the filtered view
    notes_state: gr.State  # {"dataset", "folder", "notes"}: this dataset's notes in this session
    chosen: gr.State  # the instance id of the row picked


@dataclass(frozen=True, eq=False)
class InspectCtx:
    """The dependencies of the Inspect handlers."""
    explorer: Explorer
    public: bool  # public mode: notes live only in the session, never in a folder
    bar: Bar
    explore: object  # demo.ui.explore.Explore: a row opens there
    tabs: gr.Tabs
    ui: InspectUI


def folder_of(folder: str | None) -> str:
    return (folder or "").strip() or str(notes.default_folder())


def session_notes(ctx: InspectCtx, dataset: str, held: dict, folder: str) -> dict:
    """This dataset's notes: the session's copy, read from the notes folder the first time
    (never in public mode, where notes live only in the session)."""
    held = held or {}
    if held.get("dataset") == dataset and held.get("folder") == folder:
        return held
    loaded = {} if ctx.public else notes.load(notes.notes_path(folder, dataset))
    return {"dataset": dataset, "folder": folder, "notes": loaded}


def on_retrievers(ctx: InspectCtx, selected, a, b) -> dict:
    """Systems A and B among the selected retrievers (the first two unless still selected)."""
    ids = list(selected or [])
    a = a if a in ids else (ids[0] if ids else None)
    b = b if b in ids and b != a else next((r for r in ids if r != a), None)
    return {ctx.ui.a: gr.update(choices=ids, value=a), ctx.ui.b: gr.update(choices=ids, value=b)}


def compute(ctx: InspectCtx, dataset, selected, k, runs, a, a_out, b, b_out, view, query, text, worst, sort, held,
            folder, progress=gr.Progress()) -> dict:
    """Build (or reuse: Explorer memoises it) the instance table and show the view's first page."""
    ui, folder = ctx.ui, folder_of(folder)
    ids = table_retrievers(selected, a, view)
    if not ids:
        return {ui.view_state: {}, ui.notes_state: held,
                ui.summary: render_error("Select at least one retriever in the bar above."), ui.page_label: ""}
    progress(0.0, desc="ranking every instance (the first time for a model takes a while)")
    try:  # the bar moves a query at a time (about 15 s for 9,906 instances and four retrievers)
        result = ctx.explorer.inspect(dataset, ids, k, runs=runs, progress=lambda what, d, t: progress(
            d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
        bench = ctx.explorer.benchmark(dataset)
    except UserError as e:
        return {ui.view_state: {}, ui.notes_state: held, ui.summary: render_error(str(e)), ui.page_label: ""}
    held = session_notes(ctx, dataset, held, folder)
    rows = view_rows(result["rows"], a, a_out, b, b_out, view, query, text, worst, sort)
    view_state = {"ids": [r["instance_id"] for r in rows], "rows": {r["instance_id"]: r for r in rows},
                  "page": 0, "k": result["k"], "dataset": dataset, "retrievers": ids}
    table, label = page_table(view_state, a, b, held["notes"])
    queries = [ALL] + [(f"{bench.instances[m[0]].query} · {q}", q) for q, m in bench.groups.items()]
    return {ui.view_state: view_state, ui.notes_state: held, ui.summary: summary_html(result, len(rows), a, b),
            ui.table: table, ui.page_label: label, ui.query: gr.update(choices=queries, value=query if query else ALL)}


def on_page(ctx: InspectCtx, view, step, a, b, held) -> dict:
    view = dict(view or {})
    pages = max(1, -(-len(view.get("ids", [])) // PAGE))
    view["page"] = min(max(0, view.get("page", 0) + step), pages - 1)
    table, label = page_table(view, a, b, (held or {}).get("notes", {}))
    return {ctx.ui.view_state: view, ctx.ui.table: table, ctx.ui.page_label: label}


def on_prev(ctx: InspectCtx, view, a, b, held) -> dict:
    return on_page(ctx, view, -1, a, b, held)


def on_next(ctx: InspectCtx, view, a, b, held) -> dict:
    return on_page(ctx, view, 1, a, b, held)


def on_select(ctx: InspectCtx, view, held, evt: gr.SelectData) -> dict:
    """A row clicked: the instance under the table, with its note in the editor."""
    ui = ctx.ui
    row_value = evt.row_value or []
    iid = str(row_value[0]) if row_value else None
    row = (view or {}).get("rows", {}).get(iid)
    if row is None:
        return {ui.chosen: None, ui.chosen_html: "", ui.note_status: ""}
    note = (held or {}).get("notes", {}).get(iid, {})
    return {ui.chosen: iid, ui.chosen_html: instance_html(row, view["k"]), ui.tag: note.get("tag") or None,
            ui.note_text: note.get("text", ""), ui.note_status: ""}


def on_open(ctx: InspectCtx, dataset, iid, order, selected, runs):
    """The chosen row in the Explore tab (its columns follow in the chained event)."""
    if not iid:
        return gr.skip()
    # with this session's runs: the query picker may be ordered by one of them
    return {**ctx.explore.pick(dataset, None, iid, order, selected, runs), ctx.tabs: gr.Tabs(selected="explore")}


def on_save(ctx: InspectCtx, dataset, iid, tag, text, held, folder, view, a, b) -> dict:
    ui, folder = ctx.ui, folder_of(folder)
    if not iid:
        return {ui.notes_state: held, ui.note_status: render_error("Pick a row of the table first.")}
    try:
        note = notes.make_note(iid, tag, text)
        held = session_notes(ctx, dataset, held, folder)
        if not ctx.public:
            notes.save(notes.notes_path(folder, dataset), note)
    except UserError as e:
        return {ui.notes_state: held, ui.note_status: render_error(str(e))}
    held = {**held, "notes": notes.apply(held["notes"], note)}
    where = "kept in this session only (public mode): download them below" if ctx.public else \
        f"saved to {notes.notes_path(folder, dataset)}"
    table, _ = page_table(view or {}, a, b, held["notes"])
    return {ui.notes_state: held, ui.note_status: f'<div class="legend">Note on {escape(iid)} {escape(where)}.</div>',
            ui.table: table}


def on_download(ctx: InspectCtx, dataset, held, folder, view) -> dict:
    """The notes as CSV and JSONL, and the filtered table as CSV (in a temporary folder that the
    periodic sweep removes after its time to live, demo.sweeper)."""
    held = session_notes(ctx, dataset, held, folder_of(folder))
    files = {"notes.csv": notes.to_csv(held["notes"]), "notes.jsonl": notes.to_jsonl(held["notes"])}
    if view and view.get("ids"):
        rows = [view["rows"][i] for i in view["ids"]]
        files["instances.csv"] = rows_to_csv(rows, view["retrievers"], view["k"], held["notes"])
    try:
        out = Path(tempfile.mkdtemp(prefix=NOTES_PREFIX))
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
    except OSError as e:
        return {ctx.ui.notes_state: held, ctx.ui.note_files: None,
                ctx.ui.notes_info: render_error(f"cannot write the download ({e.strerror or type(e).__name__}): "
                                                "the server's disk is full or read-only")}
    return {ctx.ui.notes_state: held, ctx.ui.note_files: [str(out / n) for n in files]}


def on_notes_upload(ctx: InspectCtx, path, dataset, held, folder) -> dict:
    ui, folder = ctx.ui, folder_of(folder)
    if not path:
        return {ui.notes_state: held, ui.notes_info: ""}
    try:
        bench = ctx.explorer.benchmark(dataset)
        check_size(path, MAX_RUN_BYTES)
        incoming = notes.parse(path, Path(path).name, bench.instances)  # line by line: bounded memory
        held = session_notes(ctx, dataset, held, folder)
        if not ctx.public:
            notes.save_all(notes.notes_path(folder, dataset), incoming.values())
    except UserError as e:
        return {ui.notes_state: held, ui.notes_info: render_error(str(e))}
    merged = dict(held["notes"])
    for note in incoming.values():
        merged = notes.apply(merged, note)
    return {ui.notes_state: {**held, "notes": merged},
            ui.notes_info: f'<div class="legend">{len(incoming)} notes added.</div>'}


def on_run_upload(ctx: InspectCtx, path, dataset, runs, selected, request: gr.Request = None) -> dict:
    """A run file for this session: read, checked against the dataset, counted against the
    session's and the server's byte budgets (demo.ui.sessions), added to the pickers."""
    bar, ui = ctx.bar, ctx.ui
    if not path:
        return {bar.runs: runs, ui.run_info: ""}
    name = Path(path).name
    try:
        check_size(path, MAX_RUN_BYTES)
        bench = ctx.explorer.benchmark(dataset)
        run = load_upload(path, bench, name)  # TREC line by line; unpacked size capped (demo.upload)
        after = {**(runs or {}), run.name: run}
        uploads().admit(session_of(request), run, after)
    except UserError as e:
        return {bar.runs: runs, ui.run_info: render_error(str(e))}
    runs = after
    run_ids = [r.retriever_id for r in ctx.explorer.runs(dataset, runs).values()]
    value = list(dict.fromkeys(list(selected or []) + [run.retriever_id]))
    return {bar.runs: runs, bar.retrievers: gr.update(choices=retriever_choices(run_ids), value=value),
            ui.run_info: f'<div class="legend">{escape(run.describe(bench))}; it is now a column in Explore and '
                         f'a system here.</div>'}


def session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "no-session"


def check_size(path: str, limit: int) -> None:
    size = os.path.getsize(path)
    if size > limit:
        raise UserError(f"{Path(path).name} is {size / 2**20:.0f} MB; the limit is {limit // 2**20} MB "
                        "(gzip it, or keep the top 100 docs per query)")
