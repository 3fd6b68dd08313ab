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
