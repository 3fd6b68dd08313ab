"""The guided tour: every step opens, and every claim its narrative makes holds on
what the step shows (real models on the bundled data)."""
from __future__ import annotations

import pytest

from demo.retrievers.registry import MODELS, availability, parse_retriever_id
from demo.service import Explorer
from demo.tour import STEPS, open_step
from demo.ui.tour_bar import render_step
from helpers import plotted_for


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    return Explorer()


def _available(step) -> bool:
    for rid in step.retrievers:
        for part in rid.replace("rrf(", "").replace(")", "").split(","):
            try:
                spec, _ = parse_retriever_id(part)
            except Exception:
                return False
            if availability(MODELS[spec.model_id]):
                return False
    return True


def test_tour_has_five_to_seven_steps():
    assert 5 <= len(STEPS) <= 7
    assert len({s.title for s in STEPS}) == len(STEPS)


@pytest.mark.parametrize("n", range(1, len(STEPS) + 1))
def test_every_claim_of_every_step_holds(explorer, n):
    step = STEPS[n - 1]
    if not _available(step):
        pytest.skip(f"step {n} needs a model that is not available here: {step.retrievers}")
    opened = open_step(explorer, STEPS, n)
    assert opened["n"] == n and opened["of"] == len(STEPS)
    failed = [claim for claim, holds in opened["claims"] if not holds]
    assert not failed, f"step {n} ({step.title}): {failed}\n{opened['text']}"
    view = opened["view"]
    assert view["instance"] == step.instance_id and view["retrievers"] == list(step.retrievers)
    assert 2 <= opened["text"].count(".") and len(opened["text"]) <= 400  # two or three sentences, not an essay


def test_steps_open_different_views(explorer):
    views = {(s.instance_id, s.variant, s.retrievers) for s in STEPS}
    assert len(views) == len(STEPS)


def test_step_out_of_range_says_so(explorer):
    with pytest.raises(IndexError, match="steps 1 to"):
        open_step(explorer, STEPS, len(STEPS) + 1)


def test_narrative_is_escaped():
    html = render_step({"n": 1, "of": 2, "title": "<b>x</b>", "text": "`<script>` and <img src=x>"})
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html
    assert "<code>&lt;script&gt;</code>" in html


# ---- words and plots agree -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(explorer):
    from demo.ui.app import build_page
    return build_page(explorer)


@pytest.mark.parametrize("n", range(1, len(STEPS) + 1))
def test_the_text_quotes_what_the_step_plots(page, explorer, n):
    """Open the step as the page does (tour_bar.show, then the columns, then the plots, with the
    step's focus and plot) and find every number the narrative quotes from the plot, in the text
    and in the figure drawn for that retriever; the figure's title says its scope."""
    from demo.ui import tour_bar
    from demo.ui.explore import columns, plots_panel
    step = STEPS[n - 1]
    if not _available(step):
        pytest.skip(f"step {n} needs a model that is not available here: {step.retrievers}")
    ctx, ui, tour = page.explore.ctx, page.explore.ctx.ui, page.tour
    shown = tour_bar.show(tour, n)
    view = open_step(explorer, STEPS, n)
    assert shown[ui.focus]["value"] == step.focus and shown[ui.step_plot] == step.plot
    assert f'data-plot="{step.plot}"' in shown[tour.tour.narrative]
    state, text = shown[ui.state], shown[ui.instruction]
    cols = columns.refresh(ctx, "demo", text, list(step.retrievers), step.k, "auto", "dataset", "explore", state,
                           {}, progress=lambda *a, **k: None)
    plots = plots_panel.replot(ctx, "demo", text, list(step.retrievers), step.k, "auto", shown[ui.focus]["value"],
                               state, cols[ui.view], {}, None, False, False, shown[ui.step_plot])
    fig = {"robustness": plots[ui.robustness_plot], "rank-shift": plots[ui.rank_shift_plot],
           "sweep": plots[ui.sweep_plot], "dataset": plots[ui.dataset_plot]["value"]
           if step.plot == "dataset" else None}[step.plot]
    scope = "whole dataset" if step.plot == "dataset" else "this query"
    assert fig.layout.title.text.endswith(scope)
    assert view["plotted"], f"step {n} quotes nothing from its plot"
    for rid, printed in view["plotted"]:
        assert printed in view["text"], (n, rid, printed)
        number = int(printed.lstrip("#"))
        assert number in plotted_for(fig, rid), (n, rid, printed, sorted(plotted_for(fig, rid)))
    if step.variant != "original":  # a step about an edit applies it: the plots show a change
        r = cols[ui.view]["result"]["retrievers"][step.focus]
        assert (r["original_target_rank"], r["ndcg"]) != (r["target_rank"], r["original_ndcg"]) or \
            r["original_target_rank"] != r["target_rank"]
