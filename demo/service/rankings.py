"""Rankings of any retriever id, through the one engine (docs/architecture.md, "One engine").

`scores` reduces each kind of the retriever-id grammar to whole-corpus `Scored`:
    Single  a registry model in a mode: the model scores every doc
    Fusion  reciprocal rank fusion of its parts' rankings (demo.engine.rrf)
    Rerank  the first stage's top N rescored by a reranker (demo.retrievers.rerank)
    Run     a run file's scores for the instance or paraphrase whose text is asked (None otherwise)
and `rankings` turns them into Rankings (demo.engine), memoised by what the model read within a
byte budget, so that memory stays flat however many instances are visited.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from demo import budget
from demo.engine import TOP, DocOrder, Query, Ranking, Scored, from_run, rrf, scored
from demo.keep import Keep, size_of
from demo.retrievers import ids
from demo.retrievers.registry import RERANKERS, load_reranker, parse_id
from demo.retrievers.rerank import rerank
from demo.retrievers.templates import query_input
from demo.runs import RunFile
from demo.service.corpora import Corpora

Runs = Mapping[str, RunFile] | None


def _ranking_size(value) -> int:
    return value.nbytes if hasattr(value, "known") else size_of(value)


class Rankers:
    def __init__(self, corpora: Corpora, memo_bytes: int):
        self.corpora = corpora
        self.memo = Keep(memo_bytes, _ranking_size)  # rankings (depth TOP) by what the model read

    def scores(self, source: str, retriever_id: str, queries: Sequence[Query],
               runs: Runs = None) -> tuple[DocOrder, list[Scored | None]]:
        """Whole-corpus scores of any retriever per query (None: a run file without that text)."""
        source = self.corpora.dataset_key(source)
        return self.corpora.docs(source), self._scores(source, parse_id(retriever_id), [Query(*q) for q in queries], runs)

    def _scores(self, source: str, ref: ids.Ref, queries: list[Query], runs: Runs) -> list[Scored | None]:
        if isinstance(ref, ids.Run):
            return self._run_scores(source, ref, queries, runs)
        if isinstance(ref, ids.Fusion):
            docs = self.corpora.docs(source)
            parts = [self._scores(source, p, queries, runs) for p in ref.parts]
            return [rrf(scored_parts, docs, [p.id for p in ref.parts], ref.k) for scored_parts in zip(*parts)]
        if isinstance(ref, ids.Rerank):
            bench, docs = self.corpora.benchmark(source), self.corpora.docs(source)
            scorer, depth = load_reranker(ref.reranker_id), RERANKERS[ref.reranker_id].depth
            firsts = self._scores(source, ref.first, queries, runs)
            budget.charge(depth * sum(first is not None for first in firsts))  # (query, passage) pairs
            return [None if first is None else rerank(first, docs, bench.docs, scorer, depth, ref.mode, q)
                    for first, q in zip(firsts, queries)]
        corpus = self.corpora.corpus(source, ref.model_id)
        inputs = [query_input(corpus.model.template, ref.mode, *q) for q in queries]
        if not inputs:
            return []
        budget.charge(len(inputs))  # before the model runs: a request past its bound starts no encode
        lexical = getattr(corpus.model, "lexical", False)
        return [scored(enc.encoded, row, lexical) for enc, row in zip(inputs, np.atleast_2d(corpus.model.score_all(inputs)))]

    def _run_scores(self, source: str, ref: ids.Run, queries: list[Query], runs: Runs) -> list[Scored | None]:
        """A run has scores only for the dataset's own texts: an instance's or a paraphrase's."""
        run = self.corpora.run(source, ref.name, runs)
        docs, texts = self.corpora.docs(source), self.corpora.text_index(source)
        to_corpus = np.array([docs.index[d] for d in run.doc_ids], dtype=np.int64)
        out = []
        for q in queries:
            qids = [] if q.query_first else texts.get((q.instruction.strip(), q.query.strip()), [])
            qid = next((i for i in qids if i in run.queries), None)
            if qid is None:
                out.append(None)
                continue
            idx, values = run.queries[qid]
            out.append(from_run(f"(read from the run file {run.source}, query {qid})", len(docs), to_corpus[idx], values))
        return out

    def rankings(self, source: str, retriever_id: str, queries: Sequence[Query], track: Sequence[int] = (),
                 depth: int = TOP, memo: bool = True, runs: Runs = None) -> tuple[DocOrder, list[Ranking | None]]:
        """Rankings of the queries, each with the ranks of the `track`ed doc indices. Memoised (by
        encoded input, within the byte budget) when `memo` and depth is the views' TOP. A run
        file ranks only the texts it covers: None for the others."""
        source = self.corpora.dataset_key(source)
        ref = parse_id(retriever_id)
        queries = [Query(*q) for q in queries]
        docs = self.corpora.docs(source)
        memo = memo and depth == TOP and not isinstance(ref, ids.Run)  # a run is read, not computed
        keys = self._memo_keys(source, ref, queries)
        found = {}
        if memo:
            for k in dict.fromkeys(keys):
                r = self.memo.get(k)
                if r is not None and r.covers(track):
                    found[k] = r
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = dict(zip(keys, queries))
            for k, s in zip(missing, self._scores(source, ref, [by_key[k] for k in missing], runs)):
                found[k] = None if s is None else docs.ranking(s, depth, track)
                if memo and found[k] is not None:
                    self.memo.put(k, found[k])
        return docs, [found[k] for k in keys]

    def _memo_keys(self, source: str, ref: ids.Ref, queries: list[Query]) -> list[tuple]:
        """What the model reads, for a single model (two texts a template encodes alike share a
        ranking); the id and the query for the others."""
        if not isinstance(ref, ids.Single):
            return [(source, ref.id, tuple(q)) for q in queries]
        template = self.corpora.corpus(source, ref.model_id).model.template
        encoded = [query_input(template, ref.mode, *q) for q in queries]
        return [(source, ref.model_id, e.prompt, e.text) for e in encoded]
