"""Metrics against ir_measures (trec_eval via pytrec_eval) as the oracle, and hand-worked cases."""
from __future__ import annotations

import math
import random
from collections import defaultdict

import ir_measures
import pytest
from ir_measures import nDCG

from demo.data.release import load_folder
from demo.evaluation import blind_floor, score_run
from demo.metrics import (best_rank, mean, ndcg_at_k, ndcg_per_query, p_mrr, pairwise_mrr, rank_of, rank_shift,
                          ranked, robustness)
from demo.metrics.pmrr import doc_rank
from demo.metrics.ranking import top_ranked
from helpers import SHARED


def oracle(qrels, run, k: int) -> dict[str, float]:
    return {m.query_id: m.value for m in ir_measures.iter_calc([nDCG @ k], qrels, run)}


def random_case(seed: int):
    """Random runs with distinct scores over binary, graded and multi-relevant qrels."""
    rng = random.Random(seed)
    docs = [f"d{n:03d}" for n in range(120)]
    qrels, run = {}, {}
    for q in range(40):
        qid = f"q{q}"
        retrieved = rng.sample(docs, rng.randint(5, 60))
        scores = rng.sample(range(100000), len(retrieved))  # distinct
        run[qid] = {d: s / 1000 - 20 for d, s in zip(retrieved, scores)}
        kind = q % 5
        if kind == 0:  # binary, one relevant, retrieved
            rel = {rng.choice(retrieved): 1}
        elif kind == 1:  # graded, several relevant, some not retrieved
            rel = {d: rng.randint(1, 3) for d in rng.sample(docs, rng.randint(2, 6))}
        elif kind == 2:  # no retrieved relevant doc
            rel = {rng.choice([d for d in docs if d not in run[qid]]): 1}
        elif kind == 3:  # more relevant docs than k (ideal DCG truncated at k)
            rel = {d: 1 for d in rng.sample(docs, 14)}
        else:  # judged non-relevant docs and multiple relevant
            rel = {d: rng.choice([0, 0, 1, 2]) for d in rng.sample(retrieved, min(8, len(retrieved)))}
            rel[rng.choice(docs)] = 1
        qrels[qid] = rel
    return qrels, run


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [10, 5])
def test_ndcg_equals_ir_measures_on_random_runs(seed, k):
    qrels, run = random_case(seed)
    expected = oracle(qrels, run, k)
    got = ndcg_per_query(qrels, run, k)
    assert set(expected) <= set(got)
    assert sum(v == 0 for v in expected.values()) >= 8  # the unretrieved-relevant queries are there
    for q, v in expected.items():
        assert got[q] == pytest.approx(v, abs=1e-9), q


def test_ndcg_single_relevant_doc_formula():
    run = {f"d{i:02d}": 100 - i for i in range(1, 30)}  # d01 at rank 1, d12 at rank 12
    for r in (1, 2, 3, 10):
        assert ndcg_at_k({f"d{r:02d}": 1}, run, 10) == pytest.approx(1 / math.log2(r + 1), abs=1e-12)
    assert ndcg_at_k({"d11": 1}, run, 10) == 0.0
    assert ndcg_at_k({"d06": 1}, run, 5) == 0.0
    assert ndcg_at_k({}, run, 10) == 0.0 and ndcg_at_k({"d01": 0}, run, 10) == 0.0


def test_query_missing_from_run_scores_zero():
    assert ndcg_per_query({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": {"a": 1.0}}, 10) == {"q1": 1.0, "q2": 0.0}


def real_qrels():
    qrels: dict[str, dict[str, int]] = {}
    for line in (SHARED / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        q, d, s = line.split("\t")
        qrels.setdefault(q, {})[d] = int(s)
    return qrels


def test_ndcg_and_robustness_on_real_qrels_equal_ir_measures(shared_instructir):
    qrels = real_qrels()
    assert len(qrels) == 9906
    groups = defaultdict(list)
    for q in qrels:
        groups[q.split("_")[0]].append(q)
    rng = random.Random(11)
    all_docs = sorted({d for rel in qrels.values() for d in rel})
    run = {}
    for members in groups.values():
        family = [d for q in members for d in qrels[q]]
        for q in members:  # the sibling family plus random others, at random distinct scores
            pool = family + rng.sample(all_docs, 8)
            pool = list(dict.fromkeys(pool))
            run[q] = dict(zip(pool, (s / 7 for s in rng.sample(range(10**6), len(pool)))))
    expected = oracle(qrels, run, 10)
    got = ndcg_per_query(qrels, run, 10)
    assert len(expected) == 9906
    worst = max(abs(got[q] - v) for q, v in expected.items())
    assert worst < 1e-9
    robust_oracle = mean(min(expected[q] for q in members) for members in groups.values())
    assert robustness(got, groups) == pytest.approx(robust_oracle, abs=1e-12)
    assert 0 < robust_oracle < mean(expected.values())


def test_robustness_min_then_mean_by_hand():
    per_item = {"a_1": 1.0, "a_2": 0.5, "b_1": 0.2, "b_2": 0.9, "b_3": 0.6, "c_1": 0.7}
    groups = {"a": ["a_1", "a_2"], "b": ["b_1", "b_2", "b_3"], "c": ["c_1", "c_9"]}
    assert robustness(per_item, groups) == pytest.approx((0.5 + 0.2 + 0.7) / 3)
    assert robustness({}, groups) == 0.0


def test_robustness_vs_ir_measures_grouped():
    qrels, run = random_case(5)
    per_query = oracle(qrels, run, 10)
    groups = {"g0": ["q0", "q1", "q2"], "g1": ["q3", "q4"], "g2": [f"q{i}" for i in range(5, 40)]}
    expected = mean(min(per_query[q] for q in g) for g in groups.values())
    assert robustness(ndcg_per_query(qrels, run, 10), groups) == pytest.approx(expected, abs=1e-12)


def test_p_mrr_pairwise_signs():
    assert pairwise_mrr(2, 4) == pytest.approx(0.5)    # moved down: good
    assert pairwise_mrr(4, 2) == pytest.approx(-0.5)   # moved up: bad
    assert pairwise_mrr(3, 3) == 0.0
    assert pairwise_mrr(1, 10) == pytest.approx(0.9)
    assert pairwise_mrr(10, 1) == pytest.approx(-0.9)


def test_p_mrr_doc_missing_from_new_list_takes_len_plus_one():
    assert doc_rank(["b", "c"], "a") == 3
    og, new = {"q": ["a", "b", "c"]}, {"q": ["b", "c"]}
    assert p_mrr(og, new, {"q": ["a"]}) == pytest.approx(1 - 1 / 3)
    assert p_mrr({"q": ["b", "c"]}, {"q": ["a", "b", "c"]}, {"q": ["a"]}) == pytest.approx(1 / 3 - 1)


def test_p_mrr_mean_within_query_then_over_queries():
    og = {"q1": ["x", "y", "p", "z"], "q2": ["z", "w"]}
    new = {"q1": ["p", "y", "r", "x"], "q2": ["w", "z"]}
    # q1: x 1->4 (+0.75), y 2->2 (0); q2: z 1->2 (+0.5)  =>  mean(0.375, 0.5), not mean over 3 docs
    assert p_mrr(og, new, {"q1": ["x", "y"], "q2": ["z"]}) == pytest.approx((0.375 + 0.5) / 2)
    assert p_mrr(og, new, {"q1": [], "q2": ["z"]}) == pytest.approx(0.5)  # queries without changed docs skipped
    assert p_mrr(og, new, {}) == 0.0


def test_rank_shift_signs():
    assert rank_shift(5, 2) == 3      # moved up
    assert rank_shift(2, 5) == -3     # moved down
    assert rank_shift(4, 4) == 0
    assert rank_shift(None, 3) is None and rank_shift(3, None) is None


def test_ties_broken_by_doc_id_descending():
    """trec_eval's order: among equal scores the larger doc id (strcmp) comes first."""
    scores = {"b": 1.0, "a": 1.0, "c": 2.0, "10": 1.0, "9": 0.5}
    assert ranked(scores) == ["c", "b", "a", "10", "9"]
    assert top_ranked(scores, 3) == ["c", "b", "a"]
    assert [rank_of(scores, d) for d in ("c", "b", "a", "10", "9")] == [1, 2, 3, 4, 5]
    assert rank_of(scores, "zz") is None
    assert best_rank(scores, ["10", "a"]) == 3 and best_rank(scores, ["zz"]) is None
    assert ndcg_at_k({"10": 1}, scores, 10) == pytest.approx(1 / math.log2(5))
    assert ndcg_at_k({"10": 1}, scores, 3) == 0.0


def tied_case(seed: int):
    """Random runs where most scores tie (a few distinct values, many docs at each, as BM25's
    zero-score tail and duplicate passages give), with ids that sort differently as strings and numbers."""
    rng = random.Random(seed)
    docs = [f"p{n}" for n in range(60)] + [f"p{n}_{j}" for n in range(12) for j in range(1, 4)] + ["10", "9", "Z", "a"]
    qrels, run = {}, {}
    for q in range(60):
        qid = f"{q}_1"
        retrieved = rng.sample(docs, rng.randint(3, 50))
        levels = [0.0, 1.5, 2.25, rng.choice([1.5, 7.0])]
        run[qid] = {d: rng.choice(levels) for d in retrieved}
        rel = {d: rng.choice([1, 1, 2]) for d in rng.sample(retrieved, rng.randint(1, 3))}
        if q % 4 == 0:
            rel[rng.choice(docs)] = 1
        qrels[qid] = rel
    return qrels, run


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [10, 3])
def test_ndcg_with_tied_scores_equals_pytrec_eval(seed, k):
    import pytrec_eval
    qrels, run = tied_case(seed)
    assert sum(len(set(r.values())) < len(r) for r in run.values()) > 40  # ties are the rule here
    expected = pytrec_eval.RelevanceEvaluator(qrels, {f"ndcg_cut.{k}"}).evaluate(run)
    got = ndcg_per_query(qrels, run, k)
    for q, m in expected.items():
        assert got[q] == pytest.approx(m[f"ndcg_cut_{k}"], abs=1e-9), q
    assert got == pytest.approx(oracle(qrels, run, k), abs=1e-9)


def test_rank_with_ties_equals_trec_eval_order():
    """The target's rank among tied docs is where trec_eval puts it: its reciprocal rank agrees."""
    import pytrec_eval
    qrels, run = tied_case(9)
    for qid, scores in list(run.items())[:20]:
        target = next(iter(qrels[qid]))
        r = rank_of(scores, target)
        if r is None:
            continue
        one = {qid: {target: 1}}
        evaluator = pytrec_eval.RelevanceEvaluator(one, {"recip_rank"})
        assert evaluator.evaluate({qid: scores})[qid]["recip_rank"] == pytest.approx(1 / r), (qid, target)


def test_score_run_and_blind_floor_on_tiny(tiny):
    bench = load_folder(tiny)
    run = {"a_1": {"a_1": 3.0, "a_2": 2.0}, "a_2": {"a_1": 3.0, "a_2": 2.0}, "b_1": {"x_2": 1.0, "b_1": 1.0}}
    result = score_run(run, bench, 10)
    per = result["per_instance"]
    assert per["a_1"] == {"rank": 1, "ndcg@10": 1.0}
    assert per["a_2"]["rank"] == 2 and per["a_2"]["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert per["b_1"]["rank"] == 2  # tie with x_2: x_2 > b_1 goes first (trec_eval)
    assert per["a_3"] == {"rank": None, "ndcg@10": 0.0}
    assert result["ndcg@10"] == pytest.approx((1 + 2 / math.log2(3)) / 6)
    assert result["robustness@10"] == 0.0
    floor = blind_floor(bench, 10)
    assert floor["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 0.5) / 3)
    assert floor["robustness@10"] == pytest.approx(0.5)


def test_score_run_rejects_unknown_query_ids(tiny):
    from demo.errors import DataError
    with pytest.raises(DataError, match="ghost_1"):
        score_run({"ghost_1": {"a_1": 1.0}}, load_folder(tiny), 10)
