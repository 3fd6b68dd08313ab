"""Score runs against a benchmark: nDCG@k and Robustness@k, as trec_eval and the official script.

Plain data in and out: runs are {instance id: {doc id: score}}; results are dicts in the JSON
shape the CLI writes (fractions, not percentages).
"""
from __future__ import annotations

from demo.conventions import MISSING_AS_ZERO, OFFICIAL, drop_identical_ids, groups_of
from demo.data.records import Benchmark
from demo.errors import DataError
from demo.metrics import best_rank, blind_floor_run, mean, ndcg_at_k, robustness
from demo.metrics.ranking import Run


def score_run(run: Run, benchmark: Benchmark, k: int = 10, official: bool = False, group_by: str = "query") -> dict:
    """nDCG@k, Robustness@k and per-instance rank and nDCG of a run against the benchmark.
    Instances missing from the run score 0 (as trec_eval -c); `official`: only the run's instances
    count, grouped as the official robust_eval.py groups them (demo.conventions). Run rows for
    unknown ids are an error. Also reports coverage, and both conventions' figures when they differ."""
    unknown = sorted(set(run) - set(benchmark.instances))
    if unknown:
        raise DataError("run", f"{len(unknown)} query ids not in the dataset, e.g. {unknown[0]!r}")
    present = [iid for iid in benchmark.instances if iid in run]
    official_run, dropped = drop_identical_ids({iid: run[iid] for iid in present})

    def rows(source: Run, iids) -> dict:
        return {iid: {"rank": best_rank(source.get(iid, {}), benchmark.instances[iid].targets),
                      f"ndcg@{k}": ndcg_at_k(benchmark.instances[iid].qrels, source.get(iid, {}), k)} for iid in iids}

    def figures(per: dict, groups) -> dict:
        ndcgs = {iid: v[f"ndcg@{k}"] for iid, v in per.items()}
        return {f"ndcg@{k}": mean(ndcgs.values()), f"robustness@{k}": robustness(ndcgs, groups)}

    per_instance = rows(official_run, present) if official else rows(run, benchmark.instances)
    groups = groups_of(benchmark, group_by, official, present)
    result = {**figures(per_instance, groups), "per_instance": per_instance,
              "coverage": {"instances": len(present), "of_instances": len(benchmark.instances)},
              "convention": OFFICIAL if official else MISSING_AS_ZERO, "group_by": group_by}
    if official:
        result["identical_ids_dropped"] = dropped
    if len(present) < len(benchmark.instances) or dropped:  # the other convention gives other figures
        other = rows(run, benchmark.instances) if official else rows(official_run, present)
        result["conventions"] = {
            "missing_as_zero": figures(other if official else per_instance, groups_of(benchmark, group_by)),
            "official": figures(per_instance if official else other, groups_of(benchmark, group_by, True, present))}
    return result


def blind_floor(benchmark: Benchmark, k: int = 10) -> dict:
    """The instruction-blind floor of a dataset (the best a retriever can do that puts the right
    sibling family on top but ignores the instruction), without per-instance rows."""
    result = score_run(blind_floor_run(benchmark.qrels, benchmark.groups, k), benchmark, k)
    return {key: result[key] for key in (f"ndcg@{k}", f"robustness@{k}")}
