"""Rerankers (first>reranker): declared hub rerankers are unavailable offline at once, with the
reason; the code path runs on a tiny CrossEncoder and a tiny causal LM built here, including the
exact prompt strings, through the service, the explainer and the CLI's retrievers."""
from __future__ import annotations

import time

import numpy as np
import pytest

from demo.data.release import load_folder
from demo.errors import UserError
from demo.metrics.ranking import ranked
from demo.retrievers import registry
from demo.retrievers.registry import RERANKERS, RerankerSpec, canonical_id, label, reranker_availability
from demo.retrievers.rerank import FOLLOWIR_PROMPT, doc_text, rerank_query
from demo.keep import Keep
from demo.service import Explorer
from demo.service.batch import instance_run
from helpers import tiny_causal_lm, tiny_cross_encoder

EDIT = "I am a parent making a warm drink for my young kids in the evening."


@pytest.fixture(scope="module")
def tiny_ce(tmp_path_factory):
    return tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture
def tiny_rerankers(monkeypatch, tiny_ce, tiny_lm):
    monkeypatch.setattr(registry, "_RERANKERS", Keep(len(RERANKERS) + 2))  # loaded scorers: none yet
    monkeypatch.setitem(RERANKERS, "tiny-ce", RerankerSpec("tiny-ce", "Tiny CE", "cross-encoder", "test/tiny-ce", "0",
                                                           depth=5, local_path=str(tiny_ce)))
    monkeypatch.setitem(RERANKERS, "tiny-followir", RerankerSpec("tiny-followir", "Tiny FollowIR", "followir",
                                                                 "test/tiny-followir", "0", depth=4,
                                                                 local_path=str(tiny_lm)))


def test_declared_rerankers_are_pinned_and_unavailable_offline_at_once(tmp_path, monkeypatch):
    import huggingface_hub.constants
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(registry, "_RERANKERS", Keep(len(RERANKERS)))
    assert RERANKERS["ms-marco-minilm"].hub_id == "cross-encoder/ms-marco-MiniLM-L-6-v2"
    assert RERANKERS["followir-7b"].hub_id == "jhu-clsp/FollowIR-7B" and RERANKERS["followir-7b"].instruction_tuned
    assert all(len(s.revision) == 40 for s in RERANKERS.values())
    for rr in ("ms-marco-minilm", "followir-7b"):
        start = time.monotonic()
        assert reranker_availability(RERANKERS[rr]).startswith("offline")
        result = Explorer().rank("demo", "101_1", None, [f"bm25>{rr}", "bm25"], 5)
        assert time.monotonic() - start < 10  # no download attempt, no model load
        col = result["retrievers"][f"bm25>{rr}"]
        assert col["error"].startswith(f"{rr} unavailable: offline") and RERANKERS[rr].hub_id in col["error"]
        assert "error" not in result["retrievers"]["bm25"]


def test_reranker_ids():
    assert canonical_id(" bm25 > ms-marco-minilm ") == "bm25>ms-marco-minilm"
    assert canonical_id("rrf(bm25,minilm)>followir-7b@query") == "rrf(bm25,minilm)>followir-7b@query"
    assert label("bm25@query>ms-marco-minilm") == "BM25 (query only) → ms-marco-MiniLM-L-6-v2"
    with pytest.raises(UserError, match="unknown reranker 'nope'"):
        canonical_id("bm25>nope")
    with pytest.raises(UserError, match="one reranker at most"):
        canonical_id("bm25>ms-marco-minilm>followir-7b")


def test_query_text_per_mode():
    assert rerank_query("full", " be brief ", "tea") == "tea be brief"
    assert rerank_query("query", "be brief", "tea") == "tea"
    assert rerank_query("instruction", "be brief", "tea") == "be brief"


def test_followir_prompt_string_for_string(tiny_rerankers):
    scorer = registry.load_reranker("tiny-followir")
    (prompt,) = scorer.inputs("how to brew tea Be brief.", ["Steep green tea."])
    assert prompt == ('<s> [INST] You are an expert Google searcher, whose job is to determine if the following '
                      'document is relevant to the query (true/false). Answer using only one word, one of those two '
                      'choices.\n\nQuery: how to brew tea Be brief.\nDocument: Steep green tea.\n'
                      'Relevant (only output one word, either "true" or "false"): [/INST] ')
    assert prompt == FOLLOWIR_PROMPT.format(query="how to brew tea Be brief.", text="Steep green tea.")
    assert scorer.inputs("q", ["a", "b"]) == [FOLLOWIR_PROMPT.format(query="q", text=t) for t in ("a", "b")]


def test_followir_score_is_p_true_of_the_last_position(tiny_rerankers):
    import torch
    scorer = registry.load_reranker("tiny-followir")
    docs = ["Steep green tea leaves for two minutes.", "Replace a bicycle chain when it stretches."]
    got = scorer.score("how to brew tea", docs)
    vocab = scorer.tokenizer.get_vocab()
    for doc, value in zip(docs, got):  # one prompt at a time: no padding involved
        ids = scorer.tokenizer(FOLLOWIR_PROMPT.format(query="how to brew tea", text=doc), return_tensors="pt")
        with torch.no_grad():
            last = scorer.model(input_ids=ids["input_ids"]).logits[0, -1]
        t, f = last[vocab["true"]].item(), last[vocab["false"]].item()
        assert value == pytest.approx(np.exp(t) / (np.exp(t) + np.exp(f)), abs=1e-5)
    assert scorer.tokenizer.padding_side == "left"


def test_cross_encoder_pairs_and_scores(tiny_rerankers, tiny_ce):
    from sentence_transformers import CrossEncoder
    scorer = registry.load_reranker("tiny-ce")
    assert scorer.inputs("how to brew tea", ["a", "b"]) == [("how to brew tea", "a"), ("how to brew tea", "b")]
    ref = CrossEncoder(str(tiny_ce), device="cpu").predict([("how to brew tea", "steep green tea")])
    assert scorer.score("how to brew tea", ["steep green tea"])[0] == pytest.approx(float(ref[0]), abs=1e-6)


@pytest.mark.parametrize("rr", ["tiny-ce", "tiny-followir"])
def test_service_reranks_the_first_stage_top_n(tiny, tiny_rerankers, rr):
    src, explorer = str(tiny), Explorer()
    bench = explorer.benchmark(src)
    depth = RERANKERS[rr].depth
    rid = f"bm25>{rr}"
    result = explorer.rank(src, "a_2", EDIT, [rid, "bm25"], 8)
    col, first = result["retrievers"][rid], result["retrievers"]["bm25"]
    top = [c["doc_id"] for c in first["ranking"][:depth]]
    scorer = registry.load_reranker(rr)
    query = f"how to brew tea {EDIT}"
    expected = dict(zip(top, scorer.score(query, [doc_text(bench.docs[d]) for d in top]).tolist()))
    assert [c["doc_id"] for c in col["ranking"]] == ranked(expected)  # only the top N are retrieved
    for c in col["ranking"]:
        assert c["score"] == pytest.approx(expected[c["doc_id"]], abs=1e-6)
    assert col["encoded"].startswith(first["encoded"] + "\n> ") and scorer.describe(query) in col["encoded"]
    assert col["label"] == f"BM25 → {RERANKERS[rr].label}"
    # below the top N: not retrieved, and the explainer says so
    outside = next(d for d in bench.docs if d not in top)
    why = explorer.explain(src, "a_2", EDIT, rid, outside)
    assert why["method"] == "occlusion" and why["rank"] is None and why["score"] is None


def test_cli_retriever_matches_the_service(tiny, tiny_rerankers):
    bench = load_folder(tiny)
    rid = "bm25>tiny-ce"
    run = instance_run(Explorer().rankers, str(tiny), rid, bench, len(bench.docs))  # the CLI's path
    explorer = Explorer()
    for iid, inst in bench.instances.items():
        col = explorer.rank(str(tiny), iid, None, [rid], 8)["retrievers"][rid]
        assert [c["doc_id"] for c in col["ranking"]] == ranked(run[iid])
        first = explorer.rank(str(tiny), iid, None, ["bm25"], 8)["retrievers"]["bm25"]["ranking"]
        assert len(run[iid]) == min(RERANKERS["tiny-ce"].depth, len(first))  # BM25 retrieves shared terms only


def test_unavailable_reranker_fails_before_embedding(tiny, monkeypatch, tmp_path):
    import huggingface_hub.constants
    from demo.cli import instance_runs
    from demo.retrievers.registry import ModelUnavailable
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(registry, "_RERANKERS", Keep(len(RERANKERS)))
    stages = []  # (stage, done, total) of the CLI's progress: indexing or searching
    with pytest.raises(ModelUnavailable, match="ms-marco-minilm unavailable: offline"):
        instance_runs(["minilm>ms-marco-minilm"], str(tiny), load_folder(tiny), 10,
                      lambda stage, done, total: stages.append(stage))
    assert stages == []  # nothing indexed (no corpus embedded), nothing searched
