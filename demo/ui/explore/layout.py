"""The Explore tab's layout and events: the instruction editor, the variant picker, the summary,
one ranking column per retriever and the plots beside them; its events also wire the shared
picker bar (query, instance, dataset), which all lead to this view.

The handlers are module functions over demo.service.Explorer, bound here to a Ctx (picker,
editor, columns, plots_panel); per-session state lives in gr.State. A refresh is two steps: the
columns and the summary first, then the sweep and the plots, which a newer edit makes stale
(they are skipped when the editor has moved on; the next refresh draws them)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable

import gradio as gr

from demo.data.variants import PARAPHRASE_MODEL_REASON
from demo.data.wordnet import unavailable_reason
from demo.service import Explorer
from demo.ui import why
from demo.ui.binding import PRIVATE, bind
from demo.ui.controls import Bar, retriever_choices
from demo.ui.explore import columns, editor, picker, plots_panel
from demo.ui.explore.context import Ctx, ExploreUI
from demo.ui.latest import EDIT_SEQ_JS, Latest
from demo.ui.layout import COPY_LINK_JS


def variant_info() -> str:
    """Under the variant picker: which kinds of variant this machine cannot make, and why."""
    info = f"Model-written paraphrases {PARAPHRASE_MODEL_REASON}."
    reason = unavailable_reason()
    return info + (f" Synonym variants unavailable: {reason}." if reason else "")


@dataclass
class Explore:
    """What other tabs need from Explore: its state, and a way to open an instance in it."""
    state: gr.State
    picks: list
    live: dict
    pick: Callable  # (dataset, query_id, instance_id, order, retrievers[, runs]) -> {component: update} for `picks`
    refresh: Callable
    make_link: Callable
    link_inputs: list
    link: gr.Textbox
    drawing: dict  # the plots' event: chain it after `live`
    loaded: object  # the page-load event chain (restoring a deep link), for others to follow
    ctx: Ctx  # what the handlers are bound to (tests call them with it)


def layout(explorer: Explorer, bar: Bar) -> ExploreUI:
    """The tab's components, in page order."""
    state = gr.State({})
    with gr.Row(equal_height=False, elem_id="editor-row"):
        with gr.Column(scale=6, min_width=320):
            instruction = gr.Textbox(label="Instruction: edit it and the rankings follow", lines=3, max_lines=8,
                                     elem_id="instruction")
            qinfo = gr.HTML(elem_id="query-info")
        with gr.Column(scale=3, min_width=280):
            variant = gr.Dropdown(label="Try a variant: other users, paraphrases, perturbations",
                                  elem_id="variant")
            with gr.Row(equal_height=False):
                grade = gr.Dropdown(label="Grade against the target of", elem_id="grade", scale=3, min_width=150)
                reset = gr.Button("↺ Original", elem_id="reset", size="sm", scale=1, min_width=90)
    summary = gr.HTML(elem_id="summary")
    live_btn = gr.Button("Refresh", elem_id="live-refresh")
    edit_seq = gr.Number(0, visible=False)  # an edit's number, set by the page (demo.ui.latest)
    with gr.Row(equal_height=False, elem_id="results-row"):
        with gr.Column(scale=3, min_width=880):
            rankings = gr.HTML(elem_id="rankings")
        with gr.Column(scale=1, min_width=340, elem_id="plots-panel"):
            dataset_plot = gr.Plot(elem_id="dataset-plot", show_label=False, visible=False)
            dataset_text = gr.HTML(elem_id="dataset-text")
            robustness_plot = gr.Plot(elem_id="robustness-plot", show_label=False)
            robustness_text = gr.HTML(elem_id="robustness-text")
            focus = gr.Dropdown(label="Rank movement of", elem_id="shift-retriever")
            rank_shift_plot = gr.Plot(elem_id="rank-shift-plot", show_label=False)
            rank_shift_text = gr.HTML(elem_id="rank-shift-text")
    # the sweep has a column per variant (twenty or more): it takes the page's width
    with gr.Column(elem_id="sweep-panel"):
        sweep_plot = gr.Plot(elem_id="sweep-plot", show_label=False)
        sweep_text = gr.HTML(elem_id="sweep-text")
        gr.HTML(f'<p class="plot-note">{escape(variant_info())}</p>')
    with gr.Accordion("Share and export", open=False, elem_id="share"):
        with gr.Row():
            link = gr.Textbox(label="Link to this view (append to the page address)", elem_id="share-link",
                              interactive=False, scale=5)
            with gr.Column(scale=1, min_width=140):
                copy_btn = gr.Button("Copy link", elem_id="copy-link")
                gr.HTML('<div id="copy-status" aria-live="polite"></div>')
        with gr.Row():
            export_btn = gr.Button("Export CSV, JSON and TREC run", elem_id="export", scale=1)
            files = gr.File(file_count="multiple", label="Exports", elem_id="exports", scale=3)
    why.build(explorer, bar.dataset, instruction, state)  # a floating panel, opened from a card
    return ExploreUI(state, instruction, qinfo, variant, grade, reset, summary, live_btn, rankings, robustness_plot,
                     robustness_text, focus, rank_shift_plot, rank_shift_text, sweep_plot, sweep_text, dataset_plot,
                     dataset_text, gr.State(""), link, copy_btn, export_btn, files, gr.State({}), gr.State({}), edit_seq)


def build(explorer: Explorer, bar: Bar, default_dataset: str, app: gr.Blocks, tabs: gr.Tabs,
          tab_state: gr.State, present: gr.Checkbox | None = None, dark: gr.Checkbox | None = None) -> Explore:
    ui = layout(explorer, bar)
    ctx = Ctx(explorer, default_dataset, frozenset(v for _, v in retriever_choices()), bar, ui, tabs, tab_state)
    return wire(ctx, app, present, dark)


def wire(ctx: Ctx, app: gr.Blocks, present: gr.Checkbox | None, dark: gr.Checkbox | None = None) -> Explore:
    """The tab's events (and the picker bar's). Every handler returns {component: value}; the
    outputs are the components it may update."""
    bar, ui, picks = ctx.bar, ctx.ui, ctx.picks
    dataset, query, order, instance, retrievers, k = bar.dataset, bar.query, bar.order, bar.instance, bar.retrievers, bar.k
    columns_event = dict(fn=bind(columns.refresh, ctx),
                         inputs=[dataset, ui.instruction, retrievers, k, ui.grade, order, ctx.tab_state, ui.state,
                                 ui.view, bar.runs],
                         outputs=[ui.rankings, ui.summary, ui.link, ui.view], trigger_mode="always_last",
                         show_progress="minimal", show_progress_on=[ui.rankings], **PRIVATE)  # one indicator
    flags = [present, dark] if present is not None and dark is not None else [present] if present is not None else []
    drawing = dict(fn=bind(plots_panel.replot, ctx),
                   inputs=[dataset, ui.instruction, retrievers, k, ui.grade, ui.focus, ui.state, ui.view, ui.plotted,
                           bar.runs] + flags
                   + ([ui.step_plot] if len(flags) == 2 else []),
                   outputs=[ui.robustness_plot, ui.robustness_text, ui.focus, ui.rank_shift_plot, ui.rank_shift_text,
                            ui.sweep_plot, ui.sweep_text, ui.dataset_plot, ui.dataset_text, ui.plotted],
                   trigger_mode="always_last", show_progress="hidden", **PRIVATE)

    def live(event):
        """Columns first, then (once they are on the page) the plots."""
        return event(**columns_event).then(**drawing)

    loaded = live(app.load(bind(editor.restore_link, ctx), outputs=[dataset, retrievers, k, order] + picks
                           + [ctx.tabs, ctx.tab_state], **PRIVATE).then)
    live(dataset.input(bind(picker.on_dataset, ctx), [dataset, order, retrievers, ui.state, bar.runs],
                       [dataset] + picks, **PRIVATE).then)
    live(query.input(bind(picker.on_query, ctx), [dataset, query, order, retrievers, bar.runs], picks, **PRIVATE).then)
    live(instance.input(bind(picker.on_instance, ctx), [dataset, instance, order, retrievers, bar.runs], picks,
                        **PRIVATE).then)
    live(bar.random_btn.click(bind(picker.on_random, ctx), [dataset, order, retrievers, bar.runs], picks,
                              **PRIVATE).then)
    link_inputs = [dataset, order, ui.instruction, retrievers, k, ui.grade, ctx.tab_state, ui.state]
    order.input(bind(picker.on_order, ctx), [dataset, order, retrievers, query, bar.runs], [query, ui.summary],
                **PRIVATE).then(columns.make_link, link_inputs, ui.link, **PRIVATE)
    retrievers.input(bind(picker.relabel_orders, ctx), [dataset, order, retrievers, query, bar.runs],
                     [order, query, ui.summary], show_progress="minimal", **PRIVATE).then(
        columns.make_link, link_inputs, ui.link, **PRIVATE)
    # a variant or the reset sets the editor and draws the columns in one round trip, then the plots;
    # this session's runs too: the columns and the plots then agree on what is shown
    view_args = [dataset, retrievers, k, ui.grade, order, ctx.tab_state, ui.state, ui.view, bar.runs]
    # An edit of the text (typing: a debounced click on the hidden button, layout.PAGE_JS; a variant; the
    # reset) skips the queue, each request numbered by the page so that an overtaken one sends nothing
    # (demo.ui.latest). Leaving the box, picking retrievers, Enter in k and the grading choice refresh
    # at once, queued (a view already shown is skipped).
    latest, seq = Latest(), [ui.edit_seq]
    edit = dict(js=EDIT_SEQ_JS, queue=False, trigger_mode="multiple", show_progress="hidden", **PRIVATE)
    ui.variant.input(bind(editor.picked_variant, ctx, latest), seq + [ui.variant] + view_args,
                     [ui.instruction] + columns_event["outputs"], **edit).then(**drawing)
    ui.reset.click(bind(editor.pressed_reset, ctx, latest), seq + view_args,
                   [ui.instruction, ui.variant] + columns_event["outputs"], **edit).then(**drawing)
    ui.live_btn.click(bind(columns.typed, ctx, latest), seq + columns_event["inputs"], columns_event["outputs"],
                      **edit).then(**drawing)
    live(lambda **kw: gr.on([ui.instruction.blur, retrievers.input, k.submit, k.blur, ui.grade.input], **kw))
    ui.focus.input(**drawing)
    if present is not None:
        present.change(**drawing)
    if dark is not None:
        dark.change(**drawing)
    ui.copy_btn.click(None, ui.link, ui.link, js=COPY_LINK_JS, **PRIVATE)
    ui.export_btn.click(columns.on_export, ui.view, ui.files, **PRIVATE)
    return Explore(state=ui.state, picks=picks, live=columns_event, pick=bind(picker.on_pick, ctx),
                   refresh=columns_event["fn"], make_link=columns.make_link, link_inputs=link_inputs, link=ui.link,
                   drawing=drawing, loaded=loaded, ctx=ctx)
