"""Dense retrieval: an encoder composed with a faiss inner-product index (normalised vectors
for cosine models, raw vectors for dot-product models)."""
from __future__ import annotations

from typing import Sequence

import faiss
import numpy as np

from demo.data.records import Document
from demo.metrics.ranking import top_ranked
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
        n = len(self.doc_ids)
        k = n if depth is None else min(depth, n)
        probe = min(k + 1, n)  # one more than asked, to see whether a tie crosses the cut
        scores, idx = self.index.search(queries, probe)
        results = []
        for query, row_s, row_i in zip(queries, scores, idx):
            if probe > k and row_s[k] == row_s[k - 1]:
                # faiss picks arbitrarily among docs tied at the cut (e.g. duplicate passages);
                # the ranking rule (DESIGN §4) keeps the larger doc ids, so rank the whole row
                row_s, row_i = (a[0] for a in self.index.search(query[None], n))
            found = {self.doc_ids[j]: s for s, j in zip(row_s.tolist(), row_i.tolist()) if j >= 0}
            results.append({d: found[d] for d in top_ranked(found, k)} if len(found) > k else found)
        return results
