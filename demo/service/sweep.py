"""The sweep view: every variant of one base query through every retriever (the `/sweep` API)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from demo import inputs
from demo.data.records import Instance
from demo.data.sources import open_source
from demo.data.variants import perturbations, split_variant
from demo.engine import Query
from demo.errors import UserError
from demo.retrievers.registry import label, parse_retriever_list
from demo.service.checks import check, instance
from demo.service.compare import FailedColumn
from demo.service.grading import graded_instance, ndcg_of, target_rank
from demo.service.rankings import Rankers, Runs


@dataclass(frozen=True)
class Variant:
    """One row of the sweep: what it is (kind, label, text), whom it is graded for, what is asked."""
    info: dict  # {"kind", "label", "instance_id", "text"}: the API's variant entry
    graded: Instance
    query: Query


@dataclass(frozen=True)
class SweepColumn:
    """One retriever over every variant: target ranks and nDCG@k (None where a run has no ranking),
    Robustness@k over the original instructions and over every variant."""
    label: str
    target_rank: list[int | None]
    ndcg: list[float | None]
    robustness: float | None
    variant_robustness: float | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sweep:
    query_id: str
    query: str
    k: int
    pivot: str
    variants: list[dict]
    retrievers: dict[str, SweepColumn | FailedColumn]

    def as_dict(self) -> dict:
        return {"query_id": self.query_id, "query": self.query, "k": self.k, "pivot": self.pivot,
                "variants": self.variants, "retrievers": {rid: c.as_dict() for rid, c in self.retrievers.items()}}


def variant_rows(bench, group: list[Instance], pivot: Instance, instruction: str | None,
                 grade_against: str | None) -> list[Variant]:
    """The query's instructions, the dataset's paraphrases, the perturbations of the pivot instance
    and, if given, the edited instruction."""
    rows = [Variant({"kind": "original", "label": g.persona or g.instance_id, "instance_id": g.instance_id,
                     "text": g.instruction}, g, Query(g.instruction, g.query)) for g in group]
    rows += [Variant({"kind": "paraphrase", "label": f"paraphrase {p.instance_id}", "instance_id": g.instance_id,
                      "text": p.instruction}, g, Query(p.instruction, p.query))
             for g in group for p in bench.paraphrases.get(g.instance_id, ())]
    rows += [Variant({**v, "instance_id": pivot.instance_id}, pivot, Query(*split_variant(v["text"], pivot.query)))
             for v in perturbations(bench, pivot)]
    if instruction is not None:
        edit = Query(*split_variant(instruction, pivot.query))
        graded = graded_instance(bench, pivot, edit, grade_against)
        rows.append(Variant({"kind": "edit", "label": "your edit", "instance_id": graded.instance_id,
                             "text": instruction}, graded, edit))
    return rows


def sweep(rankers: Rankers, source: str, query_id: str, retrievers, k=10, instance_id: str | None = None,
          instruction: str | None = None, grade_against: str | None = None, runs: Runs = None) -> Sweep:
    """Per retriever: each variant's target rank and nDCG@k, the query's Robustness@k over its
    original instructions and over every variant. A run file has numbers only for the variants it
    covers (null for the others)."""
    k = check(instruction, k)
    source, bench = open_source(source)
    query_id = inputs.identifier(query_id, "query id")
    if query_id not in bench.groups:
        raise UserError(f"unknown base query {query_id!r} in {bench.name}")
    rids = parse_retriever_list(inputs.string_list(retrievers, "retrievers"))
    group = [bench.instances[i] for i in bench.groups[query_id]]
    pivot = (instance(bench, instance_id) if instance_id else
             next((g for g in group if g.instance_id in bench.paraphrases), group[0]))
    if pivot.query_id != query_id:
        raise UserError(f"instance {pivot.instance_id!r} is not of base query {query_id!r}")
    rows = variant_rows(bench, group, pivot, instruction, grade_against)
    docs = rankers.corpora.docs(source)
    targets = docs.indices(t for g in group for t in g.targets)
    result = {}
    for rid in rids:
        try:
            _, ranks = rankers.rankings(source, rid, [v.query for v in rows], targets, runs=runs)
        except UserError as e:
            result[rid] = FailedColumn(label(rid), str(e))
            continue
        ndcgs = [ndcg_of(docs, v.graded, r, k) if r is not None else None for v, r in zip(rows, ranks)]
        originals = [n for v, n in zip(rows, ndcgs) if v.info["kind"] == "original" and n is not None]
        covered = [n for n in ndcgs if n is not None]
        result[rid] = SweepColumn(label(rid), [target_rank(docs, v.graded, r) for v, r in zip(rows, ranks)], ndcgs,
                                  min(originals) if originals else None, min(covered) if covered else None)
    return Sweep(query_id, group[0].query, k, pivot.instance_id, [v.info for v in rows], result)
