"""The Explore tab's view handlers, called directly: a refresh whose inputs are already on
screen (blur after an edit, a pick that also changed the editor) does no work twice, and the
plots step skips work that a newer edit has made stale."""
from __future__ import annotations

import pytest

from app_server import new_explorer
from demo.ui.app import build_app

QUIET = dict(progress=lambda *a, **k: None)


class CountingExplorer:
    """The real Explorer, counting rank() and sweep() calls."""

    def __init__(self, inner):
        self.inner, self.rank_calls, self.sweep_calls = inner, 0, 0

    def rank(self, *args, **kwargs):
        self.rank_calls += 1
        return self.inner.rank(*args, **kwargs)

    def sweep(self, *args, **kwargs):
        self.sweep_calls += 1
        return self.inner.sweep(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def handlers():
    ex = CountingExplorer(new_explorer())
    app = build_app(ex)
    fns = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values()}
    assert "refresh" in fns and "replot" in fns, "no refresh/replot handler found"
    return fns["refresh"], fns["replot"], ex


def refresh_(refresh, text, rids, k, state, grade="auto"):
    return refresh("demo", text, rids, k, grade, "dataset", "explore", state, **QUIET)


def test_the_same_view_twice_is_computed_once(handlers):
    refresh, _, ex = handlers
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    text = state["instance"]["instruction"] + " Short answer please."
    rids = ["bm25", "bm25@query"]
    before = ex.rank_calls
    out = refresh_(refresh, text, rids, 10, state)
    assert ex.rank_calls == before + 1 and "data-retriever" in out[0]
    assert "instruction=" in out[2] and "k=" not in out[2]  # the link: edited text, default k left out
    again = refresh_(refresh, text, rids, 10, out[-1])
    assert ex.rank_calls == before + 1  # nothing recomputed
    assert again[-1] is out[-1]
    changed = refresh_(refresh, text + " Thanks.", rids, 10, out[-1])
    assert ex.rank_calls == before + 2 and "data-retriever" in changed[0]
    five = refresh_(refresh, text + " Thanks.", rids, 5, changed[-1])
    assert ex.rank_calls == before + 3 and "k=5" in five[2]  # k is part of the view and of the link
    refresh_(refresh, text + " Thanks.", rids, 5, five[-1], grade="201_2")
    assert ex.rank_calls == before + 4  # so is the grading choice


def test_plots_follow_the_columns_and_skip_stale_work(handlers):
    refresh, replot, ex = handlers
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    rids, text = ["bm25", "minilm"], "Only the key numbers, please."
    shown = refresh_(refresh, text, rids, 10, state)[-1]
    before = ex.sweep_calls
    stale = replot("demo", text + " And more", rids, 10, "auto", None, shown)  # the editor moved on
    assert ex.sweep_calls == before and all(isinstance(x, dict) and not x.get("value") for x in stale[:-1])
    drawn = replot("demo", text, rids, 10, "auto", None, shown)
    assert ex.sweep_calls == before + 1
    assert drawn[2]["value"] == "minilm" and drawn[2]["choices"] == rids  # rank movement of a dense model
    replot("demo", text, rids, 10, "auto", None, drawn[-1])
    assert ex.sweep_calls == before + 1  # already drawn
    replot("demo", text, rids, 10, "auto", "bm25", drawn[-1])
    assert ex.sweep_calls == before + 2  # another retriever for the rank movement
