"""Step 2 of a refresh: the sweep and the three plots beside the columns, each with a plain-text
summary, unless the editor has moved on (a newer refresh is then on its way and draws them)."""
from __future__ import annotations

from html import escape

import gradio as gr

from demo import plots
from demo.errors import UserError
from demo.plots import error_figure, rank_shift_figure, robustness_figure, sweep_figure
from demo.ui.explore.context import Ctx, graded, view_key


def plot_text(name: str, *args) -> str:
    """The plot's plain-text summary (demo.plots), escaped; empty where the builder has none."""
    fn = getattr(plots, name, None)
    return f'<p class="plot-note">{escape(fn(*args))}</p>' if fn else ""


def default_focus(focus, rids: list[str]) -> str:
    """The retriever whose rank movement is drawn: the chosen one, else the first dense model."""
    return focus if focus in rids else next((r for r in rids if "@" not in r and r != "bm25"), rids[0])


def replot(ctx: Ctx, dataset, instruction, retrievers, k, grade, focus, state, session_runs=None,
           presenting=False) -> dict:
    """Step 2: the sweep and the three plots with their text, unless the editor moved on.
    In presenter mode the figures use the projector style (larger type, fewer labels)."""
    ui = ctx.ui
    info, result = (state or {}).get("instance"), (state or {}).get("result")
    shown = view_key(dataset, info, instruction, retrievers, k, grade, session_runs)
    if not info or not result or state.get("shown") != shown:
        return {ui.state: state}  # stale: a newer refresh is on its way
    rids = list(result["retrievers"])
    focus = default_focus(focus, rids)
    style = "present" if presenting else None
    if state.get("plotted") == shown + [focus, style]:
        return {ui.state: state}
    try:
        sweep = ctx.explorer.sweep(dataset, info["query_id"], retrievers, k, info["instance_id"], instruction,
                                   graded(grade), runs=session_runs)
        sweep_fig, sweep_text = sweep_figure(sweep, style=style), plot_text("sweep_summary", sweep)
    except UserError as e:
        sweep_fig, sweep_text = error_figure(str(e)), ""
    return {ui.robustness_plot: robustness_figure(result, style=style),
            ui.robustness_text: plot_text("robustness_summary", result),
            ui.focus: gr.update(choices=rids, value=focus),
            ui.rank_shift_plot: rank_shift_figure(result, focus, style=style),
            ui.rank_shift_text: plot_text("rank_shift_summary", result, focus),
            ui.sweep_plot: sweep_fig, ui.sweep_text: sweep_text,
            ui.state: {**state, "plotted": shown + [focus, style]}}
