"""Checks at the service's edge: every view takes plain values from a browser or a script."""
from __future__ import annotations

from demo import inputs
from demo.data.records import Benchmark, Instance
from demo.errors import UserError

MAX_INSTRUCTION_CHARS = 2000
MAX_K = 100


def check(instruction: str | None, k) -> int:
    """The instruction is text (or None: the original), k a whole number from 1 to MAX_K; returns k."""
    inputs.text(instruction, "instruction", MAX_INSTRUCTION_CHARS, allow_none=True)
    k = inputs.whole_number(k, "k")
    if not 1 <= k <= MAX_K:
        raise UserError(f"k must be between 1 and {MAX_K}, got {k}")
    return k


def instance(bench: Benchmark, instance_id: str) -> Instance:
    inst = bench.instances.get(inputs.identifier(instance_id, "instance id"))
    if inst is None:
        raise UserError(f"unknown instance {instance_id!r} in {bench.name}")
    return inst
