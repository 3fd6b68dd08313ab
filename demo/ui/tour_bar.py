"""The guided tour's bar, above the Explore tab: step n of N, its narrative, and
previous/next buttons (arrow keys too, see TOUR_KEYS_JS). Opening a step sets the picker bar
and the editor to the step's prepared view through the Explore tab's own handlers, so what the
narrative says is what the columns show. `?tour=N` opens step N."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import gradio as gr

from demo.errors import UserError
from demo.service import Explorer
from demo.tour import STEPS, TOUR_DATASET, open_step
from demo.ui.binding import PRIVATE, bind
from demo.ui.controls import DATASET_ORDER, Bar, order_choices

TOUR_CSS = """
#tour { border-left: 4px solid var(--ix-accent); background: var(--ix-summary-bg); border-radius: 6px; padding: 6px 12px; }
.tour-title { font-weight: 700; color: var(--ix-text); }
.tour-text { margin: 2px 0 0; color: var(--ix-text); line-height: 1.4; }
.tour-text code { color: var(--ix-text); background: none; font-weight: 600; }
#teach-row { align-items: flex-start; gap: 8px; }
.tour-plot-link { white-space: nowrap; color: var(--ix-accent); font-weight: 600; }
/* a step owns its view: only the plot it talks about is shown while it is open (PLOT_PARTS) */
"""

# The page parts of each plot (demo.tour.PLOTS): while a step is open, the others are hidden.
PLOT_PARTS = {"robustness": ["#robustness-plot", "#robustness-text"],
              "rank-shift": ["#shift-retriever", "#rank-shift-plot", "#rank-shift-text"],
              "sweep": ["#sweep-panel"], "dataset": ["#dataset-plot", "#dataset-text"]}
TOUR_CSS += "".join(
    f'body:has(.tour-step[data-plot="{plot}"]) :is({", ".join(p for other, parts in PLOT_PARTS.items() if other != plot for p in parts if p not in PLOT_PARTS[plot])}) {{ display: none !important; }}\n'
    for plot in PLOT_PARTS) + \
    'body:has(.tour-step[data-plot="sweep"]) #plots-panel { display: none !important; }\n' + \
    'body:has(.tour-step[data-plot="sweep"]) #results-row > div:first-child { min-width: 100% !important; }\n'

# Arrow keys move through the tour while it is open, unless the user is typing somewhere.
TOUR_KEYS_JS = """
<script>
document.addEventListener('keydown', (e) => {
  const bar = document.getElementById('tour');
  if (!bar || bar.offsetParent === null || e.altKey || e.ctrlKey || e.metaKey) return;
  const t = e.target, tag = (t && t.tagName || '').toLowerCase();
  if (tag === 'input' || tag === 'textarea' || tag === 'select' || (t && t.isContentEditable)) return;
  if (t && t.closest && t.closest('.card')) return;  // arrows move between result cards there
  const id = e.key === 'ArrowRight' ? 'tour-next' : e.key === 'ArrowLeft' ? 'tour-prev' : null;
  const btn = id && document.getElementById(id);
  if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
});
</script>
"""


PLOT_NAMES = {"robustness": "nDCG and Robustness, this query", "rank-shift": "where the target went, this query",
              "sweep": "target rank per variant, this query", "dataset": "nDCG against Robustness, whole dataset"}
PLOT_IDS = {"robustness": "robustness-plot", "rank-shift": "rank-shift-plot", "sweep": "sweep-plot",
            "dataset": "dataset-plot"}


def render_step(step: dict) -> str:
    """The narrative with `code` spans, escaped. data-n and data-plot tell the page which step is
    open (the address bar, demo.ui.url) and which plot it shows (the others are hidden, TOUR_CSS)."""
    parts = escape(step["text"]).split("`")
    text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    plot = (step.get("view") or {}).get("plot", "")
    jump = (f' <a class="tour-plot-link" href="#{PLOT_IDS[plot]}">The plot: {escape(PLOT_NAMES[plot])} ↓</a>'
            if plot in PLOT_IDS else "")
    return (f'<div class="tour-step" data-n="{int(step["n"])}" data-plot="{escape(plot, quote=True)}">'
            f'<div class="tour-title">Tour · step {step["n"]} of {step["of"]}: '
            f'{escape(step["title"])}</div><p class="tour-text">{text}{jump}</p></div>')


@dataclass
class TourBar:
    current: gr.State
    panel: gr.Column
    narrative: gr.HTML
    prev_btn: gr.Button
    next_btn: gr.Button
    end_btn: gr.Button
    start_btn: gr.Button


def layout() -> TourBar:
    """The tour's components, placed where this is called (above the tabs); wire() adds the events."""
    current = gr.State(0)
    with gr.Column(visible=False, elem_id="tour") as panel:
        narrative = gr.HTML(elem_id="tour-text")
        with gr.Row(elem_id="tour-buttons"):
            prev_btn = gr.Button("◀ Previous", elem_id="tour-prev", size="sm", scale=0, min_width=120)
            next_btn = gr.Button("Next ▶", elem_id="tour-next", size="sm", scale=0, min_width=120, variant="primary")
            end_btn = gr.Button("End tour", elem_id="tour-end", size="sm", scale=0, min_width=100,
                                variant="secondary")
    start_btn = gr.Button(f"▶ Take the tour: {len(STEPS)} findings, {len(STEPS)} steps", elem_id="tour-start", variant="primary",
                          size="md", scale=0, min_width=320)
    return TourBar(current, panel, narrative, prev_btn, next_btn, end_btn, start_btn)


@dataclass(frozen=True, eq=False)
class TourCtx:
    """The dependencies of the tour's handlers."""
    explorer: Explorer
    tour: TourBar
    bar: Bar
    explore: object  # demo.ui.explore.Explore: a step opens through its pick
    events: list = None  # the ends of the tour's event chains (the address bar follows them)
    loaded: list = None  # [the end of the page-load chain] (the step of `?tour=N` is open by then)


def show(ctx: TourCtx, n: int) -> dict:
    """Open step n (clamped to the tour): the bar, the picker bar and the editor set to its view."""
    tour, bar, explore = ctx.tour, ctx.bar, ctx.explore
    n = max(1, min(int(n), len(STEPS)))
    try:
        step = open_step(ctx.explorer, STEPS, n)
    except (UserError, KeyError) as e:
        return {tour.current: 0, tour.panel: gr.update(visible=True), tour.start_btn: gr.update(visible=False),
                tour.narrative: f'<div class="app-error">The tour cannot open step {n}: {escape(str(e))}</div>'}
    view = step["view"]
    ui = explore.ctx.ui
    picks = explore.pick(view["dataset"], None, view["instance"], DATASET_ORDER, view["retrievers"])
    variants = [c[1] if isinstance(c, (tuple, list)) else c for c in picks[ui.variant].get("choices", [])]
    info = picks[ui.state]["instance"]
    chosen = next((str(i) for i, v in enumerate(info["variants"])
                   if v["text"] == view["instruction"] and view["instruction"] != info["instruction"]), None)
    picks[ui.variant] = gr.update(choices=picks[ui.variant].get("choices", []),
                                  value=chosen if chosen in variants else None)
    return {tour.current: n, tour.panel: gr.update(visible=True), tour.start_btn: gr.update(visible=False),
            tour.narrative: render_step(step), tour.prev_btn: gr.update(interactive=n > 1),
            tour.next_btn: gr.update(interactive=n < len(STEPS)), bar.dataset: gr.update(value=TOUR_DATASET),
            bar.order: gr.update(choices=order_choices(view["retrievers"]), value=DATASET_ORDER),
            bar.retrievers: gr.update(value=view["retrievers"]), bar.k: gr.update(value=view["k"]),
            **picks, ui.instruction: view["instruction"],  # the editor holds the step's variant
            # the plots follow the step's retriever and show its plot
            ui.focus: gr.update(choices=view["retrievers"], value=view["focus"]), ui.step_plot: view["plot"]}


def on_start(ctx: TourCtx) -> dict:
    return show(ctx, 1)


def on_next(ctx: TourCtx, n: int) -> dict:
    return show(ctx, n + 1)


def on_prev(ctx: TourCtx, n: int) -> dict:
    return show(ctx, n - 1)


def on_end(ctx: TourCtx) -> dict:
    ui = ctx.explore.ctx.ui
    return {ctx.tour.current: 0, ctx.tour.panel: gr.update(visible=False), ctx.tour.start_btn: gr.update(visible=True),
            ctx.tour.narrative: "", ui.step_plot: "", ui.dataset_plot: gr.update(visible=False), ui.dataset_text: ""}


def on_load(ctx: TourCtx, request: gr.Request):
    """`?tour=N` opens step N; a step the tour lacks says so."""
    tour = ctx.tour
    raw = dict(request.query_params).get("tour") if request is not None else None
    if raw is None:
        return gr.skip()
    if not str(raw).isdigit() or not 1 <= int(raw) <= len(STEPS):
        return {tour.current: 0, tour.panel: gr.update(visible=True),
                tour.narrative: f'<div class="app-error">The link asks for tour step {escape(str(raw))}; '
                                f'the tour has steps 1 to {len(STEPS)}.</div>'}
    return show(ctx, int(raw))


def wire(tour: TourBar, explorer: Explorer, bar: Bar, explore) -> TourCtx:
    """Opening a step goes through the Explore tab's own handlers: its picks, then its columns and plots."""
    ctx = TourCtx(explorer, tour, bar, explore, [], [])
    ui = explore.ctx.ui
    outputs = [tour.current, tour.panel, tour.start_btn, tour.narrative, tour.prev_btn, tour.next_btn, bar.dataset,
               bar.order, bar.retrievers, bar.k] + explore.picks + [ui.focus, ui.step_plot]

    def then_view(event):
        ctx.events.append(event.then(**explore.live).then(**explore.drawing))

    then_view(tour.start_btn.click(bind(on_start, ctx), None, outputs, **PRIVATE))
    then_view(tour.next_btn.click(bind(on_next, ctx), tour.current, outputs, **PRIVATE))
    then_view(tour.prev_btn.click(bind(on_prev, ctx), tour.current, outputs, **PRIVATE))
    ctx.events.append(tour.end_btn.click(bind(on_end, ctx), None, [tour.current, tour.panel, tour.start_btn, tour.narrative,
                                                 ui.step_plot, ui.dataset_plot, ui.dataset_text], **PRIVATE))
    # after the Explore tab has restored the page's own link, so the step is what stays on screen
    ctx.loaded.append(explore.loaded.then(bind(on_load, ctx), None, outputs, **PRIVATE).then(
        **explore.live).then(**explore.drawing))
    return ctx
