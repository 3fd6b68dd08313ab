"""Whole-dataset tables: one record per instance (its original instruction) per retriever and k.

A record is the target's rank, nDCG@k, the doc ranked first, the outcome at k, and the best-ranked
sibling target and generic passage with their exact ranks (so the outcome at any other depth is a
filter over the record, not a recompute: demo.inspection.at_depth); the scoreboard's
nDCG and Robustness, the query order and the Inspect tab all read these records. A live
retriever's records are kept in memory (byte budget) and on disk (a checksummed diskcache,
size-bounded, least recently used evicted), keyed by the dataset's content, the models'
revisions and k, so a second view, or a restart, is instant; a run file's only in memory, keyed
by its content (two sessions may upload different runs of one name).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from typing import Callable

from demo.cache import EmbeddingCache
from demo.data.records import Benchmark, Instance
from demo.data.sources import open_source
from demo.engine import DocOrder, Query, Ranking, Scored
from demo.inspection import OUTCOMES, generic_docs, outcome
from demo.keep import Keep, size_of
from demo.retrievers import ids
from demo.retrievers.registry import parse_id
from demo.service.grading import ndcg_of, target_rank
from demo.service.rankings import Rankers, Runs
from demo.settings import cache_dir

log = logging.getLogger(__name__)
Stage = Callable[[str, int, int], None]  # (stage, done, total)
BATCH = 256  # instances scored per model call (progress moves per batch)
VERSION = "3"  # bump when ranking, nDCG or outcome rules change: stored tables are then recomputed
STORE_BYTES = 256 * 2**20  # the tables folder's bound: about 200 full-size tables


@dataclass(frozen=True)
class Record:
    """One instance under one retriever (original instruction). Ranks are exact however deep;
    None: not retrieved (or, for the sibling and generic fields, the instance has none)."""
    target_rank: int | None
    ndcg: float
    outcome: str  # at the table's k
    top_doc: str | None
    sibling_rank: int | None = None  # the best-ranked other user's target
    sibling_doc: str | None = None
    generic_rank: int | None = None  # the untailored passage of the query (demo.inspection.generic_docs)
    generic_doc: str | None = None


class Tables:
    def __init__(self, rankers: Rankers, memory_bytes: int):
        self.rankers = rankers
        self._memory = Keep(memory_bytes, size_of)
        self._store: EmbeddingCache | None = None
        self._fingerprints = Keep(8)

    def _disk(self) -> EmbeddingCache:
        if self._store is None:
            self._store = EmbeddingCache(cache_dir() / "tables", STORE_BYTES, eviction="least-recently-used")
        return self._store

    def records(self, source: str, rid: str, k: int = 10, runs: Runs = None,
                progress: Stage | None = None) -> dict[str, Record | None]:
        """Per instance its Record; None where a run file does not cover the instance. Raises
        UserError when the retriever is unavailable."""
        source, bench = open_source(source)
        ref = parse_id(rid)
        if isinstance(ref, ids.Run):
            digest = self.rankers.corpora.run(source, ref.name, runs).digest
            return self._memory.get_or_build((source, rid, digest, k),
                                             lambda: self._compute(source, bench, rid, k, runs, progress))
        key = (source, rid, k)
        found = self._memory.get(key)
        if found is None:
            name = self._store_key(source, bench, ref, k)
            found = self._read(name, bench)
            if found is None:
                found = self._compute(source, bench, rid, k, None, progress)
                self._disk().set_blob(name, json.dumps({i: r and asdict(r) for i, r in found.items()}).encode())
            self._memory.put(key, found)
        return found

    def ndcgs(self, source: str, rid: str, k: int = 10, runs: Runs = None, progress: Stage | None = None) -> dict[str, float]:
        """nDCG@k per instance (an instance a run does not cover scores 0, as trec_eval -c)."""
        return {i: r.ndcg if r else 0.0 for i, r in self.records(source, rid, k, runs, progress).items()}

    def _compute(self, source: str, bench: Benchmark, rid: str, k: int, runs: Runs, progress) -> dict[str, Record | None]:
        docs = self.rankers.corpora.docs(source)
        insts = [bench.instances[i] for members in bench.groups.values() for i in members]
        records: dict[str, Record | None] = {}
        for start in range(0, len(insts), BATCH):  # not memoised: they would flush the views' rankings
            chunk = insts[start:start + BATCH]
            _, scored = self.rankers.scores(source, rid, [Query(i.instruction, i.query) for i in chunk], runs)
            for inst, s in zip(chunk, scored):
                records[inst.instance_id] = None if s is None else _record(bench, docs, inst, s, k)
            if progress:
                progress(f"ranking every instance with {rid}", len(records), len(insts))
        return {i: records[i] for i in bench.instances}

    def _store_key(self, source: str, bench: Benchmark, ref: ids.Ref, k: int) -> str:
        found = self._fingerprints.get(source)
        if found is None or found[0] is not bench:
            found = (bench, _fingerprint(bench))
            self._fingerprints.put(source, found)
        revision = "+".join(getattr(getattr(self.rankers.corpora.corpus(source, m).model, "encoder", None),
                                    "revision", "lexical") for m in ref.model_ids())  # a fusion: every model's
        return hashlib.sha256(json.dumps([VERSION, found[1], ref.id, revision, k]).encode()).hexdigest()

    def _read(self, name: str, bench: Benchmark) -> dict[str, Record | None] | None:
        """Stored records, or None when absent or not a complete, well-formed set for this dataset."""
        blob = self._disk().get_blob(name)
        if blob is None:
            return None
        try:
            stored = json.loads(blob)
            records = {i: Record(**r) for i, r in stored.items()}
        except (ValueError, TypeError, AttributeError):
            records = None
        if records is None or records.keys() != bench.instances.keys() or not all(_fits(r, bench) for r in records.values()):
            log.warning("stored table %s does not fit the dataset; recomputing it", name)
            return None
        return records


def _fits(r: Record, bench: Benchmark) -> bool:
    return all(rank is None or (isinstance(rank, int) and rank >= 1)
               for rank in (r.target_rank, r.sibling_rank, r.generic_rank)) and \
        isinstance(r.ndcg, (int, float)) and 0 <= r.ndcg <= 1 and r.outcome in OUTCOMES and \
        all(d is None or d in bench.docs for d in (r.top_doc, r.sibling_doc, r.generic_doc))


def _record(bench: Benchmark, docs: DocOrder, inst: Instance, s: Scored, k: int) -> Record:
    siblings, generic = docs.indices(bench.siblings(inst.instance_id)), docs.indices(generic_docs(bench, inst))
    r = docs.ranking(s, max(k, 1), docs.indices(inst.targets) + siblings + generic)
    target = target_rank(docs, inst, r)
    (sib_rank, sib_doc), (gen_rank, gen_doc) = _best(docs, r, siblings), _best(docs, r, generic)
    return Record(target, ndcg_of(docs, inst, r, k), outcome(target, k, sib_rank, gen_rank),
                  docs.doc_ids[int(r.head[0])] if r.retrieved else None, sib_rank, sib_doc, gen_rank, gen_doc)


def _best(docs: DocOrder, r: Ranking, indices: list[int]) -> tuple[int | None, str | None]:
    """The best rank among the docs and that doc's id (the tie rule already ordered them)."""
    ranked = [(rank, i) for i in indices if (rank := r.rank(i)) is not None]
    if not ranked:
        return None, None
    rank, i = min(ranked)
    return rank, docs.doc_ids[i]


def _fingerprint(bench: Benchmark) -> str:
    """sha256 of a dataset's content (docs, instances, judgements): keys its tables on disk."""
    h = hashlib.sha256()
    for d in bench.docs.values():
        h.update(f"{d.doc_id}\x00{d.title}\x00{d.text}\x01".encode())
    for i in bench.instances.values():
        h.update(f"{i.instance_id}\x00{i.query_id}\x00{i.instruction}\x00{i.query}\x00{sorted(i.qrels.items())}\x01".encode())
    return h.hexdigest()
