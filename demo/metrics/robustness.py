"""Robustness@k (InstructIR): the worst nDCG@k within each group, averaged over groups.

Groups are base queries (their instances) or any variant set (e.g. the five paraphrases
of one instance, or the variants tried in the UI)."""
from __future__ import annotations

from typing import Iterable, Mapping

from demo.metrics.ndcg import mean


def robustness(per_item: Mapping[str, float], groups: Mapping[str, Iterable[str]]) -> float:
    """min-then-mean of per_item scores; items a group names but per_item lacks are skipped."""
    minima = []
    for members in groups.values():
        values = [per_item[m] for m in members if m in per_item]
        if values:
            minima.append(min(values))
    return mean(minima)

