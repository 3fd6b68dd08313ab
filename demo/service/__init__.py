"""The service the UI, the API and the CLI call. It knows nothing of Gradio.

`Explorer` wires the parts, each with one job (docs/architecture.md, "The service"):
    corpora.Corpora    datasets, indexed corpora, run files, what cannot load and why
    rankings.Rankers   any retriever id -> rankings, through the one engine (demo.engine)
    tables.Tables      whole-dataset records per retriever, in memory and on disk
and the views over them: compare (`/rank`), sweep (`/sweep`), overview (`/inspect`, the
scoreboard, the query table) and explain (`/explain`). Everything here is shared by all
sessions and safe to call from several threads; nothing per-user lives here (a session's
uploaded runs are passed in as `runs`).
"""
from __future__ import annotations

from typing import Callable, Mapping

from demo import budget
from demo.cache import EmbeddingCache
from demo.data.sources import open_source
from demo.data.variants import unavailable_variants, variants
from demo.engine import DocOrder, Query, Ranking, Scored
from demo.runs import RunFile
from demo.service import compare, explain, overview, sweep
from demo.service.checks import MAX_INSTRUCTION_CHARS, MAX_K, instance
from demo.service.corpora import Corpora, Corpus, Stage
from demo.service.rankings import Rankers
from demo.service.tables import Record, Tables
from demo.settings import memory_budget_bytes

__all__ = ["Explorer", "MAX_INSTRUCTION_CHARS", "MAX_K", "Corpus", "Record", "Ranking", "Query"]
Runs = Mapping[str, RunFile] | None


class Explorer:
    """One object for the UI and the API: each method is one view or one question about loading."""

    def __init__(self, cache: EmbeddingCache | None = None, memory_bytes: int | None = None,
                 devices: list[str] | None = None):
        memory = memory_budget_bytes() if memory_bytes is None else memory_bytes
        self.corpora = Corpora(cache, devices)
        self.rankers = Rankers(self.corpora, memory * 3 // 4)  # the views' rankings
        self.tables = Tables(self.rankers, memory // 4)  # whole-dataset records

    # ---- datasets, models, runs --------------------------------------------------------------
    def benchmark(self, source: str):
        return self.corpora.benchmark(source)

    def dataset_key(self, source: str) -> str:
        return self.corpora.dataset_key(source)

    def status(self, source: str, model_id: str) -> tuple[str, int, int] | None:
        return self.corpora.status(source, model_id)

    def corpus(self, source: str, model_id: str, progress: Callable[[int, int], None] | None = None,
               on_stage: Stage | None = None) -> Corpus:
        return self.corpora.corpus(source, model_id, progress, on_stage)

    def runs(self, source: str, extra: Runs = None) -> dict[str, RunFile]:
        return self.corpora.runs(source, extra)

    def run_report(self, source: str, extra: Runs = None) -> list[str]:
        return self.corpora.run_report(source, extra)

    # ---- rankings ----------------------------------------------------------------------------
    def scores(self, source: str, retriever_id: str, queries, runs: Runs = None) -> tuple[DocOrder, list[Scored | None]]:
        return self.rankers.scores(source, retriever_id, queries, runs)

    def rankings(self, source: str, retriever_id: str, queries, track=(), memo: bool = True,
                 runs: Runs = None) -> tuple[DocOrder, list[Ranking | None]]:
        return self.rankers.rankings(source, retriever_id, queries, track, memo=memo, runs=runs)

    # ---- views (the API) ----------------------------------------------------------------------
    def instance(self, source: str, instance_id: str) -> dict:
        _, bench = open_source(source)
        inst = instance(bench, instance_id)
        return {"instance_id": inst.instance_id, "query_id": inst.query_id, "query": inst.query,
                "instruction": inst.instruction, "targets": list(inst.targets), "persona": inst.persona,
                "siblings": list(bench.siblings(inst.instance_id)), "variants": variants(bench, inst),
                "unavailable_variants": unavailable_variants()}

    def compare(self, source: str, instance_id: str, instruction: str | None, retrievers, k=10,
                grade_against: str | None = None, runs: Runs = None) -> compare.Comparison:
        """The typed comparison (demo.service.compare)."""
        with budget.request("rank"):
            return compare.compare(self.rankers, source, instance_id, instruction, retrievers, k, grade_against, runs)

    def rank(self, source: str, instance_id: str, instruction: str | None, retrievers, k=10,
             grade_against: str | None = None, runs: Runs = None) -> dict:
        """The comparison as the `/rank` API's JSON."""
        return self.compare(source, instance_id, instruction, retrievers, k, grade_against, runs).as_dict()

    def sweep(self, source: str, query_id: str, retrievers, k=10, instance_id: str | None = None,
              instruction: str | None = None, grade_against: str | None = None, runs: Runs = None) -> dict:
        """Every variant of one base query through every retriever, as the `/sweep` API's JSON."""
        with budget.request("sweep"):
            return sweep.sweep(self.rankers, source, query_id, retrievers, k, instance_id, instruction,
                               grade_against, runs).as_dict()

    def explain(self, source: str, instance_id: str, instruction: str | None, retriever_id: str, doc_id: str) -> dict:
        return explain.explain(self.rankers, source, instance_id, instruction, retriever_id, doc_id)

    def instance_records(self, source: str, rid: str, k: int = 10, runs: Runs = None,
                         progress: Stage | None = None) -> dict[str, Record | None]:
        with budget.request("inspect"):
            return self.tables.records(source, rid, k, runs, progress)

    def instance_ndcgs(self, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                       runs: Runs = None) -> dict[str, dict[str, float]]:
        with budget.request("inspect"):
            return overview.instance_ndcgs(self.tables, source, retrievers, k, progress, runs)

    def inspect(self, source: str, retrievers, k: int = 10, runs: Runs = None, progress: Stage | None = None) -> dict:
        with budget.request("inspect"):
            return overview.inspect(self.tables, source, retrievers, k, runs, progress)

    def query_table(self, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                    runs: Runs = None) -> list[dict]:
        with budget.request("inspect"):
            return overview.query_table(self.tables, source, retrievers, k, progress, runs)

    def scoreboard(self, source: str, retrievers, k: int = 10, progress: Stage | None = None, runs: Runs = None) -> dict:
        with budget.request("inspect"):
            return overview.scoreboard(self.tables, source, retrievers, k, progress, runs)
