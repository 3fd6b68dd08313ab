"""Scoring conventions: which instances a run is scored on and how Robustness groups them.

Two conventions for a run that does not cover every instance:
- MISSING_AS_ZERO (the default, `trec_eval -c`): every instance of the dataset is scored; one the
  run lacks scores 0. Robustness groups are the dataset's base queries, whole.
- OFFICIAL (the official InstructIR `robust_eval.py`): only the run's instances are scored. Its
  groups are built from the queries present in the run (an instance absent from the run is in no
  group), keyed by the base query TEXT (the part after `[SEP]`) or, with group_by="instruction", by
  the instruction text. A retrieved doc whose id equals its query id is dropped first, as BEIR's
  evaluation does (`ignore_identical_ids=True`).

Grouping by instruction: the script keys a group by the exact instruction text, so instances
sharing one instruction across base queries would form a group. In the InstructIR release every
one of the 9,906 instruction texts is distinct (checked on queries.jsonl), so every instruction
group is a single instance there, and Robustness@k by instruction equals nDCG@k.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from demo.data.records import Benchmark
from demo.errors import UserError

MISSING_AS_ZERO = "missing as 0 (trec_eval -c)"
OFFICIAL = "official (the run's instances only)"
GROUP_BY = ("query", "instruction")


def check_group_by(group_by: str) -> str:
    if group_by not in GROUP_BY:
        raise UserError(f"group by {group_by!r}: expected one of {', '.join(GROUP_BY)}")
    return group_by


def drop_identical_ids(run: Mapping[str, Mapping[str, float]]) -> tuple[dict[str, Mapping[str, float]], int]:
    """The run without docs whose id equals the query id, and how many were dropped."""
    out, dropped = {}, 0
    for qid, docs in run.items():
        if qid in docs:
            docs = {d: s for d, s in docs.items() if d != qid}
            dropped += 1
        out[qid] = docs
    return out, dropped


def groups_of(bench: Benchmark, group_by: str = "query", official: bool = False,
              present: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Robustness groups: {key: instance ids}. Default: the dataset's base queries (by id) or, by
    instruction, instances sharing an instruction text. Official: keyed by the query or instruction
    text as the script splits them, and only over `present` (the run's instances; ignored otherwise)."""
    check_group_by(group_by)
    if not official and group_by == "query":
        return dict(bench.groups)
    keep = set(present) if official and present is not None else set(bench.instances)
    groups: dict[str, list[str]] = {}
    for iid, inst in bench.instances.items():
        if iid in keep:
            key = inst.instruction.strip() if group_by == "instruction" else inst.query.strip()
            groups.setdefault(key, []).append(iid)
    return {key: tuple(members) for key, members in groups.items()}
