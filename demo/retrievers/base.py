"""The model protocol: a model indexes a corpus once, then scores every document for any input.

    model.index_corpus(docs)            -> None
    model.score_all(encode_inputs)      -> array (inputs x docs), in the indexed docs' order
    model.template                      -> what the model is given (demo.retrievers.templates)
    model.lexical                       -> True when only docs sharing a term are retrieved (BM25)

Everything after the scores (ranking, ties, fusion, reranking, run files) is the engine's
(demo.engine) and the service's (demo.service.rankings), the same for every model.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from demo.data.records import Document
from demo.retrievers.encoders import Progress
from demo.retrievers.templates import EncodeInput


class Model(Protocol):
    template: object
    lexical: bool

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None: ...

    def score_all(self, inputs: Sequence[EncodeInput]): ...  # np.ndarray (inputs, docs)
