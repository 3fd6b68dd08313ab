"""The search protocol: a model indexes a corpus once; a retriever is that model in a mode.

    model.index_corpus(docs)                  -> None
    model.score(encode_inputs, depth)         -> [{doc id: score}] (depth best; None = all)
    model.score_all(encode_inputs)            -> array (inputs x docs), in model.doc_ids order
    retriever.search([(instruction, query)])  -> [[(doc id, score)]] ranked by score desc, doc id desc
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from demo.data.records import Document
from demo.metrics.ranking import ranked
from demo.retrievers.encoders import Progress
from demo.retrievers.templates import EncodeInput, query_input


class Model(Protocol):
    template: object

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None: ...

    def score(self, inputs: Sequence[EncodeInput], depth: int | None) -> list[dict[str, float]]: ...

    def score_all(self, inputs: Sequence[EncodeInput]): ...  # np.ndarray (inputs, docs), doc_ids order


@dataclass
class Retriever:
    retriever_id: str
    model: Model
    mode: str

    def encode_input(self, instruction: str, query: str) -> EncodeInput:
        return query_input(self.model.template, self.mode, instruction, query)

    def run(self, pairs: Sequence[tuple[str, str]], depth: int | None = None) -> list[dict[str, float]]:
        """Scores per (instruction, query) pair, as run dicts."""
        return self.model.score([self.encode_input(i, q) for i, q in pairs], depth)

    def search(self, pairs: Sequence[tuple[str, str]], depth: int | None = None) -> list[list[tuple[str, float]]]:
        return [[(d, scores[d]) for d in ranked(scores)] for scores in self.run(pairs, depth)]
