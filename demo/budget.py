"""What one request may cost (docs/architecture.md, "Bounds per request"): model encodes and
wall time per endpoint, and in public mode how many heavy requests one visitor may run at once.

    with budget.request("explain"):     # a view opens its budget
        ...
        budget.charge(len(texts))       # before each model call: raises BudgetExceeded when the
                                        # call would pass the encode bound or the time is up

`charge` is called where models run (demo.service.rankings), so every path to a model is
counted, whichever view asked; outside a request nothing is counted (the CLI's batch jobs).
A budget is checked before the work it would pay for starts, never after.
"""
from __future__ import annotations

import contextlib
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterator

from demo.errors import UserError


@dataclass(frozen=True)
class Limits:
    encodes: int  # texts given to a model (query encodes, reranker pairs) in one request
    seconds: float  # wall time after which no further model call starts


# A text a model reads counts 1: an encoder's query, a reranker's (query, passage) pair (a
# reranker reads its depth, 100, per query). rank: 8 retrievers x (edited + original) x fusion
# parts, a reranker among them; sweep: ~30 variants x 8 retrievers; explain: the occlusion spans
# (demo.service.explain.MAX_SPANS) and the full text, a reranker's pairs included; inspect: every
# instance of a 10k-instance dataset through a fusion of two, or one reranker.
LIMITS = {
    "instance": Limits(0, 10.0),
    "rank": Limits(4096, 60.0),
    "sweep": Limits(32_768, 120.0),
    "explain": Limits(2048, 60.0),
    "inspect": Limits(1_100_000, 900.0),
}
EVENTS_AT_ONCE = 8  # a page event's workers in all (Gradio's queue), and unqueued typing refreshes (ui.latest)
HEAVY_PER_VISITOR = 2  # public mode: heavy requests (explain, sweep, inspect) one visitor runs at once
HEAVY_IN_ALL = 1  # public mode: heavy requests running at once in all (Gradio's concurrency group): one,
# so that on a 2-core Space a core stays free for /rank (benchmarks/RESULTS-attack.md)


class BudgetExceeded(UserError):
    """A request that would cost more than its endpoint allows: one line saying which bound."""


@dataclass
class Budget:
    endpoint: str
    limits: Limits
    started: float = field(default_factory=time.monotonic)
    spent: int = 0

    def charge(self, texts: int) -> None:
        if self.spent + texts > self.limits.encodes:
            raise BudgetExceeded(f"this {self.endpoint} request needs more than {self.limits.encodes} model encodes "
                                 f"(the limit per request); ask with fewer retrievers or a shorter instruction")
        if time.monotonic() - self.started > self.limits.seconds:
            raise BudgetExceeded(f"this {self.endpoint} request took longer than {self.limits.seconds:.0f} s "
                                 f"(the limit per request); ask with fewer retrievers")
        self.spent += texts


_current: ContextVar[Budget | None] = ContextVar("instructir_budget", default=None)


@contextlib.contextmanager
def request(endpoint: str, limits: Limits | None = None) -> Iterator[Budget]:
    """Open a budget for one request; a request inside another keeps the outer one (the outer
    endpoint's bound is the one the visitor asked for)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(endpoint, limits or LIMITS[endpoint])
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def charge(texts: int) -> None:
    """Count `texts` model inputs against the current request's budget (none open: free)."""
    budget = _current.get()
    if budget is not None and texts:
        budget.charge(texts)


def current() -> Budget | None:
    return _current.get()


class Visitors:
    """At most `per_visitor` heavy requests at once per visitor (refused, not queued: a visitor
    who fires many calls waits for none of them and learns why at once)."""

    def __init__(self, per_visitor: int = HEAVY_PER_VISITOR):
        self.per_visitor = per_visitor
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, visitor: str) -> Iterator[None]:
        with self._lock:
            n = self._running.get(visitor, 0)
            if n >= self.per_visitor:
                raise BudgetExceeded(f"you already have {n} heavy requests running (limit {self.per_visitor}); "
                                     "wait for one to finish")
            self._running[visitor] = n + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running.get(visitor, 1) - 1
                if left > 0:
                    self._running[visitor] = left
                else:
                    self._running.pop(visitor, None)

    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())
