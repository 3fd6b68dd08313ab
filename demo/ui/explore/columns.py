"""Step 1 of a refresh: one ranking column per retriever, the summary above them and the
link to the view; and the export of what the columns show."""
from __future__ import annotations

import gradio as gr

from demo.errors import UserError
from demo.service import MAX_INSTRUCTION_CHARS
from demo.ui.controls import DATASET_ORDER, model_ids
from demo.ui.explore.context import Ctx, graded, view_key
from demo.ui.explore.picker import order_update
from demo.ui.latest import Latest
from demo.ui.export import deep_link, file_part, to_csv, to_json, to_trec, write_exports
from demo.ui.render import render_error, render_rankings, render_summary, summarize


def make_link(dataset, order, instruction, retrievers, k, grade, tab, state) -> str:
    """The deep link (a query string) to the view: the link box's value."""
    info = (state or {}).get("instance")
    if not info or not retrievers:
        return ""
    return deep_link(dataset, info["instance_id"], instruction, info["instruction"], list(retrievers or []),
                     k, None if order_update(order, retrievers)[1] == DATASET_ORDER else order, tab, graded(grade))


def load_models(ctx: Ctx, dataset, retrievers, progress) -> None:
    """Build the retrievers' models first: the first use loads and embeds, and the bar says how
    far. A model that cannot load says so in its column (Explorer.rank)."""
    for mid in dict.fromkeys(m for rid in retrievers for m in model_ids(rid)):  # () for a run file
        try:
            ctx.explorer.corpus(dataset, mid, on_stage=lambda stage, d, t, mid=mid: progress(
                d / max(t, 1), desc=f"{stage} {mid}" + (f": {d:,} of {t:,} passages" if stage != "loading" else "")))
        except UserError:
            pass


def refresh(ctx: Ctx, dataset, instruction, retrievers, k, grade, order, tab, state, view, session_runs=None,
            progress=gr.Progress()) -> dict:
    """Step 1 of a refresh: the columns, the summary and the link. `state`: the picked instance
    (read only here); `view`: what the columns show, which only this step writes (context.ExploreUI).
    `session_runs`: run files uploaded in this session (Inspect tab), by name."""
    ui = ctx.ui
    info = (state or {}).get("instance")
    shown = view_key(dataset, info, instruction, retrievers, k, grade, session_runs)
    if info and (view or {}).get("shown") == shown:
        # blur after an edit, or a pick that also changed the editor: this view is on screen already, and
        # nothing is written (a copy written back could undo a newer view written meanwhile)
        return {ui.view: gr.skip()}
    if not info:
        return {ui.rankings: "", ui.summary: "", ui.link: "", ui.view: {}}
    if not retrievers:
        return refuse(ctx, shown, "Select at least one retriever.")
    if len(instruction or "") > MAX_INSTRUCTION_CHARS:
        return refuse(ctx, shown, f"The instruction has {len(instruction):,} characters; the limit is "
                                  f"{MAX_INSTRUCTION_CHARS:,}.")
    load_models(ctx, dataset, retrievers, progress)
    try:
        result = ctx.explorer.rank(dataset, info["instance_id"], instruction, retrievers, k, graded(grade),
                                   runs=session_runs)
    except UserError as e:
        return {ui.rankings: render_error(str(e)), ui.summary: "", ui.view: {}}
    result = {**result, "summary": summarize(result)}  # kept in the view: the JSON export carries it
    html = render_rankings(result, ctx.explorer.benchmark(dataset).docs, info["query"], instruction)
    return {ui.rankings: html, ui.summary: render_summary(result),
            ui.link: make_link(dataset, order, instruction, retrievers, k, grade, tab, state),
            ui.view: {"result": result, "instruction": instruction, "dataset": dataset, "shown": shown}}


def typed(ctx: Ctx, latest: Latest, seq, dataset, instruction, retrievers, k, grade, order, tab, state, view,
          session_runs=None, request: gr.Request = None) -> dict:
    """A refresh while typing (outside the queue, so requests may overlap): nothing for a request
    that a newer one of the same page has overtaken, before or after computing (demo.ui.latest)."""
    return latest.run(request, seq, lambda: refresh(ctx, dataset, instruction, retrievers, k, grade, order, tab, state,
                                                    view, session_runs, no_progress))


def no_progress(*args, **kwargs) -> None:
    """The progress bar of a refresh outside the queue: none (Gradio reports progress through it)."""


def refuse(ctx: Ctx, shown, message: str) -> dict:
    """A view the page will not compute: the columns say why, and the view remembers it so that
    the plots step says "not updated" instead of keeping the last view (plots_panel.replot)."""
    ui = ctx.ui
    return {ui.rankings: render_error(message), ui.summary: "", ui.view: {"refused": [shown, message], "shown": None}}


def on_export(view) -> list[str]:
    """The shown comparison as CSV, JSON and a TREC run per retriever; the files' paths."""
    result = (view or {}).get("result")
    if not result:
        raise gr.Error("Nothing to export yet.")
    stem = f"comparison-{result['instance_id']}"
    files = {f"{stem}.csv": to_csv(result),
             f"{stem}.json": to_json(result, view.get("instruction", ""), view.get("dataset", ""))}
    for rid, r in result["retrievers"].items():
        if "error" not in r:
            files[f"{stem}-{file_part(rid)}.trec"] = to_trec(result, rid)
    return write_exports(files)
