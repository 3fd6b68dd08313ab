"""p-MRR of an instance with two targets whose relevance is lost: the library's p_mrr averages the
per-target scores (as MTEB's evaluate_change does), which is not the best-before/best-after pair."""
from __future__ import annotations

import pytest

from demo.metrics import p_mrr, pairwise_mrr
from demo.metrics.pmrr import doc_rank


def test_two_targets_give_the_per_target_mean_not_the_best_pair():
    docs = [f"d{n:02d}" for n in range(60)]
    # target A: #1 before, #6 after; target B: #13 before, not retrieved after (41 docs: rank 42)
    og = ["A"] + docs[:11] + ["B"] + docs[11:40]
    new = docs[:5] + ["A"] + docs[5:40]
    assert (doc_rank(og, "A"), doc_rank(og, "B"), doc_rank(new, "A"), doc_rank(new, "B")) == (1, 13, 6, 42)
    per_target = (pairwise_mrr(1, 6) + pairwise_mrr(13, 42)) / 2
    assert per_target == pytest.approx((5 / 6 + 29 / 42) / 2) and round(per_target, 3) == 0.762
    best_pair = pairwise_mrr(min(1, 13), min(6, 42))  # what pairing best-before with best-after gives
    assert round(best_pair, 3) == 0.833
    got = p_mrr({"q": og}, {"q": new}, {"q": ["A", "B"]})
    assert got == pytest.approx(per_target, abs=1e-12)
    assert abs(got - best_pair) > 0.05


def test_the_apps_p_mrr_is_the_librarys_on_two_targets():
    """The compare view's p-MRR (service/compare.py) calls demo.metrics.p_mrr over its rankings:
    the same two-target case gives the per-target mean, 0.762, not the best pair's 0.833."""
    import numpy as np

    from demo.data.records import Instance
    from demo.engine import DocOrder, Ranking
    from demo.service.compare import RankedIds, _lost_target

    docs = [f"d{n:02d}" for n in range(60)]
    order = DocOrder(docs + ["A", "B"])
    a, b = order.index["A"], order.index["B"]
    og_ids = ["A"] + docs[:11] + ["B"] + docs[11:40]
    new_ids = docs[:5] + ["A"] + docs[5:40]  # B not retrieved
    og = Ranking("og", np.array([order.index[d] for d in og_ids[:10]]), np.zeros(10), 41, {a: 1, b: 13})
    new = Ranking("new", np.array([order.index[d] for d in new_ids[:10]]), np.zeros(10), 41, {a: 6, b: 42})
    inst = Instance("1_1", "1", "q", "i", {"A": 1, "B": 1})
    score, lost = _lost_target(order, inst, og, new, True)
    assert score == pytest.approx(p_mrr({"q": og_ids}, {"q": new_ids}, {"q": ["A", "B"]}), abs=1e-12)
    assert round(score, 3) == 0.762
    assert (lost.original_rank, lost.rank) == (1, 6)
    ranked = RankedIds(order, new)
    assert len(ranked) == 41 and ranked.index("A") == 5 and doc_rank(ranked, "B") == 42
