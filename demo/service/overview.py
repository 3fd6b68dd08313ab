"""Whole-dataset views over the tables: the instance table (`/inspect`), the per-query table that
orders the query picker, and the scoreboard."""
from __future__ import annotations

from dataclasses import asdict

from demo import inputs
from demo.data.sources import open_source
from demo.errors import UserError
from demo.evaluation import blind_floor
from demo.metrics import mean, robustness
from demo.retrievers.registry import parse_retriever_list
from demo.service.checks import check
from demo.service.rankings import Runs
from demo.service.tables import Stage, Tables


def inspect(tables: Tables, source: str, retrievers, k: int = 10, runs: Runs = None, progress: Stage | None = None) -> dict:
    """One row per instance with, per retriever, {"target_rank", "ndcg", "outcome", "top_doc"}
    (absent where a run does not cover it); a retriever that fails is in "errors"."""
    k = check(None, k)
    source, bench = open_source(source)
    per, errors = {}, {}
    for rid in parse_retriever_list(inputs.string_list(retrievers, "retrievers")):
        try:
            per[rid] = tables.records(source, rid, k, runs, progress)
        except UserError as e:
            errors[rid] = str(e)
    rows = [{"instance_id": i.instance_id, "query_id": i.query_id, "query": i.query, "instruction": i.instruction,
             "targets": list(i.targets),
             "retrievers": {rid: asdict(recs[i.instance_id]) for rid, recs in per.items() if recs.get(i.instance_id)}}
            for i in bench.instances.values()]
    return {"k": k, "retrievers": list(per), "rows": rows, "errors": errors}


def instance_ndcgs(tables: Tables, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                   runs: Runs = None) -> dict[str, dict[str, float]]:
    """nDCG@k of every instance (original instruction) per retriever; failed retrievers omitted."""
    k = check(None, k)
    per = {}
    for rid in parse_retriever_list(inputs.string_list(retrievers, "retrievers")):
        try:
            per[rid] = tables.ndcgs(source, rid, k, runs, progress)
        except UserError:
            continue
    return per


def query_table(tables: Tables, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                runs: Runs = None) -> list[dict]:
    """Per base query: Robustness@k and mean nDCG@k per retriever, and how much the retrievers
    disagree, for ordering the query picker by interest."""
    source, bench = open_source(source)
    per = instance_ndcgs(tables, source, retrievers, k, progress, runs)
    rows = []
    for qid, members in bench.groups.items():
        rob = {rid: min(v[m] for m in members) for rid, v in per.items()}
        nd = {rid: mean(v[m] for m in members) for rid, v in per.items()}
        rows.append({"query_id": qid, "query": bench.instances[members[0]].query, "instances": len(members),
                     "robustness": rob, "ndcg": nd,
                     "min_robustness": min(rob.values()) if rob else None,
                     "disagreement": (max(nd.values()) - min(nd.values())) if nd else 0.0})
    return rows


def scoreboard(tables: Tables, source: str, retrievers, k: int = 10, progress: Stage | None = None,
               runs: Runs = None) -> dict:
    """Dataset-level nDCG@k and Robustness@k per retriever (as `python -m demo evaluate`), with
    the instruction-blind floor. An instance a run does not cover scores 0 (trec_eval -c)."""
    source, bench = open_source(source)
    per = instance_ndcgs(tables, source, retrievers, k, progress, runs)
    board = {rid: {f"ndcg@{k}": mean(v.values()), f"robustness@{k}": robustness(v, bench.groups)}
             for rid, v in per.items()}
    return {"k": k, "retrievers": board, "floor": blind_floor(bench, k)}

