"""The tie rule: score descending, ties broken by doc id DESCENDING, rank 1 first.

That is trec_eval's order (comp_sim_docno: higher sim first, then strcmp of the docnos, larger
first), so a run scored here and by trec_eval / pytrec_eval puts tied docs in the same places.
Python compares str by code point, which orders UTF-8 strings as strcmp orders their bytes.

This module is the only place that orders documents (docs/architecture.md, "One engine"). The rule
comes in two representations of one ranking, side by side here:
- run dicts {doc id: score} (run files, metrics): `ranked`, `top_ranked`, `rank_of`;
- whole-corpus score arrays with each doc's position in doc-id order (the engine): `order`,
  `top_order`, `position`.
Runs are plain dicts: {query id: {doc id: score}}. A doc absent from a run was not retrieved.
"""
from __future__ import annotations

import heapq
from typing import Mapping, Sequence

import numpy as np

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


# ---- run dicts ---------------------------------------------------------------------------------
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


# ---- whole-corpus arrays -------------------------------------------------------------------------
def id_positions(doc_ids: Sequence[str]) -> np.ndarray:
    """Each doc's position when the ids are sorted ascending: the tie-break key of the arrays below."""
    return np.argsort(np.argsort(np.array(doc_ids, dtype=object), kind="stable"), kind="stable")


def order(scores: np.ndarray, id_pos: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """Doc indices (of `candidates`, else all) in rank order."""
    c = np.arange(len(scores)) if candidates is None else candidates
    s = scores[c]
    by_score = np.argsort(-s, kind="stable")
    ranked_scores = s[by_score]
    if len(c) > 1 and np.any(ranked_scores[1:] == ranked_scores[:-1]):  # ties: the doc-id rule decides
        by_score = np.lexsort((-id_pos[c], -s))
    return c[by_score]


def top_order(scores: np.ndarray, id_pos: np.ndarray, m: int) -> np.ndarray:
    """The first m doc indices in rank order, without sorting the whole corpus."""
    n = len(scores)
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    if m >= n:
        return order(scores, id_pos)
    cut = np.partition(scores, n - m)[n - m]
    return order(scores, id_pos, np.flatnonzero(scores >= cut))[:m]


def position(scores: np.ndarray, id_pos: np.ndarray, i: int) -> int:
    """1-based position of doc i in the full order: docs scoring higher, or tied with a larger id."""
    s = scores[i]
    return 1 + int(np.count_nonzero(scores > s)) + int(np.count_nonzero((scores == s) & (id_pos > id_pos[i])))
