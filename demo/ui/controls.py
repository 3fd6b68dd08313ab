"""The picker bar shared by every tab: dataset, base query, order, instance, retrievers and k.

Plain components only; the Explore tab wires their events (it owns the query/instance logic),
the other tabs read dataset, retrievers and k as inputs."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.errors import UserError
from demo.inputs import split_ids
from demo.retrievers.registry import model_choices, parse_id, reranker_choices
from demo.data.sources import dataset_choices
from demo.retrievers.templates import MODES
from demo.service.checks import MAX_K
from demo.settings import session_limits
from demo.ui.render import render_unavailable
from demo.ui.sessions import uploads

DEFAULT_RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
# Query orders (the Order dropdown's values, also the deep link's `order=`): dataset order, one
# retriever's Robustness (`robustness:<id>`), the gap between two (`gap:<a>|<b>`, where a beats b
# most), or how much all selected retrievers disagree. Labels name the retrievers, so the choices
# follow the retriever picker.
DATASET_ORDER, DISAGREEMENT = "dataset", "disagreement"

MAX_GAP_PAIRS_OF = 4  # gaps between any two of the first four retrievers (and R vs R@query for all)


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


def _without_mode(rid: str) -> str:
    head, _, mode = rid.rpartition("@")
    return head if head and mode in MODES else rid


def order_value(kind: str, by: str | None = None, other: str | None = None) -> str:
    """The Order dropdown's (and the link's) value of a parsed order: parse_order's inverse."""
    return f"{kind}:{by}|{other}" if other else f"{kind}:{by}" if by else kind


def order_choices(retrievers) -> list[tuple[str, str]]:
    """The query orders these retrievers allow, as (label, value): each retriever's lowest
    Robustness, then gaps (a retriever against its own other modes first: where the instruction
    helps or hurts most), then the nDCG spread across all of them."""
    rids = list(dict.fromkeys(retrievers or []))
    out = [("dataset order", DATASET_ORDER)]
    out += [(f"lowest Robustness@10 of {r}", order_value("robustness", r)) for r in rids]
    pairs = [(a, b) for a in rids for b in rids if a != b]
    same = [p for p in pairs if _without_mode(p[0]) == _without_mode(p[1])]
    first = set(rids[:MAX_GAP_PAIRS_OF])
    pairs = same + [p for p in pairs if p not in same and p[0] in first and p[1] in first]
    out += [(f"Robustness gap: {a} over {b}", order_value("gap", a, b)) for a, b in pairs]  # largest first
    if len(rids) > 1:
        out.append(("largest nDCG spread across all", DISAGREEMENT))
    return out


def parse_order(value: str | None, retrievers) -> tuple[str, str | None, str | None] | None:
    """(kind, by, other) for an order value with these retrievers selected: kind is dataset,
    robustness, gap or disagreement. A bare `robustness` (links made before orders named a
    retriever) means the first retriever's. None when the value names a retriever not selected."""
    rids = list(retrievers or [])
    value = value or DATASET_ORDER
    if value in (DATASET_ORDER, "dataset order"):
        return DATASET_ORDER, None, None
    if value == DISAGREEMENT:
        return (DISAGREEMENT, None, None) if len(rids) > 1 else None
    if value == "robustness":
        return ("robustness", rids[0], None) if rids else None
    kind, _, rest = value.partition(":")
    if kind == "robustness" and rest in rids:
        return kind, rest, None
    a, _, b = rest.partition("|")
    if kind == "gap" and a in rids and b in rids and a != b:
        return kind, a, b
    return None


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
        order = gr.Dropdown(choices=order_choices([]), value=DATASET_ORDER, label="Order", elem_id="order",
                            filterable=True, scale=2, min_width=150)
        random_btn = gr.Button("Random", elem_id="random", size="sm", scale=0, min_width=70)
        instance = gr.Dropdown(label="Instance (user)", elem_id="instance", scale=3, min_width=180)
        retrievers = gr.Dropdown(choices=retriever_choices(), value=[], multiselect=True, label="Retrievers",
                                 elem_id="retrievers", scale=5, min_width=260)
        k = gr.Number(value=10, minimum=1, maximum=MAX_K, precision=0, step=1, label="k", elem_id="k",
                      scale=0, min_width=80)
    # a session's runs are freed when it idles past the time to live (demo.ui.sessions)
    runs = gr.State({}, time_to_live=session_limits()[2], delete_callback=uploads().release_runs)
    return Bar(dataset, query, order, random_btn, instance, retrievers, k, runs)


def unavailable_models() -> None:
    """Registry models that cannot load here, listed with why (a line under the header)."""
    gr.HTML(render_unavailable(model_choices() + reranker_choices()), elem_id="unavailable")
