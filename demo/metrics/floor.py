"""The instruction-blind floor: the best a retriever can do that ranks each base query's
sibling family on top but ignores the instruction, i.e. gives every instance of a base query
the same ranking. Ordering the docs by their summed normalised gain over the group's
instances maximises the group's mean nDCG@k (rearrangement inequality); with one target per
instance the order within the family does not change the mean."""
from __future__ import annotations

import math
from typing import Iterable, Mapping

from demo.metrics.ranking import Qrels


def blind_floor_run(qrels: Qrels, groups: Mapping[str, Iterable[str]], k: int = 10) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for members in groups.values():
        members = list(members)
        weight: dict[str, float] = {}
        for q in members:
            ideal = sorted((g for g in qrels[q].values() if g > 0), reverse=True)[:k]
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal)) or 1.0
            for d, g in qrels[q].items():
                if g > 0:
                    weight[d] = weight.get(d, 0.0) + g / idcg
        for q in members:
            run[q] = weight
    return run
