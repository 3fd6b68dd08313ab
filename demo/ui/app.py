"""The Gradio app: the picker bar, one tab per job (Explore, Scoreboard, Inspect; each a UI
module of its own over the same service) and the API endpoints (/instance, /rank, /sweep,
/inspect, /explain; docs/architecture.md).

build_app(explorer) -> gr.Blocks; nothing is loaded at import. build_page also gives the tabs'
handler contexts (tests call the handlers with them). Per-session state lives in gr.State; the
Explorer only memoises shared, read-only results.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.data.wordnet import warm_up
from demo.errors import UserError
from demo.plot_style import PLOT_CSS
from demo.inspection import table_answer
from demo.service import Explorer
from demo.settings import export_ttl_seconds, upload_limit
from demo.ui import explore, inspect_tab, scoreboard_tab, tour_bar
from demo.ui.controls import DEFAULT_RETRIEVERS, build_bar, retriever_choices, unavailable_models  # noqa: F401
from demo.ui.inspect_handlers import InspectCtx
from demo.ui.render import summarize
from demo.ui.layout import CSS, EXPLAINER, HEADER, PAGE_JS
from demo.ui.url import URL_HEAD_JS, URL_READY_JS, URL_SYNC_JS
from demo.ui.present import DARK_ON_LOAD_JS, PRESENT_CSS, PRESENT_ON_LOAD_JS, PRESENT_TOGGLE_JS


PRIVATE = dict(api_visibility="private")


def launch_kwargs() -> dict:
    """What Gradio 6 takes at launch() rather than Blocks()."""
    return {"css": CSS + PLOT_CSS + tour_bar.TOUR_CSS + PRESENT_CSS, "head": PAGE_JS + tour_bar.TOUR_KEYS_JS + URL_HEAD_JS,
            "theme": theme(), "max_file_size": upload_limit()}


def theme() -> gr.themes.Base:
    """Soft, tightened so the results fit above the fold; label text darkened to >= 4.5:1."""
    return gr.themes.Soft(spacing_size="sm").set(
        block_title_text_color="*primary_700", block_label_text_color="*primary_700",
        block_title_text_size="*text_sm", block_label_text_size="*text_sm", block_title_padding="1px 6px",
        layout_gap="8px", block_padding="6px 8px",
        # axe-core's colour contrast (tests/test_browser_talk.py): white on primary_500 is 4.46:1, on 600 6.3:1;
        # the placeholders' neutral_400 is 2.5:1 on white
        button_primary_background_fill="*primary_600", button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover="*primary_700", button_primary_background_fill_hover_dark="*primary_700",
        input_placeholder_color="*neutral_500", input_placeholder_color_dark="*neutral_300",
        body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300",
        checkbox_label_background_fill_selected="*primary_600",
        checkbox_label_background_fill_selected_dark="*primary_600")


@dataclass
class Page:
    """The app and what its tabs' handlers are bound to."""
    app: gr.Blocks
    explore: explore.Explore  # .ctx: the Explore handlers' context
    inspect: InspectCtx
    tour: tour_bar.TourCtx


def build_app(explorer: Explorer | None = None, default_dataset: str = "demo") -> gr.Blocks:
    return build_page(explorer, default_dataset).app


def build_page(explorer: Explorer | None = None, default_dataset: str = "demo") -> Page:
    explorer = explorer or Explorer()
    warm_up()  # WordNet (synonym variants) loads in the background while the page opens

    # ---- API (gradio_client) -------------------------------------------------------------------
    def api_instance(dataset: str, instance_id: str) -> dict:
        """The instance, its targets and the variants one click can apply."""
        return _api(explorer.instance, dataset, instance_id)

    def api_rank(dataset: str, instance_id: str, instruction: str, retrievers: list[str], k: int = 10) -> dict:
        """Rankings of every retriever for the instance with this instruction."""
        result = _api(explorer.rank, dataset, instance_id, instruction, retrievers, k)
        return {"retrievers": {rid: ({key: r[key] for key in ("encoded", "ranking", "target_rank", "ndcg", "label",
                                                              "original_target_rank", "original_ndcg", "note")
                                      if key in r}
                                     if "error" not in r else {"error": r["error"]})
                               for rid, r in result["retrievers"].items()},
                "robustness": result["robustness"], "summary": summarize(result), "k": result["k"]}

    def api_inspect(dataset: str, retrievers: list[str], k: int = 10) -> dict:
        """The instance table (the Inspect tab's): per instance and retriever its target rank, nDCG@k,
        outcome and top doc, as `python -m demo inspect --json` writes it."""
        return table_answer(_api(explorer.inspect, dataset, retrievers, k))

    def api_sweep(dataset: str, query_id: str, retrievers: list[str], k: int = 10) -> dict:
        """Every variant of the base query through every retriever: target ranks and nDCG."""
        return _api(explorer.sweep, dataset, query_id, retrievers, k)

    def api_explain(dataset: str, instance_id: str, instruction: str, retriever: str, doc_id: str) -> dict:
        """Why this doc is where it is: BM25 term contributions, or instruction-sentence occlusion."""
        return _api(explorer.explain, dataset, instance_id, instruction, retriever, doc_id)

    # Gradio's copies of exported (and uploaded) files go after the export time to live
    ttl = export_ttl_seconds()
    with gr.Blocks(title="InstructIR Explorer", fill_width=True, delete_cache=(min(ttl, 600), ttl)) as app:
        gr.HTML(HEADER, elem_id="header-row")
        # the first screen: what the app shows (HEADER), the tour, then the pickers
        with gr.Row(elem_id="teach-row"):
            tour = tour_bar.layout()
            present = gr.Button("Presenter mode", elem_id="present-toggle", size="sm", scale=0, min_width=150)
        bar = build_bar(default_dataset)
        present_flag = gr.Checkbox(False, visible=False, elem_id="present-flag")
        dark_flag = gr.Checkbox(False, visible=False, elem_id="dark-flag")  # the plots' template follows it
        tab_state = gr.State("explore")
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Explore", id="explore", elem_id="tab-explore") as explore_tab:
                view = explore.build(explorer, bar, default_dataset, app, tabs, tab_state, present_flag, dark_flag)
            with gr.Tab("Scoreboard", id="scoreboard", elem_id="tab-scoreboard") as board_tab:
                scoreboard_tab.build(explorer, bar)
            with gr.Tab("Inspect", id="inspect", elem_id="tab-inspect") as inspect_tab_:
                inspect_ctx = inspect_tab.build(explorer, bar, view, tabs)
        tour_ctx = tour_bar.wire(tour, explorer, bar, view)
        # the address bar follows the view (demo.ui.url): every new link, and the tour's steps
        view.link.change(None, view.link, None, js=URL_SYNC_JS, **PRIVATE)
        for event in tour_ctx.events:
            event.then(None, view.link, None, js=URL_SYNC_JS, **PRIVATE)
        # at the end of the load chain the link is computed again from the settled values (a tab event
        # during the load may have computed it from values not yet restored), then the address follows
        tour_ctx.loaded[0].then(view.make_link, view.link_inputs, view.link, **PRIVATE).then(
            None, view.link, None, js=URL_READY_JS, **PRIVATE)
        app.load(None, None, present_flag, js=PRESENT_ON_LOAD_JS, **PRIVATE)
        app.load(None, None, dark_flag, js=DARK_ON_LOAD_JS, **PRIVATE)
        present.click(None, present_flag, present_flag, js=PRESENT_TOGGLE_JS, **PRIVATE).then(
            None, view.link, None, js=URL_SYNC_JS, **PRIVATE)
        for tab, name in ((explore_tab, "explore"), (board_tab, "scoreboard"), (inspect_tab_, "inspect")):
            # the link names the tab on screen
            tab.select(lambda name=name: name, None, tab_state, **PRIVATE).then(
                view.make_link, view.link_inputs, view.link, **PRIVATE)
        with gr.Accordion("What the numbers mean", open=False, elem_id="explainer"):
            gr.Markdown(EXPLAINER)
        with gr.Column(elem_id="footer"):
            unavailable_models()  # out of the header: a first visit reads what the app does, not what it lacks

        gr.api(api_instance, api_name="instance")
        gr.api(api_rank, api_name="rank")
        gr.api(api_sweep, api_name="sweep")
        gr.api(api_inspect, api_name="inspect")
        gr.api(api_explain, api_name="explain")
    app.queue(default_concurrency_limit=8)
    return Page(app, view, inspect_ctx, tour_ctx)


def _api(fn, *args):
    try:
        return fn(*args)
    except UserError as e:
        raise gr.Error(str(e)) from None
