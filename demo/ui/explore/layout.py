"""The Explore tab: the instruction editor, the variant picker, the summary, one ranking column
per retriever and the plots beside them, plus the handlers of the shared picker bar (query,
instance, dataset), which all lead to this view.

Thin handlers over demo.service.Explorer; per-session state lives in gr.State. A refresh is two
steps: the columns and the summary first, then the sweep and the plots, which a newer edit
makes stale (they are skipped when the editor has moved on; the next refresh draws them)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape
from typing import Callable

import gradio as gr

from demo import plots
from demo.data.variants import PARAPHRASE_MODEL_REASON
from demo.data.wordnet import unavailable_reason
from demo.errors import UserError
from demo.plots import error_figure, rank_shift_figure, robustness_figure, sweep_figure
from demo.service import MAX_INSTRUCTION_CHARS, Explorer
from demo.inspection import order_queries
from demo.ui.controls import (DATASET_ORDER, DEFAULT_RETRIEVERS, DISAGREEMENT, Bar, model_ids, order_choices,
                              order_value, parse_order, retriever_choices, split_retrievers)
from demo.ui import why
from demo.ui.export import deep_link, file_part, to_csv, to_json, to_trec, write_exports
from demo.ui.layout import COPY_LINK_JS
from demo.ui.render import render_error, render_rankings, render_summary

PRIVATE = dict(api_visibility="private")
AUTO = "auto"  # grade against: follow the text
TABS = ("explore", "scoreboard", "inspect")
MAX_K = 50


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
    pick: Callable  # (dataset, query_id, instance_id, order, retrievers[, runs]) -> updates for `picks`
    refresh: Callable
    make_link: Callable
    link_inputs: list
    link: gr.Textbox
    drawing: dict  # the plots' event: chain it after `live`
    loaded: object  # the page-load event chain (restoring a deep link), for others to follow


def query_html(info: dict) -> str:
    return (f'<div class="legend">Base query <b>{escape(info["query"])}</b> · instance '
            f'<code>{escape(info["instance_id"])}</code> · target <code>{escape(", ".join(info["targets"]))}</code>'
            f' · {len(info["siblings"])} siblings</div>')


def notice(lines: list[str]) -> str:
    return "".join(f'<div class="app-notice">{escape(x)}</div>' for x in lines)


def _text(name: str, *args) -> str:
    """The plot's plain-text summary (demo.plots), escaped; empty where the builder has none."""
    fn = getattr(plots, name, None)
    return f'<p class="plot-note">{escape(fn(*args))}</p>' if fn else ""


def build(explorer: Explorer, bar: Bar, default_dataset: str, app: gr.Blocks, tabs: gr.Tabs,
          tab_state: gr.State, present: gr.Checkbox | None = None) -> Explore:
    valid_ids = {v for _, v in retriever_choices()}

    # ---- pure-ish helpers the handlers share ----------------------------------------------
    def query_choices(dataset: str, order: str, retrievers: list[str], runs=None, stage=None) -> list[tuple[str, str]]:
        """The base queries in the chosen order, each label with the figures it is ordered by.
        `stage`: progress of a whole-dataset table built on first use (explorer.query_table)."""
        bench = explorer.benchmark(dataset)
        kind, by, other = parse_order(order, retrievers) or (DATASET_ORDER, None, None)
        if kind == DATASET_ORDER:
            return [(f"{bench.instances[ids[0]].query}  ·  {q}", q) for q, ids in bench.groups.items()]
        needed = [by, other] if other else [by] if by else retrievers
        table = explorer.query_table(dataset, needed, 10, stage, runs)
        for rid in needed if by else []:  # the table leaves out a retriever that cannot rank here: say why
            if table and rid not in table[0]["robustness"]:
                explorer.instance_records(dataset, rid, 10, runs)  # raises the retriever's own UserError
                raise UserError(f"cannot order the queries by {rid}: it has no ranking of this dataset")

        def pct(row, field, rid):
            v = row[field].get(rid)
            return "–" if v is None else f"{100 * v:.0f}"

        if kind == DISAGREEMENT:
            rows = sorted(table, key=lambda r: (-r["disagreement"], r["query_id"]))
            return [(f"{r['query']}  ·  nDCG spread {100 * r['disagreement']:.0f}", r["query_id"]) for r in rows]
        if kind == "robustness":
            return [(f"{r['query']}  ·  {by} R@10 {pct(r, 'robustness', by)} · nDCG {pct(r, 'ndcg', by)}",
                     r["query_id"]) for r in order_queries(table, by)]
        return [(f"{r['query']}  ·  R@10 {by} {pct(r, 'robustness', by)} vs {other} {pct(r, 'robustness', other)}",
                 r["query_id"]) for r in order_queries(table, by, other)]

    def order_update(order: str, retrievers: list[str]):
        """The order picker for these retrievers; an order naming a retriever no longer selected
        falls back to dataset order."""
        choices = order_choices(retrievers)
        value = order if order in {v for _, v in choices} else DATASET_ORDER
        return gr.update(choices=choices, value=value), value

    def select(dataset, query_id, instance_id, instruction, order, retrievers, runs=None):
        """Pick a dataset/query/instance; returns updates for the pickers and the editor."""
        bench = explorer.benchmark(dataset)
        if instance_id and instance_id in bench.instances:
            query_id = bench.instances[instance_id].query_id
        if query_id not in bench.groups:
            query_id = next(iter(bench.groups))
        members = bench.groups[query_id]
        if instance_id not in members:
            instance_id = members[0]
        info = explorer.instance(dataset, instance_id)
        text = info["instruction"] if instruction is None else instruction
        people = [(f"{iid} · {bench.instances[iid].persona or 'user ' + iid.rpartition('_')[2]}", iid) for iid in members]
        var_choices = [(f"{v['label']}", str(i)) for i, v in enumerate(info["variants"])]
        shown_variant = next((str(i) for i, v in enumerate(info["variants"]) if v["text"] == text and
                              text != info["instruction"]), None)
        state = {"dataset": dataset, "instance": info}
        try:
            queries = query_choices(dataset, order, retrievers, runs)
        except UserError:  # e.g. a run this dataset lacks: the picker still lists every query
            queries = query_choices(dataset, DATASET_ORDER, retrievers)
        return (gr.update(choices=queries, value=query_id),
                gr.update(choices=people, value=instance_id),
                gr.update(choices=var_choices, value=shown_variant),
                text, query_html(info), state, "",
                gr.update(choices=[("follow the text", AUTO)] + people, value=AUTO))

    def graded(grade):
        return None if not grade or grade == AUTO else grade

    # ---- handlers --------------------------------------------------------------------------
    def run_ids(dataset: str, session_runs) -> list[str]:
        try:
            return [r.retriever_id for r in explorer.runs(dataset, session_runs).values()]
        except UserError:
            return []

    def restore_link(request: gr.Request):
        """Restore a deep link; every part that cannot be restored is said on the page."""
        params = dict(request.query_params) if request is not None else {}
        problems = []
        dataset = params.get("dataset") or default_dataset
        asked = [r for r in split_retrievers(params.get("retrievers") or "") if r]
        known = valid_ids | set(run_ids(dataset, None))  # with the runs folder's runs (DESIGN §11)
        rids = [r for r in asked if r in known]
        problems += [f"Unknown retriever {r!r} left out." for r in asked if r not in known]
        rids = rids or [r for r in DEFAULT_RETRIEVERS if r in valid_ids]
        k = 10
        if params.get("k"):
            try:
                k = int(params["k"])
                if not 1 <= k <= MAX_K:
                    raise ValueError
            except ValueError:
                problems.append(f"k={params['k']!r} is not a whole number from 1 to {MAX_K}; using 10.")
                k = 10
        parsed = parse_order(params.get("order"), rids)
        if parsed is None:
            problems.append(f"Unknown query order {params['order']!r} for these retrievers; using dataset order.")
        order = order_value(*(parsed or (DATASET_ORDER,)))
        tab = params.get("tab") or "explore"
        if tab not in TABS:
            problems.append(f"Unknown tab {tab!r}; showing Explore.")
            tab = "explore"
        try:
            bench = explorer.benchmark(dataset)
            iid = params.get("instance")
            if iid and iid not in bench.instances:
                problems.append(f"Instance {iid!r} is not in {dataset}; showing the first instance instead.")
                iid = None
            picks = select(dataset, None, iid, params.get("instruction") if iid else None, order, rids)
        except UserError as e:
            problems.append(f"Could not open dataset {dataset!r}: {e}. Showing {default_dataset!r}.")
            dataset = default_dataset
            picks = select(dataset, None, None, None, order, rids)
        grade = params.get("grade")
        if grade:
            members = [v for _, v in picks[7]["choices"]]
            if grade in members:
                picks = picks[:7] + (gr.update(choices=picks[7]["choices"], value=grade),)
            else:
                problems.append(f"Cannot grade against {grade!r}: not an instance of this query; following the text.")
        # in the query panel: the refresh that follows rewrites the summary, and the message would vanish
        picks = picks[:4] + (notice(problems) + picks[4],) + picks[5:]
        return (dataset, gr.update(choices=retriever_choices(run_ids(dataset, None)), value=rids), k,
                gr.update(choices=order_choices(rids), value=order)) + picks + (gr.Tabs(selected=tab), tab)

    def on_dataset(dataset, order, retrievers, state, runs=None):
        """Open another dataset; one that cannot load says why and the current view stays."""
        try:
            return (dataset,) + select(dataset, None, None, None, order, retrievers, runs)
        except UserError as e:
            previous = (state or {}).get("dataset", default_dataset)
            info = (state or {}).get("instance")
            message = render_error(f"Cannot open dataset {dataset!r}: {e}. Still showing {previous!r}.")
            return (previous,) + (gr.update(),) * 4 + (message + (query_html(info) if info else ""),) + \
                (gr.update(),) * 3

    def on_pick(dataset, query_id, instance_id, order, retrievers, runs=None):
        try:
            return select(dataset, query_id, instance_id, None, order, retrievers, runs)
        except UserError as e:
            return (gr.update(),) * 6 + (render_error(str(e)), gr.update())

    def on_random(dataset, order, retrievers, runs=None):
        bench = explorer.benchmark(dataset)
        return on_pick(dataset, random.choice(list(bench.groups)), None, order, retrievers, runs)

    def on_order(dataset, order, retrievers, query_id, runs=None, progress=gr.Progress()):
        """Reorder the query picker (a whole-dataset table per retriever on first use: the bar moves)."""
        try:
            queries = query_choices(dataset, order, retrievers, runs, stage=lambda what, d, t: progress(
                d / max(t, 1), desc=f"{what}: {d:,} of {t:,}"))
            return gr.update(choices=queries, value=query_id), gr.update()
        except UserError as e:
            return gr.update(), render_error(str(e))

    def relabel_orders(dataset, order, retrievers, query_id, runs=None, progress=gr.Progress()):
        """The order picker's choices name the selected retrievers; the query labels follow, unless
        they are in dataset order before and after (1,267 labels at InstructIR size, unchanged)."""
        update, new_order = order_update(order, retrievers)
        if new_order == DATASET_ORDER and order in (DATASET_ORDER, None, ""):
            return update, gr.update(), gr.update()
        queries, message = on_order(dataset, new_order, retrievers, query_id, runs, progress)
        return update, queries, message

    def on_variant(choice, state):
        variants = (state or {}).get("instance", {}).get("variants", [])
        if choice is None or not str(choice).isdigit() or int(choice) >= len(variants):
            return gr.update()
        return variants[int(choice)]["text"]

    def on_reset(state):
        return (state or {}).get("instance", {}).get("instruction", ""), None

    def make_link(dataset, order, instruction, retrievers, k, grade, tab, state):
        info = (state or {}).get("instance")
        if not info:
            return ""
        return deep_link(dataset, info["instance_id"], instruction, info["instruction"], list(retrievers or []),
                         k, None if order_update(order, retrievers)[1] == DATASET_ORDER else order, tab, graded(grade))

    def refresh(dataset, instruction, retrievers, k, grade, order, tab, state, session_runs=None,
                progress=gr.Progress()):
        """Step 1 of a refresh: the columns, the summary and the link. `session_runs`: run files
        uploaded in this session (Inspect tab), by name."""
        info = (state or {}).get("instance")
        shown = [dataset, (info or {}).get("instance_id"), instruction, list(retrievers or []), k, grade,
                 sorted((n, r.digest) for n, r in (session_runs or {}).items())]
        if info and (state or {}).get("shown") == shown:
            # blur after an edit, or a pick that also changed the editor: this view is on screen already
            return (gr.update(),) * 3 + (state,)
        if not info:
            return ("", "", "", state)
        if not retrievers:
            return (render_error("Select at least one retriever."), "", gr.update(), state)
        if len(instruction or "") > MAX_INSTRUCTION_CHARS:
            msg = render_error(f"The instruction has {len(instruction)} characters; the limit is {MAX_INSTRUCTION_CHARS}.")
            return (msg, "", gr.update(), state)
        for mid in dict.fromkeys(m for rid in retrievers for m in model_ids(rid)):  # () for a run file
            try:  # build models first; the first use loads and embeds, and the bar says how far
                explorer.corpus(dataset, mid, on_stage=lambda stage, d, t, mid=mid: progress(
                    d / max(t, 1), desc=f"{stage} {mid}" + (f": {d:,} of {t:,} passages" if stage != "loading" else "")))
            except UserError:
                pass  # shown in that retriever's column
        try:
            result = explorer.rank(dataset, info["instance_id"], instruction, retrievers, k, graded(grade),
                                   runs=session_runs)
        except UserError as e:
            return (render_error(str(e)), "", gr.update(), state)
        bench = explorer.benchmark(dataset)
        html = render_rankings(result, bench.docs, info["query"], instruction)
        link = make_link(dataset, order, instruction, retrievers, k, grade, tab, state)
        new_state = {**state, "result": result, "instruction": instruction, "shown": shown}
        return (html, render_summary(result), link, new_state)

    def replot(dataset, instruction, retrievers, k, grade, focus, state, session_runs=None, presenting=False):
        """Step 2: the sweep and the three plots with their text, unless the editor moved on.
        In presenter mode the figures use the projector style (larger type, fewer labels)."""
        info, result = (state or {}).get("instance"), (state or {}).get("result")
        shown = [dataset, (info or {}).get("instance_id"), instruction, list(retrievers or []), k, grade,
                 sorted((n, r.digest) for n, r in (session_runs or {}).items())]
        if not info or not result or state.get("shown") != shown:
            return (gr.update(),) * 7 + (state,)  # stale: a newer refresh is on its way
        rids = list(result["retrievers"])
        focus = focus if focus in rids else next((r for r in rids if "@" not in r and r != "bm25"), rids[0])
        style = "present" if presenting else None
        if state.get("plotted") == shown + [focus, style]:
            return (gr.update(),) * 7 + (state,)
        try:
            sweep = explorer.sweep(dataset, info["query_id"], retrievers, k, info["instance_id"], instruction,
                                   graded(grade), runs=session_runs)
            sweep_fig, sweep_text = sweep_figure(sweep, style=style), _text("sweep_summary", sweep)
        except UserError as e:
            sweep_fig, sweep_text = error_figure(str(e)), ""
        return (robustness_figure(result, style=style), _text("robustness_summary", result),
                gr.update(choices=rids, value=focus), rank_shift_figure(result, focus, style=style),
                _text("rank_shift_summary", result, focus), sweep_fig, sweep_text,
                {**state, "plotted": shown + [focus, style]})

    def on_export(state):
        result = (state or {}).get("result")
        if not result:
            raise gr.Error("Nothing to export yet.")
        stem = f"comparison-{result['instance_id']}"
        files = {f"{stem}.csv": to_csv(result),
                 f"{stem}.json": to_json(result, state.get("instruction", ""), state.get("dataset", ""))}
        for rid, r in result["retrievers"].items():
            if "error" not in r:
                files[f"{stem}-{file_part(rid)}.trec"] = to_trec(result, rid)
        return write_exports(files)

    # ---- layout ---------------------------------------------------------------------------------
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
    with gr.Row(equal_height=False, elem_id="results-row"):
        with gr.Column(scale=3, min_width=880):
            rankings = gr.HTML(elem_id="rankings")
        with gr.Column(scale=1, min_width=340, elem_id="plots-panel"):
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

    # ---- events ---------------------------------------------------------------------------------
    dataset, query, order, instance, retrievers, k = bar.dataset, bar.query, bar.order, bar.instance, bar.retrievers, bar.k
    picks = [query, instance, variant, instruction, qinfo, state, summary, grade]
    columns = dict(fn=refresh, inputs=[dataset, instruction, retrievers, k, grade, order, tab_state, state, bar.runs],
                   outputs=[rankings, summary, link, state], trigger_mode="always_last",
                   show_progress="minimal", **PRIVATE)
    drawing = dict(fn=replot, inputs=[dataset, instruction, retrievers, k, grade, focus, state, bar.runs]
                   + ([present] if present is not None else []),
                   outputs=[robustness_plot, robustness_text, focus, rank_shift_plot, rank_shift_text,
                            sweep_plot, sweep_text, state], trigger_mode="always_last", show_progress="hidden", **PRIVATE)

    def live(event):
        """Columns first, then (once they are on the page) the plots."""
        return event(**columns).then(**drawing)

    loaded = live(app.load(restore_link, outputs=[dataset, retrievers, k, order] + picks + [tabs, tab_state], **PRIVATE).then)
    live(dataset.input(on_dataset, [dataset, order, retrievers, state, bar.runs], [dataset] + picks, **PRIVATE).then)
    live(query.input(lambda d, q, o, r, s: on_pick(d, q, None, o, r, s), [dataset, query, order, retrievers, bar.runs],
                     picks, **PRIVATE).then)
    live(instance.input(lambda d, i, o, r, s: on_pick(d, None, i, o, r, s),
                        [dataset, instance, order, retrievers, bar.runs], picks, **PRIVATE).then)
    live(bar.random_btn.click(on_random, [dataset, order, retrievers, bar.runs], picks, **PRIVATE).then)
    link_inputs = [dataset, order, instruction, retrievers, k, grade, tab_state, state]
    order.input(on_order, [dataset, order, retrievers, query, bar.runs], [query, summary], **PRIVATE).then(
        make_link, link_inputs, link, **PRIVATE)
    retrievers.input(relabel_orders, [dataset, order, retrievers, query, bar.runs], [order, query, summary],
                     show_progress="minimal", **PRIVATE).then(make_link, link_inputs, link, **PRIVATE)
    # a variant or the reset sets the editor and draws the columns in one round trip, then the plots
    def apply_variant(choice, dataset, retrievers, k, grade, order, tab, state, session_runs=None,
                      progress=gr.Progress()):
        text = on_variant(choice, state)
        if not isinstance(text, str):
            return (gr.update(),) * 4 + (state,)
        return (text,) + refresh(dataset, text, retrievers, k, grade, order, tab, state, session_runs, progress)

    def apply_reset(dataset, retrievers, k, grade, order, tab, state, session_runs=None, progress=gr.Progress()):
        text, _ = on_reset(state)
        return (text, None) + refresh(dataset, text, retrievers, k, grade, order, tab, state, session_runs, progress)

    # this session's runs too: the columns and the plots then agree on what is shown
    view_args = [dataset, retrievers, k, grade, order, tab_state, state, bar.runs]
    variant.input(apply_variant, [variant] + view_args, [instruction] + columns["outputs"], trigger_mode="always_last",
                  show_progress="minimal", **PRIVATE).then(**drawing)
    reset.click(apply_reset, view_args, [instruction, variant] + columns["outputs"], show_progress="minimal",
                **PRIVATE).then(**drawing)
    # typing: a debounced click on the hidden button (layout.PAGE_JS); leaving the box, picking
    # retrievers, Enter in k and the grading choice refresh at once (a view already shown is skipped)
    live(lambda **kw: gr.on([live_btn.click, instruction.blur, retrievers.input, k.submit, k.blur, grade.input], **kw))
    focus.input(**drawing)
    if present is not None:
        present.change(**drawing)
    copy_btn.click(None, link, link, js=COPY_LINK_JS, **PRIVATE)
    export_btn.click(on_export, state, files, **PRIVATE)
    return Explore(state=state, picks=picks, live=columns, pick=on_pick, refresh=refresh, make_link=make_link,
                   link_inputs=link_inputs, link=link, drawing=drawing, loaded=loaded)
