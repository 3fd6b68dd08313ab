"""The Explore tab: the instruction editor, the variant picker, the summary, one ranking column
per retriever and the plots, plus the handlers of the shared picker bar (query, instance,
dataset), which all lead to this view.

Thin handlers over demo.service.Explorer; per-session state lives in gr.State."""
from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Callable

import gradio as gr

from demo.data.variants import PARAPHRASE_MODEL_REASON
from demo.data.wordnet import unavailable_reason
from demo.errors import UserError
from demo.plots import error_figure, rank_shift_figure, robustness_figure, sweep_figure
from demo.service import MAX_INSTRUCTION_CHARS, Explorer
from demo.ui.controls import DEFAULT_RETRIEVERS, ORDERS, Bar, model_ids, retriever_choices, split_retrievers
from demo.ui.export import deep_link, file_part, to_csv, to_json, to_trec
from demo.ui.layout import COPY_LINK_JS
from demo.ui.render import render_error, render_rankings, render_summary

PRIVATE = dict(api_visibility="private")


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
    pick: Callable  # (dataset, query_id, instance_id, order, retrievers) -> updates for `picks`
    refresh: Callable


def query_html(info: dict) -> str:
    return (f'<div class="legend">Base query <b>{escape(info["query"])}</b> · instance '
            f'<code>{escape(info["instance_id"])}</code> · target <code>{escape(", ".join(info["targets"]))}</code>'
            f' · {len(info["siblings"])} siblings</div>')


def build(explorer: Explorer, bar: Bar, default_dataset: str, app: gr.Blocks) -> Explore:
    valid_ids = {v for _, v in retriever_choices()}

    # ---- pure-ish helpers the handlers share ----------------------------------------------
    def query_choices(dataset: str, order: str, retrievers: list[str]) -> list[tuple[str, str]]:
        bench = explorer.benchmark(dataset)
        rows = [{"query_id": q, "query": bench.instances[ids[0]].query} for q, ids in bench.groups.items()]
        if order != ORDERS[0] and retrievers:
            table = explorer.query_table(dataset, retrievers, 10)
            key = (lambda r: (r["min_robustness"], r["query_id"])) if order == ORDERS[1] else \
                  (lambda r: (-r["disagreement"], r["query_id"]))
            rows = sorted(table, key=key)
            return [(f"{r['query']}  ·  R@10 min {100 * r['min_robustness']:.0f} · spread {100 * r['disagreement']:.0f}",
                     r["query_id"]) for r in rows]
        return [(f"{r['query']}  ·  {r['query_id']}", r["query_id"]) for r in rows]

    def select(dataset, query_id, instance_id, instruction, order, retrievers):
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
        inst_choices = [(f"{iid} · {bench.instances[iid].persona or 'user ' + iid.rpartition('_')[2]}", iid)
                        for iid in members]
        var_choices = [(f"{v['label']}", str(i)) for i, v in enumerate(info["variants"])]
        state = {"dataset": dataset, "instance": info}
        return (gr.update(choices=query_choices(dataset, order, retrievers), value=query_id),
                gr.update(choices=inst_choices, value=instance_id),
                gr.update(choices=var_choices, value=None),
                text, query_html(info), state, "")

    # ---- handlers --------------------------------------------------------------------------
    def on_load(request: gr.Request):
        params = dict(request.query_params) if request is not None else {}
        dataset = params.get("dataset") or default_dataset
        rids = [r for r in split_retrievers(params.get("retrievers") or "") if r in valid_ids] or \
               [r for r in DEFAULT_RETRIEVERS if r in valid_ids]
        try:
            picks = select(dataset, None, params.get("instance"), params.get("instruction"), ORDERS[0], rids)
        except UserError as e:
            dataset = default_dataset
            picks = select(dataset, None, None, None, ORDERS[0], rids)
            # in the query panel: the refresh that follows rewrites the summary, and the message would vanish
            picks = picks[:4] + (render_error(f"Could not open the link: {e}") + picks[4],) + picks[5:]
        return (dataset, gr.update(value=rids)) + picks

    def on_dataset(dataset, order, retrievers, state):
        """Open another dataset; one that cannot load says why and the current view stays."""
        try:
            return (dataset,) + select(dataset, None, None, None, order, retrievers)
        except UserError as e:
            previous = (state or {}).get("dataset", default_dataset)
            info = (state or {}).get("instance")
            message = render_error(f"Cannot open dataset {dataset!r}: {e}. Still showing {previous!r}.")
            return (previous,) + (gr.update(),) * 4 + (message + (query_html(info) if info else ""),) + \
                (gr.update(), gr.update())

    def on_pick(dataset, query_id, instance_id, order, retrievers):
        try:
            return select(dataset, query_id, instance_id, None, order, retrievers)
        except UserError as e:
            return (gr.update(),) * 6 + (render_error(str(e)),)

    def on_random(dataset, order, retrievers):
        bench = explorer.benchmark(dataset)
        return on_pick(dataset, random.choice(list(bench.groups)), None, order, retrievers)

    def on_order(dataset, order, retrievers, query_id):
        try:
            return gr.update(choices=query_choices(dataset, order, retrievers), value=query_id), ""
        except UserError as e:
            return gr.update(), render_error(str(e))

    def on_variant(choice, state):
        variants = (state or {}).get("instance", {}).get("variants", [])
        if choice is None or not str(choice).isdigit() or int(choice) >= len(variants):
            return gr.update()
        return variants[int(choice)]["text"]

    def on_reset(state):
        return (state or {}).get("instance", {}).get("instruction", "")

    def refresh(dataset, instruction, retrievers, k, state, progress=gr.Progress()):
        info = (state or {}).get("instance")
        shown = [dataset, (info or {}).get("instance_id"), instruction, list(retrievers or []), k]
        if info and (state or {}).get("shown") == shown:
            # blur after an edit, or a pick that also changed the editor: this view is on screen already
            return (gr.update(),) * 6 + (state,)
        if not info:
            return ("", "", error_figure("no instance selected"), error_figure(""), error_figure(""), "", state)
        if not retrievers:
            msg = render_error("Select at least one retriever.")
            return (msg, "", error_figure("no retriever selected"), error_figure(""), error_figure(""), "", state)
        if len(instruction or "") > MAX_INSTRUCTION_CHARS:
            msg = render_error(f"The instruction has {len(instruction)} characters; the limit is {MAX_INSTRUCTION_CHARS}.")
            return (msg, "", error_figure("instruction too long"), error_figure(""), error_figure(""), "", state)
        for mid in dict.fromkeys(m for rid in retrievers for m in model_ids(rid)):
            try:  # build models first; the first use loads and embeds, and the bar says how far
                explorer.corpus(dataset, mid, on_stage=lambda stage, d, t, mid=mid: progress(
                    d / max(t, 1), desc=f"{stage} {mid}" + (f": {d:,} of {t:,} passages" if stage != "loading" else "")))
            except UserError:
                pass  # shown in that retriever's column
        try:
            result = explorer.rank(dataset, info["instance_id"], instruction, retrievers, k)
            sweep = explorer.sweep(dataset, info["query_id"], retrievers, k, info["instance_id"], instruction)
        except UserError as e:
            return (render_error(str(e)), "", error_figure(str(e)), error_figure(""), error_figure(""), "", state)
        bench = explorer.benchmark(dataset)
        html = render_rankings(result, bench.docs, info["query"], instruction)
        link = deep_link(dataset, info["instance_id"], instruction, info["instruction"], retrievers)
        new_state = {**state, "result": result, "instruction": instruction, "shown": shown}
        focus = next((r for r in retrievers if "@" not in r and r != "bm25"), retrievers[0])
        return (html, render_summary(result), robustness_figure(result), rank_shift_figure(result, focus),
                sweep_figure(sweep), link, new_state)

    def on_export(state):
        result = (state or {}).get("result")
        if not result:
            raise gr.Error("Nothing to export yet.")
        folder = Path(tempfile.mkdtemp(prefix="instructir-export-"))
        stem = f"comparison-{result['instance_id']}"
        files = {f"{stem}.csv": to_csv(result),
                 f"{stem}.json": to_json(result, state.get("instruction", ""), state.get("dataset", ""))}
        for rid, r in result["retrievers"].items():
            if "error" not in r:
                files[f"{stem}-{file_part(rid)}.trec"] = to_trec(result, rid)
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
        return [str(folder / n) for n in files]

    # ---- layout ---------------------------------------------------------------------------------
    state = gr.State({})
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            instruction = gr.Textbox(label="Instruction — edit it and the rankings follow", lines=3, max_lines=8,
                                     elem_id="instruction")
            qinfo = gr.HTML(elem_id="query-info")
        with gr.Column(scale=3):
            variant = gr.Dropdown(label="Try a variant: other users, paraphrases, perturbations",
                                  info=variant_info(), elem_id="variant")
            reset = gr.Button("↺ Reset to original", elem_id="reset", size="sm")
    summary = gr.HTML(elem_id="summary")
    rankings = gr.HTML(elem_id="rankings")
    with gr.Row():
        robustness_plot = gr.Plot(elem_id="robustness-plot", show_label=False)
        rank_shift_plot = gr.Plot(elem_id="rank-shift-plot", show_label=False)
    sweep_plot = gr.Plot(elem_id="sweep-plot", show_label=False)
    with gr.Accordion("Share and export", open=False):
        with gr.Row():
            link = gr.Textbox(label="Link to this view (append to the page address)", elem_id="share-link",
                              interactive=False, scale=5)
            copy_btn = gr.Button("Copy link", elem_id="copy-link", scale=1)
        with gr.Row():
            export_btn = gr.Button("Export CSV, JSON and TREC run", elem_id="export", scale=1)
            files = gr.File(file_count="multiple", label="Exports", elem_id="exports", scale=3)

    # ---- events ---------------------------------------------------------------------------------
    dataset, query, order, instance, retrievers, k = bar.dataset, bar.query, bar.order, bar.instance, bar.retrievers, bar.k
    picks = [query, instance, variant, instruction, qinfo, state, summary]
    view_inputs = [dataset, instruction, retrievers, k, state]
    view_outputs = [rankings, summary, robustness_plot, rank_shift_plot, sweep_plot, link, state]
    live = dict(fn=refresh, inputs=view_inputs, outputs=view_outputs, trigger_mode="always_last",
                show_progress="minimal", **PRIVATE)

    app.load(on_load, outputs=[dataset, retrievers] + picks, **PRIVATE).then(**live)
    dataset.input(on_dataset, [dataset, order, retrievers, state], [dataset] + picks, **PRIVATE).then(**live)
    query.input(lambda d, q, o, r: on_pick(d, q, None, o, r), [dataset, query, order, retrievers], picks,
                **PRIVATE).then(**live)
    instance.input(lambda d, i, o, r: on_pick(d, None, i, o, r), [dataset, instance, order, retrievers], picks,
                   **PRIVATE).then(**live)
    bar.random_btn.click(on_random, [dataset, order, retrievers], picks, **PRIVATE).then(**live)
    order.input(on_order, [dataset, order, retrievers, query], [query, summary], **PRIVATE)
    variant.input(on_variant, [variant, state], instruction, **PRIVATE)  # refreshes via instruction.change
    reset.click(on_reset, state, instruction, **PRIVATE)
    # .change, not .input: Gradio's Textbox fires `input` on keypress only, so deleting, cutting or
    # pasting text would not refresh until blur; `change` fires on every edit (and on set values).
    gr.on([instruction.change, instruction.blur, retrievers.input, k.release], **live)
    copy_btn.click(None, link, link, js=COPY_LINK_JS, **PRIVATE)
    export_btn.click(on_export, state, files, **PRIVATE)
    return Explore(state=state, picks=picks, live=live, pick=on_pick, refresh=refresh)
