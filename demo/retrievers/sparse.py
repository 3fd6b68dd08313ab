"""BM25 as a model behind the same two verbs as dense models: index_corpus and score_all."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from demo.data.records import Document
from demo.retrievers.bm25 import BM25Index
from demo.retrievers.encoders import Progress
from demo.retrievers.templates import EncodeInput


class BM25Model:
    lexical = True  # retrieves only docs sharing a term with the input (score > 0), as Lucene

    def __init__(self, template):
        self.template = template
        self.bm25: BM25Index | None = None

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None:
        self.bm25 = BM25Index([self.template.document(d).text for d in docs])
        if progress:
            progress(len(docs), len(docs))

    def score_all(self, inputs: Sequence[EncodeInput]) -> np.ndarray:
        """Scores of every doc (in indexed order) for every input: shape (len(inputs), n_docs)."""
        assert self.bm25 is not None, "index_corpus first"
        return self.bm25.scores([i.encoded for i in inputs])
