"""The cost budget per request (docs/architecture.md, "Bounds per request"): an explanation of a
500-sentence instruction costs a bounded number of encodes, in one batch; every request stops
before passing its encode or time bound, with one line; one visitor runs at most two heavy
requests at once; no failure reaches the caller without a message."""
from __future__ import annotations

import gradio_client
import pytest

from app_server import launched
from demo import budget
from demo.service import Explorer
from demo.service.explain import MAX_SPANS, spans

LONG = "Go. " * 495 + "x."  # 496 sentences in 1,982 characters: the most 2,000 characters allow


def count_encodes(explorer, src, model_id):
    model = explorer.corpus(src, model_id).model
    calls = []
    inner = model.score_all

    def counting(inputs):
        calls.append(len(inputs))
        return inner(inputs)
    model.score_all = counting
    return calls


def test_spans_are_consecutive_even_and_at_most_the_cap():
    parts = [f"s{i}." for i in range(496)]
    groups = spans(parts)
    assert len(groups) == MAX_SPANS and [p for g in groups for p in g] == parts
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert spans(parts[:5]) == [[p] for p in parts[:5]]


@pytest.mark.parametrize("rid", ["minilm", "rrf(bm25,minilm)"])
def test_a_500_sentence_instruction_explains_in_bounded_encodes(tiny, rid):
    explorer, src = Explorer(), str(tiny)
    calls = count_encodes(explorer, src, "minilm")
    out = explorer.explain(src, "a_2", LONG, rid, "a_3")
    assert out["method"] == "occlusion" and len(out["sentences"]) == MAX_SPANS
    assert sum(r["sentence_count"] for r in out["sentences"]) == 496
    assert sum(calls) <= MAX_SPANS + 1 and len(calls) <= 2, calls  # the full text, then one batch of spans
    assert "spans" in out["note"]


def test_a_request_stops_at_its_encode_bound_with_one_line(tiny):
    explorer, src = Explorer(), str(tiny)
    with budget.request("rank", budget.Limits(encodes=3, seconds=60)):
        out = explorer.rank(src, "a_1", "a new need", ["minilm", "rrf(bm25,minilm)"], 5)
    errors = [col.get("error", "") for col in out["retrievers"].values()]
    assert any("model encodes" in e and "\n" not in e for e in errors), errors


def test_a_request_past_its_time_starts_no_model_call(tiny):
    explorer, src = Explorer(), str(tiny)
    explorer.corpus(src, "minilm")
    calls = count_encodes(explorer, src, "minilm")
    with budget.request("explain", budget.Limits(encodes=1000, seconds=-1)):
        with pytest.raises(budget.BudgetExceeded, match="took longer than"):
            explorer.explain(src, "a_2", LONG, "minilm", "a_3")
    assert calls == []


def test_one_visitor_runs_at_most_two_heavy_requests():
    visitors = budget.Visitors(2)
    with visitors.slot("1.2.3.4"), visitors.slot("1.2.3.4"):
        with pytest.raises(budget.BudgetExceeded, match="2 heavy requests"):
            with visitors.slot("1.2.3.4"):
                pass
        with visitors.slot("5.6.7.8"):  # another visitor is not held up
            assert visitors.running() == 3
    assert visitors.running() == 0


def test_public_api_groups_heavy_endpoints_and_answers_every_failure_with_a_message(tiny, monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "1")
    explorer = Explorer()
    with launched(explorer, warm=("bm25",)) as url:
        client = gradio_client.Client(url, verbose=False)
        out = client.predict("demo", "101_1", LONG, "bm25", "p101", api_name="/explain")  # gr.Request is injected
        assert out["method"] == "terms"
        explorer.explain = lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device", "/srv/x"))
        with pytest.raises(Exception) as e:
            client.predict("demo", "101_1", LONG, "bm25", "p101", api_name="/explain")
        assert "could not answer (OSError)" in str(e.value) and "/srv/x" not in str(e.value)
    fns = {fn.api_name: (fn.concurrency_id, fn.concurrency_limit) for fn in explorer_app(explorer).fns.values()}
    assert fns["explain"] == fns["sweep"] == fns["inspect"] == ("heavy", budget.HEAVY_IN_ALL)
    assert fns["rank"][0] != "heavy"


def explorer_app(explorer):
    from demo.ui.app import build_app
    return build_app(explorer)
