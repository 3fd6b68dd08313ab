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
"""

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


def render_step(step: dict) -> str:
    """The narrative with `code` spans, escaped."""
    parts = escape(step["text"]).split("`")
    text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return (f'<div class="tour-step"><div class="tour-title">Tour · step {step["n"]} of {step["of"]}: '
            f'{escape(step["title"])}</div><p class="tour-text">{text}</p></div>')


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
            next_btn = gr.Button("Next ▶", elem_id="tour-next", size="sm", scale=0, min_width=120)
            end_btn = gr.Button("End tour", elem_id="tour-end", size="sm", scale=0, min_width=100,
                                variant="secondary")
    start_btn = gr.Button("▶ Take the tour", elem_id="tour-start", size="sm", scale=0, min_width=150)
    return TourBar(current, panel, narrative, prev_btn, next_btn, end_btn, start_btn)


@dataclass(frozen=True, eq=False)
class TourCtx:
    """The dependencies of the tour's handlers."""
    explorer: Explorer
    tour: TourBar
    bar: Bar
    explore: object  # demo.ui.explore.Explore: a step opens through its pick


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
    picks = explore.pick(view["dataset"], None, view["instance"], DATASET_ORDER, view["retrievers"])
    return {tour.current: n, tour.panel: gr.update(visible=True), tour.start_btn: gr.update(visible=False),
            tour.narrative: render_step(step), tour.prev_btn: gr.update(interactive=n > 1),
            tour.next_btn: gr.update(interactive=n < len(STEPS)), bar.dataset: gr.update(value=TOUR_DATASET),
            bar.order: gr.update(choices=order_choices(view["retrievers"]), value=DATASET_ORDER),
            bar.retrievers: gr.update(value=view["retrievers"]), bar.k: gr.update(value=view["k"]),
            **picks, explore.ctx.ui.instruction: view["instruction"]}  # the editor holds the step's variant


def on_start(ctx: TourCtx) -> dict:
    return show(ctx, 1)


def on_next(ctx: TourCtx, n: int) -> dict:
    return show(ctx, n + 1)


def on_prev(ctx: TourCtx, n: int) -> dict:
    return show(ctx, n - 1)


def on_end(ctx: TourCtx) -> dict:
    return {ctx.tour.current: 0, ctx.tour.panel: gr.update(visible=False), ctx.tour.start_btn: gr.update(visible=True)}


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
    ctx = TourCtx(explorer, tour, bar, explore)
    outputs = [tour.current, tour.panel, tour.start_btn, tour.narrative, tour.prev_btn, tour.next_btn, bar.dataset,
               bar.order, bar.retrievers, bar.k] + explore.picks

    def then_view(event):
        event.then(**explore.live).then(**explore.drawing)

    then_view(tour.start_btn.click(bind(on_start, ctx), None, outputs, **PRIVATE))
    then_view(tour.next_btn.click(bind(on_next, ctx), tour.current, outputs, **PRIVATE))
    then_view(tour.prev_btn.click(bind(on_prev, ctx), tour.current, outputs, **PRIVATE))
    tour.end_btn.click(bind(on_end, ctx), None, [tour.current, tour.panel, tour.start_btn], **PRIVATE)
    # after the Explore tab has restored the page's own link, so the step is what stays on screen
    then_view(explore.loaded.then(bind(on_load, ctx), None, outputs, **PRIVATE))
    return ctx
