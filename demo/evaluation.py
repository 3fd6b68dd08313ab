"""Evaluate retrievers on a benchmark: build them, run every instance, score the runs.

Plain data in and out: runs are {instance id: {doc id: score}}; results are dicts with the
JSON shape of DESIGN §6 (fractions, not percentages).
"""
from __future__ import annotations

from typing import Callable, Iterable

from demo.cache import EmbeddingCache
from demo.data.records import Benchmark
from demo.errors import DataError, UserError
from demo.metrics import best_rank, blind_floor_run, mean, ndcg_at_k, robustness
from demo.metrics.ranking import Run, top_ranked
from demo.retrievers.base import Retriever
from demo.retrievers import ids
from demo.retrievers.fusion import FusionRetriever
from demo.retrievers.registry import MAX_RETRIEVERS, MODELS, canonical_id, load_model, parse_id
from demo.settings import cache_dir, embedding_cache_limit

Progress = Callable[[str, int, int], None]  # (what, done, total)


def parse_retriever_list(text: str | Iterable[str]) -> list[str]:
    """Comma-separated (commas inside rrf(...) do not split) or a list -> canonical ids, deduplicated."""
    given = [t.strip() for t in (ids.split_ids(text) if isinstance(text, str) else text) if t.strip()]
    if not given:
        raise UserError("no retrievers given")
    if len(given) > MAX_RETRIEVERS:
        raise UserError(f"at most {MAX_RETRIEVERS} retrievers at once, got {len(given)}")
    from demo.runs import PREFIX, is_run_id
    for i in given:
        if is_run_id(i) and not i[len(PREFIX):].strip():
            raise UserError(f"{i!r}: a run file needs a name or path after {PREFIX!r}")
    # run files are not in the model grammar: their ids pass as given (DESIGN §11)
    canonical = [i if is_run_id(i) else canonical_id(i) for i in given]
    return list(dict.fromkeys(canonical))


def default_cache() -> EmbeddingCache:
    return EmbeddingCache(cache_dir() / "embeddings", embedding_cache_limit())


def build_retrievers(benchmark: Benchmark, retriever_ids: list[str], cache: EmbeddingCache | None = None,
                     progress: Progress | None = None, devices: list[str] | None = None) -> dict:
    """Load and index each model once, shared by its modes and by fusions. Raises ModelUnavailable.
    `devices`: where dense models run (several: the corpus is embedded by one process per device)."""
    cache = cache if cache is not None else default_cache()
    models = {}
    docs = list(benchmark.docs.values())
    refs = {rid: parse_id(rid) for rid in retriever_ids}
    for ref in refs.values():  # an unavailable reranker fails at once, before any corpus is embedded
        if isinstance(ref, ids.Rerank):
            from demo.retrievers.registry import load_reranker
            load_reranker(ref.reranker_id)
    for ref in refs.values():
        for mid in ref.model_ids():
            if mid not in models:
                model = load_model(MODELS[mid], cache, devices)
                report = (lambda done, total, name=mid: progress(f"indexing {name}", done, total)) if progress else None
                model.index_corpus(docs, report)
                models[mid] = model
    return {rid: _assemble(ref, models, benchmark) for rid, ref in refs.items()}


def _assemble(ref, models: dict, benchmark: Benchmark):
    if isinstance(ref, ids.Fusion):
        return FusionRetriever(ref.id, [_assemble(p, models, benchmark) for p in ref.parts], ref.k)
    if isinstance(ref, ids.Rerank):
        from demo.retrievers.registry import RERANKERS, load_reranker
        from demo.retrievers.rerank import RerankRetriever
        return RerankRetriever(ref, _assemble(ref.first, models, benchmark), load_reranker(ref.reranker_id),
                               RERANKERS[ref.reranker_id].depth, benchmark.docs)
    return Retriever(ref.id, models[ref.model_id], ref.mode)


def run_instances(retriever: Retriever, instances, depth: int | None = 1000, batch: int = 256,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, dict[str, float]]:
    instances = list(instances)
    run: dict[str, dict[str, float]] = {}
    for start in range(0, len(instances), batch):
        chunk = instances[start:start + batch]
        for inst, scores in zip(chunk, retriever.run([(i.instruction, i.query) for i in chunk], depth)):
            if depth is not None and len(scores) > depth:  # ties at the cut: keep rank order, as a run file does
                scores = {d: scores[d] for d in top_ranked(scores, depth)}
            run[inst.instance_id] = scores
        if progress:
            progress(min(start + batch, len(instances)), len(instances))
    return run


def score_run(run: Run, benchmark: Benchmark, k: int = 10, official: bool = False, group_by: str = "query") -> dict:
    """nDCG@k, Robustness@k and per-instance rank and nDCG of a run against the benchmark.
    Instances missing from the run score 0 (as trec_eval -c); `official`: only the run's instances
    count, grouped as the official robust_eval.py groups them (demo.conventions). Run rows for
    unknown ids are an error. Also reports coverage, and both conventions' figures when they differ."""
    from demo.conventions import MISSING_AS_ZERO, OFFICIAL, drop_identical_ids, groups_of
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
    """The instruction-blind floor of a dataset (DESIGN §4), without per-instance rows."""
    result = score_run(blind_floor_run(benchmark.qrels, benchmark.groups, k), benchmark, k)
    return {key: result[key] for key in (f"ndcg@{k}", f"robustness@{k}")}
