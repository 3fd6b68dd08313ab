"""p-MRR (FollowIR, Weller et al. 2024): does a doc whose relevance the new instruction takes
away move down? For each such doc with ranks R_og (before) and R_new (after):
    R_og > R_new (moved up, wrong):   R_new / R_og - 1   (in [-1, 0))
    otherwise (stayed or moved down):  1 - R_og / R_new  (in [0, 1))
Averaged within a query, then over queries. Displayed ×100."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from demo.metrics.ndcg import mean


def pairwise_mrr(r_og: int, r_new: int) -> float:
    if r_og > r_new:
        return r_new / r_og - 1
    return 1 - r_og / r_new


def doc_rank(ranking: Sequence[str], doc_id: str) -> int:
    """1-based rank in a retrieved list; a doc outside it takes len(list) + 1."""
    try:
        return ranking.index(doc_id) + 1
    except ValueError:
        return len(ranking) + 1


def p_mrr(og: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]],
          changed: Mapping[str, Iterable[str]]) -> float:
    """og/new: {query: ranked doc ids}; changed: {query: doc ids whose relevance was lost}."""
    per_query = []
    for q, docs in changed.items():
        docs = list(docs)
        if docs:
            per_query.append(mean(pairwise_mrr(doc_rank(og[q], d), doc_rank(new[q], d)) for d in docs))
    return mean(per_query)
