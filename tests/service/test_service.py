"""The service the UI and the API call (demo.service.Explorer), on the bundled dataset with the
real BM25 and the real all-MiniLM-L6-v2. One Explorer per module; embeddings cached in a
temporary folder shared by the test session (tests/app_server.py)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app_server import DEFAULT, cache_root, new_explorer
from demo.ui.render import summarize
from demo.data.records import SEP
from demo.errors import UserError
from demo.retrievers.registry import MODELS, availability
from demo.service import MAX_INSTRUCTION_CHARS, MAX_K

ROOT = Path(__file__).resolve().parents[2]
SRC = "demo"
PERTURBATION_KINDS = {"query-only", "instruction-only", "generic", "swap", "repeated-query", "query-first",
                      "lowercase", "shuffled", "no-persona", "typos"}


@pytest.fixture(scope="module")
def ex():
    explorer = new_explorer()
    for model_id in ("bm25", "minilm"):  # embeds the corpus once per session (cached on disk)
        explorer.corpus(SRC, model_id)
    return explorer


@pytest.fixture(scope="module")
def bench(ex):
    return ex.benchmark(SRC)


@pytest.fixture(scope="module")
def iid(bench):
    """An instance that has paraphrases (the sweep's default pivot of its query)."""
    return next(i for i in bench.instances if i in bench.paraphrases)


@pytest.fixture(scope="module")
def cli_json(ex, tmp_path_factory):
    """`python -m demo evaluate --dataset demo --retrievers bm25,minilm --json FILE`, run once,
    on the same embedding cache (the Explorer fixture has filled it)."""
    out = tmp_path_factory.mktemp("cli") / "eval.json"
    env = {**os.environ, "INSTRUCTIR_EXPLORER_CACHE": str(cache_root()), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "demo", "evaluate", "--dataset", SRC, "--retrievers", "bm25,minilm",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def ndcg10(rank):
    return 1 / math.log2(rank + 1) if rank is not None and rank <= 10 else 0.0


def one(ex, instance_id, instruction, rid, k=10):
    return ex.rank(SRC, instance_id, instruction, [rid], k)["retrievers"][rid]


# ---- shape ------------------------------------------------------------------------------------
def test_rank_returns_the_design_shape(ex, bench, iid):
    inst = bench.instances[iid]
    r = ex.rank(SRC, iid, None, DEFAULT, 10)
    assert list(r["retrievers"]) == DEFAULT
    assert set(r["robustness"]) == set(DEFAULT)
    for rid, col in r["retrievers"].items():
        assert isinstance(col["encoded"], str)
        assert isinstance(col["ndcg"], float) and 0.0 <= col["ndcg"] <= 1.0
        assert col["target_rank"] is None or type(col["target_rank"]) is int
        assert col["ndcg"] == pytest.approx(ndcg10(col["target_rank"]))
        assert isinstance(r["robustness"][rid], float)
        ranking = col["ranking"]
        assert len(ranking) == 10
        for card in ranking:
            assert {"doc_id", "score", "rank", "shift", "is_target"} <= set(card)
            assert type(card["doc_id"]) is str and type(card["score"]) is float
            assert type(card["rank"]) is int and type(card["shift"]) is int and type(card["is_target"]) is bool
            assert card["is_target"] == (card["doc_id"] in inst.targets)
        assert [c["rank"] for c in ranking] == list(range(1, 11))
        for a, b in zip(ranking, ranking[1:]):  # score descending, ties by doc id descending
            assert a["score"] > b["score"] or (a["score"] == b["score"] and a["doc_id"] > b["doc_id"])
        if col["target_rank"] is not None and col["target_rank"] <= 10:
            assert ranking[col["target_rank"] - 1]["is_target"]
        else:
            assert not any(c["is_target"] for c in ranking)
    # the exact encoded strings: `instr [SEP] q` in full mode, the bare query in query mode
    assert r["retrievers"]["bm25"]["encoded"] == f"{inst.instruction} {SEP} {inst.query}"
    assert r["retrievers"]["minilm"]["encoded"] == f"{inst.instruction} {SEP} {inst.query}"
    assert r["retrievers"]["bm25@query"]["encoded"] == inst.query
    assert r["retrievers"]["minilm@query"]["encoded"] == inst.query


def test_target_rank_is_the_rank_even_below_k(ex, bench):
    # an instance whose BM25 target is below the top 10
    iid, deep = next((i, one(ex, i, None, "bm25")) for i in bench.instances
                     if (one(ex, i, None, "bm25")["target_rank"] or 0) > 10)
    tr = deep["target_rank"]
    assert deep["ndcg"] == 0.0
    at1 = one(ex, iid, None, "bm25", k=1)
    assert at1["target_rank"] == tr and len(at1["ranking"]) == 1 and at1["ndcg"] == 0.0
    assert not at1["ranking"][0]["is_target"]
    if tr <= MAX_K:  # the long list agrees on where the target is
        long = one(ex, iid, None, "bm25", k=MAX_K)
        assert long["ranking"][tr - 1]["is_target"] and long["ranking"][tr - 1]["rank"] == tr
        assert long["target_rank"] == tr


# ---- shift and summary ---------------------------------------------------------------------------
def test_shift_is_original_rank_minus_new_rank(ex, bench, iid):
    inst = bench.instances[iid]
    other = bench.instances[next(s for s in bench.groups[inst.query_id] if s != iid)]
    edited = ex.rank(SRC, iid, other.instruction, DEFAULT, 10)
    original = ex.rank(SRC, iid, None, DEFAULT, MAX_K)
    moved = 0
    for rid in DEFAULT:
        before = {c["doc_id"]: c["rank"] for c in original["retrievers"][rid]["ranking"]}
        for card in edited["retrievers"][rid]["ranking"]:
            if card["doc_id"] in before:
                assert card["shift"] == before[card["doc_id"]] - card["rank"], (rid, card)
            elif card["original_rank"] is None:  # BM25 did not retrieve it before: no shift
                assert rid.startswith("bm25") and card["shift"] is None, (rid, card)
            else:  # was below the top MAX_K
                assert card["shift"] >= MAX_K + 1 - card["rank"], (rid, card)
            moved += card["shift"] != 0
        if rid.endswith("@query"):
            assert all(c["shift"] == 0 for c in edited["retrievers"][rid]["ranking"])
    assert moved > 0, "another user's instruction should move something in the full-mode columns"


@pytest.mark.parametrize("how", ["none", "same text", "same text padded"])
def test_shift_is_zero_everywhere_for_the_original_instruction(ex, bench, iid, how):
    text = {"none": None, "same text": bench.instances[iid].instruction,
            "same text padded": f"  {bench.instances[iid].instruction}\n"}[how]
    r = ex.rank(SRC, iid, text, DEFAULT, 20)
    for rid, col in r["retrievers"].items():
        assert [c["shift"] for c in col["ranking"]] == [0] * 20, rid
        assert col["target_rank"] == col["original_target_rank"]
    assert summarize(r).startswith("Original instruction")
    assert r["robustness"] == r["original_robustness"]


def test_summary_says_rose_fell_unchanged_for_the_query_only_edit(ex, bench):
    seen = set()
    for iid in list(bench.instances)[:40]:
        variant = next(v for v in ex.instance(SRC, iid)["variants"] if v["kind"] == "query-only")
        r = ex.rank(SRC, iid, variant["text"], DEFAULT, 10)
        parts = summarize(r).rstrip(".").split("; ")
        assert len(parts) == len(DEFAULT), summarize(r)
        for rid, part in zip(DEFAULT, parts):
            old = one(ex, iid, None, rid)["target_rank"]  # computed independently
            new = one(ex, iid, variant["text"], rid)["target_rank"]
            assert r["retrievers"][rid]["original_target_rank"] == old
            assert r["retrievers"][rid]["target_rank"] == new
            assert part.split(":")[0].split(" ")[0] == rid, part
            if new < old:
                word = "rose"
            elif new > old:
                word = "fell"
            else:
                word = "unchanged"
            assert word in part and f"#{new}" in part, (rid, old, new, part)
            if word != "unchanged":
                assert f"#{old}" in part, part
            assert ("(it ignores the instruction)" in part) == (word == "unchanged" and rid.endswith("@query")), part
            seen.add(word)
        if {"rose", "fell"} <= seen:
            break
    assert {"rose", "fell", "unchanged"} <= seen, seen


def test_query_mode_rankings_do_not_depend_on_the_instruction(ex, bench, iid):
    inst = bench.instances[iid]
    other = bench.instances[next(s for s in bench.groups[inst.query_id] if s != iid)]
    texts = [None, "", other.instruction, "<img src=x onerror=alert(1)>", "zebra " * 300,
             f"{inst.query} {SEP} {other.instruction}"]
    for rid in ("bm25@query", "minilm@query"):
        cols = [one(ex, iid, t, rid, k=25) for t in texts]
        first = cols[0]
        for text, col in zip(texts[1:], cols[1:]):
            assert [(c["doc_id"], c["score"], c["rank"]) for c in col["ranking"]] == \
                   [(c["doc_id"], c["score"], c["rank"]) for c in first["ranking"]]
            if text != other.instruction:  # that text is graded against the other user's target (issue 11)
                assert col["target_rank"] == first["target_rank"] and col["ndcg"] == first["ndcg"]
            assert col["encoded"] == inst.query
    # ...while the full-mode column does change (the comparison above is not vacuous)
    full = [one(ex, iid, t, "bm25", k=25) for t in texts[:3]]
    assert full[0]["ranking"] != full[2]["ranking"]


# ---- robustness --------------------------------------------------------------------------------
def test_robustness_with_the_edit_is_the_min_over_the_group_with_this_instance_replaced(ex, bench, iid):
    inst = bench.instances[iid]
    group = bench.groups[inst.query_id]
    candidates = [v["text"] for v in ex.instance(SRC, iid)["variants"] if v["kind"] != "original"]
    differs = False
    for edit in candidates:
        r = ex.rank(SRC, iid, edit, DEFAULT, 10)
        for rid in DEFAULT:
            originals = {s: one(ex, s, None, rid)["ndcg"] for s in group}
            for s, n in originals.items():  # each sibling's nDCG@10 follows from its target rank
                assert n == pytest.approx(ndcg10(one(ex, s, None, rid)["target_rank"]))
            edit_ndcg = one(ex, iid, edit, rid)["ndcg"]
            expected = min([n for s, n in originals.items() if s != iid] + [edit_ndcg])
            assert r["robustness"][rid] == pytest.approx(expected, abs=1e-12), (rid, edit)
            assert r["original_robustness"][rid] == pytest.approx(min(originals.values()), abs=1e-12)
            differs |= not math.isclose(expected, min(originals.values()))
        if differs:
            break
    assert differs, "no variant changed any Robustness@10; the check would be vacuous"


# ---- sweep ---------------------------------------------------------------------------------------
def test_sweep_has_every_variant_aligned_with_per_retriever_lists(ex, bench, iid):
    inst = bench.instances[iid]
    edit = "I only care about the cheapest option and nothing else."
    rids = ["bm25", "minilm", "bm25@query"]
    s = ex.sweep(SRC, inst.query_id, rids, 10, iid, edit)
    variants = s["variants"]
    kinds = [v["kind"] for v in variants]
    group = list(bench.groups[inst.query_id])
    assert [v["instance_id"] for v in variants if v["kind"] == "original"] == group
    assert kinds.count("paraphrase") == sum(len(bench.paraphrases.get(g, ())) for g in group) > 0
    assert PERTURBATION_KINDS <= set(kinds)
    assert kinds[-1] == "edit" and variants[-1]["text"] == edit
    assert s["pivot"] == iid and s["query_id"] == inst.query_id and s["k"] == 10
    assert list(s["retrievers"]) == rids
    for rid in rids:
        col = s["retrievers"][rid]
        assert len(col["target_rank"]) == len(col["ndcg"]) == len(variants)
        for v, tr, n in zip(variants, col["target_rank"], col["ndcg"]):
            if v["kind"] == "original":
                ref = one(ex, v["instance_id"], None, rid)
            else:  # paraphrases belong to their own instance; perturbations and the edit to the pivot
                ref = one(ex, v["instance_id"], v["text"], rid)
            assert (tr, n) == (ref["target_rank"], pytest.approx(ref["ndcg"])), (rid, v["kind"], v["label"])
        originals = [n for v, n in zip(variants, col["ndcg"]) if v["kind"] == "original"]
        assert col["robustness"] == pytest.approx(min(originals))
        assert col["variant_robustness"] == pytest.approx(min(col["ndcg"]))
    # the query-only row of the full-mode column is the query-mode column's original row
    qo = kinds.index("query-only")
    assert s["retrievers"]["bm25"]["target_rank"][qo] == one(ex, iid, None, "bm25@query")["target_rank"]


def test_sweep_without_an_edit_pivots_on_the_instance_with_paraphrases(ex, bench, iid):
    qid = bench.instances[iid].query_id
    s = ex.sweep(SRC, qid, ["bm25"], 10)
    assert s["pivot"] == iid
    assert "edit" not in [v["kind"] for v in s["variants"]]


# ---- query table --------------------------------------------------------------------------------
def test_query_table_ordering_keys(ex, bench):
    rids = ["bm25", "minilm"]
    rows = ex.query_table(SRC, rids, 10)
    assert [r["query_id"] for r in rows] == list(bench.groups)
    for row in rows:
        members = bench.groups[row["query_id"]]
        assert row["instances"] == len(members)
        assert row["query"] == bench.instances[members[0]].query
        for rid in rids:
            ndcgs = [one(ex, m, None, rid)["ndcg"] for m in members]
            assert row["robustness"][rid] == pytest.approx(min(ndcgs))
            assert row["ndcg"][rid] == pytest.approx(sum(ndcgs) / len(ndcgs))
        assert row["min_robustness"] == pytest.approx(min(row["robustness"].values()))
        assert row["disagreement"] == pytest.approx(max(row["ndcg"].values()) - min(row["ndcg"].values()))
    # the orders the picker offers are well defined and not all equal
    assert len({r["min_robustness"] for r in rows}) > 1 and len({r["disagreement"] for r in rows}) > 1


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda ex, iid: ex.rank(SRC, "no_such_instance", None, ["bm25"], 10), "unknown instance"),
    (lambda ex, iid: ex.instance(SRC, "no_such_instance"), "unknown instance"),
    (lambda ex, iid: ex.rank(SRC, iid, None, ["nope"], 10), "unknown model"),
    (lambda ex, iid: ex.rank(SRC, iid, None, ["bm25@sideways"], 10), "unknown mode"),
    (lambda ex, iid: ex.rank(SRC, iid, None, [], 10), "no retrievers"),
    (lambda ex, iid: ex.rank(SRC, iid, None, ["bm25"], 0), "k must be"),
    (lambda ex, iid: ex.rank(SRC, iid, None, ["bm25"], MAX_K + 1), "k must be"),
    (lambda ex, iid: ex.rank(SRC, iid, None, ["bm25"], "ten"), "k must be"),
    (lambda ex, iid: ex.rank(SRC, iid, "x" * (MAX_INSTRUCTION_CHARS + 1), ["bm25"], 10), "too long"),
    (lambda ex, iid: ex.sweep(SRC, "no_such_query", ["bm25"], 10), "unknown base query"),
    (lambda ex, iid: ex.sweep(SRC, iid, ["bm25"], 0), "k must be"),
    (lambda ex, iid: ex.sweep(SRC, iid.split("_")[0], ["bm25"], 10, None, "x" * (MAX_INSTRUCTION_CHARS + 1)),
     "too long"),
    (lambda ex, iid: ex.query_table(SRC, ["nope"], 10), "unknown model"),
], ids=["rank-instance", "instance", "retriever", "mode", "no-retrievers", "k0", "k-big", "k-text", "long",
        "sweep-query", "sweep-k0", "sweep-long", "table-retriever"])
def test_bad_input_is_a_user_error(ex, iid, call, message):
    with pytest.raises(UserError, match=message):
        call(ex, iid)


def test_an_instruction_at_the_limit_is_accepted(ex, iid):
    r = ex.rank(SRC, iid, "a" * MAX_INSTRUCTION_CHARS, ["bm25"], 10)
    assert r["retrievers"]["bm25"]["ranking"]


def test_a_failing_retriever_shows_an_error_in_its_own_column(ex, bench, iid):
    if availability(MODELS["gtr-t5-base"]) is None:
        pytest.skip("gtr-t5-base is loadable here (in the local HF cache), so it cannot stand in for a failure")
    rids = ["bm25", "gtr-t5-base", "minilm"]
    edit = bench.instances[iid].instruction.lower()
    r = ex.rank(SRC, iid, edit, rids, 10)
    assert list(r["retrievers"]) == rids
    bad = r["retrievers"]["gtr-t5-base"]
    assert "error" in bad and "gtr-t5-base" in bad["error"] and "ranking" not in bad
    for rid in ("bm25", "minilm"):
        assert len(r["retrievers"][rid]["ranking"]) == 10 and "error" not in r["retrievers"][rid]
        assert r["retrievers"][rid]["target_rank"] == one(ex, iid, edit, rid)["target_rank"]
    assert set(r["robustness"]) == {"bm25", "minilm"}
    assert "gtr-t5-base: unavailable" in summarize(r)
    s = ex.sweep(SRC, bench.instances[iid].query_id, rids, 10)
    assert "error" in s["retrievers"]["gtr-t5-base"]
    assert len(s["retrievers"]["minilm"]["target_rank"]) == len(s["variants"])


# ---- numbers match the CLI ----------------------------------------------------------------------
def test_original_ndcg_matches_the_cli(ex, bench, cli_json):
    for rid in ("bm25", "minilm"):
        per = cli_json["retrievers"][rid]["per_instance"]
        assert set(per) == set(bench.instances)
        for iid in bench.instances:
            col = one(ex, iid, None, rid)
            assert col["ndcg"] == pytest.approx(per[iid]["ndcg@10"], abs=1e-6), (rid, iid)
            assert col["target_rank"] == per[iid]["rank"], (rid, iid)
        table = {row["query_id"]: row for row in ex.query_table(SRC, [rid], 10)}
        assert cli_json["retrievers"][rid]["robustness@10"] == pytest.approx(
            sum(row["robustness"][rid] for row in table.values()) / len(table), abs=1e-6)


def test_scoreboard_matches_the_cli(ex, cli_json):
    board = ex.scoreboard(SRC, ["bm25", "minilm"], 10)
    for rid in ("bm25", "minilm"):
        for key in ("ndcg@10", "robustness@10"):
            assert board["retrievers"][rid][key] == pytest.approx(cli_json["retrievers"][rid][key], abs=1e-9)
    assert board["floor"]["ndcg@10"] == pytest.approx(cli_json["instruction_blind_floor"]["ndcg@10"])


def test_scoreboard_shows_published_figures_only_for_instructir(ex):
    from demo.ui.render import render_scoreboard
    board = ex.scoreboard(SRC, ["bm25"], 10)
    assert "76.0 / 26.9" not in render_scoreboard(board, "demo")
    assert "76.0 / 26.9 (BM25)" in render_scoreboard(board, "hf:kaist-ai/InstructIR")
    assert "--retrievers bm25 --k 10" in render_scoreboard(board, "demo")


def test_p_mrr_appears_when_the_editor_holds_another_users_instruction(ex, bench):
    from demo.metrics import pairwise_mrr
    iid = "404_3"
    other = next(i for i in bench.groups["404"] if i != iid)
    r = ex.rank(SRC, iid, bench.instances[other].instruction, ["bm25", "minilm@query"], 10)
    assert r["relevance_lost"] == f"another user's instruction ({other})"
    for rid, col in r["retrievers"].items():  # p-MRR is about this instance's own target, which lost relevance
        gone = col["lost_target"]
        assert gone["doc_ids"] == list(bench.instances[iid].targets)
        assert col["p_mrr"] == pytest.approx(pairwise_mrr(gone["original_rank"], gone["rank"]))
    assert r["retrievers"]["minilm@query"]["p_mrr"] == 0  # it cannot react to the instruction
    assert "p-MRR" in summarize(r)


def test_grading_follows_the_text_to_the_other_users_target(ex, bench):
    """Another user's instruction in the editor asks for that user's target: badges, nDCG,
    target rank and Robustness grade against it (issue 11)."""
    iid = "404_3"
    other = next(i for i in bench.groups["404"] if i != iid)
    them, me = bench.instances[other], bench.instances[iid]
    r = ex.rank(SRC, iid, them.instruction, ["bm25", "minilm"], 10)
    assert r["graded_against"] == other
    assert summarize(r).startswith(f"Graded against the target of {other}")
    own = ex.rank(SRC, other, None, ["bm25", "minilm"], 10)  # the other instance, its own instruction
    for rid in ("bm25", "minilm"):
        col, mine = r["retrievers"][rid], own["retrievers"][rid]
        assert col["target_rank"] == mine["target_rank"] and col["ndcg"] == pytest.approx(mine["ndcg"])
        assert [c["doc_id"] for c in col["ranking"] if c["is_target"]] == \
            [c["doc_id"] for c in col["ranking"] if c["doc_id"] in them.targets]
        for c in col["ranking"]:  # this instance's target is now a sibling, named after its user
            if c["doc_id"] in me.targets:
                assert c["is_sibling"] and not c["is_target"] and c["sibling_of"] == (me.persona or iid)
        assert r["robustness"][rid] == pytest.approx(r["original_robustness"][rid])  # that user's own text


def test_free_text_grades_against_the_chosen_instance(ex, bench):
    iid = "404_3"
    other = next(i for i in bench.groups["404"] if i != iid)
    text = "Short answer please."
    default = ex.rank(SRC, iid, text, ["bm25"], 10)
    chosen = ex.rank(SRC, iid, text, ["bm25"], 10, grade_against=other)
    assert default["graded_against"] == iid and not summarize(default).startswith("Graded")
    assert chosen["graded_against"] == other and "as chosen" in summarize(chosen)
    assert chosen["retrievers"]["bm25"]["encoded"] == default["retrievers"]["bm25"]["encoded"]  # same ranking
    assert [c["is_target"] for c in chosen["retrievers"]["bm25"]["ranking"]] == \
        [c["doc_id"] in bench.instances[other].targets for c in chosen["retrievers"]["bm25"]["ranking"]]
    with pytest.raises(UserError, match="cannot grade against"):
        ex.rank(SRC, iid, text, ["bm25"], 10, grade_against="101_1")  # another base query


def test_no_p_mrr_for_an_ordinary_edit(ex, bench):
    r = ex.rank(SRC, "404_3", bench.instances["404_3"].instruction + " Please be brief.", ["bm25"], 10)
    assert r["relevance_lost"] is None and "p_mrr" not in r["retrievers"]["bm25"]
    assert "p-MRR" not in summarize(r)
