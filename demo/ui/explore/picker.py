"""The picker bar's handlers (dataset, base query, order, instance, Random) and the query
picker's choices. A pick sets the pickers, the editor and the query panel (Ctx.picks); the
columns and the plots follow in the events chained after it (demo.ui.explore.layout)."""
from __future__ import annotations

import random

import gradio as gr

from demo.errors import UserError
from demo.inspection import order_queries
from demo.ui.controls import DATASET_ORDER, DISAGREEMENT, order_choices, parse_order
from demo.ui.explore.context import AUTO, Ctx, query_html
from demo.ui.render import render_error


def query_choices(ctx: Ctx, dataset: str, order: str, retrievers: list[str], runs=None,
                  stage=None) -> list[tuple[str, str]]:
    """The base queries in the chosen order, each label with the figures it is ordered by.
    `stage`: progress of a whole-dataset table built on first use (explorer.query_table)."""
    explorer = ctx.explorer
    bench = explorer.benchmark(dataset)
    kind, by, other = parse_order(order, retrievers) or (DATASET_ORDER, None, None)
    if kind == DATASET_ORDER:
        return [(f"{bench.instances[ids[0]].query}  ·  {q}", q) for q, ids in bench.groups.items()]
    needed = [by, other] if other else [by] if by else retrievers
    table = explorer.query_table(dataset, needed, 10, stage, runs)
    for rid in needed if by else []:  # the table leaves out a retriever that cannot rank here: say why
        if table and rid not in table[0]["robustness"]:
            explorer.instance_records(dataset, rid, 10, runs)  # raises the retriever's own UserError
            raise UserError(f"cannot order the queries by {rid}: it has no ranking of this dataset")

    def pct(row, field, rid):
        v = row[field].get(rid)
        return "–" if v is None else f"{100 * v:.0f}"

    if kind == DISAGREEMENT:
        rows = sorted(table, key=lambda r: (-r["disagreement"], r["query_id"]))
        return [(f"{r['query']}  ·  nDCG spread {100 * r['disagreement']:.0f}", r["query_id"]) for r in rows]
    if kind == "robustness":
        return [(f"{r['query']}  ·  {by} R@10 {pct(r, 'robustness', by)} · nDCG {pct(r, 'ndcg', by)}",
                 r["query_id"]) for r in order_queries(table, by)]
    return [(f"{r['query']}  ·  R@10 {by} {pct(r, 'robustness', by)} vs {other} {pct(r, 'robustness', other)}",
             r["query_id"]) for r in order_queries(table, by, other)]


def order_update(order: str, retrievers: list[str]):
    """The order picker for these retrievers, and its value: an order naming a retriever no
    longer selected falls back to dataset order."""
    choices = order_choices(retrievers)
    value = order if order in {v for _, v in choices} else DATASET_ORDER
    return gr.update(choices=choices, value=value), value


def select(ctx: Ctx, dataset, query_id, instance_id, instruction, order, retrievers, runs=None) -> dict:
    """Pick a dataset/query/instance: updates for every component of ctx.picks."""
    bench = ctx.explorer.benchmark(dataset)
    if instance_id and instance_id in bench.instances:
        query_id = bench.instances[instance_id].query_id
    if query_id not in bench.groups:
        query_id = next(iter(bench.groups))
    members = bench.groups[query_id]
    if instance_id not in members:
        instance_id = members[0]
    info = ctx.explorer.instance(dataset, instance_id)
    text = info["instruction"] if instruction is None else instruction
    people = [(f"{iid} · {bench.instances[iid].persona or 'user ' + iid.rpartition('_')[2]}", iid) for iid in members]
    var_choices = [(f"{v['label']}", str(i)) for i, v in enumerate(info["variants"])]
    shown_variant = next((str(i) for i, v in enumerate(info["variants"]) if v["text"] == text and
                          text != info["instruction"]), None)
    try:
        queries = query_choices(ctx, dataset, order, retrievers, runs)
    except UserError:  # e.g. a run this dataset lacks: the picker still lists every query
        queries = query_choices(ctx, dataset, DATASET_ORDER, retrievers)
    bar, ui = ctx.bar, ctx.ui
    return {bar.query: gr.update(choices=queries, value=query_id),
            bar.instance: gr.update(choices=people, value=instance_id),
            ui.variant: gr.update(choices=var_choices, value=shown_variant),
            ui.instruction: text, ui.qinfo: query_html(info), ui.state: {"dataset": dataset, "instance": info},
            ui.summary: "",
            ui.grade: gr.update(choices=[("follow the text", AUTO)] + people, value=AUTO)}


def run_ids(ctx: Ctx, dataset: str, session_runs) -> list[str]:
    """The retriever ids of the dataset's run files (the runs folder's, and this session's)."""
    try:
        return [r.retriever_id for r in ctx.explorer.runs(dataset, session_runs).values()]
    except UserError:
        return []


def on_dataset(ctx: Ctx, dataset, order, retrievers, state, runs=None) -> dict:
    """Open another dataset; one that cannot load says why and the current view stays."""
    try:
        return {ctx.bar.dataset: dataset, **select(ctx, dataset, None, None, None, order, retrievers, runs)}
    except UserError as e:
        previous = (state or {}).get("dataset", ctx.default_dataset)
        info = (state or {}).get("instance")
        message = render_error(f"Cannot open dataset {dataset!r}: {e}. Still showing {previous!r}.")
        return {ctx.bar.dataset: previous, ctx.ui.qinfo: message + (query_html(info) if info else "")}


def on_pick(ctx: Ctx, dataset, query_id, instance_id, order, retrievers, runs=None) -> dict:
    """Open an instance (or a query's first); what cannot open says why in the summary."""
    try:
        return select(ctx, dataset, query_id, instance_id, None, order, retrievers, runs)
    except UserError as e:
        return {ctx.ui.summary: render_error(str(e))}


def on_query(ctx: Ctx, dataset, query_id, order, retrievers, runs=None) -> dict:
    return on_pick(ctx, dataset, query_id, None, order, retrievers, runs)


def on_instance(ctx: Ctx, dataset, instance_id, order, retrievers, runs=None) -> dict:
    return on_pick(ctx, dataset, None, instance_id, order, retrievers, runs)


def on_random(ctx: Ctx, dataset, order, retrievers, runs=None) -> dict:
    bench = ctx.explorer.benchmark(dataset)
    return on_pick(ctx, dataset, random.choice(list(bench.groups)), None, order, retrievers, runs)


def on_order(ctx: Ctx, dataset, order, retrievers, query_id, runs=None, progress=gr.Progress()) -> dict:
    """Reorder the query picker (a whole-dataset table per retriever on first use: the bar moves)."""
    try:
        queries = query_choices(ctx, dataset, order, retrievers, runs, stage=lambda what, d, t: progress(
            d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
        return {ctx.bar.query: gr.update(choices=queries, value=query_id)}
    except UserError as e:
        return {ctx.ui.summary: render_error(str(e))}


def relabel_orders(ctx: Ctx, dataset, order, retrievers, query_id, runs=None, progress=gr.Progress()) -> dict:
    """The order picker's choices name the selected retrievers; the query labels follow, unless
    they are in dataset order before and after (1,267 labels at InstructIR size, unchanged)."""
    update, new_order = order_update(order, retrievers)
    if new_order == DATASET_ORDER and order in (DATASET_ORDER, None, ""):
        return {ctx.bar.order: update}
    return {ctx.bar.order: update, **on_order(ctx, dataset, new_order, retrievers, query_id, runs, progress)}
