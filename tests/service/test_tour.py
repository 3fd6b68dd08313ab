"""The guided tour: every step opens, and every claim its narrative makes holds on
what the step shows (real models on the bundled data)."""
from __future__ import annotations

import pytest

from demo.retrievers.registry import MODELS, availability, parse_retriever_id
from demo.service import Explorer
from demo.tour import STEPS, open_step
from demo.ui.tour_bar import render_step


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    return Explorer()


def _available(step) -> bool:
    for rid in step.retrievers:
        for part in rid.replace("rrf(", "").replace(")", "").split(","):
            try:
                spec, _ = parse_retriever_id(part)
            except Exception:
                return False
            if availability(MODELS[spec.model_id]):
                return False
    return True


def test_tour_has_five_to_seven_steps():
    assert 5 <= len(STEPS) <= 7
    assert len({s.title for s in STEPS}) == len(STEPS)


@pytest.mark.parametrize("n", range(1, len(STEPS) + 1))
def test_every_claim_of_every_step_holds(explorer, n):
    step = STEPS[n - 1]
    if not _available(step):
        pytest.skip(f"step {n} needs a model that is not available here: {step.retrievers}")
    opened = open_step(explorer, STEPS, n)
    assert opened["n"] == n and opened["of"] == len(STEPS)
    failed = [claim for claim, holds in opened["claims"] if not holds]
    assert not failed, f"step {n} ({step.title}): {failed}\n{opened['text']}"
    view = opened["view"]
    assert view["instance"] == step.instance_id and view["retrievers"] == list(step.retrievers)
    assert 2 <= opened["text"].count(".") and len(opened["text"]) <= 400  # two or three sentences, not an essay


def test_steps_open_different_views(explorer):
    views = {(s.instance_id, s.variant, s.retrievers) for s in STEPS}
    assert len(views) == len(STEPS)


def test_step_out_of_range_says_so(explorer):
    with pytest.raises(IndexError, match="steps 1 to"):
        open_step(explorer, STEPS, len(STEPS) + 1)


def test_narrative_is_escaped():
    html = render_step({"n": 1, "of": 2, "title": "<b>x</b>", "text": "`<script>` and <img src=x>"})
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html
    assert "<code>&lt;script&gt;</code>" in html
