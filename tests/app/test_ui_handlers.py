"""The Explore tab's view handlers, called directly: a refresh whose inputs are already on
screen (blur after an edit, a pick that also changed the editor) does no work twice, and the
plots step skips work that a newer edit has made stale. Handlers return {component: value};
a component left out keeps its value (Gradio sends a no-op update for it)."""
from __future__ import annotations

from html import unescape
from types import SimpleNamespace

import pytest

from app_server import new_explorer
from demo.ui.app import build_page
from demo.ui.explore import columns, editor, picker, plots_panel
from demo.ui.explore.context import AUTO
from demo.ui.inspect_handlers import on_open, on_page, on_retrievers
from demo.ui.latest import Latest

QUIET = dict(progress=lambda *a, **k: None)
SKIP = {"__type__": "update"}  # gr.skip(): what Gradio sends for a component a handler leaves out


def value(out: dict, component):
    return out.get(component, SKIP)


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
def page():
    return build_page(CountingExplorer(new_explorer()))


@pytest.fixture(scope="module")
def ctx(page):
    return page.explore.ctx


def refresh_(ctx, text, rids, k, state, view=None, grade=AUTO):
    return columns.refresh(ctx, "demo", text, rids, k, grade, "dataset", "explore", state, view, **QUIET)


def test_the_same_view_twice_is_computed_once(ctx):
    ex, ui = ctx.explorer, ctx.ui
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    text = state["instance"]["instruction"] + " Short answer please."
    rids = ["bm25", "bm25@query"]
    before = ex.rank_calls
    out = refresh_(ctx, text, rids, 10, state)
    assert ex.rank_calls == before + 1 and "data-retriever" in out[ui.rankings]
    assert "instruction=" in out[ui.link] and "k=" not in out[ui.link]  # the link: edited text, default k left out
    assert ui.state not in out  # the picked instance is the pickers' to write, not the refresh's
    again = refresh_(ctx, text, rids, 10, state, out[ui.view])
    assert ex.rank_calls == before + 1  # nothing recomputed
    assert again == {ui.view: SKIP}  # nothing sent, nothing written back
    changed = refresh_(ctx, text + " Thanks.", rids, 10, state, out[ui.view])
    assert ex.rank_calls == before + 2 and "data-retriever" in changed[ui.rankings]
    five = refresh_(ctx, text + " Thanks.", rids, 5, state, changed[ui.view])
    assert ex.rank_calls == before + 3 and "k=5" in five[ui.link]  # k is part of the view and of the link
    refresh_(ctx, text + " Thanks.", rids, 5, state, five[ui.view], grade="201_2")
    assert ex.rank_calls == before + 4  # so is the grading choice


def test_plots_follow_the_columns_and_skip_stale_work(ctx):
    ex, ui = ctx.explorer, ctx.ui
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    rids, text = ["bm25", "minilm"], "Only the key numbers, please."
    shown = refresh_(ctx, text, rids, 10, state)[ui.view]
    before = ex.sweep_calls
    stale = plots_panel.replot(ctx, "demo", text + " And more", rids, 10, AUTO, None, state, shown, {})  # moved on
    assert ex.sweep_calls == before and stale == {ui.plotted: SKIP}  # every plot keeps what it shows
    drawn = plots_panel.replot(ctx, "demo", text, rids, 10, AUTO, None, state, shown, {})
    assert ex.sweep_calls == before + 1 and ui.state not in drawn and ui.view not in drawn  # writes its own part only
    assert drawn[ui.focus]["value"] == "minilm" and drawn[ui.focus]["choices"] == rids  # rank movement of a dense model
    assert plots_panel.replot(ctx, "demo", text, rids, 10, AUTO, None, state, shown, drawn[ui.plotted]) == \
        {ui.plotted: SKIP}
    assert ex.sweep_calls == before + 1  # already drawn
    plots_panel.replot(ctx, "demo", text, rids, 10, AUTO, "bm25", state, shown, drawn[ui.plotted])
    assert ex.sweep_calls == before + 2  # another retriever for the rank movement


def test_an_overtaken_typing_refresh_sends_nothing(ctx):
    """Typing refreshes skip the queue and may overlap: one that a newer request of the same page
    has overtaken computes nothing (overtaken before) or sends nothing (overtaken while computing)."""
    import dataclasses
    ui, ex = ctx.ui, ctx.explorer
    state = {"dataset": "demo", "instance": ex.instance("demo", "201_1")}
    args = ("demo", state["instance"]["instruction"] + " Be brief.", ["bm25"], 10, AUTO, "dataset", "explore", state, {},
            None)
    latest, page, other = Latest(), SimpleNamespace(session_hash="p1"), SimpleNamespace(session_hash="p2")
    latest.arrive("p1", 5)
    before = ex.rank_calls
    assert columns.typed(ctx, latest, 4, *args, page) == SKIP and ex.rank_calls == before  # not even computed
    assert ui.rankings in columns.typed(ctx, latest, 6, *args, page)
    assert ui.rankings in columns.typed(ctx, latest, 1, *args, other)  # another page has its own numbers

    class Overtaking:  # a newer request of page p1 arrives while this one is computing
        def __getattr__(self, name):
            return getattr(ex, name)

        def rank(self, *a, **kw):
            latest.arrive("p1", 8)
            return ex.rank(*a, **kw)

    slow_ctx = dataclasses.replace(ctx, explorer=Overtaking())
    assert columns.typed(slow_ctx, latest, 7, *args[:1], args[1] + " Again.", *args[2:], page) == SKIP
    assert latest.is_newest("p1", 8) and not latest.is_newest("p1", 7)


def test_refresh_guards_say_why_and_keep_the_state(ctx):
    ui = ctx.ui
    assert refresh_(ctx, "x", ["bm25"], 10, {}) == {ui.rankings: "", ui.summary: "", ui.link: "", ui.view: {}}
    state = {"dataset": "demo", "instance": ctx.explorer.instance("demo", "201_1")}
    out = refresh_(ctx, "x", [], 10, state)
    assert "Select at least one retriever" in out[ui.rankings] and value(out, ui.link) == SKIP
    assert ui.state not in out and out[ui.view]["refused"][1] == "Select at least one retriever."


def test_a_refused_edit_says_the_plots_are_not_updated(ctx):
    """A 5,000-character paste: the columns say the limit, and the plots do not keep the last
    view as if it were this one."""
    ui = ctx.ui
    state = {"dataset": "demo", "instance": ctx.explorer.instance("demo", "201_1")}
    drawn = refresh_(ctx, "Short.", ["bm25"], 10, state)[ui.view]
    long = "word " * 1000
    out = refresh_(ctx, long, ["bm25"], 10, state, drawn)
    assert "limit is 2,000" in out[ui.rankings]
    plots = plots_panel.replot(ctx, "demo", long, ["bm25"], 10, AUTO, None, state, out[ui.view], {})
    for text in (plots[ui.robustness_text], plots[ui.rank_shift_text], plots[ui.sweep_text]):
        assert "Not updated" in text and "limit is 2,000" in text
    assert "Not updated" in plots[ui.robustness_plot].layout.annotations[0].text


def test_the_summary_is_written_by_the_ui(ctx):
    """The sentences above the columns come from render.summarize, and travel in the state's
    result (the JSON export carries them)."""
    from html import escape

    from demo.ui.render import summarize
    ui = ctx.ui
    state = {"dataset": "demo", "instance": ctx.explorer.instance("demo", "201_1")}
    out = refresh_(ctx, "Only the key numbers, please.", ["bm25", "bm25@query"], 10, state)
    result = out[ui.view]["result"]
    assert result["changed"] is True and result["graded_chosen"] is False
    assert result["summary"] == summarize(result) and escape(summarize(result)) in out[ui.summary]
    assert "bm25@query unchanged at" in result["summary"]


def test_a_pick_sets_the_pickers_and_the_editor(ctx):
    bar, ui = ctx.bar, ctx.ui
    out = picker.on_pick(ctx, "demo", None, "201_2", "dataset", ["bm25"])
    assert set(out) == set(ctx.picks)
    assert out[bar.query]["value"] == "201" and out[bar.instance]["value"] == "201_2"
    assert out[ui.instruction] == ctx.explorer.instance("demo", "201_2")["instruction"]
    assert out[ui.state]["instance"]["instance_id"] == "201_2" and out[ui.grade]["value"] == AUTO
    assert picker.on_query(ctx, "demo", "201", "dataset", ["bm25"])[bar.instance]["value"] == "201_1"


def test_a_dataset_that_cannot_open_keeps_the_view(ctx):
    state = {"dataset": "demo", "instance": ctx.explorer.instance("demo", "201_1")}
    out = picker.on_dataset(ctx, "/no/such/folder", "dataset", ["bm25"], state)
    assert out[ctx.bar.dataset] == "demo" and "Still showing &#x27;demo&#x27;" in out[ctx.ui.qinfo]
    assert set(out) == {ctx.bar.dataset, ctx.ui.qinfo}  # the pickers and the editor stay


def test_variant_and_reset(ctx):
    ui = ctx.ui
    info = ctx.explorer.instance("demo", "201_1")
    state = {"dataset": "demo", "instance": info}
    assert editor.on_variant("0", state) == info["variants"][0]["text"]
    assert editor.on_variant(None, state) == SKIP and editor.on_variant("999", state) == SKIP
    assert editor.on_reset(state) == (info["instruction"], None)
    out = editor.apply_variant(ctx, "0", "demo", ["bm25"], 10, AUTO, "dataset", "explore", state, {}, None, **QUIET)
    assert out[ui.instruction] == info["variants"][0]["text"] and "data-retriever" in out[ui.rankings]
    assert editor.apply_variant(ctx, None, "demo", ["bm25"], 10, AUTO, "dataset", "explore", state, {}, **QUIET) == \
        {ui.view: SKIP}
    out = editor.apply_reset(ctx, "demo", ["bm25"], 10, AUTO, "dataset", "explore", state, {}, **QUIET)
    assert out[ui.instruction] == info["instruction"] and out[ui.variant] is None
    # from the page: numbered like typing, outside the queue (demo.ui.latest)
    latest, page = Latest(), SimpleNamespace(session_hash="v")
    out = editor.picked_variant(ctx, latest, 2, "0", "demo", ["bm25"], 10, AUTO, "dataset", "explore", state, {}, None,
                                page)
    assert out[ui.instruction] == info["variants"][0]["text"] and "data-retriever" in out[ui.rankings]
    assert editor.pressed_reset(ctx, latest, 1, "demo", ["bm25"], 10, AUTO, "dataset", "explore", state, {}, None,
                                page) == SKIP  # overtaken by the variant


def test_a_deep_link_restores_the_view_and_says_what_it_cannot(ctx):
    bar, ui = ctx.bar, ctx.ui
    request = SimpleNamespace(query_params={"instance": "201_2", "retrievers": "bm25,nope", "k": "5",
                                            "grade": "201_1", "tab": "inspect", "instruction": "Edited."})
    out = editor.restore_link(ctx, request)
    assert out[bar.dataset] == "demo" and out[bar.retrievers]["value"] == ["bm25"] and out[bar.k] == 5
    assert out[ui.instruction] == "Edited." and out[ui.grade]["value"] == "201_1"
    assert out[ctx.tab_state] == "inspect" and "Unknown retriever 'nope' left out." in unescape(out[ui.qinfo])
    bad = editor.restore_link(ctx, SimpleNamespace(query_params={"k": "101", "grade": "999_9", "tab": "x"}))
    assert bad[bar.k] == 10 and bad[ctx.tab_state] == "explore" and bad[ui.grade]["value"] == AUTO
    for said in ("k='101'", "Cannot grade against '999_9'", "Unknown tab 'x'"):
        assert said in unescape(bad[ui.qinfo])


def test_make_link_and_export_need_a_view(ctx):
    assert columns.make_link("demo", "dataset", "x", ["bm25"], 10, AUTO, "explore", {}) == ""
    info = ctx.explorer.instance("demo", "201_1")
    link = columns.make_link("demo", "robustness:bm25", info["instruction"], ["bm25"], 10, "201_2", "inspect",
                             {"instance": info})
    assert "instruction=" not in link and "order=robustness%3Abm25" in link and "grade=201_2" in link
    import gradio as gr
    with pytest.raises(gr.Error):
        columns.on_export({})


def test_inspect_handlers_name_their_outputs(page):
    ictx = page.inspect
    ui = ictx.ui
    out = on_retrievers(ictx, ["bm25", "minilm"], "minilm", None)
    assert out[ui.a]["value"] == "minilm" and out[ui.b]["value"] == "bm25"
    ids = [f"i{n}" for n in range(120)]
    view = {"ids": ids, "rows": {i: {"query": "q", "retrievers": {}} for i in ids}, "page": 0}
    assert on_page(ictx, view, 5, None, None, {})[ui.view_state]["page"] == 2  # the last page
    assert on_open(ictx, "demo", None, "dataset", ["bm25"], None) == SKIP  # no row chosen: nothing moves
    opened = on_open(ictx, "demo", "201_2", "dataset", ["bm25"], None)
    assert opened[ictx.bar.instance]["value"] == "201_2" and ictx.tabs in opened


def test_tour_handlers(page):
    from demo.tour import STEPS, instruction_of
    from demo.ui import tour_bar
    tctx = page.tour
    tour, ui = tctx.tour, page.explore.ctx.ui
    assert tour_bar.on_load(tctx, SimpleNamespace(query_params={})) == SKIP  # no ?tour=: the page's own view
    bad = tour_bar.on_load(tctx, SimpleNamespace(query_params={"tour": "99"}))
    assert bad[tour.current] == 0 and f"steps 1 to {len(STEPS)}" in bad[tour.narrative]
    assert tour_bar.on_end(tctx)[tour.start_btn]["visible"] is True
    first = tour_bar.on_start(tctx)
    assert first[tour.current] == 1 and first[ui.instruction] == instruction_of(tctx.explorer, STEPS[0])
    assert first[tour.prev_btn]["interactive"] is False and first[tctx.bar.instance]["value"] == STEPS[0].instance_id
