"""The Scoreboard tab: dataset-level nDCG@k and Robustness@k of the selected retrievers, with
the instruction-blind floor and the published InstructIR figures."""
from __future__ import annotations

import gradio as gr

from demo.errors import UserError
from demo.service import Explorer
from demo.ui.binding import PRIVATE, bind
from demo.ui.controls import Bar
from demo.ui.render import render_error, render_scoreboard


def on_scoreboard(explorer: Explorer, dataset, retrievers, k, session_runs=None, progress=gr.Progress()) -> str:
    if not retrievers:
        return render_error("Select at least one retriever.")
    progress(0.0, desc="ranking every instance")
    try:
        board = explorer.scoreboard(dataset, retrievers, k, runs=session_runs, progress=lambda what, d, t: progress(
            d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
        return render_scoreboard(board, dataset)
    except UserError as e:
        return render_error(str(e))


def build(explorer: Explorer, bar: Bar) -> None:
    board_btn = gr.Button("Compute nDCG@k and Robustness@k over the whole dataset", elem_id="scoreboard-btn")
    board = gr.HTML(elem_id="scoreboard")
    board_btn.click(bind(on_scoreboard, explorer), [bar.dataset, bar.retrievers, bar.k, bar.runs], board, **PRIVATE)
