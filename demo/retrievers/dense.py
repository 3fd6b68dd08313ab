"""Dense retrieval: an encoder composed with a faiss inner-product index (normalised vectors
for cosine models, raw vectors for dot-product models)."""
from __future__ import annotations

from typing import Sequence

import faiss
import numpy as np

from demo.data.records import Document
from demo.retrievers.encoders import Encoder, Progress
from demo.retrievers.templates import EncodeInput


class DenseModel:
    def __init__(self, encoder: Encoder, template):
        self.encoder, self.template = encoder, template
        self.doc_ids: list[str] = []
        self.index: faiss.Index | None = None

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None:
        vectors = self.encoder.encode([self.template.document(d) for d in docs], progress)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexFlatIP(self.vectors.shape[1])
        self.index.add(self.vectors)
        self.doc_ids = [d.doc_id for d in docs]

    def score_all(self, inputs: Sequence[EncodeInput]) -> np.ndarray:
        """Scores of every doc (in doc_ids order) for every input: shape (len(inputs), n_docs)."""
        return self.encoder.encode(inputs) @ self.vectors.T

    def score(self, inputs: Sequence[EncodeInput], depth: int | None) -> list[dict[str, float]]:
        assert self.index is not None, "index_corpus first"
        queries = np.ascontiguousarray(self.encoder.encode(inputs), dtype=np.float32)
        k = len(self.doc_ids) if depth is None else min(depth, len(self.doc_ids))
        scores, idx = self.index.search(queries, k)
        return [{self.doc_ids[j]: float(s) for s, j in zip(row_s, row_i) if j >= 0}
                for row_s, row_i in zip(scores, idx)]
