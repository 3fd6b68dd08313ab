"""BM25 as a model behind the same two verbs as dense models: index_corpus and score."""
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
        self.doc_ids: list[str] = []
        self.bm25: BM25Index | None = None

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None:
        self.bm25 = BM25Index([self.template.document(d).text for d in docs])
        self.doc_ids = [d.doc_id for d in docs]
        self.id_order = np.argsort(np.argsort(np.array(self.doc_ids, dtype=object)))  # rank of each id
        if progress:
            progress(len(docs), len(docs))

    def score_all(self, inputs: Sequence[EncodeInput]) -> np.ndarray:
        """Scores of every doc (in doc_ids order) for every input: shape (len(inputs), n_docs)."""
        return self.bm25.scores([i.encoded for i in inputs])

    def score(self, inputs: Sequence[EncodeInput], depth: int | None) -> list[dict[str, float]]:
        assert self.bm25 is not None, "index_corpus first"
        matrix = self.score_all(inputs)
        results = []
        for row in matrix:
            hits = np.flatnonzero(row > 0)  # docs without a shared term are not retrieved
            if depth is None or depth >= len(hits):
                top = hits
            else:  # the depth best; ties at the cut go to the larger doc ids, as in ranking (DESIGN §4)
                sub = row[hits]
                cut = np.partition(sub, len(hits) - depth)[len(hits) - depth]
                above = hits[sub > cut]
                tied = hits[sub == cut]
                tied = tied[np.argsort(-self.id_order[tied], kind="stable")[:depth - len(above)]]
                top = np.concatenate([above, tied])
            ids = self.doc_ids
            results.append(dict(zip((ids[j] for j in top.tolist()), row[top].tolist())))
        return results
