"""BM25 with rank_bm25's BM25Okapi as the definition of the scores, scored vectorised.

Tokenisation (documented in the README): lower-case, split into runs of letters and
digits (Unicode \\w, so "[SEP]" becomes the token "sep", which no passage contains), drop
English stop words (demo.data.lexical.STOP_WORDS), no stemming.

rank_bm25's get_scores loops in Python over every doc for every query term. We fit
BM25Okapi once (its idf, with the epsilon floor for negative idf, and its length
statistics) and precompute, per term and doc, idf * tf*(k1+1) / (tf + k1*(1-b+b*dl/avgdl))
as a sparse term x doc matrix; a query's scores are then its term counts times that matrix,
the same sum rank_bm25 computes (repeated query terms count repeatedly, as there).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

from demo.data.lexical import STOP_WORDS

TOKEN = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP_WORDS]


class BM25Index:
    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
        corpus = [tokenize(t) or [""] for t in texts]  # rank_bm25 needs non-empty docs
        self.okapi = BM25Okapi(corpus, k1=k1, b=b, epsilon=epsilon)
        self.vocab = {term: i for i, term in enumerate(self.okapi.idf)}
        dl = np.asarray(self.okapi.doc_len, dtype=np.float64)
        norm = k1 * (1 - b + b * dl / self.okapi.avgdl)
        rows, cols, vals = [], [], []
        for d, freqs in enumerate(self.okapi.doc_freqs):
            for term, tf in freqs.items():
                rows.append(self.vocab[term])
                cols.append(d)
                vals.append(self.okapi.idf[term] * tf * (k1 + 1) / (tf + norm[d]))
        self.weights = sparse.csr_matrix((vals, (rows, cols)), shape=(len(self.vocab), len(corpus)))

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Scores of every doc for every query: shape (len(queries), n_docs)."""
        rows, cols = [], []
        for i, q in enumerate(queries):
            for term in tokenize(q):
                if term in self.vocab:
                    rows.append(i)
                    cols.append(self.vocab[term])
        counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(queries), len(self.vocab)))
        return np.asarray((counts @ self.weights).todense())
