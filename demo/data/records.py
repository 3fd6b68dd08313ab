"""Plain records of a benchmark: documents, instances and the benchmark that holds them."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

SEP = "[SEP]"


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Instance:
    """One (instruction, base query) pair with its graded relevance judgements."""

    instance_id: str
    query_id: str  # the base query this instance belongs to
    query: str
    instruction: str
    qrels: Mapping[str, int]  # doc id -> grade (> 0 is relevant)
    persona: str = ""  # short label for pickers; optional metadata

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(sorted(d for d, g in self.qrels.items() if g > 0))

    @property
    def text(self) -> str:
        """The release-format query text."""
        return f"{self.instruction} {SEP} {self.query}" if self.instruction else self.query


@dataclass(frozen=True)
class Benchmark:
    name: str
    docs: Mapping[str, Document]
    instances: Mapping[str, Instance]
    groups: Mapping[str, tuple[str, ...]]  # base query id -> its instance ids, in file order
    paraphrases: Mapping[str, tuple[Instance, ...]] = field(default_factory=dict)  # by instance id

    def __post_init__(self):  # read-only views: a loaded benchmark is shared between sessions
        for name in ("docs", "instances", "groups", "paraphrases"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def qrels(self) -> dict[str, dict[str, int]]:
        return {i.instance_id: dict(i.qrels) for i in self.instances.values()}

    def siblings(self, instance_id: str) -> tuple[str, ...]:
        """Targets of the other instances of the same base query: the hard negatives."""
        inst = self.instances[instance_id]
        own = set(inst.targets)
        return tuple(sorted({t for i in self.groups[inst.query_id] for t in self.instances[i].targets} - own))


def split_query_text(text: str, origin_query: str | None) -> tuple[str, str]:
    """Release text -> (instruction, query). `instr [SEP] q`; without [SEP], the text is the
    instruction when it differs from metadata.origin_query, else the bare query."""
    if SEP in text:
        instruction, _, query = text.rpartition(SEP)
        return instruction.strip(), query.strip()
    text = text.strip()
    if origin_query and text != origin_query.strip():
        return text, origin_query.strip()
    return "", text
