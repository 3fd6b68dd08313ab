"""The Scoreboard tab: dataset-level nDCG@k and Robustness@k of the selected retrievers, with
the instruction-blind floor and the published InstructIR figures; then paired significance tests
between them (demo.compare, on the same per-instance nDCG tables) with a Markdown/LaTeX export."""
from __future__ import annotations

import gradio as gr

from demo.errors import UserError
from demo.service import Explorer
from demo.ui.controls import Bar
from demo.ui.render import render_error, render_pairwise, render_scoreboard

PRIVATE = dict(api_visibility="private")


def build(explorer: Explorer, bar: Bar) -> None:
    def on_scoreboard(dataset, retrievers, k, session_runs=None, progress=gr.Progress()):
        if not retrievers:
            return render_error("Select at least one retriever."), "", "", ""
        progress(0.0, desc="ranking every instance")
        try:
            board = explorer.scoreboard(dataset, retrievers, k, runs=session_runs, progress=lambda what, d, t: progress(
                d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
            pairwise, md, tex = significance(dataset, retrievers, k, session_runs, progress)
            return render_scoreboard(board, dataset), pairwise, md, tex
        except UserError as e:
            return render_error(str(e)), "", "", ""

    def significance(dataset, retrievers, k, session_runs, progress) -> tuple[str, str, str]:
        """Pairwise tests on the tables the scoreboard just computed (cached: no second ranking)."""
        from demo.compare import build
        from demo.compare_report import latex, markdown
        from demo.conventions import MISSING_AS_ZERO
        from demo.data.sources import open_source
        tables = explorer.instance_ndcgs(dataset, retrievers, k, runs=session_runs)
        if len(tables) < 2:
            return '<p class="legend">Select two or more retrievers to test their differences.</p>', "", ""
        progress(1.0, desc="paired significance tests")
        _, bench = open_source(dataset)
        comparison = build(tables, bench.groups, int(k), MISSING_AS_ZERO)
        return render_pairwise(comparison), markdown(comparison), latex(comparison)

    board_btn = gr.Button("Compute nDCG@k and Robustness@k over the whole dataset", elem_id="scoreboard-btn")
    board = gr.HTML(elem_id="scoreboard")
    pairwise = gr.HTML(elem_id="scoreboard-pairwise")
    with gr.Accordion("Export the table for a paper (Markdown, LaTeX)", open=False):
        md = gr.Code(label="Markdown", language="markdown", elem_id="scoreboard-markdown")
        tex = gr.Code(label="LaTeX (booktabs)", language="latex", elem_id="scoreboard-latex")
    board_btn.click(on_scoreboard, [bar.dataset, bar.retrievers, bar.k, bar.runs], [board, pairwise, md, tex], **PRIVATE)
