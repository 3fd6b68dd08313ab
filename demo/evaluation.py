"""Score runs against a benchmark: nDCG@k and Robustness@k, as trec_eval and the official script.

Plain data in and out: runs are {instance id: {doc id: score}}; results are dicts in the JSON
shape the CLI writes (fractions, not percentages).
"""
from __future__ import annotations

from demo.data.records import Benchmark
from demo.errors import DataError
from demo.metrics import best_rank, blind_floor_run, ndcg_at_k, robustness
from demo.metrics.ranking import Run


def score_run(run: Run, benchmark: Benchmark, k: int = 10) -> dict:
    """nDCG@k, Robustness@k and per-instance rank and nDCG of a run against the benchmark.
    Instances missing from the run score 0 (as trec_eval -c); run rows for unknown ids are an error."""
    unknown = sorted(set(run) - set(benchmark.instances))
    if unknown:
        raise DataError("run", f"{len(unknown)} query ids not in the dataset, e.g. {unknown[0]!r}")
    per_instance = {}
    for iid, inst in benchmark.instances.items():
        scores = run.get(iid, {})
        per_instance[iid] = {"rank": best_rank(scores, inst.targets), f"ndcg@{k}": ndcg_at_k(inst.qrels, scores, k)}
    ndcgs = {iid: v[f"ndcg@{k}"] for iid, v in per_instance.items()}
    return {f"ndcg@{k}": sum(ndcgs.values()) / len(ndcgs),
            f"robustness@{k}": robustness(ndcgs, benchmark.groups),
            "per_instance": per_instance}


def blind_floor(benchmark: Benchmark, k: int = 10) -> dict:
    """The instruction-blind floor of a dataset (the best a retriever can do that puts the right
    sibling family on top but ignores the instruction), without per-instance rows."""
    result = score_run(blind_floor_run(benchmark.qrels, benchmark.groups, k), benchmark, k)
    result.pop("per_instance")
    return result
