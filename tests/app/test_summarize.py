"""The sentences above the columns (demo.ui.render.summarize), written by the UI from a result of
Explorer.rank: its `changed` and `graded_chosen` keys, never a `summary` key. The expectations
follow tests/service/test_service.py, which checked the sentences when the service wrote them."""
from __future__ import annotations

import pytest

from app_server import new_explorer
from demo.ui.render import render_summary, summarize


def col(old, new, encoded="text [SEP] query", **extra) -> dict:
    return {"label": "x", "encoded": encoded, "original_target_rank": old, "target_rank": new, **extra}


def result(retrievers: dict, changed=True, graded_against="404_3", chosen=False, persona=None, **extra) -> dict:
    """A hand-built result with the keys the restructured service returns (no `summary`)."""
    return {"instance_id": "404_3", "query_id": "404", "k": 10, "retrievers": retrievers,
            "graded_against": graded_against, "graded_persona": persona, "changed": changed,
            "graded_chosen": chosen, "relevance_lost": None, **extra}


def test_the_original_instruction():
    r = result({"bm25": col(3, 3), "minilm": col(None, None), "gtr-t5-base": {"label": "GTR", "error": "offline"}},
               changed=False)
    assert summarize(r) == "Original instruction: bm25: target at #3; minilm: target not retrieved."


def test_rose_fell_unchanged():
    r = result({"bm25": col(5, 2), "minilm": col(2, 7), "minilm@query": col(3, 3), "mpnet": col(4, 4)})
    parts = summarize(r).rstrip(".").split("; ")
    assert parts == ["bm25: target rose from #5 to #2", "minilm: target fell from #2 to #7",
                     "minilm@query unchanged at #3 (it ignores the instruction)", "mpnet unchanged at #4"]


def test_not_retrieved_nothing_to_encode_and_unavailable():
    r = result({"bm25": col(None, None), "bm25@instruction": col(4, None, encoded="  "),
                "minilm": col(None, 6), "dense": col(6, None), "gtr-t5-base": {"label": "GTR", "error": "offline"}})
    assert summarize(r) == ("bm25: target still not retrieved; "
                            "bm25@instruction: nothing to encode, nothing retrieved (target was #4); "
                            "minilm: target not retrieved before, #6 now; dense: target #6 before, not retrieved now; "
                            "gtr-t5-base: unavailable.")


def test_p_mrr_when_the_target_lost_its_relevance():
    gone = {"doc_ids": ["p404_3"], "original_rank": 2, "rank": 8, "regraded": False}
    r = result({"bm25": col(2, 8, p_mrr=0.75, lost_target=gone), "minilm@query": col(3, 3, p_mrr=0.0)})
    assert summarize(r) == ("bm25: target fell from #2 to #8 (p-MRR +75); "
                            "minilm@query unchanged at #3 (it ignores the instruction) (p-MRR +0).")
    assert "p-MRR" not in summarize(result({"bm25": col(2, 1)}))  # an ordinary edit


def test_graded_against_another_users_target():
    gone = {"doc_ids": ["p404_3"], "original_rank": 1, "rank": 5, "regraded": True}
    r = result({"bm25": col(4, 1, p_mrr=0.8, lost_target=gone)}, graded_against="404_1", persona="a teacher")
    assert summarize(r) == ("Graded against the target of 404_1 (a teacher), whose instruction the editor holds. "
                            "bm25: target rose from #4 to #1 (old target #1 → #5, p-MRR +80).")
    assert summarize({**r, "graded_chosen": True}).startswith(
        "Graded against the target of 404_1 (a teacher), as chosen. ")
    same = {**gone, "rank": 1}  # the old target did not move: no p-MRR to tell
    assert summarize(result({"bm25": col(4, 1, p_mrr=0.0, lost_target=same)}, graded_against="404_1")) == \
        "Graded against the target of 404_1, whose instruction the editor holds. bm25: target rose from #4 to #1."
    assert not summarize(result({"bm25": col(4, 1)}, chosen=True)).startswith("Graded")  # its own target


def test_a_summary_key_is_not_read():
    r = result({"bm25": col(5, 2)}, summary="something else")
    assert summarize(r) == "bm25: target rose from #5 to #2." and "something else" not in render_summary(
        {**r, "summary": summarize(r)})


# ---- the service's keys that the sentences read ---------------------------------------------------
@pytest.fixture(scope="module")
def ex():
    return new_explorer()


def keyed(r: dict, changed: bool, chosen: bool) -> dict:
    """The two keys of the restructured service, by hand, without the service's own sentences."""
    return {**{k: v for k, v in r.items() if k != "summary"}, "changed": changed, "graded_chosen": chosen}


CASES = [  # (instance, text (None: its own), grade_against, changed, chosen)
    ("404_3", None, None, False, False),
    ("404_3", "padded", None, False, False),
    ("404_3", "Short answer please.", None, True, False),
    ("404_3", "Short answer please.", "404_1", True, True),
    ("404_3", "other user", None, True, False),
    ("201_1", "query only", None, True, False),
]


@pytest.mark.parametrize("iid, text, grade, changed, chosen", CASES)
def test_the_ui_sentences_match_the_service_sentences(ex, iid, text, grade, changed, chosen):
    bench = ex.benchmark("demo")
    inst = bench.instances[iid]
    if text == "padded":
        text = f"  {inst.instruction}\n"
    elif text == "other user":
        text = bench.instances[next(i for i in bench.groups[inst.query_id] if i != iid)].instruction
    elif text == "query only":
        text = next(v for v in ex.instance("demo", iid)["variants"] if v["kind"] == "query-only")["text"]
    r = ex.rank("demo", iid, text, ["bm25", "bm25@query", "minilm"], 10, grade_against=grade)
    assert (r["changed"], r["graded_chosen"]) == (changed, chosen)
    assert summarize(keyed(r, changed, chosen)) == summarize(r)
