"""The Gradio app: the picker bar, one tab per job (Explore, Scoreboard, Inspect; each a UI
module of its own over the same service) and the API endpoints of DESIGN §6.

build_app(explorer) -> gr.Blocks; nothing is loaded at import. Per-session state lives in
gr.State; the Explorer only memoises shared, read-only results.
"""
from __future__ import annotations

import gradio as gr

from demo.data.wordnet import warm_up
from demo.errors import UserError
from demo.service import Explorer
from demo.ui import explore, inspect_tab, scoreboard_tab
from demo.ui.controls import DEFAULT_RETRIEVERS, ORDERS, build_bar, retriever_choices  # noqa: F401 (re-exported)
from demo.ui.layout import CSS, EXPLAINER, HEADER, HOVER_JS


def launch_kwargs() -> dict:
    """What Gradio 6 takes at launch() rather than Blocks()."""
    return {"css": CSS, "head": HOVER_JS, "theme": gr.themes.Soft()}


def build_app(explorer: Explorer | None = None, default_dataset: str = "demo") -> gr.Blocks:
    explorer = explorer or Explorer()
    warm_up()  # WordNet (synonym variants) loads in the background while the page opens

    # ---- API (gradio_client), DESIGN §6 ------------------------------------------------------
    def api_instance(dataset: str, instance_id: str) -> dict:
        """The instance, its targets and the variants one click can apply."""
        return _api(explorer.instance, dataset, instance_id)

    def api_rank(dataset: str, instance_id: str, instruction: str, retrievers: list[str], k: int = 10) -> dict:
        """Rankings of every retriever for the instance with this instruction."""
        result = _api(explorer.rank, dataset, instance_id, instruction, retrievers, k)
        return {"retrievers": {rid: ({key: r[key] for key in ("encoded", "ranking", "target_rank", "ndcg", "label",
                                                              "original_target_rank", "original_ndcg")}
                                     if "error" not in r else {"error": r["error"]})
                               for rid, r in result["retrievers"].items()},
                "robustness": result["robustness"], "summary": result["summary"], "k": result["k"]}

    def api_sweep(dataset: str, query_id: str, retrievers: list[str], k: int = 10) -> dict:
        """Every variant of the base query through every retriever: target ranks and nDCG."""
        return _api(explorer.sweep, dataset, query_id, retrievers, k)

    def api_explain(dataset: str, instance_id: str, instruction: str, retriever: str, doc_id: str) -> dict:
        """Why this doc is where it is: BM25 term contributions, or instruction-sentence occlusion."""
        return _api(explorer.explain, dataset, instance_id, instruction, retriever, doc_id)

    with gr.Blocks(title="InstructIR Explorer", fill_width=True) as app:
        gr.HTML(HEADER)
        bar = build_bar(default_dataset)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Explore", id="explore", elem_id="tab-explore"):
                view = explore.build(explorer, bar, default_dataset, app)
            with gr.Tab("Scoreboard", id="scoreboard", elem_id="tab-scoreboard"):
                scoreboard_tab.build(explorer, bar)
            with gr.Tab("Inspect", id="inspect", elem_id="tab-inspect"):
                inspect_tab.build(explorer, bar, view, tabs)
        with gr.Accordion("What the numbers mean", open=False, elem_id="explainer"):
            gr.Markdown(EXPLAINER)

        gr.api(api_instance, api_name="instance")
        gr.api(api_rank, api_name="rank")
        gr.api(api_sweep, api_name="sweep")
        gr.api(api_explain, api_name="explain")
    app.queue(default_concurrency_limit=8)
    return app


def _api(fn, *args):
    try:
        return fn(*args)
    except UserError as e:
        raise gr.Error(str(e)) from None
