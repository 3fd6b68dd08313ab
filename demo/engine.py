"""The ranking engine: whole-corpus scores in, rankings out (docs/architecture.md, "One engine").

Every retriever, whatever it is (BM25, a dense model, a fusion, a reranker, a run file), is
reduced to `Scored`: one score per corpus document and how many documents it retrieves. This
module turns that into a `Ranking` with the tie rule of demo.metrics.ranking; the app's views,
the whole-dataset tables, the CLI's runs and the explanations all read rankings made here.
Fusion (reciprocal rank fusion) is written here too, over the engine's own ranks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from demo.metrics.ranking import id_positions, order, position, top_order

TOP = 100  # docs of each ranking kept in rank order for the app's views: the most any view shows
RRF_K = 60


class Query(NamedTuple):
    """What a retriever is asked: an instruction and a query (query_first: the release text put
    the query before `[SEP]`, e.g. the "query first" perturbation)."""
    instruction: str
    query: str
    query_first: bool = False


@dataclass(frozen=True)
class Scored:
    """One query against the whole corpus: the exact text the retriever read, a score per doc
    (corpus order) and how many docs are retrieved (the first `retrieved` in rank order; a lexical
    retriever retrieves only docs sharing a term, a reranker only its first stage's top N)."""
    encoded: str
    scores: np.ndarray
    retrieved: int


def scored(encoded: str, scores, lexical: bool) -> Scored:
    """Scores of a model: nothing encoded retrieves nothing; BM25 retrieves only scores > 0, as Lucene."""
    scores = np.asarray(scores, dtype=np.float64)
    if not encoded.strip():
        return Scored(encoded, scores, 0)
    return Scored(encoded, scores, int(np.count_nonzero(scores > 0)) if lexical else len(scores))


@dataclass(frozen=True)
class Ranking:
    """What the views need of one ranking, not the whole corpus: the first docs in rank order with
    their scores, how many docs were retrieved, and the ranks of the docs the caller asked to
    track (targets, or cards shown from another ranking)."""
    encoded: str
    head: np.ndarray  # doc indices of the first min(depth, retrieved) docs, in rank order
    head_scores: np.ndarray
    retrieved: int
    known: Mapping[int, int]  # tracked doc index -> rank in the full order

    @property
    def empty(self) -> bool:
        """Nothing was encoded (e.g. instruction-only text in query mode), or nothing retrieved."""
        return self.retrieved == 0

    @property
    def nbytes(self) -> int:
        return self.head.nbytes + self.head_scores.nbytes + 100 * len(self.known) + len(self.encoded) + 400

    def top(self, k: int) -> np.ndarray:
        """Indices of the first k retrieved docs (k <= the depth it was made with)."""
        return self.head[:min(k, self.retrieved)]

    def score(self, i: int) -> float:
        return float(self.head_scores[self._position(i)])

    def _position(self, i: int) -> int:
        hits = np.flatnonzero(self.head == i)
        if not len(hits):
            raise KeyError(i)
        return int(hits[0])

    def covers(self, docs) -> bool:
        head = set(self.head.tolist())
        return all(i in head or i in self.known for i in docs)

    def rank(self, i: int) -> int | None:
        """Rank of doc index i, None when it was not retrieved. i must be in the head or tracked."""
        hits = np.flatnonzero(self.head == i)
        r = int(hits[0]) + 1 if len(hits) else self.known[i]
        return r if r <= self.retrieved else None

    def best_rank(self, docs: Sequence[int]) -> int | None:
        """The best rank among doc indices (the target's rank; several targets: the best)."""
        ranks = [r for r in (self.rank(i) for i in docs) if r is not None]
        return min(ranks) if ranks else None


class DocOrder:
    """A corpus's doc ids, in the order every score array follows, and the tie-break between them."""

    def __init__(self, doc_ids: Sequence[str]):
        self.doc_ids = list(doc_ids)
        self.index = {d: i for i, d in enumerate(self.doc_ids)}
        self.id_pos = id_positions(self.doc_ids)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def indices(self, doc_ids) -> list[int]:
        """Indices of the given docs that are in this corpus, each once."""
        return list(dict.fromkeys(self.index[d] for d in doc_ids if d in self.index))

    def ranking(self, s: Scored, depth: int = TOP, track: Sequence[int] = ()) -> Ranking:
        """The Ranking of whole-corpus scores: its first `depth` docs, and the ranks of the tracked docs."""
        head = top_order(s.scores, self.id_pos, min(depth, s.retrieved))
        in_head = set(head.tolist()) if len(track) else ()
        known = {i: position(s.scores, self.id_pos, i) for i in dict.fromkeys(track) if i not in in_head}
        return Ranking(s.encoded, head, s.scores[head], s.retrieved, known)

    def rank(self, s: Scored, i: int) -> int | None:
        """Doc i's rank, None when it is not retrieved."""
        r = position(s.scores, self.id_pos, i)
        return r if r <= s.retrieved else None

    def full_ranks(self, s: Scored) -> np.ndarray:
        """Every doc's 1-based rank, 0 where it was not retrieved (a full sort: for fusion)."""
        ranks = np.zeros(len(s.scores), dtype=np.int64)
        ranks[order(s.scores, self.id_pos)[:s.retrieved]] = np.arange(1, s.retrieved + 1)
        return ranks

    def as_run(self, r: Ranking, depth: int | None = None) -> dict[str, float]:
        """The ranking's head as a run dict {doc id: score} (a TREC run's lines for one query)."""
        top = r.top(len(r.head) if depth is None else depth)
        return dict(zip(map(self.doc_ids.__getitem__, top.tolist()), r.head_scores[:len(top)].tolist()))


def rrf(parts: Sequence[Scored], docs: DocOrder, labels: Sequence[str], k: int = RRF_K) -> Scored:
    """Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over parts of 1 / (k + rank_part(d));
    a part that did not retrieve d adds nothing, and a part that retrieved nothing is left out."""
    total = np.zeros(len(docs), dtype=np.float64)
    for part in parts:
        if part.retrieved:
            ranks = docs.full_ranks(part)
            total = total + np.where(ranks > 0, 1.0 / (k + np.maximum(ranks, 1)), 0.0)
    encoded = "\n".join(f"{name}: {p.encoded}" for name, p in zip(labels, parts) if p.encoded.strip())
    return Scored(encoded, total, int(np.count_nonzero(total > 0)))


def from_run(encoded: str, n_docs: int, doc_indices: np.ndarray, doc_scores: np.ndarray) -> Scored:
    """A run file's scores of one query as whole-corpus scores: the docs it lists are the retrieved
    ones; the others score -inf, below any finite score."""
    scores = np.full(n_docs, -np.inf)
    scores[doc_indices] = doc_scores
    return Scored(encoded, scores, len(doc_indices))
