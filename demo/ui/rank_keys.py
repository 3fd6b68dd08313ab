"""`changed` and `graded_chosen` for a result of Explorer.rank that lacks them.

render.summarize writes the sentences above the columns from these two keys; the restructured
service returns them (docs/architecture.md), the service before it returned the sentences
instead. A result that has both keys comes back unchanged, so this is then a no-op."""
from __future__ import annotations

from demo.data.variants import split_variant


def with_rank_keys(explorer, dataset: str, result: dict, instruction: str | None,
                   grade_against: str | None) -> dict:
    """The result with `changed` (the text, parsed as the service parses it, differs from the
    instance's own instruction and query) and `graded_chosen` (grade_against named another
    instance) added where missing."""
    if "changed" in result and "graded_chosen" in result:
        return result
    inst = explorer.benchmark(dataset).instances[result["instance_id"]]
    edited = split_variant(instruction if instruction is not None else inst.instruction, inst.query)
    return {"changed": edited != (inst.instruction, inst.query, False),
            "graded_chosen": bool(grade_against) and result["graded_against"] != inst.instance_id, **result}
