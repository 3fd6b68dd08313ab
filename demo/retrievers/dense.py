"""Dense retrieval: an encoder composed with a faiss index that holds the corpus vectors
(normalised for cosine models, raw for dot-product models).

At InstructIR's size the index is exact (IndexFlatIP) and scoring reads every doc. An approximate
index (HNSW, IVF) for corpora of millions of passages would plug in here: see
docs/architecture.md, "Scaling out".
"""
from __future__ import annotations

from typing import Sequence

import faiss
import numpy as np

from demo.data.records import Document
from demo.retrievers.encoders import Encoder, Progress
from demo.retrievers.templates import EncodeInput


class DenseModel:
    lexical = False

    def __init__(self, encoder: Encoder, template):
        self.encoder, self.template = encoder, template
        self.index: faiss.Index | None = None

    def index_corpus(self, docs: Sequence[Document], progress: Progress | None = None) -> None:
        vectors = np.ascontiguousarray(self.encoder.encode([self.template.document(d) for d in docs], progress),
                                       dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)
        self._exact = vectors.astype(np.float64)

    @property
    def vectors(self) -> np.ndarray:
        """A copy of the corpus vectors faiss stores (a view would outlive the index it points into)."""
        assert self.index is not None, "index_corpus first"
        n, d = self.index.ntotal, self.index.d
        return faiss.rev_swig_ptr(self.index.get_xb(), n * d).reshape(n, d).copy()

    def score_all(self, inputs: Sequence[EncodeInput]) -> np.ndarray:
        """Inner products of every input with every doc (in indexed order): shape (len(inputs), n_docs).

        A float32 matrix product rounds differently with the number of rows (BLAS picks other
        kernels), so one text scored alone and in a batch of 256 differed by up to 4e-5: the app
        (a few texts) and the CLI (batches) could then break near-ties differently. Summed in
        float64 and rounded to float32, a score no longer depends on its batch."""
        queries = self.encoder.encode(inputs).astype(np.float64)
        return (queries @ self._exact.T).astype(np.float32)
