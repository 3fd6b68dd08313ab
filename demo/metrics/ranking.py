"""Turning scores into ranks: score descending, ties broken by doc id DESCENDING, rank 1 first.

That is trec_eval's order (comp_sim_docno: higher sim first, then strcmp of the docnos, larger
first), so a run scored here and by trec_eval / pytrec_eval puts tied docs in the same places.
Python compares str by code point, which orders UTF-8 strings as strcmp orders their bytes.

Runs are plain dicts: {query id: {doc id: score}}. A doc absent from a run was not retrieved.
"""
from __future__ import annotations

import heapq
from typing import Mapping

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


def rank_key(scores: Mapping[str, float]):
    """Sort key, larger first: (score, doc id)."""
    return lambda d: (scores[d], d)


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Doc ids in rank order."""
    return sorted(scores, key=rank_key(scores), reverse=True)


def top_ranked(scores: Mapping[str, float], k: int) -> list[str]:
    """The first k doc ids in rank order (without sorting the whole run)."""
    return heapq.nlargest(k, scores, key=rank_key(scores))


def rank_of(scores: Mapping[str, float], doc_id: str) -> int | None:
    """1-based rank of doc_id, or None when it was not retrieved."""
    if doc_id not in scores:
        return None
    s = scores[doc_id]
    # rank = 1 + docs ahead of it: higher score, or equal score and larger id
    return 1 + sum(1 for d, v in scores.items() if v > s or (v == s and d > doc_id))


def best_rank(scores: Mapping[str, float], doc_ids) -> int | None:
    """Best rank among doc_ids (the target's rank when an instance has one target)."""
    ranks = [r for r in (rank_of(scores, d) for d in doc_ids) if r is not None]
    return min(ranks) if ranks else None
