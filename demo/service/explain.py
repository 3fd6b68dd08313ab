"""Why is this document here? (docs/architecture.md, "Views"), for one result card.

explain(rankers, dataset, instance_id, instruction, retriever_id, doc_id) -> a plain dict:

    {"retriever": id, "label": str, "doc_id": str, "instance_id": str,
     "method": "terms" | "occlusion",
     "score": float | None, "rank": int | None,   # the doc under the full instruction (None: not retrieved)
     "encoded": str,                              # what the retriever was given
     # method "terms" (BM25): every query term that matches the doc, largest first; the
     # contributions sum to "score" (a BM25 score is a sum over query terms)
     "terms": [{"term": str, "source": "query" | "instruction" | "both", "count": int,
                "doc_tf": int, "contribution": float}],
     # method "occlusion" (dense models, fusions, rerankers): the instruction's sentences, each
     # left out in turn; "moved_most" marks the one whose absence moved the doc furthest. An
     # instruction of more than MAX_SPANS sentences is cut into MAX_SPANS spans of consecutive
     # sentences, each left out in turn ("sentence_count" says how many each holds), so that one
     # explanation costs at most MAX_SPANS + 1 encodes per model, in one batch
     "sentences": [{"index": int, "text": str, "sentence_count": int, "score": float | None,
                    "rank": int | None, "score_change": float, "rank_change": int | None,
                    "moved_most": bool}],
     "note": str}                                 # one plain sentence for the reader

rank_change = rank with the full instruction − rank without the sentence (positive: the doc
rises when the sentence is left out, so that sentence was holding it down). Text fields are
plain text: the renderer escapes them.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from demo import budget
from demo.data.sources import open_source
from demo.data.variants import sentences, split_variant
from demo.engine import Query, Scored
from demo.errors import UserError
from demo.retrievers import ids
from demo.retrievers.bm25 import tokenize
from demo.retrievers.registry import label, parse_id
from demo.retrievers.templates import query_input
from demo.service.checks import check
from demo.service.rankings import Rankers


NOISE = 1e-6  # score differences below this are float noise of batched encoding
MAX_SPANS = 12  # the most parts of an instruction left out in turn (docs/architecture.md, "Bounds per request")


def explain(rankers: Rankers, source: str, instance_id: str, instruction: str | None, retriever_id: str,
            doc_id: str) -> dict:
    with budget.request("explain"):
        return _explain(rankers, source, instance_id, instruction, retriever_id, doc_id)


def spans(parts: list[str], most: int = MAX_SPANS) -> list[list[str]]:
    """The sentences in at most `most` runs of consecutive sentences, as even in size as can be."""
    n = len(parts)
    if n <= most:
        return [[p] for p in parts]
    cuts = [round(j * n / most) for j in range(most + 1)]
    return [parts[a:b] for a, b in zip(cuts, cuts[1:])]


def _explain(rankers: Rankers, source: str, instance_id: str, instruction: str | None, retriever_id: str,
             doc_id: str) -> dict:
    source, bench = open_source(source)
    inst = bench.instances.get(str(instance_id).strip())
    if inst is None:
        raise UserError(f"unknown instance {instance_id!r} in {bench.name}")
    check(instruction, 1)
    doc_id = str(doc_id).strip()
    if doc_id not in bench.docs:
        raise UserError(f"unknown doc {doc_id!r} in {bench.name}")
    ref = parse_id(retriever_id)
    if isinstance(ref, ids.Run):
        raise UserError(f"{ref.id} is a run file: its scores came from elsewhere, with no model here to ask why")
    edited = Query(*split_variant(instruction if instruction is not None else inst.instruction, inst.query))
    docs, (scored,) = rankers.scores(source, ref.id, [edited])
    i = docs.index[doc_id]
    out = {"retriever": ref.id, "label": label(ref.id), "doc_id": doc_id, "instance_id": inst.instance_id,
           "score": _score(scored, i), "rank": docs.rank(scored, i), "encoded": scored.encoded}
    if isinstance(ref, ids.Single) and ref.model_id == "bm25":
        model = rankers.corpora.corpus(source, ref.model_id).model
        return {**out, **_bm25_terms(model, ref.mode, edited, i, out["score"])}
    return {**out, **_occlusion(rankers, source, ref.id, edited, scored, i, out)}


def _score(scored: Scored, i: int) -> float | None:
    value = float(scored.scores[i])
    return value if math.isfinite(value) else None


def _bm25_terms(model, mode: str, edited: Query, i: int, score: float) -> dict:
    """Each query-side term's share of the BM25 score: count in the input x its weight in the doc."""
    instruction, query, query_first = edited
    text = query_input(model.template, mode, instruction, query, query_first).encoded
    index = model.bm25
    from_instruction = set(tokenize(instruction)) if mode != "query" else set()
    from_query = set(tokenize(query)) if mode != "instruction" else set()
    rows = []
    for term, count in Counter(tokenize(text)).items():
        row = index.vocab.get(term)
        weight = float(index.weights[row, i]) if row is not None else 0.0
        if weight == 0.0:
            continue  # the doc does not contain it (or BM25's idf floor is zero)
        source = "both" if term in from_instruction and term in from_query else \
            "instruction" if term in from_instruction else "query"
        rows.append({"term": term, "source": source, "count": count,
                     "doc_tf": int(index.okapi.doc_freqs[i].get(term, 0)), "contribution": count * weight})
    rows.sort(key=lambda r: (-r["contribution"], r["term"]))
    share = sum(r["contribution"] for r in rows if r["source"] != "query")
    note = (f"{len(rows)} matching terms; the instruction's terms give {share:.2f} of {score:.2f}." if rows else
            "No term of the input occurs in this document: its BM25 score is 0.")
    return {"method": "terms", "terms": rows, "note": note}


def _occlusion(rankers: Rankers, source: str, rid: str, edited: Query, full: Scored, i: int, base: dict) -> dict:
    instruction, query, query_first = edited
    groups = spans(sentences(instruction))
    parts = [" ".join(g) for g in groups]
    if len(parts) < 2:
        left_out = [Query("", query, query_first)] if parts else []
    else:
        left_out = [Query(" ".join(p for j, p in enumerate(parts) if j != k), query, query_first) for k in range(len(parts))]
    rows = []
    if left_out:
        docs, scored = rankers.scores(source, rid, left_out)
        # the same text encoded in another batch can differ in the last float32 bits: not a change.
        # A reranker scores docs outside its top N as -inf, and -inf - -inf is NaN: kept as they are.
        with np.errstate(invalid="ignore"):
            scored = [Scored(s.encoded, np.where(np.abs(s.scores - full.scores) <= NOISE, full.scores, s.scores), s.retrieved)
                      for s in scored]
        for k, (text, r) in enumerate(zip(parts, scored)):
            rank, score = docs.rank(r, i), _score(r, i)
            rows.append({"index": k, "text": text, "sentence_count": len(groups[k]), "score": score, "rank": rank,
                         "score_change": score - base["score"] if score is not None and base["score"] is not None else 0.0,
                         "rank_change": None if rank is None or base["rank"] is None else base["rank"] - rank,
                         "moved_most": False})
    if rows:
        most = max(rows, key=lambda r: (abs(r["rank_change"] or 0), abs(r["score_change"]), -r["index"]))
        if most["rank_change"] or abs(most["score_change"]) > NOISE:
            most["moved_most"] = True
    merged = len(groups) < sum(len(g) for g in groups)
    note = _occlusion_note(rows, "span" if merged else "sentence")
    if merged:
        note += (f" The instruction's {sum(len(g) for g in groups)} sentences are left out in {len(groups)} spans "
                 f"of consecutive sentences (at most {MAX_SPANS} per explanation).")
    return {"method": "occlusion", "sentences": rows, "note": note}


def _occlusion_note(rows: list[dict], unit: str = "sentence") -> str:
    if not rows:
        return "The instruction is empty: there is no sentence to leave out."
    most = next((r for r in rows if r["moved_most"]), None)
    if most is None:
        return "Leaving out any sentence changes nothing: this retriever does not read the instruction."
    change = most["rank_change"]
    if change:
        how = f"{'rises' if change > 0 else 'falls'} {abs(change)} place{'s' if abs(change) != 1 else ''} to #{most['rank']}"
    else:
        how = f"keeps its rank; its score changes by {most['score_change']:+.4f}"
    return f"Without {unit} {most['index'] + 1} the document {how}."

