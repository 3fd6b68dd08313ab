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

import logging

import tempfile
from pathlib import Path

from demo import budget, diskstate
from demo.data.wordnet import warm_up
from demo.plot_style import PLOT_CSS
from demo.service import Explorer
from demo.settings import export_ttl_seconds, public_mode, temp_ttl_seconds, upload_limit
from demo.sweeper import Sweeper
from demo.ui import api, explore, inspect_tab, scoreboard_tab, tour_bar
from demo.ui.binding import bind
from demo.ui.controls import DEFAULT_RETRIEVERS, build_bar, retriever_choices, unavailable_models  # noqa: F401
from demo.ui.export import export_root
from demo.ui.inspect_handlers import NOTES_PREFIX, InspectCtx
from demo.ui.sessions import uploads
from demo.ui.layout import CSS, EXPLAINER, HEADER, PAGE_JS
from demo.ui.url import URL_HEAD_JS, URL_READY_JS, URL_SYNC_JS
from demo.ui.present import DARK_ON_LOAD_JS, PRESENT_CSS, PRESENT_ON_LOAD_JS, PRESENT_TOGGLE_JS


PRIVATE = dict(api_visibility="private")
log = logging.getLogger(__name__)


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
        # axe-core's colour contrast (tests/browser/test_browser_talk.py): white on primary_500 is 4.46:1, on 600 6.3:1;
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
    public = public_mode()
    start_sweeper()
    heavy = api.Heavy(public)

    # Gradio's copies of exported (and uploaded) files go after the export time to live
    ttl = export_ttl_seconds()
    with gr.Blocks(title="InstructIR Explorer", fill_width=True, delete_cache=(min(ttl, 600), ttl)) as app:
        gr.HTML(HEADER, elem_id="header-row")
        # a disk fault, said while it lasts; hidden otherwise, so it takes no room on a projector
        cache_status = gr.HTML(visible=False, elem_id="cache-status")
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
        # the cache line follows the disk: shown while a write fails, gone once one succeeds
        app.load(cache_status_update, None, cache_status, show_progress="hidden", **PRIVATE)
        gr.Timer(CACHE_LINE_SECONDS).tick(cache_status_update, None, cache_status, show_progress="hidden", **PRIVATE)
        app.unload(_release_session)
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

        gr.api(bind(api.api_instance, explorer, heavy), api_name="instance")
        gr.api(bind(api.api_rank, explorer, heavy), api_name="rank")
        # public mode: the heavy endpoints share budget.HEAVY_IN_ALL workers, so a bystander's /rank
        # keeps its own (docs/architecture.md, "Bounds per request")
        grouped = dict(concurrency_id="heavy", concurrency_limit=budget.HEAVY_IN_ALL) if public else {}
        for name in ("sweep", "inspect", "explain", "compare"):
            gr.api(bind(getattr(api, f"api_{name}"), explorer, heavy), api_name=name, **grouped)
    # public mode: no REST route around the queue (/gradio_api/run/<name>, open by default off a Space), so
    # a direct call keeps the concurrency group above (docs/architecture.md, "Bounds per request")
    app.queue(default_concurrency_limit=budget.EVENTS_AT_ONCE, **({"api_open": False} if public else {}))
    return Page(app, view, inspect_ctx, tour_ctx)


CACHE_LINE_SECONDS = 10
_sweepers: list[Sweeper] = []


def _release_session(request: gr.Request) -> None:
    """A closed page: its uploaded runs leave the account (Gradio drops the state later)."""
    uploads().release_session(getattr(request, "session_hash", None) or "no-session")


def start_sweeper() -> Sweeper:
    """Once per process: notes downloads and exports older than their time to live are removed,
    and idle sessions' uploads leave the account, every min(ttl / 2, 300) seconds."""
    if not _sweepers:
        ttl = temp_ttl_seconds()
        _sweepers.append(Sweeper([(Path(tempfile.gettempdir()), NOTES_PREFIX + "*"), (export_root(), "export-*")],
                                 ttl, min(ttl / 2, 300), also=[uploads().expire]).start())
    return _sweepers[0]


def cache_line() -> str:
    """The page's line while the cache cannot be written (demo.diskstate), else nothing."""
    text = diskstate.line()
    return f'<div class="legend" role="status">{text}</div>' if text else ""


def cache_status_update() -> dict:
    line = cache_line()
    return gr.update(value=line, visible=bool(line))


