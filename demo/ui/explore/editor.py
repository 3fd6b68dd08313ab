"""The instruction editor's handlers: a variant or the reset sets the editor and draws the
columns in one round trip (the plots follow in a chained event), and restoring a deep link
sets the bar, the editor and the tab from the page address."""
from __future__ import annotations

import gradio as gr

from demo.errors import UserError
from demo.tour import STEPS
from demo.ui.controls import (DATASET_ORDER, DEFAULT_RETRIEVERS, order_choices, order_value, parse_order,
                              retriever_choices, split_retrievers)
from demo.ui.explore.columns import no_progress, refresh
from demo.ui.explore.context import MAX_K, TABS, Ctx, notice
from demo.ui.explore.picker import run_ids, select
from demo.ui.latest import Latest


def on_variant(choice, state):
    """The text of the chosen variant of the instance in `state`; gr.update() for none."""
    variants = (state or {}).get("instance", {}).get("variants", [])
    if choice is None or not str(choice).isdigit() or int(choice) >= len(variants):
        return gr.update()
    return variants[int(choice)]["text"]


def on_reset(state):
    """The instance's own instruction, and no variant chosen."""
    return (state or {}).get("instance", {}).get("instruction", ""), None


def apply_variant(ctx: Ctx, choice, dataset, retrievers, k, grade, order, tab, state, view, session_runs=None,
                  progress=gr.Progress()) -> dict:
    text = on_variant(choice, state)
    if not isinstance(text, str):
        return {ctx.ui.view: gr.skip()}
    return {ctx.ui.instruction: text,
            **refresh(ctx, dataset, text, retrievers, k, grade, order, tab, state, view, session_runs, progress)}


def apply_reset(ctx: Ctx, dataset, retrievers, k, grade, order, tab, state, view, session_runs=None,
                progress=gr.Progress()) -> dict:
    text, variant = on_reset(state)
    return {ctx.ui.instruction: text, ctx.ui.variant: variant,
            **refresh(ctx, dataset, text, retrievers, k, grade, order, tab, state, view, session_runs, progress)}


def picked_variant(ctx: Ctx, latest: Latest, seq, choice, dataset, retrievers, k, grade, order, tab, state, view,
                   session_runs=None, request: gr.Request = None) -> dict:
    """A variant picked: an edit like typing, so outside the queue and numbered (demo.ui.latest)."""
    return latest.run(request, seq, lambda: apply_variant(ctx, choice, dataset, retrievers, k, grade, order, tab,
                                                          state, view, session_runs, no_progress))


def pressed_reset(ctx: Ctx, latest: Latest, seq, dataset, retrievers, k, grade, order, tab, state, view,
                  session_runs=None, request: gr.Request = None) -> dict:
    """The reset: an edit like typing (demo.ui.latest)."""
    return latest.run(request, seq, lambda: apply_reset(ctx, dataset, retrievers, k, grade, order, tab, state, view,
                                                        session_runs, no_progress))


def _link_settings(ctx: Ctx, params: dict, problems: list[str]):
    """Dataset, retrievers, k, order and tab of a deep link; what cannot be used goes to `problems`."""
    dataset = params.get("dataset") or ctx.default_dataset
    asked = [r for r in split_retrievers(params.get("retrievers") or "") if r]
    known = ctx.valid_ids | set(run_ids(ctx, dataset, None))  # with the runs folder's runs
    rids = [r for r in asked if r in known]
    # a run uploaded in a session lives in that session only: its link cannot bring it back
    problems += [f"{r!r} was uploaded in another session: uploaded runs cannot travel in a link (the address "
                 f"names them, the file stays with the session that uploaded it). Upload it again in the Inspect tab."
                 if r.startswith("run:") else f"Unknown retriever {r!r} left out." for r in asked if r not in known]
    rids = rids or [r for r in DEFAULT_RETRIEVERS if r in ctx.valid_ids]
    k = 10
    if params.get("k"):
        try:
            k = int(params["k"])
            if not 1 <= k <= MAX_K:
                raise ValueError
        except ValueError:
            problems.append(f"k={params['k']!r} is not a whole number from 1 to {MAX_K}; using 10.")
            k = 10
    parsed = parse_order(params.get("order"), rids)
    if parsed is None:
        problems.append(f"Unknown query order {params['order']!r} for these retrievers; using dataset order.")
    order = order_value(*(parsed or (DATASET_ORDER,)))
    tab = params.get("tab") or "explore"
    if tab not in TABS:
        problems.append(f"Unknown tab {tab!r}; showing Explore.")
        tab = "explore"
    return dataset, rids, k, order, tab


def restore_link(ctx: Ctx, request: gr.Request) -> dict:
    """Restore a deep link; every part that cannot be restored is said on the page."""
    params = dict(request.query_params) if request is not None else {}
    if str(params.get("tour", "")).isdigit() and 1 <= int(params["tour"]) <= len(STEPS):
        # the tour step (tour_bar.on_load, next in the load chain) sets the whole view: nothing to draw twice
        return {ctx.tabs: gr.Tabs(selected="explore"), ctx.tab_state: "explore"}
    problems = []
    dataset, rids, k, order, tab = _link_settings(ctx, params, problems)
    try:
        bench = ctx.explorer.benchmark(dataset)
        iid = params.get("instance")
        if iid and iid not in bench.instances:
            problems.append(f"Instance {iid!r} is not in {dataset}; showing the first instance instead.")
            iid = None
        picks = select(ctx, dataset, None, iid, params.get("instruction") if iid else None, order, rids)
    except UserError as e:
        problems.append(f"Could not open dataset {dataset!r}: {e}. Showing {ctx.default_dataset!r}.")
        dataset = ctx.default_dataset
        picks = select(ctx, dataset, None, None, None, order, rids)
    grade, grading = params.get("grade"), ctx.ui.grade
    if grade:
        if grade in [v for _, v in picks[grading]["choices"]]:
            picks[grading] = gr.update(choices=picks[grading]["choices"], value=grade)
        else:
            problems.append(f"Cannot grade against {grade!r}: not an instance of this query; following the text.")
    # in the query panel: the refresh that follows rewrites the summary, and the message would vanish
    picks[ctx.ui.qinfo] = notice(problems) + picks[ctx.ui.qinfo]
    bar = ctx.bar
    return {bar.dataset: dataset, bar.retrievers: gr.update(choices=retriever_choices(run_ids(ctx, dataset, None)),
                                                              value=rids),
            bar.k: k, bar.order: gr.update(choices=order_choices(rids), value=order), **picks,
            ctx.tabs: gr.Tabs(selected=tab), ctx.tab_state: tab}
