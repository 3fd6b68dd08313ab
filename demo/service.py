"""The service the UI and the API call: instance, rank (compare), sweep and the query table.

It knows nothing of Gradio. Inputs are plain values; outputs are plain dicts in the JSON
shapes of DESIGN §6 (with a few extra keys the UI uses). Loaded models and rankings are
memoised here, shared by all sessions and safe to call from several threads; nothing
per-user lives here.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from demo.cache import EmbeddingCache
from demo.data.records import Benchmark, Instance
from demo import inputs
from demo.data.sources import open_source
from demo.data.variants import perturbations, split_variant, swap_source, unavailable_variants, variants
from demo.errors import UserError
from demo.evaluation import default_cache, parse_retriever_list
from demo.inspection import OUTCOMES, generic_docs, outcome
from demo.memo import ByteLRU
from demo.metrics import mean, ndcg_at_k, pairwise_mrr, rank_shift, robustness
from demo.retrievers.base import Model
from demo.retrievers import ids
from demo.retrievers.fusion import rrf_scores
from demo.retrievers.registry import MODELS, ModelUnavailable, label, load_model, parse_id
from demo.retrievers.templates import EncodeInput, query_input
from demo.runs import PREFIX as RUN_PREFIX
from demo.runs import RunFile, is_run_id, load_run, run_files
from demo.settings import cache_dir, loaded_limits, memory_budget_bytes, runs_dir

MAX_INSTRUCTION_CHARS = 2000
MAX_K = 100
TABLE_BATCH = 256  # instances ranked per step of the whole-dataset table (progress moves per step)
TABLE_VERSION = "1"  # bump when ranking or nDCG rules change: stored tables are then recomputed
log = logging.getLogger(__name__)
Stage = Callable[[str, int, int], None]  # (stage, done, total)


TOP = MAX_K  # docs of each ranking kept in rank order: the most any view shows


@dataclass(frozen=True)
class Ranking:
    """What the views need of one ranking of a corpus, not the whole corpus: the first TOP docs in
    rank order with their scores, how many docs were retrieved (BM25 retrieves only docs that
    share a term with its input; the others have no rank), and the ranks of the docs the caller
    asked to track (targets, or cards shown from another ranking)."""
    encoded: str
    head: np.ndarray  # doc indices of the first min(TOP, retrieved) docs, in rank order
    head_scores: np.ndarray
    retrieved: int
    known: Mapping[int, int]  # doc index -> rank in the full order (None in views when > retrieved)

    @property
    def empty(self) -> bool:
        """Nothing was encoded (e.g. instruction-only text in query mode), or nothing retrieved."""
        return self.retrieved == 0

    @property
    def nbytes(self) -> int:
        return self.head.nbytes + self.head_scores.nbytes + 100 * len(self.known) + len(self.encoded) + 400

    def top(self, k: int) -> np.ndarray:
        """Indices of the first k retrieved docs (k <= TOP)."""
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


class Corpus:
    """A model indexed on one dataset's corpus, with the doc-id tie-break order."""

    def __init__(self, model: Model, doc_ids: list[str]):
        self.model, self.doc_ids = model, doc_ids
        self.index = {d: i for i, d in enumerate(doc_ids)}
        self.id_order = np.argsort(np.argsort(np.array(doc_ids, dtype=object)))

    def rankings(self, inputs: Sequence[EncodeInput], track: Sequence[int] = ()) -> list[Ranking]:
        out = []
        for enc, scores in zip(inputs, np.atleast_2d(self.model.score_all(inputs))):
            scores = np.asarray(scores, dtype=np.float64)
            if not enc.encoded.strip():
                retrieved = 0
            elif getattr(self.model, "lexical", False):  # only docs sharing a term, as Lucene
                retrieved = int(np.count_nonzero(scores > 0))
            else:
                retrieved = len(scores)
            out.append(self.ranking(enc.encoded, scores, retrieved, track))
        return out

    def ranking(self, encoded: str, scores: np.ndarray, retrieved: int, track: Sequence[int] = ()) -> Ranking:
        """The Ranking of whole-corpus scores: its head, and the ranks of the tracked docs."""
        head = self.head(scores, min(TOP, retrieved))
        in_head = set(head.tolist())
        known = {i: self.rank_of(scores, i) for i in dict.fromkeys(track) if i not in in_head}
        return Ranking(encoded, head, scores[head], retrieved, known)

    def full_ranks(self, scores: np.ndarray, retrieved: int) -> np.ndarray:
        """Every doc's 1-based rank, 0 where it was not retrieved (a full sort: for fusion)."""
        order = np.lexsort((-self.id_order, -scores))
        ranks = np.zeros(len(scores), dtype=np.int64)
        ranks[order[:retrieved]] = np.arange(1, retrieved + 1)
        return ranks

    def head(self, scores: np.ndarray, m: int) -> np.ndarray:
        """The first m doc indices by score descending, ties by doc id descending (DESIGN §4),
        without sorting the whole corpus."""
        n = len(scores)
        if m <= 0:
            return np.zeros(0, dtype=np.int32)
        candidates = np.arange(n) if m >= n else np.flatnonzero(scores >= np.partition(scores, n - m)[n - m])
        order = np.lexsort((-self.id_order[candidates], -scores[candidates]))[:m]
        return candidates[order].astype(np.int32)

    def rank_of(self, scores: np.ndarray, i: int) -> int:
        """1-based position of doc i in the full order: docs scoring higher, or tied with a larger id."""
        s = scores[i]
        return 1 + int(np.count_nonzero(scores > s)) + int(np.count_nonzero((scores == s) & (self.id_order > self.id_order[i])))


class RunCorpus:
    """A run file over one dataset's corpus: the doc_ids/index of Corpus, and Rankings read from
    the run instead of computed. A query the run does not cover has no Ranking (None)."""

    def __init__(self, run: RunFile, doc_ids: list[str]):
        self.run, self.doc_ids = run, doc_ids
        self.index = {d: i for i, d in enumerate(doc_ids)}
        self._to_corpus = np.array([self.index[d] for d in run.doc_ids], dtype=np.int64)

    def ranking(self, qid: str, track: Sequence[int] = ()) -> Ranking | None:
        found = self.run.queries.get(qid)
        if found is None:
            return None
        docs, scores = found
        retrieved = self._to_corpus[docs]  # already in rank order (demo.runs.fit)
        head = retrieved[:TOP].astype(np.int32)
        in_head = set(head.tolist())
        known = {}
        for i in dict.fromkeys(track):
            if i not in in_head:
                hit = np.flatnonzero(retrieved == i)
                known[i] = int(hit[0]) + 1 if len(hit) else len(retrieved) + 1  # past the list: not retrieved
        return Ranking(f"(read from the run file {self.run.source}, query {qid})", head, scores[:TOP],
                       len(retrieved), known)


def text_index(bench: Benchmark) -> dict[tuple[str, str], list[str]]:
    """(instruction, query) -> ids of the instances and paraphrases with that text: how a run
    column finds its ranking for the text in the editor."""
    index: dict[tuple[str, str], list[str]] = {}
    for inst in list(bench.instances.values()) + [p for ps in bench.paraphrases.values() for p in ps]:
        index.setdefault((inst.instruction.strip(), inst.query.strip()), []).append(inst.instance_id)
    return index


NO_EDIT_RANKING = "a run file has no ranking for edited text: showing the original instruction's ranking"


class Explorer:
    def __init__(self, cache: EmbeddingCache | None = None, memory_bytes: int | None = None):
        self._cache = cache
        # (dataset key, model id) -> indexed corpus, least recently used first; bounded
        self._corpora: OrderedDict[tuple[str, str], Corpus] = OrderedDict()
        self._max_corpora = loaded_limits()[1]
        self._unavailable: dict[str, ModelUnavailable] = {}  # models that cannot load here, by id
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        budget = memory_budget_bytes() if memory_bytes is None else memory_bytes
        self._memo = ByteLRU(budget * 3 // 4)  # rankings by encoded input
        self._tables = ByteLRU(budget // 4)  # per-instance nDCG of whole datasets
        self._status: dict[tuple[str, str], tuple[str, int, int]] = {}
        self._fingerprints: dict[str, tuple[int, str]] = {}
        self._folder_runs: dict[str, tuple[dict[str, RunFile], list[str]]] = {}
        self._text_index: dict[str, tuple[int, dict]] = {}

    # ---- loading -------------------------------------------------------------------------
    def _embedding_cache(self) -> EmbeddingCache:
        with self._locks_lock:
            if self._cache is None:
                self._cache = default_cache()
            return self._cache

    def benchmark(self, source: str) -> Benchmark:
        return open_source(source)[1]

    def dataset_key(self, source: str) -> str:
        """The canonical key of a source (DESIGN §8), checked against public mode: every memo
        here is keyed by it, so aliases of one dataset share one copy. Idempotent."""
        return open_source(source)[0]

    def status(self, source: str, model_id: str) -> tuple[str, int, int] | None:
        """What building (dataset, model) is doing now: (stage, done, total), None when idle."""
        try:
            return self._status.get((self.dataset_key(source), model_id))
        except UserError:
            return None

    def corpus(self, source: str, model_id: str, progress: Callable[[int, int], None] | None = None,
               on_stage: Stage | None = None) -> Corpus:
        """The model indexed on the dataset, built once however many ask. A model that cannot
        load here stays unavailable; any other failure (a fault while indexing) is tried again
        next time. `on_stage(stage, done, total)` hears "loading" then "embedding" (or, for BM25,
        "indexing") n of N passages, also while another caller (e.g. the start-up warm-up) is the
        one building it."""
        if model_id not in MODELS:
            raise UserError(f"unknown model {model_id!r}")
        key = (self.dataset_key(source), model_id)
        with self._locks_lock:  # one lock per (dataset, model): a slow model never blocks the others
            lock = self._locks.setdefault(key, threading.Lock())
        while not lock.acquire(timeout=0.25):  # someone else builds it: relay their progress
            if on_stage and self._status.get(key):
                on_stage(*self._status[key])
        try:
            with self._locks_lock:
                found = self._corpora.get(key)
                if found is not None:
                    self._corpora.move_to_end(key)
                    return found
                if model_id in self._unavailable:
                    raise self._unavailable[model_id]
            found = self._build(key, progress, on_stage)
            # A full-size index and its artifacts are ~500k long-lived objects: one full garbage
            # collection over them took 270-340 ms and landed on a random request. Collect once now
            # (the garbage of the build is not frozen with them), then move everything alive out of
            # the collector's sight. An evicted index is still freed by refcounting, except what
            # sits in reference cycles: a bounded leak, at most once per index built.
            gc.collect()
            gc.freeze()
            with self._locks_lock:
                self._corpora[key] = found
                while len(self._corpora) > self._max_corpora:  # least recently used index goes
                    self._corpora.popitem(last=False)
            return found
        finally:
            lock.release()

    def _build(self, key: tuple[str, str], progress, on_stage) -> Corpus:
        source, model_id = key

        def stage(name: str, done: int, total: int) -> None:
            self._status[key] = (name, done, total)
            if on_stage:
                on_stage(name, done, total)
            if progress and name in ("embedding", "indexing"):
                progress(done, total)
        try:
            bench = self.benchmark(source)
            stage("loading", 0, 1)
            model = load_model(MODELS[model_id], self._embedding_cache())
            docs = list(bench.docs.values())
            work = "indexing" if getattr(model, "lexical", False) else "embedding"
            stage(work, 0, len(docs))
            model.index_corpus(docs, lambda d, t: stage(work, d, t))
            return Corpus(model, [d.doc_id for d in docs])
        except ModelUnavailable as e:  # remembered: it will not load on the next try either
            with self._locks_lock:
                self._unavailable[model_id] = e
            raise
        except UserError:
            raise
        except Exception as e:  # shown in that retriever's column; the others go on; not remembered
            raise UserError(f"{model_id}: {type(e).__name__}: {e}") from e
        finally:
            self._status.pop(key, None)

    # ---- run files (DESIGN §11) ---------------------------------------------------------------
    def _load_folder_runs(self, source: str) -> tuple[dict[str, RunFile], list[str]]:
        """Runs in INSTRUCTIR_EXPLORER_RUNS that fit this dataset, and one line per file that
        does not (another dataset's run, a malformed file); read once per dataset."""
        source = self.dataset_key(source)  # aliases of one dataset share one reading
        with self._locks_lock:
            lock = self._locks.setdefault((source, "run files"), threading.Lock())
        with lock:
            if source not in self._folder_runs:
                bench = self.benchmark(source)
                runs, skipped = {}, []
                folder = runs_dir()
                for path in run_files(folder) if folder else []:
                    try:
                        run = load_run(path, bench)
                    except UserError as e:
                        skipped.append(str(e))
                        continue
                    if run.name in runs:
                        skipped.append(f"{path}: another run is named {run.name!r} ({runs[run.name].source})")
                        continue
                    runs[run.name] = run
                self._folder_runs[source] = (runs, skipped)
        return self._folder_runs[source]

    def runs(self, source: str, extra: Mapping[str, RunFile] | None = None) -> dict[str, RunFile]:
        """Run files usable on this dataset: the runs folder's, then this session's uploads
        (`extra`: plain data the UI keeps per session; they win on a name clash)."""
        return {**self._load_folder_runs(source)[0], **(extra or {})}

    def run_report(self, source: str, extra: Mapping[str, RunFile] | None = None) -> list[str]:
        """One line per run: its coverage, or why a file in the runs folder was not loaded."""
        bench = self.benchmark(source)
        return [r.describe(bench) for r in self.runs(source, extra).values()] + self._load_folder_runs(source)[1]

    def _run_corpus(self, source: str, retriever_id: str, runs: Mapping[str, RunFile] | None) -> RunCorpus:
        name = retriever_id.strip()[len(RUN_PREFIX):]
        found = self.runs(source, runs)
        if name not in found:
            known = ", ".join(RUN_PREFIX + n for n in found) or "none"
            raise UserError(f"no run file named {name!r} for {source} (runs here: {known})")
        return RunCorpus(found[name], list(self.benchmark(source).docs))

    def _corpus_for(self, source: str, retriever_id: str, runs=None) -> Corpus | RunCorpus:
        if is_run_id(retriever_id):
            return self._run_corpus(source, retriever_id, runs)
        return self.corpus(source, parse_id(retriever_id).model_ids()[0])  # every corpus lists the docs in one order

    def _run_digest(self, source: str, rid: str, runs) -> str:
        """Part of a cache key: two sessions may upload different runs of one name."""
        if not is_run_id(rid):
            return ""
        found = self.runs(source, runs).get(rid[len(RUN_PREFIX):])
        return found.digest if found is not None else ""

    def _run_rankings(self, source: str, retriever_id: str, pairs: Sequence[tuple], track: Sequence[int],
                      runs) -> tuple[RunCorpus, list[Ranking | None]]:
        corpus = self._run_corpus(source, retriever_id, runs)
        bench = self.benchmark(source)
        cached = self._text_index.get(source)
        if cached is None or cached[0] != id(bench):
            cached = self._text_index[source] = (id(bench), text_index(bench))
        out = []
        for instruction, query, *first in pairs:
            qids = [] if first and first[0] else cached[1].get((instruction.strip(), query.strip()), [])
            out.append(next((r for r in (corpus.ranking(q, track) for q in qids) if r is not None), None))
        return corpus, out

    def rankings(self, source: str, retriever_id: str, pairs: Sequence[tuple], track: Sequence[int] = (),
                 memo: bool = True, runs: Mapping[str, RunFile] | None = None) -> tuple[Corpus, list[Ranking]]:
        """Rankings for (instruction, query[, query_first]) tuples, memoised by encoded input within
        the byte budget. `track`: doc indices whose ranks the caller needs beyond the first TOP.
        A run file (`run:<name>`; `runs`: this session's) ranks only the texts it covers: None
        for the others."""
        source = self.dataset_key(source)
        if is_run_id(retriever_id):  # before the model grammar: a run id is not a model, fusion or reranker
            return self._run_rankings(source, retriever_id, pairs, track, runs)
        ref = parse_id(retriever_id)
        if not isinstance(ref, ids.Single):
            return self._composite_rankings(source, ref, pairs, track, memo)
        spec, mode = MODELS[ref.model_id], ref.mode
        corpus = self.corpus(source, spec.model_id)
        encoded = [query_input(corpus.model.template, mode, *pair) for pair in pairs]
        keys = [(source, spec.model_id, e.prompt, e.text) for e in encoded]
        found = self._memoised(keys, track) if memo else {}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = dict(zip(keys, encoded))
            for k, r in zip(missing, corpus.rankings([by_key[k] for k in missing], track)):
                found[k] = r
                if memo:
                    self._memo.put(k, r)
        return corpus, [found[k] for k in keys]

    def _memoised(self, keys: list, track: Sequence[int]) -> dict:
        """The memoised rankings among `keys` that still track every doc the view needs."""
        found = {}
        for k in dict.fromkeys(keys):
            r = self._memo.get(k)
            if r is not None and r.covers(track):
                found[k] = r
        return found

    def _composite_rankings(self, source: str, ref, pairs: Sequence[tuple], track: Sequence[int],
                            memo: bool) -> tuple[Corpus, list[Ranking]]:
        """Rankings of a fusion or a reranker, from whole-corpus scores, memoised like the others."""
        keys = [(source, ref.id, tuple(p)) for p in pairs]
        found = self._memoised(keys, track) if memo else {}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        corpus, scored = self.scores(source, ref.id, [k[2] for k in missing])
        for k, (encoded, scores, retrieved) in zip(missing, scored):
            found[k] = corpus.ranking(encoded, scores, retrieved, track)
            if memo:
                self._memo.put(k, found[k])
        return corpus, [found[k] for k in keys]

    def scores(self, source: str, retriever_id: str, pairs: Sequence[tuple]) -> tuple[Corpus, list[tuple]]:
        """Whole-corpus scores of any retriever: [(encoded text, scores over corpus.doc_ids, retrieved
        count)] per pair. Fusion and reranking need every rank of their parts, not a ranking's head;
        the explainer needs any doc's score."""
        source = self.dataset_key(source)
        ref = parse_id(retriever_id)
        corpus = self.corpus(source, ref.model_ids()[0])  # every corpus lists the docs in the same order
        if isinstance(ref, ids.Fusion):
            parts = [self.scores(source, p.id, pairs)[1] for p in ref.parts]
            out = []
            for scored in zip(*parts):
                live = [(s, n) for _, s, n in scored if n > 0]  # a part that retrieved nothing adds nothing
                fused = rrf_scores([corpus.full_ranks(s, n) for s, n in live], ref.k) if live else \
                    np.zeros(len(corpus.doc_ids))
                encoded = "\n".join(f"{p.id}: {e}" for p, (e, _, _) in zip(ref.parts, scored) if e.strip())
                out.append((encoded, fused, int(np.count_nonzero(fused > 0))))
            return corpus, out
        if isinstance(ref, ids.Rerank):
            from demo.retrievers.rerank import rerank_scores
            _, firsts = self.scores(source, ref.first.id, pairs)
            return corpus, [rerank_scores(self.benchmark(source), corpus, first, ref, pair)
                            for first, pair in zip(firsts, pairs)]
        inputs = [query_input(corpus.model.template, ref.mode, *pair) for pair in pairs]
        out = []
        for enc, scores in zip(inputs, np.atleast_2d(corpus.model.score_all(inputs)) if inputs else []):
            scores = np.asarray(scores, dtype=np.float64)
            retrieved = 0 if not enc.encoded.strip() else \
                int(np.count_nonzero(scores > 0)) if getattr(corpus.model, "lexical", False) else len(scores)
            out.append((enc.encoded, scores, retrieved))
        return corpus, out

    # ---- checks ---------------------------------------------------------------------------
    def _instance(self, bench: Benchmark, instance_id: str) -> Instance:
        inst = bench.instances.get(inputs.identifier(instance_id, "instance id"))
        if inst is None:
            raise UserError(f"unknown instance {instance_id!r} in {bench.name}")
        return inst

    @staticmethod
    def _check(instruction: str, k) -> int:
        """Type checks at the edge: the instruction is text (or None: the original), k a whole number."""
        inputs.text(instruction, "instruction", MAX_INSTRUCTION_CHARS, allow_none=True)
        k = inputs.whole_number(k, "k")
        if not 1 <= k <= MAX_K:
            raise UserError(f"k must be between 1 and {MAX_K}, got {k}")
        return k

    # ---- the API ------------------------------------------------------------------------------
    def instance(self, source: str, instance_id: str) -> dict:
        source, bench = open_source(source)
        inst = self._instance(bench, instance_id)
        return {"instance_id": inst.instance_id, "query_id": inst.query_id, "query": inst.query,
                "instruction": inst.instruction, "targets": list(inst.targets), "persona": inst.persona,
                "siblings": list(bench.siblings(inst.instance_id)), "variants": variants(bench, inst),
                "unavailable_variants": unavailable_variants()}

    def rank(self, source: str, instance_id: str, instruction: str, retrievers, k=10,
             grade_against: str | None = None,
             runs: Mapping[str, RunFile] | None = None) -> dict:
        """Compare retrievers on one instance with an edited instruction (DESIGN §6 /rank).

        Grading follows the text (DESIGN §1): when the editor holds another instance's own
        instruction, the view is graded against THAT instance's target, and `lost_target` says
        where this instance's target went (p-MRR). `grade_against` (an instance of the same base
        query) chooses the target for any text; None means: follow the text, else this instance.
        `runs`: this session's uploaded run files, by name, beside the runs folder's."""
        k = self._check(instruction, k)
        source, bench = open_source(source)
        inst = self._instance(bench, instance_id)
        ids = parse_retriever_list(inputs.string_list(retrievers, "retrievers"))
        edited = split_variant(instruction if instruction is not None else inst.instruction, inst.query)
        group = [bench.instances[i] for i in bench.groups[inst.query_id]]
        graded = _graded_instance(bench, inst, edited, grade_against)
        owners = {t: (g.persona or g.instance_id) for g in group if g is not graded for t in g.targets}
        owners = {t: name for t, name in owners.items() if graded.qrels.get(t, 0) <= 0}
        chosen = bool(grade_against) and graded is not inst
        lost = _relevance_lost(bench, inst, edited) if graded is inst else \
            f"text graded against {graded.instance_id}" if chosen else f"another user's instruction ({graded.instance_id})"
        out, rob, rob_orig, errors = {}, {}, {}, {}
        for rid in ids:
            try:
                corpus = self._corpus_for(source, rid, runs)
                targets = _doc_indices(corpus, (t for g in group for t in g.targets))
                corpus, (new, *originals) = self.rankings(
                    source, rid, [edited] + [(g.instruction, g.query) for g in group], targets, runs=runs)
                # the shown cards' original ranks (their shift), even from deep in the original ranking
                shown = [int(i) for i in new.top(k)] if new is not None else []
                _, (orig,) = self.rankings(source, rid, [(inst.instruction, inst.query)], targets + shown, runs=runs)
                if orig is None:
                    raise UserError(f"{rid} has no ranking for {inst.instance_id} ({corpus.run.describe(bench)})")
            except UserError as e:
                errors[rid] = str(e)
                out[rid] = {"error": str(e), "label": _label(rid)}
                continue
            note = None
            if new is None:  # a run file covers only the dataset's own texts
                new, note = orig, NO_EDIT_RANKING
            group_ndcg = {g.instance_id: _ndcg(corpus, g, r, k) for g, r in zip(group, originals)}
            ndcg = _ndcg(corpus, graded, new, k)
            rob_orig[rid] = robustness(group_ndcg, {inst.query_id: group_ndcg})
            rob[rid] = robustness({**group_ndcg, graded.instance_id: ndcg}, {inst.query_id: group_ndcg})
            out[rid] = {
                "label": _label(rid), "encoded": new.encoded, "original_encoded": orig.encoded,
                "ranking": [_card(corpus, new, orig, i, graded, owners) for i in new.top(k)],
                "target_rank": _target_rank(corpus, graded, new), "ndcg": ndcg,
                # the graded target under this instance's original instruction: where it came from
                "original_target_rank": _target_rank(corpus, graded, orig),
                "original_ndcg": _ndcg(corpus, graded, orig, k),
                "original_top": [corpus.doc_ids[i] for i in orig.top(k)],
            }
            if note:
                out[rid]["note"] = note
            if lost and not note:  # FollowIR: this instance's target lost its relevance under this text; it should move down
                # a doc outside a retrieved list takes rank len(list) + 1 (DESIGN §4)
                old_rank = _target_rank(corpus, inst, orig) or orig.retrieved + 1
                new_rank = _target_rank(corpus, inst, new) or new.retrieved + 1
                out[rid]["p_mrr"] = pairwise_mrr(old_rank, new_rank)
                out[rid]["lost_target"] = {"doc_ids": list(inst.targets), "original_rank": old_rank, "rank": new_rank,
                                           "regraded": graded is not inst}
        changed = edited != (inst.instruction, inst.query, False)
        return {"instance_id": inst.instance_id, "query_id": inst.query_id, "k": k, "retrievers": out,
                "relevance_lost": lost, "graded_against": graded.instance_id,
                "graded_persona": graded.persona,
                "robustness": rob, "original_robustness": rob_orig, "errors": errors,
                "summary": _graded_note(inst, graded, chosen) + summarize(out, changed)}

    def sweep(self, source: str, query_id: str, retrievers, k=10, instance_id: str | None = None,
              instruction: str | None = None, grade_against: str | None = None,
              runs: Mapping[str, RunFile] | None = None) -> dict:
        """Every variant of one base query through every retriever (DESIGN §6 /sweep): the
        query's instructions, the dataset's paraphrases, the perturbations of one instance
        (`instance_id`, else the one with paraphrases) and, if given, the edited instruction.
        A run file has numbers only for the variants it covers (null for the others)."""
        k = self._check(instruction, k)
        source, bench = open_source(source)
        query_id = inputs.identifier(query_id, "query id")
        if query_id not in bench.groups:
            raise UserError(f"unknown base query {query_id!r} in {bench.name}")
        ids = parse_retriever_list(inputs.string_list(retrievers, "retrievers"))
        group = [bench.instances[i] for i in bench.groups[query_id]]
        pivot = (self._instance(bench, instance_id) if instance_id else
                 next((g for g in group if g.instance_id in bench.paraphrases), group[0]))
        if pivot.query_id != query_id:
            raise UserError(f"instance {pivot.instance_id!r} is not of base query {query_id!r}")
        rows: list[tuple[dict, Instance, tuple]] = []
        for g in group:
            rows.append(({"kind": "original", "label": g.persona or g.instance_id, "instance_id": g.instance_id,
                          "text": g.instruction}, g, (g.instruction, g.query)))
        for g in group:
            for p in bench.paraphrases.get(g.instance_id, ()):
                rows.append(({"kind": "paraphrase", "label": f"paraphrase {p.instance_id}", "instance_id": g.instance_id,
                              "text": p.instruction}, g, (p.instruction, p.query)))
        for v in perturbations(bench, pivot):
            rows.append(({**v, "instance_id": pivot.instance_id}, pivot, split_variant(v["text"], pivot.query)))
        if instruction is not None:
            edit = split_variant(instruction, pivot.query)
            graded = _graded_instance(bench, pivot, edit, grade_against)
            rows.append(({"kind": "edit", "label": "your edit", "instance_id": graded.instance_id, "text": instruction},
                         graded, edit))
        result = {}
        for rid in ids:
            try:
                corpus = self._corpus_for(source, rid, runs)
                corpus, ranks = self.rankings(source, rid, [pair for _, _, pair in rows],
                                              _doc_indices(corpus, (t for g in group for t in g.targets)), runs=runs)
            except UserError as e:
                result[rid] = {"error": str(e), "label": _label(rid)}
                continue
            ndcgs = [_ndcg(corpus, inst, r, k) if r is not None else None for (_, inst, _), r in zip(rows, ranks)]
            originals = [n for (v, _, _), n in zip(rows, ndcgs) if v["kind"] == "original" and n is not None]
            covered = [n for n in ndcgs if n is not None]
            result[rid] = {"label": _label(rid), "target_rank": [_target_rank(corpus, inst, r) for (_, inst, _), r in zip(rows, ranks)],
                           "ndcg": ndcgs, "robustness": min(originals) if originals else None,
                           "variant_robustness": min(covered) if covered else None}
        return {"query_id": query_id, "query": group[0].query, "k": k, "pivot": pivot.instance_id,
                "variants": [v for v, _, _ in rows], "retrievers": result}

    def explain(self, source: str, instance_id: str, instruction: str | None, retriever_id: str, doc_id: str) -> dict:
        """Why a doc sits where it does for this instruction (DESIGN §12); shape in demo.explain."""
        from demo.explain import explain
        if is_run_id(retriever_id):
            raise UserError(f"{retriever_id} is a run file: its scores came from elsewhere, with no model here to ask why")
        return explain(self, source, instance_id, instruction, retriever_id, doc_id)

    def instance_ndcgs(self, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                       runs: Mapping[str, RunFile] | None = None) -> dict[str, dict[str, float]]:
        """nDCG@k of every instance (original instruction) per retriever; failed retrievers omitted.
        Each retriever's table is kept in memory (byte budget) and on disk, keyed by the dataset's
        content, the model's revision and k, so a second view, or a restart, is instant."""
        k = self._check(None, k)
        source, bench = open_source(source)
        per = {}
        for rid in parse_retriever_list(inputs.string_list(retrievers, "retrievers")):
            try:
                per[rid] = ({i: r["ndcg"] if r else 0.0 for i, r in self._run_records(source, bench, rid, k, runs).items()}
                            if is_run_id(rid) else self._instance_table(source, bench, rid, k, progress))
            except UserError:
                continue
        return per

    def _instance_table(self, source: str, bench: Benchmark, rid: str, k: int, progress) -> dict[str, float]:
        corpus = self.corpus(source, parse_id(rid).model_ids()[0])
        key = (source, rid, k)
        table = self._tables.get(key)
        if table is not None:
            return table
        path = self._table_path(source, bench, rid, k)
        table = _read_table(path, bench)
        if table is None:
            insts = list(bench.instances.values())
            table = {}
            for start in range(0, len(insts), TABLE_BATCH):  # not memoised: they would flush the views' rankings
                chunk = insts[start:start + TABLE_BATCH]
                _, ranks = self.rankings(source, rid, [(i.instruction, i.query) for i in chunk], memo=False)
                table.update({i.instance_id: _ndcg(corpus, i, r, k) for i, r in zip(chunk, ranks)})
                if progress:
                    progress(f"ranking every instance with {rid}", len(table), len(insts))
            _write_table(path, table)
        self._tables.put(key, table)
        return table

    def _table_path(self, source: str, bench: Benchmark, rid: str, k: int, kind: str = "ndcg") -> Path:
        cached = self._fingerprints.get(source)
        if cached is None or cached[0] != id(bench):
            cached = self._fingerprints[source] = (id(bench), _fingerprint(bench))
        revision = "+".join(getattr(getattr(self.corpus(source, m).model, "encoder", None), "revision", "lexical")
                            for m in parse_id(rid).model_ids())  # a fusion: both models' revisions
        parts = [TABLE_VERSION, cached[1], rid, revision, k] + ([kind] if kind != "ndcg" else [])  # ndcg names unchanged
        name = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
        return cache_dir() / "tables" / f"{name}.json"

    # ---- inspection (DESIGN §12) ------------------------------------------------------------------
    def instance_records(self, source: str, rid: str, k: int = 10, runs: Mapping[str, RunFile] | None = None,
                         progress: Stage | None = None) -> dict[str, dict | None]:
        """Per instance (original instruction): target rank, nDCG@k, the doc ranked first and the
        outcome (DESIGN §12); None where a run file does not cover the instance. Raises
        UserError when the retriever is unavailable."""
        k = self._check(None, k)
        source, bench = open_source(source)
        if is_run_id(rid):
            return self._run_records(source, bench, rid, k, runs)
        key = (source, "records", rid, k)
        records = self._tables.get(key)
        if records is None:  # on disk too, as the nDCG tables: a restart does not rank 9,906 instances again
            path = self._table_path(source, bench, rid, k, "records")
            records = _read_records(path, bench)
            if records is None:
                records = self._records(source, bench, rid, k, None, progress)
                _write_table(path, records)
            self._tables.put(key, records)
        return records

    def _run_records(self, source: str, bench: Benchmark, rid: str, k: int, runs) -> dict[str, dict | None]:
        key = (source, "records", rid, self._run_digest(source, rid, runs), k)
        records = self._tables.get(key)
        if records is None:
            records = self._records(source, bench, rid, k, runs, None)
            self._tables.put(key, records)
        return records

    def _records(self, source: str, bench: Benchmark, rid: str, k: int, runs, progress) -> dict[str, dict | None]:
        corpus = self._corpus_for(source, rid, runs)
        records: dict[str, dict | None] = {}
        for qid, members in bench.groups.items():  # a query at a time: its targets are tracked
            group = [bench.instances[i] for i in members]
            track = _doc_indices(corpus, [t for g in group for t in g.targets] +
                                 [d for g in group for d in generic_docs(bench, g)])
            _, ranks = self.rankings(source, rid, [(g.instruction, g.query) for g in group], track, memo=False,
                                     runs=runs)
            for g, r in zip(group, ranks):
                records[g.instance_id] = _record(bench, corpus, g, r, k) if r is not None else None
            if progress:
                progress(f"inspecting every instance with {rid}", len(records), len(bench.instances))
        return records

    def inspect(self, source: str, retrievers, k: int = 10, runs: Mapping[str, RunFile] | None = None,
                progress: Stage | None = None) -> dict:
        """The instance table (DESIGN §12 /inspect): one row per instance with, per retriever,
        {"target_rank", "ndcg", "outcome", "top_doc"} (absent where a run does not cover it);
        a retriever that fails is in "errors"."""
        k = self._check(None, k)
        source, bench = open_source(source)
        per, errors = {}, {}
        for rid in parse_retriever_list(inputs.string_list(retrievers, "retrievers")):
            try:
                per[rid] = self.instance_records(source, rid, k, runs, progress)
            except UserError as e:
                errors[rid] = str(e)
        rows = [{"instance_id": i.instance_id, "query_id": i.query_id, "query": i.query, "instruction": i.instruction,
                 "targets": list(i.targets),
                 "retrievers": {rid: recs[i.instance_id] for rid, recs in per.items() if recs.get(i.instance_id)}}
                for i in bench.instances.values()]
        return {"k": k, "retrievers": list(per), "rows": rows, "errors": errors}

    def query_table(self, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                    runs: Mapping[str, RunFile] | None = None) -> list[dict]:
        """Per base query: Robustness@k and mean nDCG@k per retriever, and how much the
        retrievers disagree, for ordering the query picker by interest."""
        source, bench = open_source(source)
        per = self.instance_ndcgs(source, retrievers, k, progress, runs)
        rows = []
        for qid, members in bench.groups.items():
            rob = {rid: min(v[m] for m in members) for rid, v in per.items()}
            nd = {rid: mean(v[m] for m in members) for rid, v in per.items()}
            rows.append({"query_id": qid, "query": bench.instances[members[0]].query, "instances": len(members),
                         "robustness": rob, "ndcg": nd,
                         "min_robustness": min(rob.values()) if rob else None,
                         "disagreement": (max(nd.values()) - min(nd.values())) if nd else 0.0})
        return rows

    def scoreboard(self, source: str, retrievers, k: int = 10, progress: Stage | None = None,
                   runs: Mapping[str, RunFile] | None = None) -> dict:
        """Dataset-level nDCG@k and Robustness@k per retriever (as `python -m demo evaluate`),
        with the instruction-blind floor. An instance a run does not cover scores 0 (trec_eval -c)."""
        from demo.evaluation import blind_floor
        source, bench = open_source(source)
        per = self.instance_ndcgs(source, retrievers, k, progress, runs)
        floor = self._tables.get((source, "floor", k))
        if floor is None:
            floor = blind_floor(bench, k)
            self._tables.put((source, "floor", k), floor)
        board = {rid: {f"ndcg@{k}": mean(v.values()), f"robustness@{k}": robustness(v, bench.groups)}
                 for rid, v in per.items()}
        return {"k": k, "retrievers": board, "floor": floor}


def _fingerprint(bench: Benchmark) -> str:
    """sha256 of a dataset's content (docs, instances, judgements): keys its tables on disk."""
    h = hashlib.sha256()
    for d in bench.docs.values():
        h.update(f"{d.doc_id}\x00{d.title}\x00{d.text}\x01".encode())
    for i in bench.instances.values():
        h.update(f"{i.instance_id}\x00{i.query_id}\x00{i.instruction}\x00{i.query}\x00{sorted(i.qrels.items())}\x01".encode())
    return h.hexdigest()


def _read_table(path: Path, bench: Benchmark) -> dict[str, float] | None:
    """A stored table, or None when absent or not a complete table of this dataset (then recomputed)."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(table, dict) or table.keys() != bench.instances.keys() or \
            not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in table.values()):
        log.warning("stored table %s does not fit the dataset; recomputing it", path)
        return None
    return {iid: float(v) for iid, v in table.items()}


def _read_records(path: Path, bench: Benchmark) -> dict[str, dict] | None:
    """Stored instance records (Explorer.instance_records), or None when absent or not a complete,
    well-formed set for this dataset (then recomputed)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

    def fits(r) -> bool:
        return isinstance(r, dict) and r.keys() == {"target_rank", "ndcg", "outcome", "top_doc"} and \
            (r["target_rank"] is None or (isinstance(r["target_rank"], int) and r["target_rank"] >= 1)) and \
            isinstance(r["ndcg"], (int, float)) and 0 <= r["ndcg"] <= 1 and r["outcome"] in OUTCOMES and \
            (r["top_doc"] is None or r["top_doc"] in bench.docs)
    if not isinstance(records, dict) or records.keys() != bench.instances.keys() or not all(map(fits, records.values())):
        log.warning("stored records %s do not fit the dataset; recomputing them", path)
        return None
    return records


def _write_table(path: Path, table: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(table), encoding="utf-8")
        os.replace(tmp, path)  # complete or absent
    except OSError as e:  # a read-only disk only costs the recompute next time
        log.warning("cannot store table %s: %s", path, e)


def _graded_instance(bench: Benchmark, inst: Instance, edited: tuple, grade_against: str | None) -> Instance:
    """Whose target the text asks for: the chosen instance of the same base query, else the
    instance whose own instruction the editor holds, else this one."""
    if grade_against:
        chosen = bench.instances.get(str(grade_against).strip())
        if chosen is None or chosen.query_id != inst.query_id:
            raise UserError(f"cannot grade against {grade_against!r}: not an instance of base query {inst.query_id!r}")
        return chosen
    instruction, query, query_first = edited
    if query_first or query != inst.query or instruction == inst.instruction:
        return inst
    for iid in bench.groups[inst.query_id]:
        if bench.instances[iid].instruction == instruction:
            return bench.instances[iid]
    return inst


def _graded_note(inst: Instance, graded: Instance, chosen: bool) -> str:
    if graded is inst:
        return ""
    who = graded.instance_id + (f" ({graded.persona})" if graded.persona else "")
    why = "as chosen" if chosen else "whose instruction the editor holds"
    return f"Graded against the target of {who}, {why}. "


def _relevance_lost(bench: Benchmark, inst: Instance, edited: tuple) -> str | None:
    """Why the instance's target is no longer relevant under the edited instruction, if it is
    another user's instruction (same query) or another query's (the swap): then p-MRR applies."""
    instruction, query, query_first = edited
    if query_first or query != inst.query or instruction == inst.instruction:
        return None
    for iid in bench.groups[inst.query_id]:
        if iid != inst.instance_id and bench.instances[iid].instruction == instruction:
            return f"another user's instruction ({iid})"
    other = swap_source(bench, inst)
    if other is not None and other.instruction == instruction:
        return f"another query's instruction ({other.instance_id})"
    return None


def _label(rid: str) -> str:
    if is_run_id(rid):
        return f"run file {rid[len(RUN_PREFIX):]}"
    return label(rid)


def _ndcg(corpus: Corpus, inst: Instance, r: Ranking | None, k: int) -> float:
    if r is None:  # a run without this query: trec_eval -c scores it 0
        return 0.0
    return ndcg_at_k(inst.qrels, {corpus.doc_ids[i]: float(s) for i, s in zip(r.top(k), r.head_scores)}, k)


def _doc_indices(corpus: Corpus, doc_ids) -> list[int]:
    return list(dict.fromkeys(corpus.index[d] for d in doc_ids if d in corpus.index))


def _target_rank(corpus: Corpus, inst: Instance, r: Ranking | None) -> int | None:
    if r is None:
        return None
    ranks = [r.rank(corpus.index[t]) for t in inst.targets if t in corpus.index]
    ranks = [x for x in ranks if x is not None]
    return min(ranks) if ranks else None


def _record(bench: Benchmark, corpus: Corpus, inst: Instance, r: Ranking, k: int) -> dict:
    """One instance's row cell; the siblings' targets and the generic passage are tracked in r."""
    def best(docs) -> int | None:
        ranks = [r.rank(corpus.index[d]) for d in docs if d in corpus.index]
        ranks = [x for x in ranks if x is not None]
        return min(ranks) if ranks else None
    target = _target_rank(corpus, inst, r)
    return {"target_rank": target, "ndcg": _ndcg(corpus, inst, r, k),
            "outcome": outcome(target, k, best(bench.siblings(inst.instance_id)), best(generic_docs(bench, inst))),
            "top_doc": corpus.doc_ids[int(r.head[0])] if r.retrieved else None}


def _card(corpus: Corpus, new: Ranking, orig: Ranking, i: int, inst: Instance, owners: dict[str, str]) -> dict:
    """One result; `owners` maps each sibling target to its user (persona, else instance id)."""
    doc = corpus.doc_ids[i]
    return {"doc_id": doc, "score": new.score(i), "rank": new.rank(i),
            "shift": rank_shift(orig.rank(i), new.rank(i)), "original_rank": orig.rank(i),
            "is_target": inst.qrels.get(doc, 0) > 0, "is_sibling": doc in owners, "sibling_of": owners.get(doc)}


def _at(rank: int | None) -> str:
    return f"#{rank}" if rank is not None else "not retrieved"


def summarize(results: dict, changed: bool) -> str:
    """One sentence per edit: how each retriever's target rank moved."""
    if not changed:
        return "Original instruction: " + "; ".join(
            f"{rid}: target {'at ' if r['target_rank'] else ''}{_at(r['target_rank'])}"
            for rid, r in results.items() if "error" not in r) + "."
    parts = []
    for rid, r in results.items():
        if "error" in r:
            parts.append(f"{rid}: unavailable")
            continue
        old, new = r["original_target_rank"], r["target_rank"]
        ignores = rid.endswith("@query")
        pm = f" (p-MRR {100 * r['p_mrr']:+.0f})" if "p_mrr" in r else ""
        gone = r.get("lost_target")
        if gone and gone["regraded"]:  # the target above is another user's; say where this one's went
            moved = gone["original_rank"] != gone["rank"]
            pm = f" (old target #{gone['original_rank']} → #{gone['rank']}, p-MRR {100 * r['p_mrr']:+.0f})" if moved else ""
        if new is None and not r["encoded"].strip():
            parts.append(f"{rid}: nothing to encode, nothing retrieved (target was {_at(old)})")
        elif old == new is None:
            parts.append(f"{rid}: target still not retrieved{pm}")
        elif old == new:
            parts.append(f"{rid} unchanged at {_at(new)}" + (" (it ignores the instruction)" if ignores else "") + pm)
        elif new is None or old is None:
            parts.append(f"{rid}: target {_at(old)} before, {_at(new)} now{pm}")
        else:
            parts.append(f"{rid}: target {'rose' if new < old else 'fell'} from #{old} to #{new}{pm}")
    return "; ".join(parts) + "."
