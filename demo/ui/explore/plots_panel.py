"""Step 2 of a refresh: the sweep and the three plots beside the columns, each with a plain-text
summary, unless the editor has moved on (a newer refresh is then on its way and draws them).
A tour step that is about the whole dataset adds the dataset chart (demo.plots.dataset_figure).

The figures follow the page: the projector style in presenter mode, a dark template in dark
mode, and in presenter mode only the retrievers whose columns are on screen."""
from __future__ import annotations

from html import escape

import gradio as gr

from demo import plots
from demo.errors import UserError
from demo.plot_style import style_name
from demo.plots import dataset_figure, error_figure, rank_shift_figure, robustness_figure, sweep_figure
from demo.published import ROWS
from demo.ui.explore.context import Ctx, graded, view_key
from demo.ui.present import PRESENT_COLUMNS
from demo.ui.render import is_instructir


def plot_text(name: str, *args) -> str:
    """The plot's plain-text summary (demo.plots), escaped; empty where the builder has none."""
    fn = getattr(plots, name, None)
    return f'<p class="plot-note">{escape(fn(*args))}</p>' if fn else ""


def default_focus(focus, rids: list[str]) -> str:
    """The retriever whose rank movement is drawn: the chosen one, else the first dense model."""
    return focus if focus in rids else next((r for r in rids if "@" not in r and r != "bm25"), rids[0])


def on_screen(result: dict, presenting: bool) -> dict:
    """The result cut to the retrievers whose columns are shown (presenter mode shows the first
    PRESENT_COLUMNS), so the plots and the columns name the same retrievers."""
    if not presenting or len(result["retrievers"]) <= PRESENT_COLUMNS:
        return result
    keep = list(result["retrievers"])[:PRESENT_COLUMNS]
    return {**result, "retrievers": {r: result["retrievers"][r] for r in keep},
            "robustness": {r: result["robustness"][r] for r in keep if r in result["robustness"]},
            "original_robustness": {r: result["original_robustness"][r] for r in keep
                                    if r in result["original_robustness"]}}


def dataset_chart(ctx: Ctx, dataset, retrievers, k, style, session_runs=None) -> tuple:
    """The whole-dataset chart and its text (published figures only on InstructIR itself)."""
    try:
        board = ctx.explorer.scoreboard(dataset, list(retrievers), k, runs=session_runs)
    except UserError as e:
        return error_figure(str(e), style=style), ""
    published = ROWS if is_instructir(dataset) else ()
    return (dataset_figure(board, published, style=style, dataset=dataset),
            plot_text("dataset_summary", board, published))


def replot(ctx: Ctx, dataset, instruction, retrievers, k, grade, focus, state, view, plotted, session_runs=None,
           presenting=False, dark=False, step_plot="") -> dict:
    """Step 2: the sweep and the three plots with their text, unless the editor moved on; the
    dataset chart when a tour step shows it (`step_plot`, demo.tour.PLOTS). Reads the picked
    instance (`state`) and the columns' `view`; writes only `plotted`, what the plots show."""
    ui = ctx.ui
    info, view, plotted = (state or {}).get("instance"), view or {}, plotted or {}
    result = view.get("result")
    shown = view_key(dataset, info, instruction, retrievers, k, grade, session_runs)
    why_not = view.get("refused")
    if why_not and why_not[0] == shown:
        return {**refused(ctx, why_not[1]), ui.plotted: {**plotted, "drawn": None}}
    if not info or not result or view.get("shown") != shown:
        return {ui.plotted: gr.skip()}  # stale: a newer refresh is on its way; nothing written
    result = on_screen(result, bool(presenting))
    rids = list(result["retrievers"])
    focus = default_focus(focus, rids)
    style = style_name(bool(presenting), bool(dark))
    drawn = shown + [focus, style, step_plot or ""]
    if plotted.get("drawn") == drawn:
        return {ui.plotted: gr.skip()}
    try:
        sweep = ctx.explorer.sweep(dataset, info["query_id"], rids, k, info["instance_id"], instruction,
                                   graded(grade), runs=session_runs)
        sweep_fig, sweep_text = sweep_figure(sweep, style=style), plot_text("sweep_summary", sweep)
    except UserError as e:
        sweep_fig, sweep_text = error_figure(str(e), style=style), ""
    out = {ui.robustness_plot: robustness_figure(result, style=style),
           ui.robustness_text: plot_text("robustness_summary", result),
           ui.focus: gr.update(choices=rids, value=focus),
           ui.rank_shift_plot: rank_shift_figure(result, focus, style=style),
           ui.rank_shift_text: plot_text("rank_shift_summary", result, focus),
           ui.sweep_plot: sweep_fig, ui.sweep_text: sweep_text,
           ui.plotted: {**plotted, "drawn": drawn}}
    if step_plot == "dataset":
        fig, text = dataset_chart(ctx, dataset, rids, k, style, session_runs)
        out.update({ui.dataset_plot: gr.update(value=fig, visible=True), ui.dataset_text: text})
        out[ui.plotted]["dataset_shown"] = True
    elif plotted.get("dataset_shown"):  # hidden once, not re-sent with every refresh
        out.update({ui.dataset_plot: gr.update(visible=False), ui.dataset_text: ""})
        out[ui.plotted]["dataset_shown"] = False
    return out


def refused(ctx: Ctx, message: str) -> dict:
    """An edit the service refused (too long, nothing to rank): the plots say they are not
    updated rather than keep showing the last view as if it were this one."""
    ui = ctx.ui
    note = f'<p class="plot-note stale">Not updated: {escape(message)}</p>'
    blank = error_figure(f"Not updated: {message}")
    return {ui.robustness_plot: blank, ui.robustness_text: note, ui.rank_shift_plot: blank,
            ui.rank_shift_text: note, ui.sweep_plot: blank, ui.sweep_text: note}
