"""Every instance of a dataset through the engine, as run dicts: what `evaluate`, `run` and
`compare` on the command line score (the same rankings the app shows)."""
from __future__ import annotations

from typing import Callable

from demo.data.records import Benchmark
from demo.engine import Query
from demo.service.rankings import Rankers, Runs

BATCH = 256  # instances per model call: progress moves, and whole-corpus scores stay ~n_docs x 2 kB


def instance_run(rankers: Rankers, source: str, rid: str, bench: Benchmark, depth: int, runs: Runs = None,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, dict[str, float]]:
    """{instance id: {doc id: score}} of the first `depth` docs of each instance's ranking (its
    original instruction); an instance a run file does not cover is left out."""
    insts = list(bench.instances.values())
    out: dict[str, dict[str, float]] = {}
    for start in range(0, len(insts), BATCH):
        chunk = insts[start:start + BATCH]
        docs, ranks = rankers.rankings(source, rid, [Query(i.instruction, i.query) for i in chunk], depth=depth,
                                       memo=False, runs=runs)
        out.update({i.instance_id: docs.as_run(r) for i, r in zip(chunk, ranks) if r is not None})
        if progress:
            progress(min(start + BATCH, len(insts)), len(insts))
    return out
