"""The Explore tab's query order follows one chosen retriever, or the gap between two (issue 7):
with BM25 alone, ordering by the minimum over the selected retrievers left 35 of 36 queries tied.
The order picker's choices name the selected retrievers and refresh when they change."""
from __future__ import annotations

import pytest

from app_server import new_explorer
from demo.inspection import order_queries
from demo.ui.app import build_page
from demo.ui.controls import DATASET_ORDER, DISAGREEMENT, order_choices, parse_order
from demo.ui.explore.editor import restore_link
from demo.ui.explore.picker import on_order, relabel_orders

ALL = ["bm25", "bm25@query", "minilm", "minilm@query"]
SKIP = {"__type__": "update"}  # what Gradio sends for a component a handler's dict leaves out


def test_order_choices_name_the_selected_retrievers():
    values = [v for _, v in order_choices(ALL)]
    assert values[0] == DATASET_ORDER and values[-1] == DISAGREEMENT
    assert values[1:5] == [f"robustness:{r}" for r in ALL]
    gaps = [v for v in values if v.startswith("gap:")]
    # a retriever against its own other mode first: where the instruction helps or hurts most
    assert gaps[:4] == ["gap:bm25|bm25@query", "gap:bm25@query|bm25", "gap:minilm|minilm@query",
                        "gap:minilm@query|minilm"]
    assert len(gaps) == 12 and len(set(gaps)) == 12
    assert [v for _, v in order_choices(["bm25"])] == [DATASET_ORDER, "robustness:bm25"]  # no gap, no spread
    many = [f"m{i}" for i in range(8)]  # gaps among the first four only: 12, not 56
    assert sum(v.startswith("gap:") for _, v in order_choices(many)) == 12


@pytest.mark.parametrize("value, rids, expected", [
    ("dataset", ["bm25"], (DATASET_ORDER, None, None)),
    ("dataset order", [], (DATASET_ORDER, None, None)),
    ("robustness", ["minilm", "bm25"], ("robustness", "minilm", None)),  # links made before this change
    ("robustness:bm25", ["minilm", "bm25"], ("robustness", "bm25", None)),
    ("gap:rrf(bm25,minilm)|bm25", ["bm25", "rrf(bm25,minilm)"], ("gap", "rrf(bm25,minilm)", "bm25")),
    ("robustness:mpnet", ["bm25"], None),
    ("gap:bm25|bm25", ["bm25"], None),
    ("disagreement", ["bm25"], None),
    ("nonsense", ["bm25"], None),
])
def test_parse_order(value, rids, expected):
    assert parse_order(value, rids) == expected


@pytest.fixture(scope="module")
def ctx():
    """The Explore handlers' context: the real Explorer and the page's components."""
    return build_page(new_explorer()).explore.ctx


def reorder(ctx, *args):
    """on_order as (query picker update, summary update)."""
    out = on_order(ctx, *args)
    return out.get(ctx.bar.query, SKIP), out.get(ctx.ui.summary, SKIP)


def relabel(ctx, *args):
    """relabel_orders as (order picker, query picker, summary) updates."""
    out = relabel_orders(ctx, *args)
    return tuple(out.get(c, SKIP) for c in (ctx.bar.order, ctx.bar.query, ctx.ui.summary))


def labels(update):
    return [label for label, _ in update["choices"]], [v for _, v in update["choices"]]


def test_order_by_one_retriever_is_not_dataset_order(ctx):
    ex = ctx.explorer
    update, message = reorder(ctx, "demo", "robustness:bm25", ["bm25"], "101", None)
    names, qids = labels(update)
    table = {r["query_id"]: r for r in ex.query_table("demo", ["bm25"], 10)}
    values = [table[q]["robustness"]["bm25"] for q in qids]
    assert values == sorted(values) and len(set(values)) > 5  # BM25's own Robustness, lowest first
    assert qids != list(ex.benchmark("demo").groups)
    assert update["value"] == "101" and all(" bm25 R@10 " in n for n in names)
    first = table[qids[0]]
    assert names[0].endswith(f"R@10 {100 * first['robustness']['bm25']:.0f} · nDCG {100 * first['ndcg']['bm25']:.0f}")


def test_order_by_the_gap_between_two(ctx):
    ex = ctx.explorer
    update, _ = reorder(ctx, "demo", "gap:minilm|minilm@query", ALL, "101", None)
    names, qids = labels(update)
    table = {r["query_id"]: r for r in ex.query_table("demo", ["minilm", "minilm@query"], 10)}
    gaps = [table[q]["robustness"]["minilm"] - table[q]["robustness"]["minilm@query"] for q in qids]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 0  # where the instruction helps MiniLM most first
    assert qids == [r["query_id"] for r in order_queries(list(table.values()), "minilm", "minilm@query")]
    assert "minilm" in names[0] and "vs minilm@query" in names[0]


def test_choices_follow_the_retriever_picker(ctx):
    order, queries, message = relabel(ctx, "demo", "robustness:minilm", ["bm25", "bm25@query"], "101", None)
    assert order["value"] == DATASET_ORDER  # minilm is gone: its order cannot stay
    assert "robustness:bm25@query" in [v for _, v in order["choices"]]
    assert queries["choices"][0][0].endswith("·  101")
    order, queries, _ = relabel(ctx, "demo", "robustness:bm25", ["bm25", "minilm"], "101", None)
    assert order["value"] == "robustness:bm25" and " bm25 R@10 " in queries["choices"][0][0]


def test_a_link_with_the_old_order_opens_the_first_retrievers_order(ctx):

    class Request:
        query_params = {"order": "robustness", "retrievers": "bm25,minilm", "instance": "201_2"}

    out = restore_link(ctx, Request())
    assert out[ctx.bar.order]["value"] == "robustness:bm25"
    Request.query_params = {"order": "robustness:mpnet", "retrievers": "bm25"}
    out = restore_link(ctx, Request())
    assert out[ctx.bar.order]["value"] == DATASET_ORDER and "Unknown query order" in out[ctx.ui.qinfo]


def test_the_query_order_can_follow_a_run_uploaded_in_this_session(ctx):
    """A session's run file orders the picker like a live retriever; without the session's runs
    the order says why in one line instead of failing the pick."""
    from demo.runs import load_bytes
    ex = ctx.explorer
    bench = ex.benchmark("demo")
    lines = []
    for iid, inst in bench.instances.items():
        for card in ex.rank("demo", iid, inst.instruction, ["bm25"], 10)["retrievers"]["bm25"]["ranking"]:
            lines.append(f"{iid} Q0 {card['doc_id']} {card['rank']} {card['score']} mine")
    run = load_bytes("\n".join(lines).encode(), bench, "mine.trec")
    runs = {run.name: run}
    update, message = reorder(ctx, "demo", "robustness:run:mine", ["run:mine"], "101", runs)
    names, qids = labels(update)
    table = {r["query_id"]: r for r in ex.query_table("demo", ["run:mine"], 10, runs=runs)}
    assert qids == [r["query_id"] for r in order_queries(list(table.values()), "run:mine")]
    assert all(" run:mine R@10 " in n for n in names) and message == {"__type__": "update"}
    update, message = reorder(ctx, "demo", "robustness:run:mine", ["run:mine"], "101", None)
    assert update == {"__type__": "update"} and "mine" in message and message.count("\n") <= 1


def test_retriever_changes_in_dataset_order_do_not_resend_the_query_list(ctx):
    order, queries, message = relabel(ctx, "demo", DATASET_ORDER, ["bm25", "minilm"], "101", None)
    assert [v for _, v in order["choices"]][1:3] == ["robustness:bm25", "robustness:minilm"]
    assert queries == {"__type__": "update"} and message == {"__type__": "update"}
