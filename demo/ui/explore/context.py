"""What the Explore tab's handlers share: the context they are bound to (the service and the
components they update) and small helpers of the view."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import gradio as gr

from demo.service import MAX_K, Explorer  # noqa: F401 (the page's k limit is the service's)
from demo.ui.controls import Bar
from demo.ui.layout import LEGEND

AUTO = "auto"  # grade against: follow the text
TABS = ("explore", "scoreboard", "inspect")


@dataclass(frozen=True, eq=False)
class ExploreUI:
    """The Explore tab's components (the picker bar's are in Bar)."""
    # Per-session state in three parts, each written by one kind of handler only, so that events
    # running at once (a tour step opened while the last plots are drawn) cannot write back a stale
    # copy of another's part: `state` the picked instance {"dataset", "instance"} (the pickers),
    # `view` what the columns show {"result", "instruction", "dataset", "shown"} or {"refused"}
    # (columns.refresh), `plotted` what the plots show {"drawn", "dataset_shown"} (plots_panel.replot).
    state: gr.State
    instruction: gr.Textbox
    qinfo: gr.HTML
    variant: gr.Dropdown
    grade: gr.Dropdown
    reset: gr.Button
    summary: gr.HTML
    live_btn: gr.Button
    rankings: gr.HTML
    robustness_plot: gr.Plot
    robustness_text: gr.HTML
    focus: gr.Dropdown
    rank_shift_plot: gr.Plot
    rank_shift_text: gr.HTML
    sweep_plot: gr.Plot
    sweep_text: gr.HTML
    dataset_plot: gr.Plot  # the whole-dataset chart, shown by a tour step about the dataset
    dataset_text: gr.HTML
    step_plot: gr.State  # the plot the open tour step shows (demo.tour.PLOTS), "" outside the tour
    link: gr.Textbox
    copy_btn: gr.Button
    export_btn: gr.Button
    files: gr.File
    view: gr.State  # see `state`
    plotted: gr.State
    edit_seq: gr.Number  # hidden: an edit's number (typing, a variant, the reset), set by the page (demo.ui.latest)


@dataclass(frozen=True, eq=False)
class Ctx:
    """The dependencies of the Explore handlers (bound with demo.ui.binding.bind)."""
    explorer: Explorer
    default_dataset: str
    valid_ids: frozenset  # the retriever ids the registry offers here (run files come per dataset)
    bar: Bar
    ui: ExploreUI
    tabs: gr.Tabs
    tab_state: gr.State

    @property
    def picks(self) -> list:
        """What a pick (dataset, query, instance) sets: the pickers, the editor and the query panel."""
        b, u = self.bar, self.ui
        return [b.query, b.instance, u.variant, u.instruction, u.qinfo, u.state, u.summary, u.grade]


def graded(grade) -> str | None:
    """The grade_against of Explorer.rank for the "Grade against" choice."""
    return None if not grade or grade == AUTO else grade


def view_key(dataset, info, instruction, retrievers, k, grade, session_runs) -> list:
    """What the columns show: a refresh or a replot with the same key has nothing new to draw."""
    return [dataset, (info or {}).get("instance_id"), instruction, list(retrievers or []), k, grade,
            sorted((n, r.digest) for n, r in (session_runs or {}).items())]


def query_html(info: dict) -> str:
    return (f'<div class="legend">Base query <b>{escape(info["query"])}</b> · instance '
            f'<code>{escape(info["instance_id"])}</code> · target <code>{escape(", ".join(info["targets"]))}</code>'
            f' · {len(info["siblings"])} siblings · {LEGEND}</div>')


def notice(lines: list[str]) -> str:
    return "".join(f'<div class="app-notice">{escape(x)}</div>' for x in lines)
