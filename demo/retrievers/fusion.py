"""Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over parts of 1 / (k + rank_part(d)),
k = 60; a doc a part did not retrieve gets nothing from it. Ranks follow the ranking rule of
demo.metrics.ranking (score descending, then the doc-id tie rule), so fused scores are ranked by
the same rule again.

Two equivalent forms: `fuse` on run dicts (the CLI's runs) and `rrf_scores` on rank arrays
(the service's full rankings); both add the parts in the same order, so they give the same floats.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from demo.metrics.ranking import ranked
from demo.retrievers.ids import RRF_K


def fuse(runs: Sequence[Mapping[str, float]], k: int = RRF_K) -> dict[str, float]:
    out: dict[str, float] = {}
    for run in runs:
        for rank, doc in enumerate(ranked(run), start=1):
            out[doc] = out.get(doc, 0.0) + 1.0 / (k + rank)
    return out


def rrf_scores(rank_arrays: Sequence[np.ndarray], k: int = RRF_K) -> np.ndarray:
    """rank_arrays: per part, each doc's 1-based rank, or 0 where the part did not retrieve it."""
    total = np.zeros(len(rank_arrays[0]), dtype=np.float64)
    for ranks in rank_arrays:
        ranks = np.asarray(ranks)
        total = total + np.where(ranks > 0, 1.0 / (k + np.maximum(ranks, 1)), 0.0)
    return total


class FusionRetriever:
    """Two retrievers fused; the same run/search verbs as base.Retriever."""

    def __init__(self, retriever_id: str, parts: Sequence, k: int = RRF_K):
        self.retriever_id, self.parts, self.k = retriever_id, list(parts), k

    def run(self, pairs, depth: int | None = None) -> list[dict[str, float]]:
        from demo.metrics.ranking import top_ranked
        per_part = [p.run(pairs, None) for p in self.parts]  # complete rankings: fusion needs every rank
        out = []
        for runs in zip(*per_part):
            fused = fuse(runs, self.k)
            out.append(fused if depth is None or len(fused) <= depth else {d: fused[d] for d in top_ranked(fused, depth)})
        return out

    def search(self, pairs, depth: int | None = None) -> list[list[tuple[str, float]]]:
        return [[(d, scores[d]) for d in ranked(scores)] for scores in self.run(pairs, depth)]
