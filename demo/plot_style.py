"""What every plot shares: the figure class that carries its plotly.js config, the two
styles (screen and projector), escaping of dataset text, and integer rank ticks.

Plotly renders <br>, <b>, <a href> ... in *every* string (titles, tick labels, legend names,
hover text) as markup and decodes only a few entities (&amp; &lt; &gt; and numeric ones), so
dataset and user text goes through `esc` and only into data arrays, never into a
hovertemplate (where %{...} would be read as a field).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import plotly.graph_objects as go

# The only plotly.js toolbar button kept: "Download plot as a png" (the presenter's "copy
# slide"), at twice the on-screen resolution so it stays sharp on a projector slide.
PLOT_CONFIG = {
    "displaylogo": False,
    "displayModeBar": True,  # always shown, so the export is findable; the titles sit below it
    "modeBarButtons": [["toImage"]],
    "toImageButtonOptions": {"format": "png", "filename": "instructir-plot", "scale": 2},
    "scrollZoom": False,
    "responsive": True,
}
"""plotly.js config of every figure built in demo.plots.

Gradio 6's gr.Plot has no `config` argument: its plotly front end (PlotlyPlot in
gradio/templates/frontend/assets) parses the figure JSON from `to_json()`, takes a top-level
"config" key from it and passes that to Plotly.react. `Figure` below puts its config there,
so the UI needs nothing more than `gr.Plot(...)` and a handler returning the figure. For a
figure made elsewhere: `Figure(fig, config=plot_config("name"))`."""

PLOT_CSS = """
/* A phone scrolls the sweep sideways rather than squeezing 25 heatmap columns into 360 px. */
#sweep-plot { overflow-x: auto; }
#sweep-plot .js-plotly-plot { min-width: 860px; }
"""
"""CSS the page needs for the plots (element ids); add it to the app's CSS."""

MODEBAR_PX = 34  # height of the toolbar strip; titles start below it, so it never covers them
CUT = 50  # ranks deeper than this (or than k, if larger) count as "below the cut"


def plot_config(filename: str = "instructir-plot") -> dict:
    """PLOT_CONFIG with the PNG export named `filename` (reduced to safe file-name characters)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(filename)).strip("-.")[:80] or "instructir-plot"
    return {**PLOT_CONFIG, "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": name}}


class Figure(go.Figure):
    """A plotly figure whose JSON carries its plotly.js config (see PLOT_CONFIG)."""

    def __init__(self, *args, config: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._config = config or plot_config()

    @property
    def config(self) -> dict:
        return self._config

    def to_json(self, *args, **kwargs) -> str:
        out = json.loads(super().to_json(*args, **kwargs))
        out["config"] = self._config
        return json.dumps(out)

    def __reduce__(self):  # copies and pickles keep the config
        return (*super().__reduce__(), {"_config": self._config})


@dataclass(frozen=True)
class Style:
    font: int  # ticks, legend, hover, cell text (px)
    title: int  # figure title (px)
    height: int  # figure height (px); the width follows the page
    rank_labels: int  # most labels on a rank axis
    text_columns: int  # most heatmap columns that still get the rank written in each cell
    label_chars: int  # variant and query labels cut to this many characters
    dark: bool = False  # the page is in dark mode: a dark template, light text

    @property
    def text(self) -> str:
        return DARK_TEXT if self.dark else LIGHT_TEXT

    @property
    def muted(self) -> str:
        return DARK_MUTED if self.dark else LIGHT_MUTED

    @property
    def background(self) -> str:
        return DARK_BG if self.dark else LIGHT_BG


# the page's own colours (demo/ui/layout.py: --ix-text, --ix-muted, --ix-card): >= 4.5:1 on the plot's background
LIGHT_TEXT, LIGHT_MUTED, LIGHT_BG = "#1e293b", "#475569", "#ffffff"
DARK_TEXT, DARK_MUTED, DARK_BG = "#e2e8f0", "#b6c2d3", "#172033"

STYLES = {
    "normal": Style(font=13, title=16, height=400, rank_labels=11, text_columns=30, label_chars=22),
    # a projector at the back of a room: larger type, fewer labels
    "present": Style(font=20, title=26, height=520, rank_labels=6, text_columns=26, label_chars=16),
}
STYLES.update({f"{name}-dark": replace(st, dark=True) for name, st in list(STYLES.items())})


def style_name(presenting: bool = False, dark: bool = False) -> str | None:
    """The style for the page's modes: None (normal), "present", "dark" or "present-dark"."""
    name = ("present" if presenting else "normal") + ("-dark" if dark else "")
    return None if name == "normal" else name


def style_of(style: str | None) -> Style:
    if style == "dark":
        style = "normal-dark"
    return STYLES.get(style or "normal", STYLES["normal"])


def esc(text) -> str:
    """Dataset or user text as plotly shows it literally (not as markup). Quotes stay: plotly
    parses tags only, and would print &quot; as is."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def short(text, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, then escaped (cut first: never
    inside an entity)."""
    text = " ".join(str(text).split())
    return esc(text if len(text) <= limit else text[:limit - 1].rstrip() + "…")


def nice_step(last: int, most: int) -> int:
    """The smallest step of 1, 2, 5, 10, 20, 50, ... for which the ticks 1, step, 2·step, ...
    up to `last` number at most `most`."""
    step, i = 1, 0
    while (last if step == 1 else 1 + last // step) > max(most, 2):
        i += 1
        step = (1, 2, 5)[i % 3] * 10 ** (i // 3)
    return step


def rank_ticks(last: int, most: int) -> list[int]:
    """Integer rank ticks from 1 to `last`, at most `most` of them (1 always first)."""
    step = nice_step(last, most)
    return list(range(1, last + 1)) if step == 1 else [1] + list(range(step, last + 1, step))


def slotted_ticks(last: int, most: int, slot_label: str) -> tuple[list[int], list[str]]:
    """Ticks 1..`last` plus one row below them (`last` + 1) labelled `slot_label` (">50",
    "none"), at most `most` in all; a regular tick nearer that row than half a step is left out
    so the two labels never overlap."""
    ticks = rank_ticks(last, most - 1)
    step = nice_step(last, most - 1)
    if step > 1:
        ticks = [t for t in ticks if last + 1 - t >= step / 2]
    return ticks + [last + 1], [str(t) for t in ticks] + [slot_label]


def log_rank_ticks(last: int, most: int) -> list[int]:
    """Integer ticks for a log rank axis up to `last`: 1, 2, 5, 10, ... or, when those are too
    many, the powers of ten."""
    ticks = [v for e in range(8) for v in (10 ** e, 2 * 10 ** e, 5 * 10 ** e) if v <= last]
    return ticks if len(ticks) <= most else [v for v in ticks if str(v).strip("0") == "1"]


def base_layout(st: Style, title: str, subtitle: str | None = None, height: int | None = None,
                top_lines: int = 0) -> dict:
    """Layout shared by every figure: the title left-aligned below the toolbar strip (so the
    toolbar never covers it, at any width), a fixed height and the page's width, no drag
    zoom (on a phone a drag must scroll the page), bar texts hidden rather than overlapping.
    `top_lines`: lines of subplot titles to keep room for between the title and the plots."""
    top = MODEBAR_PX + round(st.title * 1.4) + round(st.font * 1.5) * (bool(subtitle) + top_lines) + 12
    title_d = dict(text=title, x=0, xref="container", xanchor="left", y=1, yref="container", yanchor="top",
                   pad=dict(t=MODEBAR_PX, l=12), font=dict(size=st.title))
    if subtitle:
        title_d["subtitle"] = dict(text=subtitle, font=dict(size=st.font, color=st.muted))
    return dict(template="plotly_dark" if st.dark else "plotly_white", autosize=True, height=height or st.height,
                title=title_d, paper_bgcolor=st.background, plot_bgcolor=st.background,
                font=dict(size=st.font, color=st.text), margin=dict(l=60, r=20, t=top, b=60, autoexpand=True),
                hoverlabel=dict(align="left", font=dict(size=st.font)), dragmode=False,
                uniformtext=dict(minsize=max(9, st.font - 3), mode="hide"),
                legend=dict(orientation="h", x=0, xanchor="left", y=-0.1, yanchor="top",
                            font=dict(size=st.font)))
