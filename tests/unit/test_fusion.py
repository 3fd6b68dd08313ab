"""rrf(A,B): the id grammar (parentheses inside comma lists), the fusion against a hand-computed one,
and the same fused scores through the service (app, API, sweep, scoreboard) and the CLI."""
from __future__ import annotations

import pytest

import numpy as np

from demo.engine import DocOrder, Scored, rrf
from demo.errors import UserError
from demo.metrics.ranking import rank_of, ranked
from demo.inputs import split_ids
from demo.retrievers.ids import Fusion, Single
from demo.retrievers.registry import canonical_id, label, parse_id, parse_retriever_id, parse_retriever_list
from demo.service import Explorer
from helpers import assert_one_line_error, run_cli


def test_split_ids_respects_parentheses():
    assert split_ids("rrf(bm25,minilm),bm25@query") == ["rrf(bm25,minilm)", "bm25@query"]
    assert split_ids("rrf(rrf(bm25,minilm),mpnet)") == ["rrf(rrf(bm25,minilm),mpnet)"]
    for bad in ("rrf(bm25,minilm", "bm25),minilm"):
        with pytest.raises(UserError, match="unbalanced"):
            split_ids(bad)


@pytest.mark.parametrize("given, canonical", [
    ("rrf(bm25,minilm)", "rrf(bm25,minilm)"),
    (" rrf( bm25 , minilm@full ) ", "rrf(bm25,minilm)"),
    ("rrf(bm25,minilm)@query", "rrf(bm25,minilm)@query"),
    ("rrf(bm25@query,minilm@query)", "rrf(bm25,minilm)@query"),
    ("rrf(bm25@query,minilm)", "rrf(bm25@query,minilm)"),
    ("rrf(bm25@instruction,minilm)@query", "rrf(bm25@instruction,minilm@query)"),
    ("rrf(rrf(bm25,minilm),bm25@query)", "rrf(rrf(bm25,minilm),bm25@query)"),
])
def test_canonical_fusion_ids(given, canonical):
    assert canonical_id(given) == canonical
    assert canonical_id(canonical) == canonical  # canonical ids are fixed points


def test_mode_goes_to_each_part():
    ref = parse_id("rrf(bm25,minilm)@query")
    assert ref == Fusion((Single("bm25", "query"), Single("minilm", "query")))
    assert ref.model_ids() == ("bm25", "minilm")
    assert label("rrf(bm25,minilm)@query") == "RRF(BM25 (query only), all-MiniLM-L6-v2 (query only))"


@pytest.mark.parametrize("bad, message", [
    ("rrf(bm25)", "rrf takes two retrievers"),
    ("rrf(bm25,minilm,bm25)", "rrf takes two retrievers"),
    ("rrf(bm25,nosuch)", "unknown model 'nosuch'"),
    ("rrf(bm25,minilm)x", "unexpected 'x'"),
    ("rrf(bm25,minilm)@sideways", "unknown mode 'sideways'"),
])
def test_bad_fusion_ids_say_what_is_wrong(bad, message):
    with pytest.raises(UserError, match=message):
        canonical_id(bad)


def test_lists_keep_fusions_whole():
    assert parse_retriever_list("rrf(bm25,minilm), bm25,rrf(bm25@query,minilm@query)") == \
        ["rrf(bm25,minilm)", "bm25", "rrf(bm25,minilm)@query"]
    with pytest.raises(UserError, match="not one model"):
        parse_retriever_id("rrf(bm25,minilm)")


def fuse(runs: list[dict[str, float]]) -> dict[str, float]:
    """The engine's fusion of run dicts, as a run dict (the docs no part retrieved are left out)."""
    docs = DocOrder(sorted({d for run in runs for d in run}))
    parts = [Scored("x", np.array([run.get(d, -np.inf) for d in docs.doc_ids]), len(run)) for run in runs]
    fused = rrf(parts, docs, ["a", "b"])
    return {d: float(fused.scores[i]) for i, d in enumerate(docs.doc_ids) if fused.scores[i] > 0}


def test_fusion_against_hand_computed_values():
    a = {"d1": 9.0, "d2": 7.0, "d3": 5.0, "d4": 1.0}
    b = {"d2": 0.9, "d1": 0.8, "d4": 0.7, "d5": 0.1}  # d3 not retrieved by b; d5 not by a
    fused = fuse([a, b])
    expected = {"d1": 1 / 61 + 1 / 62, "d2": 1 / 62 + 1 / 61, "d3": 1 / 63,
                "d4": 1 / 64 + 1 / 63, "d5": 1 / 64}
    assert fused.keys() == expected.keys()
    for d, v in expected.items():
        assert fused[d] == pytest.approx(v, abs=1e-15)
    assert fused["d1"] == fused["d2"]  # a tie: broken by the doc-id rule, like any run
    assert ranked(fused)[:2] == ranked({"d1": 1.0, "d2": 1.0})
    assert ranked(fused)[2:] == ["d4", "d3", "d5"]


def test_ties_inside_a_part_follow_the_ranking_rule():
    tied = {"x1": 2.0, "x2": 2.0}
    fused = fuse([tied, {"x1": 1.0}])
    assert fused["x1"] == 1 / (60 + rank_of(tied, "x1")) + 1 / 61
    assert fused["x2"] == 1 / (60 + rank_of(tied, "x2"))


@pytest.fixture
def explorer():
    return Explorer()


def test_service_fuses_the_full_rankings(tiny, explorer):
    src, rid = str(tiny), "rrf(bm25,bm25@query)"
    result = explorer.rank(src, "a_2", None, [rid, "bm25", "bm25@query"], 8)
    col = result["retrievers"][rid]
    assert col["label"] == "RRF(BM25, BM25 (query only))"
    assert col["encoded"].splitlines()[0].startswith("bm25: ") and "bm25@query: how to brew tea" in col["encoded"]
    corpus, (a,) = explorer.scores(src, "bm25", [("I am a parent making a warm drink for my young kids in the evening.",
                                                  "how to brew tea")])
    _, (b,) = explorer.scores(src, "bm25@query", [("", "how to brew tea")])
    ranks = [corpus.full_ranks(s) for s in (a, b)]  # 0: not retrieved
    by_either = {d for d, i in corpus.index.items() if ranks[0][i] or ranks[1][i]}  # BM25 retrieves shared terms only
    assert {c["doc_id"] for c in col["ranking"]} == by_either and by_either != set(corpus.doc_ids)
    for card in col["ranking"]:
        i = corpus.index[card["doc_id"]]
        expected = sum(1 / (60 + r[i]) for r in ranks if r[i])
        assert card["score"] == pytest.approx(expected, abs=1e-15)
    scores = {c["doc_id"]: c["score"] for c in col["ranking"]}
    assert [c["doc_id"] for c in col["ranking"]] == ranked(scores)
    assert [c["rank"] for c in col["ranking"]] == list(range(1, len(by_either) + 1))


def test_sweep_and_scoreboard_take_fusions(tiny, explorer):
    rid = "rrf(bm25,bm25@query)"
    qid = explorer.instance(str(tiny), "a_1")["query_id"]
    sweep = explorer.sweep(str(tiny), qid, [rid, "bm25"], 5)
    assert len(sweep["retrievers"][rid]["ndcg"]) == len(sweep["variants"])
    board = explorer.scoreboard(str(tiny), [rid, "bm25"], 5)
    assert set(board["retrievers"]) == {rid, "bm25"}
    assert 0 <= board["retrievers"][rid]["ndcg@5"] <= 1


def test_cli_evaluates_a_fusion(tiny):
    proc = run_cli("evaluate", "--dataset", tiny, "--retrievers", "bm25,rrf(bm25,bm25@query)")
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("rrf(bm25,bm25@query) ") for line in proc.stdout.splitlines())
    assert_one_line_error(run_cli("evaluate", "--dataset", tiny, "--retrievers", "rrf(bm25"), "unbalanced")


def test_api_string_lists_split_outside_parentheses():
    from demo import inputs
    assert inputs.string_list("rrf(bm25,minilm), bm25", "retrievers") == ["rrf(bm25,minilm)", "bm25"]
    with pytest.raises(UserError, match="unbalanced"):
        inputs.string_list("rrf(bm25,minilm", "retrievers")


def test_run_ids_pass_beside_the_grammar():
    assert parse_retriever_list("rrf(bm25, minilm),run:sys,bm25@full") == ["rrf(bm25,minilm)", "run:sys", "bm25"]
    with pytest.raises(UserError, match="needs a name"):
        parse_retriever_list("bm25,run:")
