"""Dataset statistics for `validate`: counts, lengths and the lexical control."""
from __future__ import annotations

from statistics import mean, median

from demo.data.lexical import overlap
from demo.data.records import Benchmark


def _describe(values: list[int]) -> dict:
    return {"min": min(values), "median": median(values), "mean": round(mean(values), 2), "max": max(values)} if values else {}


def words(text: str) -> int:
    return len(text.split())


def dataset_stats(b: Benchmark) -> dict:
    sizes = [len(ids) for ids in b.groups.values()]
    targets = {t for i in b.instances.values() for t in i.targets}
    per_target = [len(i.targets) for i in b.instances.values()]
    return {
        "name": b.name,
        "base_queries": len(b.groups),
        "instances": len(b.instances),
        "docs": len(b.docs),
        "paraphrases": sum(len(p) for p in b.paraphrases.values()),
        "instances_with_paraphrases": len(b.paraphrases),
        "target_docs": len(targets),
        "other_docs": len(b.docs) - len(targets),
        "instances_per_query": _describe(sizes),
        "targets_per_instance": _describe(per_target),
        "words": {
            "query": _describe([words(b.instances[ids[0]].query) for ids in b.groups.values()]),
            "instruction": _describe([words(i.instruction) for i in b.instances.values()]),
            "target": _describe([words(b.docs[t].text) for t in sorted(targets)]),
            "doc": _describe([words(d.text) for d in b.docs.values()]),
        },
        "lexical_overlap": lexical_control(b),
    }


def lexical_control(b: Benchmark) -> dict:
    """Mean share of an instruction's content words found in its own target vs in its siblings'."""
    own, sib = [], []
    for inst in b.instances.values():
        siblings = b.siblings(inst.instance_id)
        if not inst.instruction or not siblings:
            continue
        own.append(mean(overlap(inst.instruction, b.docs[t].text) for t in inst.targets))
        sib.append(mean(overlap(inst.instruction, b.docs[t].text) for t in siblings))
    return {"own_target": round(mean(own), 4) if own else None,
            "sibling_targets": round(mean(sib), 4) if sib else None,
            "instances_measured": len(own)}
