"""The Inspect tab: the instance table of the retrievers selected in the picker bar (and of run
files uploaded for this session), filtered per system ("A hit, B sibling"), the contrast of two
systems, the "instruction hurts" view, and notes per instance.

Layout and events here; the handlers are in demo.ui.inspect_handlers (bound to an InspectCtx),
the table's pure helpers in demo.ui.inspect_table (over demo.inspection and demo.notes).
A row opens the instance in the Explore tab through explore.pick and explore.live."""
from __future__ import annotations

import gradio as gr

from demo import notes
from demo.inspection import OUTCOMES, SORTS
from demo.service import Explorer
from demo.settings import public_mode
from demo.ui import inspect_handlers as h
from demo.ui.binding import PRIVATE, bind
from demo.ui.controls import Bar
from demo.ui.inspect_handlers import InspectCtx, InspectUI
# the table's helpers, where benchmarks/app_full.py and tests import them from
from demo.ui.inspect_table import (ALL, ANY_TAG, CONDITIONS, DEPTH_K, DEPTHS, PAGE, TAG_CHOICES, VIEWS,  # noqa: F401
                                   empty_html, instance_html, page_table, query_variant, summary_html,
                                   table_retrievers, view_rows)


INSPECT_CSS = """
#inspect-table th, #inspect-table th * { white-space: nowrap; word-break: keep-all; overflow-wrap: normal; }
#inspect-table td { word-break: normal; overflow-wrap: anywhere; }
.inspect-empty { padding: 14px 12px; border: 1px dashed var(--border-color-primary); border-radius: 8px;
  color: var(--ix-text, var(--body-text-color)); font-size: .9rem; }
.inspect-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin: 6px 0; }
.pair-doc { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 8px; min-width: 0; }
.pair-target { border-left: 4px solid var(--ix-badge-target, #15803d); }
.pair-beat { border-left: 4px solid var(--ix-badge-sibling, #b45309); }
.pair-head { font-size: .85rem; margin-bottom: 4px; color: var(--ix-text, var(--body-text-color)); }
.pair-text { font-size: .85rem; max-height: 12em; overflow-y: auto; color: var(--ix-text, var(--body-text-color)); }
.badge.generic { background: #4b5563; }
#inspect-style { display: none; }
/* the "why here?" panel sits under the pair here, not floating as in Explore */
#inspect-why .why, body[data-why="closed"] #inspect-why .why { display: block; position: static; width: auto;
  max-height: none; box-shadow: none; margin: 4px 0; }
#inspect-why .why-close { display: none; }
#inspect-why .why { max-width: 760px; }
#runs-forget { align-self: flex-start; }
@media (max-width: 640px) { .inspect-pair { grid-template-columns: 1fr; } }
"""


KEPT_KEY = "instructir-explorer-runs"  # the localStorage entry of the runs this browser keeps
# before the restore handler: what this browser keeps, in place of the hidden box's value
READ_KEPT_JS = f"""(kept, ...rest) => {{
  let v = '';
  try {{ v = window.localStorage.getItem('{KEPT_KEY}') || ''; }} catch (e) {{ v = ''; }}
  return [v, ...rest];
}}"""
# after a handler changed the kept runs: write them (empty: remove the entry)
WRITE_KEPT_JS = f"""(kept) => {{
  try {{
    if (kept) window.localStorage.setItem('{KEPT_KEY}', kept); else window.localStorage.removeItem('{KEPT_KEY}');
  }} catch (e) {{ console.warn('the uploaded runs could not be kept in this browser', e); }}
  return kept;
}}"""


def layout(public: bool) -> InspectUI:
    """The tab's components, in page order."""
    # long by nature (86 lines): one component per line, top to bottom as the page shows them
    gr.HTML(f"<style>{INSPECT_CSS}</style>", elem_id="inspect-style", container=False, padding=False)
    gr.Markdown("Every instance of the dataset for the retrievers selected above: where the target landed and "
                "what outranked it. **hit** target in the top k · **sibling** another user's target outranks it "
                "(the instruction was not followed) · **generic** the untailored passage outranks it · "
                "**off-topic** something else outranks it · **not retrieved**. *Outcome at depth* takes the "
                "outcome at 1, 3, 5 or 10 (a strong run hits nearly everywhere at 10; its losses show at 1). "
                "Click a row to see its target beside the passage that beat it, ask why, write a note, or open it "
                "in Explore.", elem_id="inspect-help")
    with gr.Row(equal_height=False):
        run_file = gr.File(label="Add a run file for this session (TREC or JSON, gzipped or not; at most 100 MB)",
                           file_count="single", type="filepath", elem_id="run-upload", scale=2, height=120)
        with gr.Column(scale=2):
            run_info = gr.HTML(elem_id="run-info")
            forget_btn = gr.Button("Forget the runs this browser keeps", size="sm", elem_id="runs-forget", scale=0)
    kept = gr.Textbox(visible="hidden", elem_id="runs-kept")
    with gr.Row(equal_height=False):
        a = gr.Dropdown(label="System A", elem_id="inspect-a", scale=1)
        a_out = gr.CheckboxGroup(list(OUTCOMES), label="A's outcome (none ticked: any)", elem_id="inspect-a-outcomes",
                                 scale=2)
        b = gr.Dropdown(label="System B", elem_id="inspect-b", scale=1)
        b_out = gr.CheckboxGroup(list(OUTCOMES), label="B's outcome (none ticked: any)", elem_id="inspect-b-outcomes",
                                 scale=2)
    with gr.Row(equal_height=False):
        depth = gr.Radio(DEPTHS, value=DEPTH_K, label="Outcome at depth", elem_id="inspect-depth", scale=1,
                         min_width=220)
        conditions = gr.CheckboxGroup(list(CONDITIONS), label="Only where", elem_id="inspect-conditions", scale=3)
    with gr.Row(equal_height=False):
        view = gr.Radio(VIEWS, value=VIEWS[0], label="View", elem_id="inspect-view", scale=3)
        with gr.Column(scale=2, min_width=200):
            sort = gr.Dropdown(list(SORTS), value=SORTS[0], label="Sort by (A's numbers)", elem_id="inspect-sort")
            worst = gr.Checkbox(label="Only the worst instance of each query (by A)", elem_id="inspect-worst")
    with gr.Row(equal_height=False):
        query = gr.Dropdown([ALL], value=ALL, label="Base query", filterable=True, elem_id="inspect-query", scale=2,
                            min_width=260)
        text = gr.Textbox(label="Search id, query, instruction or note (Enter)", elem_id="inspect-search", scale=2,
                          min_width=260)
        tag_filter = gr.Dropdown(TAG_CHOICES, value=ANY_TAG, label="Note tag", elem_id="inspect-tag", scale=1,
                                 min_width=180)
    build_btn = gr.Button("Build the instance table", variant="primary", elem_id="inspect-build")
    summary = gr.HTML(elem_id="inspect-summary")
    empty = gr.HTML(empty_html("No table yet: pick systems A and B and press “Build the instance table”."),
                    elem_id="inspect-empty")
    table = gr.Dataframe(interactive=False, wrap=True, max_height=640, elem_id="inspect-table", visible=False,
                         max_chars=90, column_widths=["84px", "230px"])  # instance, query; the rest: as wide as they need
    with gr.Row(visible=False, elem_id="inspect-pager") as pager:
        prev_btn = gr.Button("◀ previous", size="sm", elem_id="inspect-prev", scale=1)
        page_label = gr.Markdown(elem_id="inspect-page")
        next_btn = gr.Button("next ▶", size="sm", elem_id="inspect-next", scale=1)
    with gr.Group():
        chosen_html = gr.HTML(elem_id="inspect-selected")
        pair_system = gr.Radio([], label="Side by side in the ranking of", elem_id="inspect-pair-system",
                               visible=False)
        pair_box = gr.HTML(elem_id="inspect-pair")
        with gr.Row():
            why_target_btn = gr.Button("Why is the target here?", size="sm", elem_id="inspect-why-target",
                                       visible=False)
            why_beat_btn = gr.Button("Why is the other passage here?", size="sm", elem_id="inspect-why-beat",
                                     visible=False)
        why_box = gr.HTML(elem_id="inspect-why")
        with gr.Row(equal_height=False):
            tag = gr.Dropdown(list(notes.TAGS), value=None, label="Tag", elem_id="note-tag", scale=1)
            note_text = gr.Textbox(label="Note", lines=2, max_lines=6, elem_id="note-text", scale=3)
            with gr.Column(scale=1, min_width=160):
                save_btn = gr.Button("Save note", elem_id="note-save", variant="primary", size="sm")
                open_btn = gr.Button("Open in Explore", elem_id="inspect-open", size="sm")
        note_status = gr.HTML(elem_id="note-status")
    with gr.Accordion("Notes: folder, download, upload", open=False, elem_id="notes-box"):
        # public mode: no server path in the page (the folder is unused there: notes stay in the session)
        folder = gr.Textbox(value="" if public else str(notes.default_folder()), label="Notes folder (annotations.jsonl per dataset)",
                            elem_id="notes-folder", visible=not public)
        if public:
            gr.Markdown("Public mode: notes stay in this browser session; download them before you leave.")
        with gr.Row():
            download_btn = gr.Button("Download notes (CSV, JSONL) and the table (CSV)", elem_id="notes-download")
            note_files = gr.File(file_count="multiple", label="Downloads", elem_id="notes-files")
        notes_file = gr.File(label="Upload notes (CSV or JSONL as downloaded here)", type="filepath",
                             elem_id="notes-upload")
        notes_info = gr.HTML(elem_id="notes-info")
    return InspectUI(run_file, run_info, a, a_out, b, b_out, view, query, text, sort, worst, build_btn, summary, table,
                     prev_btn, page_label, next_btn, chosen_html, tag, note_text, save_btn, open_btn, note_status,
                     folder, download_btn, note_files, notes_file, notes_info, gr.State({}), gr.State({}),
                     gr.State(None), depth=depth, conditions=conditions, tag_filter=tag_filter, empty=empty,
                     pair_system=pair_system, pair_html=pair_box, why_target_btn=why_target_btn,
                     why_beat_btn=why_beat_btn, why_html=why_box, kept=kept, forget_btn=forget_btn, pager=pager)


def build(explorer: Explorer, bar: Bar, explore, tabs: gr.Tabs) -> InspectCtx:
    public = public_mode()
    ctx = InspectCtx(explorer, public, bar, explore, tabs, layout(public))
    wire(ctx)
    return ctx


def wire(ctx: InspectCtx) -> None:
    """The tab's events; every handler returns {component: value} for the outputs named here."""
    bar, ui, explore = ctx.bar, ctx.ui, ctx.explore
    bar.retrievers.change(bind(h.on_retrievers, ctx), [bar.retrievers, ui.a, ui.b], [ui.a, ui.b], **PRIVATE)
    inputs = [bar.dataset, bar.retrievers, bar.k, bar.runs, ui.a, ui.a_out, ui.b, ui.b_out, ui.view, ui.query,
              ui.text, ui.worst, ui.sort, ui.notes_state, ui.folder, ui.depth, ui.conditions, ui.tag_filter]
    outputs = [ui.view_state, ui.notes_state, ui.summary, ui.table, ui.page_label, ui.query, ui.empty, ui.pager]
    gr.on([ui.build_btn.click, ui.a.input, ui.a_out.input, ui.b.input, ui.b_out.input, ui.view.input, ui.query.input,
           ui.text.submit, ui.worst.input, ui.sort.input, ui.depth.input, ui.conditions.input, ui.tag_filter.input],
          bind(h.compute, ctx), inputs, outputs, trigger_mode="always_last", **PRIVATE)
    paging = [ui.view_state, ui.a, ui.b, ui.notes_state]
    ui.prev_btn.click(bind(h.on_prev, ctx), paging, [ui.view_state, ui.table, ui.page_label], **PRIVATE)
    ui.next_btn.click(bind(h.on_next, ctx), paging, [ui.view_state, ui.table, ui.page_label], **PRIVATE)
    pair_out = [ui.pair_html, ui.why_html, ui.why_target_btn, ui.why_beat_btn]
    ui.table.select(bind(h.on_select, ctx), [ui.view_state, ui.notes_state, ui.a, ui.b],
                    [ui.chosen, ui.chosen_html, ui.tag, ui.note_text, ui.note_status, ui.pair_system] + pair_out,
                    **PRIVATE)
    ui.pair_system.input(bind(h.on_pair_system, ctx), [ui.view_state, ui.chosen, ui.pair_system], pair_out, **PRIVATE)
    why_in = [ui.view_state, ui.chosen, ui.pair_system]
    ui.why_target_btn.click(bind(h.on_why_target, ctx), why_in, ui.why_html, show_progress="minimal", **PRIVATE)
    ui.why_beat_btn.click(bind(h.on_why_beat, ctx), why_in, ui.why_html, show_progress="minimal", **PRIVATE)
    ui.open_btn.click(bind(h.on_open, ctx), [bar.dataset, ui.chosen, bar.order, bar.retrievers, bar.runs],
                      explore.picks + [ctx.tabs], **PRIVATE).then(**explore.live)
    ui.save_btn.click(bind(h.on_save, ctx), [bar.dataset, ui.chosen, ui.tag, ui.note_text, ui.notes_state, ui.folder,
                                             ui.view_state, ui.a, ui.b],
                      [ui.notes_state, ui.note_status, ui.table], **PRIVATE)
    ui.download_btn.click(bind(h.on_download, ctx), [bar.dataset, ui.notes_state, ui.folder, ui.view_state],
                          [ui.notes_state, ui.note_files, ui.notes_info], **PRIVATE)
    ui.notes_file.upload(bind(h.on_notes_upload, ctx), [ui.notes_file, bar.dataset, ui.notes_state, ui.folder],
                         [ui.notes_state, ui.notes_info], **PRIVATE)
    write_kept = dict(fn=None, inputs=ui.kept, outputs=None, js=WRITE_KEPT_JS, **PRIVATE)
    ui.run_file.upload(bind(h.on_run_upload, ctx), [ui.run_file, bar.dataset, bar.runs, bar.retrievers, ui.kept],
                       [bar.runs, bar.retrievers, ui.run_info, ui.kept], **PRIVATE).then(**write_kept).then(
        bind(h.on_retrievers, ctx), [bar.retrievers, ui.a, ui.b], [ui.a, ui.b], **PRIVATE)
    # after the page has restored its link: the runs this browser kept come back, then Explore redraws
    explore.loaded.then(bind(h.on_restore, ctx), [ui.kept, bar.runs, bar.dataset, bar.retrievers],
                        [bar.runs, ui.kept, bar.retrievers, ui.run_info], js=READ_KEPT_JS, **PRIVATE).then(
        **write_kept).then(
        bind(h.on_retrievers, ctx), [bar.retrievers, ui.a, ui.b], [ui.a, ui.b], **PRIVATE).then(
        **explore.live).then(**explore.drawing)
    ui.forget_btn.click(bind(h.on_forget, ctx), ui.kept, [ui.kept, ui.run_info], **PRIVATE).then(**write_kept)
