"""Metrics of docs/architecture.md, matching trec_eval / pytrec_eval. Plain dicts in, floats out."""
from demo.metrics.floor import blind_floor_run
from demo.metrics.ndcg import mean, ndcg_at_k, ndcg_per_query
from demo.metrics.pmrr import p_mrr, pairwise_mrr
from demo.metrics.ranking import best_rank, rank_of, ranked
from demo.metrics.robustness import robustness
from demo.metrics.shift import rank_shift

__all__ = ["blind_floor_run", "mean", "ndcg_at_k", "ndcg_per_query", "p_mrr", "pairwise_mrr",
           "best_rank", "rank_of", "ranked", "robustness", "rank_shift"]
