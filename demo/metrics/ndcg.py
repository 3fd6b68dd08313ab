"""nDCG@k exactly as trec_eval's ndcg_cut.k: gain = the qrels grade, discount log2(rank + 1),
ideal DCG from the judged grades sorted descending. One relevant doc at rank r: 1/log2(r+1)."""
from __future__ import annotations

import math
from typing import Mapping

from demo.metrics.ranking import Qrels, Run, top_ranked


def ndcg_at_k(qrels: Mapping[str, int], scores: Mapping[str, float], k: int = 10) -> float:
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum(qrels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top_ranked(scores, k)) if qrels.get(d, 0) > 0)
    return dcg / idcg


def ndcg_per_query(qrels: Qrels, run: Run, k: int = 10) -> dict[str, float]:
    """nDCG@k of every judged query; a query missing from the run scores 0 (trec_eval -c)."""
    return {q: ndcg_at_k(rels, run.get(q, {}), k) for q, rels in qrels.items()}


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
