"""The Scoreboard tab: dataset-level nDCG@k and Robustness@k of the selected retrievers, with
the instruction-blind floor and the published InstructIR figures; then paired significance tests
between them (demo.compare, on the same per-instance nDCG tables) with a Markdown/LaTeX export."""
from __future__ import annotations

import gradio as gr

from demo.compare import Comparison, build as build_comparison
from demo.compare_report import latex, markdown
from demo.conventions import MISSING_AS_ZERO
from demo.data.sources import open_source
from demo.errors import UserError
from demo.service import Explorer
from demo.ui.binding import PRIVATE, bind
from demo.ui.controls import Bar
from demo.ui.render import render_error, render_pairwise, render_scoreboard


def on_scoreboard(explorer: Explorer, dataset, retrievers, k, session_runs=None,
                  progress=gr.Progress()) -> tuple[str, str, str, str]:
    """The scoreboard, the pairwise table, and its Markdown and LaTeX."""
    if not retrievers:
        return render_error("Select at least one retriever."), "", "", ""
    progress(0.0, desc="ranking every instance")
    try:
        board = explorer.scoreboard(dataset, retrievers, k, runs=session_runs, progress=lambda what, d, t: progress(
            d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
        return (render_scoreboard(board, dataset),) + significance(explorer, dataset, retrievers, k, session_runs)
    except UserError as e:
        return render_error(str(e)), "", "", ""


def comparison(explorer: Explorer, dataset, retrievers, k, session_runs=None) -> Comparison | None:
    """Paired tests and intervals on the per-instance tables the scoreboard computes (kept: no
    second ranking); None with fewer than two systems that rank here. The scoreboard and `/compare`."""
    tables = explorer.instance_ndcgs(dataset, retrievers, k, runs=session_runs)
    if len(tables) < 2:
        return None
    _, bench = open_source(dataset)
    return build_comparison(tables, bench.groups, int(k), MISSING_AS_ZERO)


def significance(explorer: Explorer, dataset, retrievers, k, session_runs) -> tuple[str, str, str]:
    found = comparison(explorer, dataset, retrievers, k, session_runs)
    if found is None:
        return '<p class="legend">Select two or more retrievers to test their differences.</p>', "", ""
    return render_pairwise(found), markdown(found), latex(found)


def build(explorer: Explorer, bar: Bar) -> None:
    board_btn = gr.Button("Compute nDCG@k and Robustness@k over the whole dataset", elem_id="scoreboard-btn")
    board = gr.HTML(elem_id="scoreboard")
    pairwise = gr.HTML(elem_id="scoreboard-pairwise")
    with gr.Accordion("Export the table for a paper (Markdown, LaTeX)", open=False):
        md = gr.Code(label="Markdown", language="markdown", elem_id="scoreboard-markdown")
        tex = gr.Code(label="LaTeX (booktabs)", language="latex", elem_id="scoreboard-latex")
    # four outputs of one kind each, always all four: a tuple reads as plainly as a dict here
    board_btn.click(bind(on_scoreboard, explorer), [bar.dataset, bar.retrievers, bar.k, bar.runs],
                    [board, pairwise, md, tex], **PRIVATE)
