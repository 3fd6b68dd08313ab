"""Turning scores into ranks: score descending, ties broken by doc id ascending, rank 1 first.

Runs are plain dicts: {query id: {doc id: score}}.
"""
from __future__ import annotations

import heapq
from typing import Mapping

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Doc ids in rank order."""
    return sorted(scores, key=lambda d: (-scores[d], d))


def top_ranked(scores: Mapping[str, float], k: int) -> list[str]:
    """The first k doc ids in rank order (without sorting the whole run)."""
    return heapq.nsmallest(k, scores, key=lambda d: (-scores[d], d))


def rank_of(scores: Mapping[str, float], doc_id: str) -> int | None:
    """1-based rank of doc_id, or None when it was not retrieved."""
    if doc_id not in scores:
        return None
    s = scores[doc_id]
    # rank = 1 + docs ahead of it: higher score, or equal score and smaller id
    return 1 + sum(1 for d, v in scores.items() if v > s or (v == s and d < doc_id))


def best_rank(scores: Mapping[str, float], doc_ids) -> int | None:
    """Best rank among doc_ids (the target's rank when an instance has one target)."""
    ranks = [r for r in (rank_of(scores, d) for d in doc_ids) if r is not None]
    return min(ranks) if ranks else None
