"""The service the UI and the API call: instance, rank (compare), sweep and the query table.

It knows nothing of Gradio. Inputs are plain values; outputs are plain dicts in the JSON
shapes of DESIGN §6 (with a few extra keys the UI uses). Loaded models and rankings are
memoised here, shared by all sessions and safe to call from several threads; nothing
per-user lives here.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from demo.cache import EmbeddingCache
from demo.data.records import Benchmark, Instance
from demo.data.sources import load_source
from demo.data.variants import perturbations, split_variant, swap_source, unavailable_variants, variants
from demo.errors import UserError
from demo.evaluation import default_cache, parse_retriever_list
from demo.metrics import mean, ndcg_at_k, pairwise_mrr, rank_shift, robustness
from demo.retrievers.base import Model
from demo.retrievers import ids
from demo.retrievers.fusion import rrf_scores
from demo.retrievers.registry import MODELS, label, load_model, parse_id
from demo.retrievers.templates import EncodeInput, query_input

MAX_INSTRUCTION_CHARS = 2000
MAX_K = 100


@dataclass(frozen=True)
class Ranking:
    """A full ranking of a corpus: doc indices in rank order, and each doc's rank and score.
    Only the first `retrieved` docs of `order` were retrieved (BM25 retrieves only docs that
    share a term with its input); the others have no rank."""
    encoded: str
    order: np.ndarray
    ranks: np.ndarray
    scores: np.ndarray
    retrieved: int

    @property
    def empty(self) -> bool:
        """Nothing was encoded (e.g. instruction-only text in query mode), or nothing retrieved."""
        return self.retrieved == 0

    def top(self, k: int) -> np.ndarray:
        """Indices of the first k retrieved docs."""
        return self.order[:min(k, self.retrieved)]

    def rank(self, i: int) -> int | None:
        """Rank of doc index i, None when it was not retrieved."""
        r = int(self.ranks[i])
        return r if r <= self.retrieved else None


class Corpus:
    """A model indexed on one dataset's corpus, with the doc-id tie-break order."""

    def __init__(self, model: Model, doc_ids: list[str]):
        self.model, self.doc_ids = model, doc_ids
        self.index = {d: i for i, d in enumerate(doc_ids)}
        self.id_order = np.argsort(np.argsort(np.array(doc_ids, dtype=object)))

    def rankings(self, inputs: Sequence[EncodeInput]) -> list[Ranking]:
        out = []
        for enc, scores in zip(inputs, np.atleast_2d(self.model.score_all(inputs))):
            scores = np.asarray(scores, dtype=np.float64)
            if not enc.encoded.strip():
                retrieved = 0
            elif getattr(self.model, "lexical", False):  # only docs sharing a term, as Lucene
                retrieved = int(np.count_nonzero(scores > 0))
            else:
                retrieved = len(scores)
            out.append(self.ranking(enc.encoded, scores, retrieved))
        return out

    def ranking(self, encoded: str, scores, retrieved: int) -> Ranking:
        """Rank every doc by score, ties by doc id descending (DESIGN §4); the first `retrieved`
        docs of the order are the retrieved ones."""
        scores = np.asarray(scores, dtype=np.float64)
        order = np.lexsort((-self.id_order, -scores))  # score desc, doc id desc (DESIGN §4)
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(1, len(order) + 1)
        return Ranking(encoded, order, ranks, scores, retrieved)


class Explorer:
    def __init__(self, cache: EmbeddingCache | None = None, max_rankings: int = 4096):
        self._cache = cache
        self._corpora: dict[tuple[str, str], Corpus | Exception] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._memo: OrderedDict = OrderedDict()
        self._memo_lock = threading.Lock()
        self._max = max_rankings
        self._tables: dict = {}

    # ---- loading -------------------------------------------------------------------------
    def _embedding_cache(self) -> EmbeddingCache:
        with self._locks_lock:
            if self._cache is None:
                self._cache = default_cache()
            return self._cache

    def benchmark(self, source: str) -> Benchmark:
        if not source or not str(source).strip():
            raise UserError("no dataset given")
        return load_source(str(source).strip())

    def corpus(self, source: str, model_id: str, progress: Callable[[int, int], None] | None = None) -> Corpus:
        """The model indexed on the dataset, built once. A model that failed stays failed."""
        key = (source, model_id)
        with self._locks_lock:  # one lock per (dataset, model): a slow model never blocks the others
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._corpora:
                bench = self.benchmark(source)
                try:
                    model = load_model(MODELS[model_id], self._embedding_cache())
                    docs = list(bench.docs.values())
                    model.index_corpus(docs, progress)
                    self._corpora[key] = Corpus(model, [d.doc_id for d in docs])
                except Exception as e:  # shown in that retriever's column; the others go on
                    self._corpora[key] = e if isinstance(e, UserError) else UserError(f"{model_id}: {type(e).__name__}: {e}")
            found = self._corpora[key]
        if isinstance(found, Exception):
            raise found
        return found

    def rankings(self, source: str, retriever_id: str, pairs: Sequence[tuple]) -> tuple[Corpus, list[Ranking]]:
        """Full rankings for (instruction, query[, query_first]) tuples, memoised by encoded input."""
        ref = parse_id(retriever_id)
        if isinstance(ref, ids.Fusion):
            return self._fused(source, ref, pairs)
        if isinstance(ref, ids.Rerank):
            from demo.retrievers.rerank import rerank_rankings
            corpus, first = self.rankings(source, ref.first.id, pairs)
            return corpus, rerank_rankings(self.benchmark(source), corpus, first, ref, pairs)
        spec, mode = MODELS[ref.model_id], ref.mode
        corpus = self.corpus(source, spec.model_id)
        inputs = [query_input(corpus.model.template, mode, *pair) for pair in pairs]
        keys = [(source, spec.model_id, e.prompt, e.text) for e in inputs]
        with self._memo_lock:
            found = {k: self._memo[k] for k in keys if k in self._memo}
            for k in found:
                self._memo.move_to_end(k)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = dict(zip(keys, inputs))
            for k, r in zip(missing, corpus.rankings([by_key[k] for k in missing])):
                found[k] = r
            with self._memo_lock:
                for k in missing:
                    self._memo[k] = found[k]
                while len(self._memo) > self._max:
                    self._memo.popitem(last=False)
        return corpus, [found[k] for k in keys]

    def _fused(self, source: str, ref: ids.Fusion, pairs: Sequence[tuple]) -> tuple[Corpus, list[Ranking]]:
        """RRF of the parts' full rankings (cheap: the parts' rankings are memoised)."""
        parts = [self.rankings(source, p.id, pairs) for p in ref.parts]
        corpus = parts[0][0]  # every corpus lists the dataset's docs in the same order
        out = []
        for rankings in zip(*(r for _, r in parts)):
            live = [r for r in rankings if not r.empty]  # a part that retrieved nothing adds nothing
            encoded = "\n".join(f"{p.id}: {r.encoded}" for p, r in zip(ref.parts, rankings) if r.encoded.strip())
            # a doc gets 1/(k + rank) from each part that retrieved it (rank 0 = not retrieved)
            scores = rrf_scores([np.where(r.ranks <= r.retrieved, r.ranks, 0) for r in live], ref.k) \
                if live else np.zeros(len(corpus.doc_ids))
            out.append(corpus.ranking(encoded, scores, int(np.count_nonzero(scores > 0))))
        return corpus, out

    # ---- checks ---------------------------------------------------------------------------
    def _instance(self, bench: Benchmark, instance_id: str) -> Instance:
        inst = bench.instances.get(str(instance_id).strip())
        if inst is None:
            raise UserError(f"unknown instance {instance_id!r} in {bench.name}")
        return inst

    @staticmethod
    def _check(instruction: str, k) -> int:
        if instruction is not None and len(instruction) > MAX_INSTRUCTION_CHARS:
            raise UserError(f"instruction too long: {len(instruction)} characters (limit {MAX_INSTRUCTION_CHARS})")
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise UserError(f"k must be a whole number, got {k!r}") from None
        if not 1 <= k <= MAX_K:
            raise UserError(f"k must be between 1 and {MAX_K}, got {k}")
        return k

    # ---- the API ------------------------------------------------------------------------------
    def instance(self, source: str, instance_id: str) -> dict:
        bench = self.benchmark(source)
        inst = self._instance(bench, instance_id)
        return {"instance_id": inst.instance_id, "query_id": inst.query_id, "query": inst.query,
                "instruction": inst.instruction, "targets": list(inst.targets), "persona": inst.persona,
                "siblings": list(bench.siblings(inst.instance_id)), "variants": variants(bench, inst),
                "unavailable_variants": unavailable_variants()}

    def rank(self, source: str, instance_id: str, instruction: str, retrievers, k=10) -> dict:
        """Compare retrievers on one instance with an edited instruction (DESIGN §6 /rank)."""
        k = self._check(instruction, k)
        bench = self.benchmark(source)
        inst = self._instance(bench, instance_id)
        ids = parse_retriever_list(retrievers)
        edited = split_variant(instruction if instruction is not None else inst.instruction, inst.query)
        group = [bench.instances[i] for i in bench.groups[inst.query_id]]
        siblings = set(bench.siblings(inst.instance_id))
        lost = _relevance_lost(bench, inst, edited)
        out, rob, rob_orig, errors = {}, {}, {}, {}
        for rid in ids:
            try:
                corpus, (new, *originals) = self.rankings(
                    source, rid, [edited] + [(g.instruction, g.query) for g in group])
            except UserError as e:
                errors[rid] = str(e)
                out[rid] = {"error": str(e), "label": _label(rid)}
                continue
            orig = originals[[g.instance_id for g in group].index(inst.instance_id)]
            group_ndcg = {g.instance_id: _ndcg(corpus, g, r, k) for g, r in zip(group, originals)}
            ndcg = _ndcg(corpus, inst, new, k)
            rob_orig[rid] = robustness(group_ndcg, {inst.query_id: group_ndcg})
            rob[rid] = robustness({**group_ndcg, inst.instance_id: ndcg}, {inst.query_id: group_ndcg})
            out[rid] = {
                "label": _label(rid), "encoded": new.encoded, "original_encoded": orig.encoded,
                "ranking": [_card(corpus, new, orig, i, inst, siblings) for i in new.top(k)],
                "target_rank": _target_rank(corpus, inst, new), "ndcg": ndcg,
                "original_target_rank": _target_rank(corpus, inst, orig), "original_ndcg": group_ndcg[inst.instance_id],
                "original_top": [corpus.doc_ids[i] for i in orig.top(k)],
            }
            if lost:  # FollowIR: the target lost its relevance under this instruction; it should move down
                # a doc outside a retrieved list takes rank len(list) + 1 (DESIGN §4)
                old_rank = out[rid]["original_target_rank"] or orig.retrieved + 1
                new_rank = out[rid]["target_rank"] or new.retrieved + 1
                out[rid]["p_mrr"] = pairwise_mrr(old_rank, new_rank)
        return {"instance_id": inst.instance_id, "query_id": inst.query_id, "k": k, "retrievers": out,
                "relevance_lost": lost,
                "robustness": rob, "original_robustness": rob_orig, "errors": errors,
                "summary": summarize(out, edited != (inst.instruction, inst.query, False))}

    def sweep(self, source: str, query_id: str, retrievers, k=10, instance_id: str | None = None,
              instruction: str | None = None) -> dict:
        """Every variant of one base query through every retriever (DESIGN §6 /sweep): the
        query's instructions, the dataset's paraphrases, the perturbations of one instance
        (`instance_id`, else the one with paraphrases) and, if given, the edited instruction."""
        k = self._check(instruction, k)
        bench = self.benchmark(source)
        query_id = str(query_id).strip()
        if query_id not in bench.groups:
            raise UserError(f"unknown base query {query_id!r} in {bench.name}")
        ids = parse_retriever_list(retrievers)
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
            rows.append(({"kind": "edit", "label": "your edit", "instance_id": pivot.instance_id, "text": instruction},
                         pivot, split_variant(instruction, pivot.query)))
        result = {}
        for rid in ids:
            try:
                corpus, ranks = self.rankings(source, rid, [pair for _, _, pair in rows])
            except UserError as e:
                result[rid] = {"error": str(e), "label": _label(rid)}
                continue
            ndcgs = [_ndcg(corpus, inst, r, k) for (_, inst, _), r in zip(rows, ranks)]
            originals = {v["instance_id"]: n for (v, _, _), n in zip(rows, ndcgs) if v["kind"] == "original"}
            result[rid] = {"label": _label(rid), "target_rank": [_target_rank(corpus, inst, r) for (_, inst, _), r in zip(rows, ranks)],
                           "ndcg": ndcgs, "robustness": min(originals.values()), "variant_robustness": min(ndcgs)}
        return {"query_id": query_id, "query": group[0].query, "k": k, "pivot": pivot.instance_id,
                "variants": [v for v, _, _ in rows], "retrievers": result}

    def explain(self, source: str, instance_id: str, instruction: str | None, retriever_id: str, doc_id: str) -> dict:
        """Why a doc sits where it does for this instruction (DESIGN §12); shape in demo.explain."""
        from demo.explain import explain
        return explain(self, source, instance_id, instruction, retriever_id, doc_id)

    def instance_ndcgs(self, source: str, retrievers, k: int = 10) -> dict[str, dict[str, float]]:
        """nDCG@k of every instance (original instruction) per retriever; failed retrievers omitted."""
        k = self._check(None, k)
        ids = parse_retriever_list(retrievers)
        key = (source, tuple(ids), k)
        if key not in self._tables:
            insts = list(self.benchmark(source).instances.values())
            per = {}
            for rid in ids:
                try:
                    corpus, ranks = self.rankings(source, rid, [(i.instruction, i.query) for i in insts])
                except UserError:
                    continue
                per[rid] = {i.instance_id: _ndcg(corpus, i, r, k) for i, r in zip(insts, ranks)}
            self._tables[key] = per
        return self._tables[key]

    def query_table(self, source: str, retrievers, k: int = 10) -> list[dict]:
        """Per base query: Robustness@k and mean nDCG@k per retriever, and how much the
        retrievers disagree, for ordering the query picker by interest."""
        bench = self.benchmark(source)
        per = self.instance_ndcgs(source, retrievers, k)
        rows = []
        for qid, members in bench.groups.items():
            rob = {rid: min(v[m] for m in members) for rid, v in per.items()}
            nd = {rid: mean(v[m] for m in members) for rid, v in per.items()}
            rows.append({"query_id": qid, "query": bench.instances[members[0]].query, "instances": len(members),
                         "robustness": rob, "ndcg": nd,
                         "min_robustness": min(rob.values()) if rob else None,
                         "disagreement": (max(nd.values()) - min(nd.values())) if nd else 0.0})
        return rows

    def scoreboard(self, source: str, retrievers, k: int = 10) -> dict:
        """Dataset-level nDCG@k and Robustness@k per retriever (as `python -m demo evaluate`),
        with the instruction-blind floor."""
        from demo.evaluation import blind_floor
        bench = self.benchmark(source)
        per = self.instance_ndcgs(source, retrievers, k)
        board = {rid: {f"ndcg@{k}": mean(v.values()), f"robustness@{k}": robustness(v, bench.groups)}
                 for rid, v in per.items()}
        return {"k": k, "retrievers": board, "floor": blind_floor(bench, k)}


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
    return label(rid)


def _ndcg(corpus: Corpus, inst: Instance, r: Ranking, k: int) -> float:
    return ndcg_at_k(inst.qrels, {corpus.doc_ids[i]: float(r.scores[i]) for i in r.top(k)}, k)


def _target_rank(corpus: Corpus, inst: Instance, r: Ranking) -> int | None:
    ranks = [r.rank(corpus.index[t]) for t in inst.targets if t in corpus.index]
    ranks = [x for x in ranks if x is not None]
    return min(ranks) if ranks else None


def _card(corpus: Corpus, new: Ranking, orig: Ranking, i: int, inst: Instance, siblings: set) -> dict:
    doc = corpus.doc_ids[i]
    return {"doc_id": doc, "score": float(new.scores[i]), "rank": new.rank(i),
            "shift": rank_shift(orig.rank(i), new.rank(i)), "original_rank": orig.rank(i),
            "is_target": inst.qrels.get(doc, 0) > 0, "is_sibling": doc in siblings}


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
