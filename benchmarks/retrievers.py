"""Retriever benchmark: edit latency with mpnet and the hybrid among the columns, explanation
latency per family, synonym variants (targets; results in benchmarks/RESULTS-retrievers.md).

    python -m benchmarks.retrievers [--edits 30] [--explains 20] [--seed N]

In-process `Explorer` calls on the bundled data with a warm cache: models loaded, corpus
embeddings cached, originals ranked and swept once. Every timed edit is a new text (the
instruction plus three random words, benchmarks.app.Edits), so each costs a real query encode.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import demo  # noqa: F401  (offline flags first)
from benchmarks.app import DATASET, K, Edits, loadavg, pick_instances, summary, timed
from benchmarks.machine import cpu_model
from demo.data.synonyms import synonym_variants
from demo.service import Explorer

BASE = ["bm25", "bm25@query", "minilm", "minilm@query"]
COLUMN_SETS = {
    "docs/architecture.md set (bm25, bm25@query, minilm, minilm@query)": BASE,
    "+ mpnet, mpnet@query": BASE + ["mpnet", "mpnet@query"],
    "+ rrf(bm25,minilm), rrf(bm25,minilm)@query": BASE + ["rrf(bm25,minilm)", "rrf(bm25,minilm)@query"],
    "bm25, minilm, mpnet, rrf(bm25,minilm) (side by side)": ["bm25", "minilm", "mpnet", "rrf(bm25,minilm)"],
    "mpnet alone": ["mpnet"],
}
EXPLAIN = ["bm25", "minilm", "mpnet", "rrf(bm25,minilm)"]


def warm(explorer, instances, rids) -> float:
    t = time.perf_counter()
    for inst in instances:
        explorer.rank(DATASET, inst.instance_id, inst.instruction, rids, K)
        explorer.sweep(DATASET, inst.query_id, rids, K, inst.instance_id)
    return time.perf_counter() - t


def bench_edits(explorer, instances, n: int, edits: Edits) -> dict:
    out = {}
    for name, rids in COLUMN_SETS.items():
        walls, cpus, sweeps = [], [], []
        for j in range(n):
            inst = instances[j % len(instances)]
            text = edits(inst.instruction)
            w, c, _ = timed(explorer.rank, DATASET, inst.instance_id, text, rids, K)
            walls.append(w)
            cpus.append(c)
            w, _, _ = timed(explorer.sweep, DATASET, inst.query_id, rids, K, inst.instance_id, text)
            sweeps.append(w)  # the sweep of the same edit: its own encode is memoised by rank
        out[name] = {"rank": summary(walls, cpus), "sweep": summary(sweeps)}
    return out


def bench_explain(explorer, instances, n: int, edits: Edits) -> dict:
    out = {}
    for rid in EXPLAIN:
        walls = []
        for j in range(n):
            inst = instances[j % len(instances)]
            text = edits(inst.instruction)  # new sentences-left-out texts: real encodes
            w, _, res = timed(explorer.explain, DATASET, inst.instance_id, text, rid, inst.targets[0])
            walls.append(w)
        out[rid] = {**summary(walls), "method": res["method"],
                    "sentences": len(res.get("sentences", [])) or None}
    return out


def bench_synonyms(explorer) -> dict:
    bench = explorer.benchmark(DATASET)
    first = next(iter(bench.instances.values()))
    load_ms, _, _ = timed(synonym_variants, first.instruction, first.instance_id)
    per = [timed(synonym_variants, i.instruction, i.instance_id)[0] for i in bench.instances.values()]
    again = [timed(synonym_variants, i.instruction, i.instance_id)[0] for i in bench.instances.values()]
    return {"first_call_ms": load_ms, "cold_per_instance": summary(per), "memoised_per_instance": summary(again)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.retrievers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--explains", type=int, default=20)
    ap.add_argument("--queries", type=int, default=6)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args(argv)
    explorer, edits = Explorer(), Edits(args.seed)
    instances = pick_instances(explorer, args.queries)
    res = {"machine": {"cpu": cpu_model(), "nproc": os.cpu_count(), "load_before": loadavg()}, "seed": args.seed}
    everything = sorted({r for rids in COLUMN_SETS.values() for r in rids})
    t = time.perf_counter()
    for mid in ("bm25", "minilm", "mpnet"):
        explorer.corpus(DATASET, mid)
    res["models_s"] = time.perf_counter() - t
    res["warm_s"] = warm(explorer, instances, everything)
    res["synonyms"] = bench_synonyms(explorer)
    res["edits"] = bench_edits(explorer, instances, args.edits, edits)
    res["explain"] = bench_explain(explorer, instances, args.explains, edits)
    res["machine"]["load_after"] = loadavg()
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
