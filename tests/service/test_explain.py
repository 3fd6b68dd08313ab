"""Why here: BM25 term contributions against rank_bm25 itself, and instruction-sentence
occlusion for a dense model, a fusion and a retriever that ignores the instruction, each row
checked against an independent /rank call with that sentence left out."""
from __future__ import annotations

import pytest

from demo.errors import UserError
from demo.retrievers.bm25 import tokenize
from demo.service import Explorer

EDIT = ("I am a parent of two small children. They drink warm things before bed. "
        "I want something gentle and without caffeine.")
OFFICE = "I make tea for my office. We use a large urn."  # doc a_3 shares urn/large/office, and brew with the query


@pytest.fixture
def explorer():
    return Explorer()


def card_of(explorer, src, rid, instruction, doc_id):
    col = explorer.rank(src, "a_2", instruction, [rid], 8)["retrievers"][rid]
    return next(c for c in col["ranking"] if c["doc_id"] == doc_id)


@pytest.mark.parametrize("rid", ["bm25", "bm25@query"])
def test_bm25_terms_sum_to_the_score_and_match_rank_bm25(tiny, explorer, rid):
    src = str(tiny)
    out = explorer.explain(src, "a_2", OFFICE, rid, "a_3")
    card = card_of(explorer, src, rid, OFFICE, "a_3")
    assert out["method"] == "terms" and out["score"] == card["score"] and out["rank"] == card["rank"]
    assert out["terms"] and sum(t["contribution"] for t in out["terms"]) == pytest.approx(out["score"], abs=1e-9)
    okapi = explorer.corpus(src, "bm25").model.bm25.okapi
    doc = explorer.corpus(src, "bm25").index["a_3"]
    instruction_terms, query_terms = set(tokenize(OFFICE)), set(tokenize("how to brew tea"))
    for t in out["terms"]:  # one term at a time through rank_bm25's own scorer
        assert t["contribution"] == pytest.approx(t["count"] * okapi.get_scores([t["term"]])[doc], abs=1e-9)
        expected = ("both" if t["term"] in instruction_terms and t["term"] in query_terms else
                    "instruction" if t["term"] in instruction_terms else "query")
        assert t["source"] == (expected if rid == "bm25" else "query")
        assert t["doc_tf"] >= 1
    contributions = [t["contribution"] for t in out["terms"]]
    assert contributions == sorted(contributions, reverse=True)
    if rid == "bm25":
        assert {t["source"] for t in out["terms"]} >= {"instruction", "query"}


def test_bm25_doc_without_matching_terms(tiny, explorer):
    out = explorer.explain(str(tiny), "a_2", "", "bm25", "b_2")  # "how to brew tea" vs a bike passage
    assert out["terms"] == [] and out["score"] == 0 and "score is 0" in out["note"]


@pytest.mark.parametrize("rid", ["minilm", "rrf(bm25,minilm)"])
def test_occlusion_rows_match_rank_without_each_sentence(tiny, explorer, rid):
    src = str(tiny)
    out = explorer.explain(src, "a_2", EDIT, rid, "a_2")
    assert out["method"] == "occlusion"
    card = card_of(explorer, src, rid, EDIT, "a_2")
    assert (out["score"], out["rank"]) == (card["score"], card["rank"])
    sentences = ["I am a parent of two small children.", "They drink warm things before bed.",
                 "I want something gentle and without caffeine."]
    assert [s["text"] for s in out["sentences"]] == sentences
    for s in out["sentences"]:
        rest = " ".join(x for j, x in enumerate(sentences) if j != s["index"])
        alone = card_of(explorer, src, rid, rest, "a_2")
        assert s["score"] == pytest.approx(alone["score"], abs=1e-6) and s["rank"] == alone["rank"]
        assert s["rank_change"] == out["rank"] - s["rank"]
        assert s["score_change"] == pytest.approx(s["score"] - out["score"], abs=1e-12)
    marked = [s for s in out["sentences"] if s["moved_most"]]
    assert len(marked) == 1
    assert abs(marked[0]["rank_change"]) == max(abs(s["rank_change"]) for s in out["sentences"])
    assert f"sentence {marked[0]['index'] + 1}" in out["note"]


def test_occlusion_of_a_retriever_that_ignores_the_instruction(tiny, explorer):
    out = explorer.explain(str(tiny), "a_2", EDIT, "minilm@query", "a_2")
    assert all(s["rank_change"] == 0 and s["score_change"] == 0 for s in out["sentences"])
    assert not any(s["moved_most"] for s in out["sentences"])
    assert "does not read the instruction" in out["note"]


def test_one_sentence_instruction_is_left_out_whole(tiny, explorer):
    out = explorer.explain(str(tiny), "a_2", None, "minilm", "a_2")  # None: the instance's own instruction
    assert len(out["sentences"]) == 1 and out["sentences"][0]["text"].startswith("I am a parent")
    assert out["sentences"][0]["rank"] == card_of(explorer, str(tiny), "minilm@query", None, "a_2")["rank"]


@pytest.mark.parametrize("args, message", [
    (("nope", EDIT, "bm25", "a_2"), "unknown instance"),
    (("a_2", EDIT, "bm25", "zz"), "unknown doc"),
    (("a_2", EDIT, "colbertz", "a_2"), "unknown model"),
    (("a_2", "x" * 5000, "bm25", "a_2"), "too long"),
])
def test_bad_input_is_a_user_error(tiny, explorer, args, message):
    with pytest.raises(UserError, match=message):
        explorer.explain(str(tiny), *args)
