"""The app's view handler, called directly: a refresh whose inputs are already on screen
(blur after an edit, a pick that also changed the editor) does no work twice."""
from __future__ import annotations

import pytest

from app_server import new_explorer
from demo.ui.app import build_app


class CountingExplorer:
    """The real Explorer, counting rank() calls."""

    def __init__(self, inner):
        self.inner, self.rank_calls = inner, 0

    def rank(self, *args, **kwargs):
        self.rank_calls += 1
        return self.inner.rank(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def refresh_and_explorer():
    ex = CountingExplorer(new_explorer())
    app = build_app(ex)
    fns = [f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "refresh"]
    assert fns, "no refresh handler found"
    return fns[0], ex


def test_the_same_view_twice_is_computed_once(refresh_and_explorer):
    refresh, ex = refresh_and_explorer
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    text = state["instance"]["instruction"] + " Short answer please."
    rids = ["bm25", "bm25@query"]
    before = ex.rank_calls
    out = refresh("demo", text, rids, 10, state, progress=lambda *a, **k: None)
    assert ex.rank_calls == before + 1 and "data-retriever" in out[0]
    again = refresh("demo", text, rids, 10, out[-1], progress=lambda *a, **k: None)
    assert ex.rank_calls == before + 1  # nothing recomputed
    assert again[-1] is out[-1]
    changed = refresh("demo", text + " Thanks.", rids, 10, out[-1], progress=lambda *a, **k: None)
    assert ex.rank_calls == before + 2 and "data-retriever" in changed[0]
    refresh("demo", text + " Thanks.", rids, 5, changed[-1], progress=lambda *a, **k: None)
    assert ex.rank_calls == before + 3  # k is part of the view
