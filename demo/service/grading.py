"""Whose target a text is graded against, and when p-MRR applies (docs/architecture.md, "Variants").

Grading follows the text: another instance's own instruction asks for THAT instance's target,
so the view grades against it and reports where the old target went (p-MRR, FollowIR).
"""
from __future__ import annotations

from demo.data.records import Benchmark, Instance
from demo.data.variants import swap_source
from demo.engine import DocOrder, Query, Ranking
from demo.errors import UserError
from demo.metrics import ndcg_at_k


def graded_instance(bench: Benchmark, inst: Instance, edited: Query, grade_against: str | None) -> Instance:
    """The chosen instance of the same base query, else the instance whose own instruction the
    editor holds, else this one."""
    if grade_against:
        chosen = bench.instances.get(str(grade_against).strip())
        if chosen is None or chosen.query_id != inst.query_id:
            raise UserError(f"cannot grade against {grade_against!r}: not an instance of base query {inst.query_id!r}")
        return chosen
    if edited.query_first or edited.query != inst.query or edited.instruction == inst.instruction:
        return inst
    for iid in bench.groups[inst.query_id]:
        if bench.instances[iid].instruction == edited.instruction:
            return bench.instances[iid]
    return inst


def relevance_lost(bench: Benchmark, inst: Instance, edited: Query) -> str | None:
    """Why the instance's target is no longer relevant under the edited instruction, if it is
    another user's instruction (same query) or another query's (the swap): then p-MRR applies."""
    if edited.query_first or edited.query != inst.query or edited.instruction == inst.instruction:
        return None
    for iid in bench.groups[inst.query_id]:
        if iid != inst.instance_id and bench.instances[iid].instruction == edited.instruction:
            return f"another user's instruction ({iid})"
    other = swap_source(bench, inst)
    if other is not None and other.instruction == edited.instruction:
        return f"another query's instruction ({other.instance_id})"
    return None


def ndcg_of(docs: DocOrder, inst: Instance, r: Ranking | None, k: int) -> float:
    """nDCG@k of a ranking against the instance's judgements; no ranking (a run file without
    this query) scores 0, as trec_eval -c."""
    if r is None:
        return 0.0
    return ndcg_at_k(inst.qrels, {docs.doc_ids[i]: float(s) for i, s in zip(r.top(k), r.head_scores)}, k)


def target_rank(docs: DocOrder, inst: Instance, r: Ranking | None) -> int | None:
    """The best rank of the instance's targets (tracked in r), None when none is retrieved."""
    return None if r is None else r.best_rank(docs.indices(inst.targets))
