"""The picker bar shared by every tab: dataset, base query, order, instance, retrievers and k.

Plain components only; the Explore tab wires their events (it owns the query/instance logic),
the other tabs read dataset, retrievers and k as inputs."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.errors import UserError
from demo.retrievers.ids import split_ids
from demo.retrievers.registry import model_choices, parse_id, reranker_choices
from demo.data.sources import dataset_choices
from demo.retrievers.templates import MODES
from demo.ui.render import render_unavailable

DEFAULT_RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
ORDERS = ["dataset order", "lowest Robustness@10", "largest disagreement"]


FUSIONS = [("bm25", "minilm"), ("bm25", "mpnet")]  # hybrid search: lexical + dense, offered when both load


def retriever_choices(run_ids=()) -> list[tuple[str, str]]:
    """Every loadable model in every mode, the fusions and rerankers that load, then the run
    files (`run:<name>`) of the dataset."""
    out = []
    available = {mid for mid, _, reason in model_choices() if reason is None}
    for mid, label, reason in model_choices():
        if reason is None:
            for mode in MODES:
                rid = mid if mode == "full" else f"{mid}@{mode}"
                out.append((rid, rid))
    for a, b in FUSIONS:
        if a in available and b in available:
            for rid in (f"rrf({a},{b})", f"rrf({a},{b})@query"):
                out.append((rid, rid))
    for rr, _, reason in reranker_choices():  # online only: BM25's top 100, reranked
        if reason is None:
            out.append((f"bm25>{rr}", f"bm25>{rr}"))
    return out + [(rid, rid) for rid in run_ids]


def split_retrievers(text: str) -> list[str]:
    """A deep link's comma list (commas inside rrf(...) do not split); [] when malformed."""
    try:
        return split_ids(text)
    except UserError:
        return []


def model_ids(rid: str) -> tuple[str, ...]:
    """The registry models a retriever id needs (two for a fusion); () for a bad id."""
    try:
        return parse_id(rid).model_ids()
    except UserError:
        return ()


@dataclass
class Bar:
    dataset: gr.Dropdown
    query: gr.Dropdown
    order: gr.Dropdown
    random_btn: gr.Button
    instance: gr.Dropdown
    retrievers: gr.Dropdown
    k: gr.Number
    runs: gr.State  # this session's uploaded run files {name: RunFile}, shared by every tab


def build_bar(default_dataset: str) -> Bar:
    """One compact row (it wraps on narrow screens), so the editor, the summary and the top of
    the columns fit a 1440x900 screen."""
    with gr.Row(equal_height=False, elem_id="picker-bar"):
        dataset = gr.Dropdown(choices=dataset_choices(), value=default_dataset,
                              allow_custom_value=True, label="Dataset",
                              elem_id="dataset", scale=2, min_width=150)
        query = gr.Dropdown(label="Base query (type to search)", filterable=True, elem_id="query", scale=4,
                            min_width=200)
        order = gr.Dropdown(choices=ORDERS, value=ORDERS[0], label="Order", elem_id="order", scale=2,
                            min_width=150)
        random_btn = gr.Button("Random", elem_id="random", size="sm", scale=0, min_width=70)
        instance = gr.Dropdown(label="Instance (user)", elem_id="instance", scale=3, min_width=180)
        retrievers = gr.Dropdown(choices=retriever_choices(), value=[], multiselect=True, label="Retrievers",
                                 elem_id="retrievers", scale=5, min_width=260)
        k = gr.Number(value=10, minimum=1, maximum=50, precision=0, step=1, label="k", elem_id="k",
                      scale=0, min_width=80)
    return Bar(dataset, query, order, random_btn, instance, retrievers, k, gr.State({}))


def unavailable_models() -> None:
    """Registry models that cannot load here, listed with why (a line under the header)."""
    gr.HTML(render_unavailable(model_choices() + reranker_choices()), elem_id="unavailable")
