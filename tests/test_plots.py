"""Plot builders (demo.plots): a real result gives a titled figure with titled axes and the
result's numbers; malformed input gives an error figure, never an exception."""
from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from app_server import new_explorer
from demo.plots import error_figure, rank_shift_figure, robustness_figure, sweep_figure

RIDS = ["bm25", "bm25@query", "gtr-t5-base"]  # gtr-t5-base is unavailable offline: an error column


@pytest.fixture(scope="module")
def real():
    ex = new_explorer()
    bench = ex.benchmark("demo")
    iid = next(i for i in bench.instances if i in bench.paraphrases)
    inst = bench.instances[iid]
    edit = bench.instances[next(s for s in bench.groups[inst.query_id] if s != iid)].instruction
    result = ex.rank("demo", iid, edit, RIDS, 10)
    sweep = ex.sweep("demo", inst.query_id, RIDS, 10, iid, edit)
    return result, sweep


def ok_ids(result):
    return [rid for rid, r in result["retrievers"].items() if "error" not in r]


def axis_titles(fig: go.Figure) -> dict:
    layout = fig.to_plotly_json()["layout"]
    return {name: (ax.get("title") or {}).get("text") for name, ax in layout.items()
            if name.startswith(("xaxis", "yaxis"))}


def assert_titled(fig):
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    titles = axis_titles(fig)
    assert titles and all(titles.values()), titles
    json.loads(fig.to_json())  # serialisable, as gr.Plot needs


def assert_error_figure(fig, *words):
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 0
    texts = " ".join(a.text for a in fig.layout.annotations)
    for w in words:
        assert w in texts, texts


def test_robustness_figure(real):
    result, _ = real
    fig = robustness_figure(result)
    assert_titled(fig)
    assert "Robustness@10" in fig.layout.title.text
    ids = ok_ids(result)
    assert len(fig.data) == 4 and all(list(t.x) == ids for t in fig.data)
    by_name = {t.name: list(t.y) for t in fig.data}
    assert by_name["nDCG@10 edited"] == pytest.approx([100 * result["retrievers"][i]["ndcg"] for i in ids])
    assert by_name["nDCG@10 original"] == pytest.approx([100 * result["retrievers"][i]["original_ndcg"] for i in ids])
    assert by_name["Robustness@10 with the edit"] == pytest.approx([100 * result["robustness"][i] for i in ids])
    assert by_name["Robustness@10 of the query"] == pytest.approx([100 * result["original_robustness"][i] for i in ids])


def test_rank_shift_figure(real):
    result, _ = real
    fig = rank_shift_figure(result, "bm25")
    assert_titled(fig)
    assert {a.text for a in fig.layout.annotations} >= {"Target rank per retriever", "Top-10 movement: bm25"}
    ids = ok_ids(result)
    target_lines = [t for t in fig.data if t.name in ids]
    assert [t.name for t in target_lines] == ids
    for t in target_lines:
        r = result["retrievers"][t.name]
        assert list(t.y) == [r["original_target_rank"], r["target_rank"]]
    movement = fig.data[len(ids):]
    top = set(result["retrievers"]["bm25"]["original_top"]) | {c["doc_id"] for c in result["retrievers"]["bm25"]["ranking"]}
    assert len(movement) == len(top)
    # an unknown focus falls back to the first working column
    assert "Top-10 movement: bm25" in {a.text for a in rank_shift_figure(result, "nope").layout.annotations}


def test_sweep_figure(real):
    _, sweep = real
    fig = sweep_figure(sweep)
    assert_titled(fig)
    assert sweep["query"] in fig.layout.title.text
    (heat,) = fig.data
    ids = ok_ids(sweep)
    assert len(heat.z) == len(ids) and all(len(row) == len(sweep["variants"]) for row in heat.z)
    assert len(heat.x) == len(sweep["variants"])
    for row, rid in zip(heat.z, ids):
        assert list(row) == [min(r or 50, 50) for r in sweep["retrievers"][rid]["target_rank"]]


def test_error_figure_says_why():
    assert_error_figure(error_figure("no instance selected"), "no instance selected")


@pytest.mark.parametrize("builder, bad", [
    (robustness_figure, {}),
    (robustness_figure, None),
    (robustness_figure, {"k": 10, "retrievers": {"bm25": {"ndcg": 0.5}}}),
    (rank_shift_figure, {"retrievers": 3, "k": 10}),
    (rank_shift_figure, "not a result"),
    (rank_shift_figure, {"k": 10, "retrievers": {"bm25": {"original_target_rank": 1, "target_rank": 2}}}),
    (sweep_figure, {}),
    (sweep_figure, {"k": 10, "query": "q", "variants": [{"kind": "x"}],
                    "retrievers": {"bm25": {"target_rank": [1], "ndcg": [0.5]}}}),
    (sweep_figure, {"k": 10, "query": "q", "variants": [], "retrievers": {"bm25": {"target_rank": "xx"}}}),
])
def test_malformed_input_gives_an_error_figure(builder, bad):
    fig = builder(bad)
    assert_error_figure(fig, builder.__name__)
