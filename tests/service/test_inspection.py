"""Inspection: outcomes (at any depth, from the stored ranks), filters (outcomes, conditions, notes),
worst-per-query, contrast order (by |Δ| and signed), instruction hurts, the passage that beat the
target, and the instance table through the service and the CLI."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

from demo.data.release import load_folder
from demo.inspection import (ANY_NOTE, BELOW, GENERIC, HIT, NO_NOTE, NOT_FIRST, NOT_RETRIEVED, OFF_TOPIC, SIBLING,
                             SIBLING_ABOVE, at_depth, beaten_by, contrast, filter_rows, generic_docs, instruction_hurts,
                             order_queries, outcome, outcome_at, rows_to_csv, sort_rows, worst_per_query)
from helpers import run_cli, write_release


def test_outcome_rules():
    assert outcome(None, 10, 1, 1) == NOT_RETRIEVED
    assert outcome(3, 10, 1, 2) == HIT  # in the top k, whatever outranks it
    assert outcome(11, 10, 1, 2) == SIBLING  # both above the target: the higher-ranked one names it
    assert outcome(11, 10, 3, 1) == GENERIC
    assert outcome(11, 10, 12, 2) == GENERIC
    assert outcome(11, 10, None, None) == OFF_TOPIC
    assert outcome(11, 10, 15, 30) == OFF_TOPIC  # siblings and generic below the target explain nothing
    assert outcome(4, 3, 1, None) == SIBLING


def test_generic_doc_is_the_target_id_without_its_suffix(tmp_path):
    corpus = [("p7", "base passage"), ("p7_1", "for user one"), ("p7_2", "for user two"), ("q9_1", "other")]
    queries = [("7_1", "I am one.", "q"), ("7_2", "I am two.", "q"), ("9_1", "I am nine.", "r")]
    bench = load_folder(write_release(tmp_path / "g", corpus=corpus, queries=queries,
                                      qrels=[("7_1", "p7_1", 1), ("7_2", "p7_2", 1), ("9_1", "q9_1", 1)]))
    assert generic_docs(bench, bench.instances["7_1"]) == {"p7"}
    assert generic_docs(bench, bench.instances["9_1"]) == set()  # q9 is not in the corpus


def row(iid, qid, **cells):
    return {"instance_id": iid, "query_id": qid, "query": f"query {qid}", "instruction": f"note {iid}",
            "retrievers": {rid: {"target_rank": r, "ndcg": n, "outcome": o, "top_doc": "d"}
                           for rid, (r, n, o) in cells.items()}}


ROWS = [
    row("1_1", "1", a=(1, 1.0, HIT), b=(12, 0.0, SIBLING)),
    row("1_2", "1", a=(3, 0.5, HIT), b=(2, 1 / math.log2(3), HIT)),
    row("1_10", "1", a=(None, 0.0, NOT_RETRIEVED), b=(40, 0.0, OFF_TOPIC)),
    row("2_1", "2", a=(2, 1 / math.log2(3), HIT), b=(30, 0.0, SIBLING)),
    row("2_2", "2", a=(20, 0.0, GENERIC), b=(20, 0.0, GENERIC)),
    row("3_1", "3", a=(1, 1.0, HIT)),  # b (a run) does not cover it
]


def ids(rows):
    return [r["instance_id"] for r in rows]


def test_filter_by_outcome_per_retriever_query_and_text():
    assert ids(filter_rows(ROWS, {"a": [HIT], "b": [SIBLING]})) == ["1_1", "2_1"]
    assert ids(filter_rows(ROWS, {"a": [HIT], "b": []})) == ["1_1", "1_2", "2_1", "3_1"]  # empty = any
    assert ids(filter_rows(ROWS, {"b": [SIBLING, OFF_TOPIC]}, query_id="1")) == ["1_1", "1_10"]
    assert ids(filter_rows(ROWS, text="NOTE 2_")) == ["2_1", "2_2"]
    assert ids(filter_rows(ROWS, text="query 3")) == ["3_1"]


def test_worst_instance_of_each_query_sets_robustness():
    assert ids(worst_per_query(ROWS, "a")) == ["1_10", "2_2", "3_1"]
    # ties on nDCG 0: the lower-ranked target is worse (1_1 at 12 beats 1_10 at 40 for b)
    assert ids(worst_per_query(ROWS, "b")) == ["1_10", "2_1"]


def test_sorting_puts_10_after_9_and_orders_by_a_retriever():
    assert ids(sort_rows(ROWS)) == ["1_1", "1_2", "1_10", "2_1", "2_2", "3_1"]
    assert ids(sort_rows(ROWS, "nDCG (lowest first)", "a"))[:3] == ["1_10", "2_2", "1_2"]
    assert ids(sort_rows(ROWS, "target rank (worst first)", "a"))[:2] == ["1_10", "2_2"]


def test_contrast_orders_by_ndcg_gap_then_rank_gap():
    out = contrast(ROWS, "a", "b")
    assert ids(out) == ["1_1", "2_1", "1_2", "1_10", "2_2"]  # 3_1: b lacks it
    assert [round(r["delta"], 3) for r in out] == [1.0, 0.631, -0.131, 0.0, 0.0]
    assert out[0]["rank_delta"] == 11 and out[3]["rank_delta"] is None  # a never retrieved 1_10
    assert ids(contrast(ROWS, "a", "b", only_different=True)) == ["1_1", "2_1", "1_2", "1_10"]


def test_signed_contrast_puts_one_systems_losses_first_not_the_largest_gap():
    # A worse first: 1_2 is A's only nDCG loss (−0.131); then the ties on nDCG, where A's missing
    # target (1_10) is worse than any rank and 2_2 ties; A's wins (2_1, 1_1) last, the largest last
    assert ids(contrast(ROWS, "a", "b", worse="a")) == ["1_2", "1_10", "2_2", "2_1", "1_1"]
    assert ids(contrast(ROWS, "a", "b", worse="b")) == ["1_1", "2_1", "2_2", "1_10", "1_2"]
    assert ids(contrast(ROWS, "a", "b")) == ["1_1", "2_1", "1_2", "1_10", "2_2"]  # |Δ| mixes wins and losses
    deltas = [r["delta"] for r in contrast(ROWS, "a", "b", worse="a")]
    assert deltas == sorted(deltas)
    with pytest.raises(ValueError):
        contrast(ROWS, "a", "b", worse="x")


def cell(target, sibling=None, generic=None, top="d1", sib_doc="s", gen_doc="g", ndcg=0.0):
    return {"target_rank": target, "ndcg": ndcg, "outcome": "?", "top_doc": top, "sibling_rank": sibling,
            "sibling_doc": sib_doc if sibling else None, "generic_rank": generic, "generic_doc": gen_doc if generic else None}


def test_outcome_at_any_depth_comes_from_the_stored_ranks():
    c = cell(3, sibling=1, generic=2)
    assert [outcome_at(c, d) for d in (1, 3, 5, 10)] == [SIBLING, HIT, HIT, HIT]
    c = cell(4, sibling=6, generic=2)
    assert [outcome_at(c, d) for d in (1, 3, 5)] == [GENERIC, GENERIC, HIT]
    assert outcome_at(cell(2), 1) == OFF_TOPIC and outcome_at(cell(None, sibling=1), 1) == NOT_RETRIEVED
    rows = [{"instance_id": "1_1", "query_id": "1", "retrievers": {"a": cell(3, sibling=1), "b": cell(1)}}]
    one, ten = at_depth(rows, 1)[0]["retrievers"], at_depth(rows, 10)[0]["retrievers"]
    assert (one["a"]["outcome"], one["b"]["outcome"], ten["a"]["outcome"]) == (SIBLING, HIT, HIT)
    assert rows[0]["retrievers"]["a"]["outcome"] == "?"  # the rows given are not changed
    assert at_depth(rows, None) == rows


def test_the_passage_that_beat_the_target():
    assert beaten_by(cell(1, sibling=2)) is None  # first: nothing beat it
    assert beaten_by(cell(5, sibling=2, generic=3)) == ("s", 2, SIBLING)  # the best-ranked of those above
    assert beaten_by(cell(5, sibling=4, generic=3)) == ("g", 3, GENERIC)
    assert beaten_by(cell(3, sibling=7)) == ("d1", 1, "first")  # the sibling is below: the first passage
    assert beaten_by(cell(None, sibling=9)) == ("s", 9, SIBLING)
    assert beaten_by(cell(None, top=None)) is None


DEPTH_ROWS = [
    {"instance_id": "1_1", "query_id": "1", "query": "q", "instruction": "i",
     "retrievers": {"a": cell(2, sibling=1), "b": cell(1)}},
    {"instance_id": "1_2", "query_id": "1", "query": "q", "instruction": "i",
     "retrievers": {"a": cell(1, sibling=4), "b": cell(3, generic=2)}},
    {"instance_id": "1_3", "query_id": "1", "query": "q", "instruction": "i",
     "retrievers": {"a": cell(None, sibling=2), "b": cell(None)}},
    {"instance_id": "2_1", "query_id": "2", "query": "r", "instruction": "j",
     "retrievers": {"a": cell(7), "b": cell(2, sibling=1)}},
]


def test_conditions_target_below_not_first_and_sibling_above():
    assert ids(filter_rows(DEPTH_ROWS, checks=[(BELOW, "a", "b")])) == ["1_1", "2_1"]  # 1_3: both missing
    assert ids(filter_rows(DEPTH_ROWS, checks=[(BELOW, "b", "a")])) == ["1_2"]
    assert ids(filter_rows(DEPTH_ROWS, checks=[(NOT_FIRST, "a")])) == ["1_1", "1_3", "2_1"]
    assert ids(filter_rows(DEPTH_ROWS, checks=[(SIBLING_ABOVE, "a")])) == ["1_1", "1_3"]
    assert ids(filter_rows(DEPTH_ROWS, checks=[(SIBLING_ABOVE, "b")])) == ["2_1"]
    both = filter_rows(DEPTH_ROWS, checks=[(NOT_FIRST, "a"), (SIBLING_ABOVE, "a"), (BELOW, "a", "b")])
    assert ids(both) == ["1_1"]


def test_filters_at_depth_1_and_10_find_different_losses():
    """A good system hits everywhere at 10; at depth 1 its losses (here, a sibling first) appear."""
    at10, at1 = at_depth(DEPTH_ROWS, 10), at_depth(DEPTH_ROWS, 1)
    assert ids(filter_rows(at10, {"a": [SIBLING]})) == []
    assert ids(filter_rows(at1, {"a": [SIBLING]})) == ["1_1"]
    assert ids(filter_rows(at1, {"b": [GENERIC, SIBLING]})) == ["1_2", "2_1"]
    assert ids(filter_rows(at10, {"a": [HIT], "b": [HIT]})) == ["1_1", "1_2", "2_1"]
    assert ids(filter_rows(at_depth(DEPTH_ROWS, 5), {"a": [HIT]})) == ["1_1", "1_2"]  # 2_1 at #7


def test_search_covers_notes_and_the_tag_filter():
    notes = {"1_2": {"instance_id": "1_2", "tag": "wrong persona", "text": "Ranks the Banker's passage"},
             "2_1": {"instance_id": "2_1", "tag": None, "text": "fine"}}
    assert ids(filter_rows(DEPTH_ROWS, text="banker", notes=notes)) == ["1_2"]
    assert ids(filter_rows(DEPTH_ROWS, text="WRONG PERSONA", notes=notes)) == ["1_2"]  # the tag too
    assert ids(filter_rows(DEPTH_ROWS, text="banker")) == []  # without the notes: not found
    assert ids(filter_rows(DEPTH_ROWS, notes=notes, tag="wrong persona")) == ["1_2"]
    assert ids(filter_rows(DEPTH_ROWS, notes=notes, tag=ANY_NOTE)) == ["1_2", "2_1"]
    assert ids(filter_rows(DEPTH_ROWS, notes=notes, tag=NO_NOTE)) == ["1_1", "1_3"]


def test_instruction_hurts_lists_losses_largest_first():
    rows = [row("1_1", "1", m=(5, 0.39, HIT), **{"m@query": (1, 1.0, HIT)}),
            row("1_2", "1", m=(1, 1.0, HIT), **{"m@query": (3, 0.5, HIT)}),
            row("1_3", "1", m=(2, 0.63, HIT), **{"m@query": (1, 1.0, HIT)})]
    out = instruction_hurts(rows, "m")
    assert ids(out) == ["1_1", "1_3"] and out[0]["delta"] == pytest.approx(-0.61)


def test_order_queries_by_one_retriever_or_a_gap():
    table = [{"query_id": q, "robustness": rob, "ndcg": {k: v for k, v in rob.items()}}
             for q, rob in [("1", {"a": 0.2, "b": 0.5}), ("2", {"a": 0.0, "b": 0.9}), ("3", {"a": 0.7, "b": 0.1}),
                            ("4", {"b": 0.3})]]
    assert [r["query_id"] for r in order_queries(table, "a")] == ["2", "1", "3", "4"]
    assert [r["query_id"] for r in order_queries(table, "a", "b")] == ["3", "1", "2", "4"]


def test_csv_export_neutralises_formulas_and_leaves_uncovered_cells_empty():
    rows = [row("=1+1", "1", a=(1, 1.0, HIT))]
    text = rows_to_csv(rows, ["a", "b"], 10, notes={"=1+1": {"tag": "other", "text": "@SUM(A1)"}})
    line = list(csv.reader(io.StringIO(text)))[1]
    assert line[0] == "'=1+1" and line[-1] == "'@SUM(A1)"
    assert line[6:10] == ["", "", "", ""]


# ---- on the bundled dataset, through the service and the CLI ------------------------------------
@pytest.fixture(scope="module")
def ex():
    from app_server import new_explorer
    return new_explorer()


@pytest.fixture(scope="module")
def table(ex):
    return ex.inspect("demo", ["bm25", "minilm", "minilm@query"], 10)


def test_instance_table_agrees_with_rank(ex, table):
    assert len(table["rows"]) == 240 and not table["errors"]
    for r in table["rows"][::37]:
        ranked = ex.rank("demo", r["instance_id"], None, ["bm25", "minilm"], 10)["retrievers"]
        for rid in ("bm25", "minilm"):
            cell, col = r["retrievers"][rid], ranked[rid]
            assert (cell["target_rank"], cell["ndcg"]) == (col["target_rank"], pytest.approx(col["ndcg"]))
            assert cell["top_doc"] == col["ranking"][0]["doc_id"]
            assert (cell["outcome"] == HIT) == (col["target_rank"] is not None and col["target_rank"] <= 10)


def test_outcomes_on_the_bundled_data_are_explained_by_the_rankings(ex, table):
    bench = ex.benchmark("demo")
    seen = set()
    for r in table["rows"]:
        cell = r["retrievers"]["bm25"]
        seen.add(cell["outcome"])
        if cell["outcome"] == SIBLING:  # a sibling's target really sits above the target
            sibs = [ex.corpus("demo", "bm25").index[d] for d in bench.siblings(r["instance_id"])]
            corpus, (ranking,) = ex.rankings("demo", "bm25", [(r["instruction"], r["query"])], sibs)
            sib = min(ranking.rank(i) or 10**9 for i in sibs)
            assert sib < cell["target_rank"]
    assert {HIT, SIBLING, GENERIC} <= seen


def test_instruction_hurts_agrees_with_the_scoreboard_tables(ex, table):
    """Where MiniLM does worse with the instruction than without, by the whole-dataset nDCG tables
    (another code path); the issue counted six such instances on an earlier version of the data."""
    per = ex.instance_ndcgs("demo", ["minilm", "minilm@query"], 10)
    expected = sorted(i for i in per["minilm"] if per["minilm"][i] < per["minilm@query"][i])
    assert expected and sorted(ids(instruction_hurts(table["rows"], "minilm"))) == expected


def test_cli_inspect_gives_the_service_rows(ex, table, tmp_path):
    out_json, out_csv = tmp_path / "t.json", tmp_path / "t.csv"
    proc = run_cli("inspect", "--dataset", "demo", "--retrievers", "bm25,minilm,minilm@query",
                   "--json", out_json, "--csv", out_csv)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out_json.read_text())
    assert data["rows"] == [{k: r[k] for k in ("instance_id", "query_id", "retrievers")} for r in table["rows"]]
    lines = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(lines) == 240 and lines[0]["bm25 outcome"] == table["rows"][0]["retrievers"]["bm25"]["outcome"]
    assert "sibling" in proc.stdout and "240 instances" in proc.stdout


def test_cli_inspect_with_a_run_file_prints_its_rows(tmp_path):
    folder = write_release(tmp_path / "tiny")
    run = tmp_path / "sys.trec"
    run.write_text("a_1 Q0 a_2 1 2.0 s\na_1 Q0 a_1 2 1.0 s\nb_2 Q0 b_2 1 1.0 s\n")
    proc = run_cli("inspect", "--dataset", folder, "--retrievers", f"bm25,run:{run}", "--k", "1")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line[:2] in ("a_", "b_")}
    assert lines["a_1"].endswith("sibling #2")
    assert lines["b_2"].endswith("hit #1") and lines["a_3"].endswith("(not in run)")
    assert "run:sys covers 2 of 6 instances" in proc.stderr


def test_instruction_hurts_twin_follows_the_id_grammar():
    from demo.ui.inspect_tab import query_variant
    assert query_variant("minilm") == "minilm@query" and query_variant("bm25@instruction") == "bm25@query"
    assert query_variant("rrf(bm25,minilm)") == "rrf(bm25,minilm)@query"
    assert query_variant("run:sys") is None and query_variant("bm25>ms-marco-minilm") is None
    assert query_variant("nope") is None


def test_records_hold_exact_sibling_and_generic_ranks_so_any_depth_is_a_filter(ex, table):
    """The outcome at depth 1 taken from the k = 10 records equals the table built at k = 1, and
    the stored sibling rank is the best-ranked sibling target's."""
    at1 = ex.inspect("demo", ["bm25", "minilm"], 1)["rows"]
    derived = at_depth(table["rows"], 1)
    losses = 0
    for built, got in zip(at1, derived):
        assert built["instance_id"] == got["instance_id"]
        for rid in ("bm25", "minilm"):
            assert got["retrievers"][rid]["outcome"] == built["retrievers"][rid]["outcome"]
            losses += built["retrievers"][rid]["outcome"] != HIT
    assert losses > 0
    bench = ex.benchmark("demo")
    minilm_at10 = [r["retrievers"]["minilm"]["outcome"] for r in table["rows"]]
    assert minilm_at10.count(HIT) > [r["retrievers"]["minilm"]["outcome"] for r in derived].count(HIT)
    r = next(r for r in table["rows"] if r["retrievers"]["bm25"]["outcome"] == SIBLING)
    c = r["retrievers"]["bm25"]
    assert c["sibling_doc"] in bench.siblings(r["instance_id"]) and c["sibling_rank"] < c["target_rank"]
    sibs = [ex.corpus("demo", "bm25").index[d] for d in bench.siblings(r["instance_id"])]
    _, (ranking,) = ex.rankings("demo", "bm25", [(r["instruction"], r["query"])], sibs)
    assert min(ranking.rank(i) or 10**9 for i in sibs) == c["sibling_rank"]
