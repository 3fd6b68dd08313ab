"""Retriever ids, the grammar every interface takes (CLI, API, app, sweep, scoreboard):

    id     := 'run:' NAME | term | term '>' RERANKER['@' MODE]   a run file; a first stage, then a reranker over its top N
    term   := MODEL['@' MODE] | 'rrf(' id ',' id ')'['@' MODE]

`rrf(A,B)@MODE` gives MODE to each part that names none: `rrf(bm25,minilm)@query` is
`rrf(bm25@query,minilm@query)`, and is written back in the short form. Lists of ids are
comma-separated, so splitting a list respects parentheses (split_ids).
"""
from __future__ import annotations

from dataclasses import dataclass

from demo.engine import RRF_K
from demo.errors import UserError
from demo.inputs import split_ids
from demo.retrievers.templates import MODES

RUN_PREFIX = "run:"


@dataclass(frozen=True)
class Single:
    """A registry model in a mode."""
    model_id: str
    mode: str

    @property
    def id(self) -> str:
        return self.model_id if self.mode == "full" else f"{self.model_id}@{self.mode}"

    def model_ids(self) -> tuple[str, ...]:
        return (self.model_id,)


@dataclass(frozen=True)
class Fusion:
    """Reciprocal rank fusion of two retrievers: sum over parts of 1 / (k + rank)."""
    parts: tuple
    k: int = RRF_K

    @property
    def id(self) -> str:
        a, b = self.parts
        if isinstance(a, Single) and isinstance(b, Single) and a.mode == b.mode != "full":
            return f"rrf({a.model_id},{b.model_id})@{a.mode}"
        return f"rrf({a.id},{b.id})"

    def model_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for p in self.parts for m in p.model_ids()))


@dataclass(frozen=True)
class Rerank:
    """A first stage, then a reranker (registry.RERANKERS) over its top N, given the text of `mode`."""
    first: object
    reranker_id: str
    mode: str

    @property
    def id(self) -> str:
        return f"{self.first.id}>{self.reranker_id}" + ("" if self.mode == "full" else f"@{self.mode}")

    def model_ids(self) -> tuple[str, ...]:
        return self.first.model_ids()


@dataclass(frozen=True)
class Run:
    """A run file (demo.runs): rankings computed elsewhere, read for the texts they cover. NAME is
    the file name without extensions (or, on the command line, a path until the file is read)."""
    name: str

    @property
    def id(self) -> str:
        return RUN_PREFIX + self.name

    def model_ids(self) -> tuple[str, ...]:
        return ()


Ref = Single | Fusion | Rerank | Run


def is_run(retriever_id: str) -> bool:
    return str(retriever_id).strip().startswith(RUN_PREFIX)


def _mode(text: str, whole: str) -> str:
    mode = text or "full"
    if mode not in MODES:
        raise UserError(f"unknown mode {mode!r} in {whole!r}; modes: {', '.join(MODES)}")
    return mode


def parse(retriever_id: str, models, rerankers, default_mode: str | None = None) -> Ref:
    """Parse an id against the model and reranker names; UserError naming what is wrong."""
    text = retriever_id.strip()
    if not text:
        raise UserError("empty retriever id")
    if is_run(text):  # a name or path, not parsed further: it may hold any character a file name has
        name = text[len(RUN_PREFIX):].strip()
        if not name:
            raise UserError(f"{retriever_id!r}: a run file needs a name or path after {RUN_PREFIX!r}")
        return Run(name)
    stages = split_ids(text, ">")
    if len(stages) > 2:
        raise UserError(f"one reranker at most in {retriever_id!r}")
    if len(stages) == 2:
        first, _, tail = stages[0].strip(), None, stages[1].strip()
        name, _, mode = tail.partition("@")
        if name not in rerankers:
            raise UserError(f"unknown reranker {name!r} in {retriever_id!r}; known: {', '.join(rerankers)}")
        return Rerank(parse(first, models, rerankers, default_mode), name,
                      _mode(mode or (default_mode or ""), retriever_id))
    if text.lower().startswith("rrf("):
        close = _matching(text, 3)
        inner, rest = text[4:close], text[close + 1:]
        if rest and not rest.startswith("@"):
            raise UserError(f"unexpected {rest!r} after rrf(...) in {retriever_id!r}")
        mode = _mode(rest[1:], retriever_id) if rest else default_mode
        parts = [p.strip() for p in split_ids(inner)]
        if len(parts) != 2 or not all(parts):
            raise UserError(f"rrf takes two retrievers, e.g. rrf(bm25,minilm); got {retriever_id!r}")
        return Fusion(tuple(parse(p, models, rerankers, mode) for p in parts))
    name, at, mode = text.partition("@")
    if name not in models:
        raise UserError(f"unknown model {name!r} in {retriever_id!r}; known: {', '.join(models)}, rrf(A,B)")
    return Single(name, _mode(mode if at else (default_mode or ""), retriever_id))


def _matching(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise UserError(f"unbalanced '(' in {text!r}")
