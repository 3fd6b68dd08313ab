"""The typed API (gradio_client): /instance, /rank, /sweep, /inspect, /explain, /compare, each a thin
function over the service. `heavy` runs a whole-query or whole-dataset view within the public
mode's per-visitor bound (docs/architecture.md, "Bounds per request")."""
from __future__ import annotations

import logging
from typing import Callable

import gradio as gr

from demo import budget
from demo.errors import UserError
from demo.inspection import table_answer
from demo.service import Explorer
from demo.compare_report import to_json
from demo.ui import scoreboard_tab
from demo.ui.render import summarize

log = logging.getLogger(__name__)
RANK_KEYS = ("encoded", "ranking", "target_rank", "ndcg", "label", "original_target_rank", "original_ndcg", "note")


def call(fn, *args):
    """Every failure reaches the caller as one line: a UserError as it is, anything else by kind
    (logged with its traceback here; its text may hold a server path, so it stays in the log)."""
    try:
        return fn(*args)
    except UserError as e:
        raise gr.Error(str(e)) from None
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a bare "Error"
        log.exception("%s failed", getattr(fn, "__name__", "request"))
        raise gr.Error(f"the server could not answer ({type(e).__name__}); the log has the details") from None


class Heavy:
    """In public mode at most budget.HEAVY_PER_VISITOR heavy calls at once per visitor."""

    def __init__(self, public: bool):
        self.public, self.visitors = public, budget.Visitors()

    def __call__(self, fn: Callable, *args, request: gr.Request | None = None):
        if not self.public:
            return call(fn, *args)
        visitor = getattr(getattr(request, "client", None), "host", None) or "unknown"
        try:
            with self.visitors.slot(visitor):
                return call(fn, *args)
        except budget.BudgetExceeded as e:
            raise gr.Error(str(e)) from None


def api_instance(explorer: Explorer, heavy: Heavy, dataset: str, instance_id: str) -> dict:
    """The instance, its targets and the variants one click can apply."""
    return call(explorer.instance, dataset, instance_id)


def api_rank(explorer: Explorer, heavy: Heavy, dataset: str, instance_id: str, instruction: str,
             retrievers: list[str], k: int = 10) -> dict:
    """Rankings of every retriever for the instance with this instruction."""
    result = call(explorer.rank, dataset, instance_id, instruction, retrievers, k)
    return {"retrievers": {rid: ({key: r[key] for key in RANK_KEYS if key in r} if "error" not in r
                                 else {"error": r["error"]}) for rid, r in result["retrievers"].items()},
            "robustness": result["robustness"], "summary": summarize(result), "k": result["k"]}


def api_inspect(explorer: Explorer, heavy: Heavy, dataset: str, retrievers: list[str], k: int = 10,
                request: gr.Request = None) -> dict:
    """The instance table (the Inspect tab's): per instance and retriever its target rank, nDCG@k,
    outcome and top doc, as `python -m demo inspect --json` writes it."""
    return table_answer(heavy(explorer.inspect, dataset, retrievers, k, request=request))


def api_sweep(explorer: Explorer, heavy: Heavy, dataset: str, query_id: str, retrievers: list[str], k: int = 10,
              request: gr.Request = None) -> dict:
    """Every variant of the base query through every retriever: target ranks and nDCG."""
    return heavy(explorer.sweep, dataset, query_id, retrievers, k, request=request)


def api_explain(explorer: Explorer, heavy: Heavy, dataset: str, instance_id: str, instruction: str, retriever: str,
                doc_id: str, request: gr.Request = None) -> dict:
    """Why this doc is where it is: BM25 term contributions, or instruction-sentence occlusion."""
    return heavy(explorer.explain, dataset, instance_id, instruction, retriever, doc_id, request=request)


def api_compare(explorer: Explorer, heavy: Heavy, dataset: str, retrievers: list[str], k: int = 10,
                request: gr.Request = None) -> dict:
    """Paired significance between the retrievers over the whole dataset (randomization and paired
    t-tests, Holm-adjusted; 95% bootstrap intervals over base queries), as `python -m demo compare
    --json` writes it."""
    found = heavy(scoreboard_tab.comparison, explorer, dataset, retrievers, k, request=request)
    if found is None:
        raise gr.Error("compare needs two or more retrievers that rank this dataset")
    return {"dataset": dataset, **to_json(found)}
