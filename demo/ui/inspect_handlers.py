"""The Inspect tab's handlers: the instance table of the retrievers in the picker bar (and of
run files uploaded for this session) built and filtered, its pages, a row chosen, opened in
Explore or annotated, notes saved, downloaded and uploaded, run files added.

Module functions bound to an InspectCtx (demo.ui.binding.bind); each returns {component: value}.
Per-session state: the filtered view, this session's notes and runs (gr.State). Uploaded runs
are also kept in the browser (localStorage, never on the server), compressed, up to KEEP_CHARS,
and come back after a reload; a run too large to keep is said so at upload. (Not gr.BrowserState:
it reads localStorage only once its component is drawn, and the Inspect tab is not drawn until it
is opened, so a reload that opens on Explore would find nothing; the page scripts in inspect_tab
read and write the storage instead, and the handlers see it as a JSON string.)"""
from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
import zlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

import gradio as gr

from demo import notes
from demo.errors import UserError
from demo.inspection import rows_to_csv
from demo.runs import PREFIX, load_bytes, load_upload
from demo.service import Explorer
from demo.ui.controls import Bar, retriever_choices
from demo.ui.inspect_table import (ALL, PAGE, depth_of, empty_html, instance_html, pair, pair_html, page_table,
                                   summary_html, table_retrievers, view_rows, why_empty)
from demo.ui.render import render_error
from demo.ui.sessions import uploads
from demo.ui.why import render_why, render_why_error

MAX_RUN_BYTES = 100 * 2**20
NOTES_PREFIX = "instructir-notes-"  # notes downloads: swept after their time to live (demo.sweeper)
# what the browser keeps of uploaded runs, base64 of gzip: localStorage holds about 5 M characters
# per site; 2.5 M characters is about 1.8 MB compressed (a 240-instance run of depth 1000 is less)
KEEP_CHARS = 2_500_000
KEEP_READ_BYTES = 20 * 2**20  # a larger file is not read again to be kept: it would not compress that far
MAX_KEPT = 20  # runs read back after a reload, the newest


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
    view_state: gr.State  # {"ids", "rows", "page", "k", "depth", "dataset", "retrievers"}: the filtered view
    notes_state: gr.State  # {"dataset", "folder", "notes"}: this dataset's notes in this session
    chosen: gr.State  # the instance id of the row picked
    depth: gr.Radio  # the depth outcomes are taken at (inspect_table.DEPTHS)
    conditions: gr.CheckboxGroup  # inspect_table.CONDITIONS
    tag_filter: gr.Dropdown  # inspect_table.TAG_CHOICES
    empty: gr.HTML  # why the view is empty (the table is hidden then)
    pair_system: gr.Radio  # whose ranking the side-by-side shows (A or B)
    pair_html: gr.HTML  # the target beside the passage that beat it
    why_target_btn: gr.Button
    why_beat_btn: gr.Button
    why_html: gr.HTML
    kept: gr.Textbox  # hidden: JSON {"runs": [{"name", "file", "dataset", "data"}]}, as this browser keeps them
    forget_btn: gr.Button
    pager: gr.Row  # previous / next: shown when the view has rows


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
            folder, depth=None, conditions=None, tag=None, progress=gr.Progress()) -> dict:
    """Build (or reuse: Explorer memoises it) the instance table and show the view's first page."""
    ui, folder = ctx.ui, folder_of(folder)
    ids = table_retrievers(selected, a, view)
    if not ids:
        return {ui.view_state: {}, ui.notes_state: held, ui.table: gr.update(visible=False), ui.pager: gr.update(visible=False),
                ui.summary: render_error("Select at least one retriever in the bar above."), ui.page_label: "",
                ui.empty: empty_html("No table yet: select at least one retriever in the bar above.")}
    progress(0.0, desc="ranking every instance (the first time for a model takes a while)")
    try:  # the bar moves a query at a time (about 15 s for 9,906 instances and four retrievers)
        result = ctx.explorer.inspect(dataset, ids, k, runs=runs, progress=lambda what, d, t: progress(
            d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
        bench = ctx.explorer.benchmark(dataset)
    except UserError as e:
        return {ui.view_state: {}, ui.notes_state: held, ui.summary: render_error(str(e)), ui.page_label: "",
                ui.table: gr.update(visible=False), ui.pager: gr.update(visible=False),
                ui.empty: empty_html("No table: the error above stopped it.")}
    held = session_notes(ctx, dataset, held, folder)
    d = depth_of(depth, result["k"])
    filters = dict(conditions=conditions or [], notes=held["notes"], tag=tag)
    rows = view_rows(result["rows"], a, a_out, b, b_out, view, query, text, worst, sort, depth=d, **filters)
    view_state = {"ids": [r["instance_id"] for r in rows], "rows": {r["instance_id"]: r for r in rows},
                  "page": 0, "k": result["k"], "depth": d, "dataset": dataset, "retrievers": ids}
    table, label = page_table(view_state, a, b, held["notes"])
    empty = "" if rows else why_empty(result["rows"], a, a_out, b, b_out, view, query, text, worst, depth=d,
                                      k=result["k"], **filters)
    queries = [ALL] + [(f"{bench.instances[m[0]].query} · {q}", q) for q, m in bench.groups.items()]
    return {ui.view_state: view_state, ui.notes_state: held, ui.summary: summary_html(result, len(rows), a, b, d),
            ui.table: table, ui.page_label: label, ui.empty: empty_html(empty), ui.pager: gr.update(visible=bool(rows)),
            ui.query: gr.update(choices=queries, value=query if query else ALL)}


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


def on_select(ctx: InspectCtx, view, held, a, b, evt: gr.SelectData) -> dict:
    """A row clicked: the instance under the table, its target beside the passage that beat it
    (under A), and its note in the editor."""
    ui = ctx.ui
    row_value = evt.row_value or []
    iid = str(row_value[0]) if row_value else None
    row = (view or {}).get("rows", {}).get(iid)
    if row is None:
        return {ui.chosen: None, ui.chosen_html: "", ui.note_status: "", ui.pair_html: "", ui.why_html: "",
                ui.pair_system: gr.update(visible=False), **why_buttons(ctx, view, None, None)}
    note = (held or {}).get("notes", {}).get(iid, {})
    systems = [r for r in dict.fromkeys((a, b)) if r and r in row["retrievers"]]
    rid = systems[0] if systems else None
    return {ui.chosen: iid, ui.chosen_html: instance_html(row, view["k"], view.get("depth")),
            ui.tag: note.get("tag") or None, ui.note_text: note.get("text", ""), ui.note_status: "",
            ui.pair_system: gr.update(choices=systems, value=rid, visible=len(systems) > 1),
            ui.pair_html: show_pair(ctx, view, iid, rid), ui.why_html: "", **why_buttons(ctx, view, iid, rid)}


def show_pair(ctx: InspectCtx, view, iid, rid) -> str:
    row = (view or {}).get("rows", {}).get(iid)
    if row is None:
        return ""
    try:
        bench = ctx.explorer.benchmark(view["dataset"])
    except UserError as e:
        return render_error(str(e))
    group = [bench.instances[m] for m in bench.groups.get(row["query_id"], ())]
    owners = {t: f"{g.instance_id}" + (f" ({g.persona})" if g.persona else "") for g in group
              if g.instance_id != iid for t in g.targets}
    return pair_html(row, rid, bench.docs, owners)


def why_buttons(ctx: InspectCtx, view, iid, rid) -> dict:
    """The two "why here?" buttons, offered where there is a passage to ask about."""
    row = (view or {}).get("rows", {}).get(iid)
    target, beat = pair(row, rid) if row and rid else (None, None)
    return {ctx.ui.why_target_btn: gr.update(visible=target is not None),
            ctx.ui.why_beat_btn: gr.update(visible=beat is not None,
                                           value=f"Why is {beat} here?" if beat else "Why is the other passage here?")}


def on_pair_system(ctx: InspectCtx, view, iid, rid) -> dict:
    return {ctx.ui.pair_html: show_pair(ctx, view, iid, rid), ctx.ui.why_html: "", **why_buttons(ctx, view, iid, rid)}


def on_why(ctx: InspectCtx, which: str, view, iid, rid) -> dict:
    """Why the target (which="target") or the passage that beat it ("beat") is where it is in
    `rid`'s ranking of the instance's original instruction (the Explore tab's panel, from /explain)."""
    row = (view or {}).get("rows", {}).get(iid)
    if row is None or not rid:
        return {ctx.ui.why_html: render_why_error("Pick a row of the table first.")}
    doc = pair(row, rid)[0 if which == "target" else 1]
    if doc is None:
        return {ctx.ui.why_html: render_why_error("There is no such passage for this row.")}
    try:
        return {ctx.ui.why_html: render_why(ctx.explorer.explain(view["dataset"], iid, None, rid, doc))}
    except UserError as e:
        return {ctx.ui.why_html: render_why_error(str(e))}


def on_why_target(ctx: InspectCtx, view, iid, rid) -> dict:
    return on_why(ctx, "target", view, iid, rid)


def on_why_beat(ctx: InspectCtx, view, iid, rid) -> dict:
    return on_why(ctx, "beat", view, iid, rid)


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


def on_run_upload(ctx: InspectCtx, path, dataset, runs, selected, kept=None, request: gr.Request = None) -> dict:
    """A run file for this session: read (TREC line by line, unpacked size capped: demo.upload),
    checked against the dataset, counted against the session's and the server's byte budgets
    (demo.ui.sessions), added to the pickers, and kept in this browser when it is small enough (else
    the page says it will be gone after a reload)."""
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
    data = Path(path).read_bytes() if os.path.getsize(path) <= KEEP_READ_BYTES else None
    kept, said = keep_run(kept, name, run.name, dataset, data)
    return {bar.runs: runs, bar.retrievers: gr.update(choices=retriever_choices(run_ids), value=value),
            ui.kept: kept,
            ui.run_info: f'<div class="legend">{escape(run.describe(bench))}; it is now a column in Explore and '
                         f'a system here. {said}</div>'}


def kept_runs(kept) -> list[dict]:
    """The entries of the browser's kept runs (a JSON string from the page; anything else: none)."""
    try:
        value = json.loads(kept) if isinstance(kept, str) and kept.strip() else kept
        runs = (value or {}).get("runs", [])
    except (ValueError, AttributeError):
        return []
    if not isinstance(runs, list):
        return []
    return [e for e in runs if isinstance(e, dict) and isinstance(e.get("data"), str) and e.get("name")]


def keep_run(kept, file_name: str, name: str, dataset: str, data: bytes | None) -> tuple[str, str]:
    """The browser's kept runs (JSON) with this one added (replacing one of the same name), within
    KEEP_CHARS (the oldest dropped first), and a sentence saying what happened. `data` None: a file
    too large to keep."""
    if data is None:
        return _json([e for e in kept_runs(kept) if e.get("name") != name]), (
            "<b>Not kept after a reload</b>: it is too large for this browser's storage; upload it again after "
            "reloading the page.")
    packed = data if data[:2] == b"\x1f\x8b" else gzip.compress(data, compresslevel=9, mtime=0)
    encoded = base64.b64encode(packed).decode("ascii")
    entries = [e for e in kept_runs(kept) if e.get("name") != name]
    if len(encoded) > KEEP_CHARS:
        return _json(entries), (f"<b>Not kept after a reload</b>: compressed it is {len(packed) / 2**20:.1f} MB, over "
                                f"the {KEEP_CHARS * 3 / 4 / 2**20:.1f} MB this browser keeps; upload it again after "
                                "reloading the page.")
    entries.append({"name": name, "file": file_name, "dataset": dataset, "data": encoded})
    dropped = []
    while sum(len(e["data"]) for e in entries) > KEEP_CHARS:
        dropped.append(entries.pop(0)["name"])
    said = "Kept in this browser (not on the server): it comes back after a reload."
    if dropped:
        said += f" To make room, {', '.join(PREFIX + n for n in dropped)} will no longer come back after a reload."
    return _json(entries), said


def _json(entries: list[dict]) -> str:
    return json.dumps({"runs": entries}, separators=(",", ":")) if entries else ""


def on_restore(ctx: InspectCtx, kept, runs, dataset, selected, request: gr.Request = None) -> dict:
    """After the page loads: the runs this browser kept, read again and added to the pickers (those
    of the dataset on screen selected, as at upload). A kept run that no longer reads is dropped."""
    bar, ui = ctx.bar, ctx.ui
    entries = kept_runs(kept)
    if not entries:
        return {bar.runs: runs, ui.kept: gr.skip(), bar.retrievers: gr.skip(), ui.run_info: gr.skip()}
    runs, back, failed, good = dict(runs or {}), [], [], []
    for e in entries[-MAX_KEPT:]:
        try:
            if len(e["data"]) > KEEP_CHARS:  # the page sends what it holds: no more than was kept
                raise UserError("larger than this browser keeps")
            data = unpack_kept(base64.b64decode(e["data"], validate=True))
            run = load_bytes(data, ctx.explorer.benchmark(e["dataset"]), str(e.get("file") or e["name"]))
            uploads().admit(session_of(request), run, {**runs, run.name: run})  # the session's byte budget
        except (UserError, KeyError, ValueError, TypeError) as err:
            failed.append(f"{e.get('name', '?')}: {err}")
            continue
        good.append(e)
        runs[run.name] = run
        if e["dataset"] == dataset:
            back.append(run.retriever_id)
    run_ids = [r.retriever_id for r in ctx.explorer.runs(dataset, runs).values()]
    said = (f"Back from this browser's storage: {', '.join(back)}." if back else
            f"This browser keeps {len(good)} run{'s' if len(good) != 1 else ''} of other datasets.")
    if failed:
        said += " Dropped, no longer readable: " + "; ".join(failed) + "."
    return {bar.runs: runs, ui.kept: _json(good),
            bar.retrievers: gr.update(choices=retriever_choices(run_ids),
                                      value=list(dict.fromkeys(list(selected or []) + back))),
            ui.run_info: f'<div class="legend">{escape(said)}</div>'}


def unpack_kept(data: bytes) -> bytes:
    """A kept run's bytes, gunzipped within the upload limit (what the page sends is not trusted)."""
    if data[:2] != b"\x1f\x8b":
        return data
    out = zlib.decompressobj(wbits=31)
    try:
        plain = out.decompress(data, MAX_RUN_BYTES + 1)
    except zlib.error as e:
        raise UserError(f"not a readable gzip file ({e})") from None
    if len(plain) > MAX_RUN_BYTES:
        raise UserError(f"unpacks to more than {MAX_RUN_BYTES // 2**20} MB")
    return plain


def on_forget(ctx: InspectCtx, kept) -> dict:
    n = len(kept_runs(kept))
    return {ctx.ui.kept: "",
            ctx.ui.run_info: f'<div class="legend">This browser no longer keeps {n} uploaded run{"s" if n != 1 else ""}; '
                             'those uploaded stay for this visit.</div>'}


def session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "no-session"


def check_size(path: str, limit: int) -> None:
    size = os.path.getsize(path)
    if size > limit:
        raise UserError(f"{Path(path).name} is {size / 2**20:.0f} MB; the limit is {limit // 2**20} MB "
                        "(gzip it, or keep the top 100 docs per query)")
