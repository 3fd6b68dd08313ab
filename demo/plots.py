"""Plot builders: plain result dicts (Explorer.rank / Explorer.sweep) in, plotly figures out,
and beside each figure a short plain-text summary of what it shows (for screen readers; the UI
escapes it like any text).

A builder never raises: on bad input it returns a figure that says what went wrong (as MTEB's
plots do). Each takes style="present" for a projector (larger type, fewer labels); each
figure carries its plotly.js config, a PNG export named after the view (demo.plot_style).
"""
from __future__ import annotations

import functools
import math

from plotly.subplots import make_subplots

from demo.plot_style import CUT, PLOT_CONFIG, Figure, base_layout, esc, log_rank_ticks, plot_config, rank_ticks, \
    short, slotted_ticks, style_of

__all__ = ["PLOT_CONFIG", "error_figure", "robustness_figure", "rank_shift_figure", "sweep_figure", "dataset_figure",
           "dataset_summary",
           "robustness_summary", "rank_shift_summary", "sweep_summary", "rank_bins"]

ORIGINAL, EDITED = "#94a3b8", "#2563eb"
TARGET, SIBLING, OTHER = "#16a34a", "#f59e0b", "#cbd5e1"
NOT_RETRIEVED = "#d4d4d8"  # neutral grey: no rank at all, unlike any rank colour


def safe(builder):
    @functools.wraps(builder)
    def wrapped(*args, **kwargs):
        try:
            return builder(*args, **kwargs)
        except Exception as e:  # a plot must never take the page down
            return error_figure(f"{builder.__name__}: {type(e).__name__}: {e}")
    return wrapped


def safe_text(summary):
    @functools.wraps(summary)
    def wrapped(*args, **kwargs):
        try:
            return summary(*args, **kwargs)
        except Exception as e:
            return f"No summary ({summary.__name__}: {type(e).__name__})."
    return wrapped


def error_figure(message: str, style: str | None = None) -> Figure:
    st = style_of(style)
    fig = Figure()
    fig.add_annotation(text=esc(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(**base_layout(st, ""), xaxis_visible=False, yaxis_visible=False)
    return fig


def _ok(result: dict) -> dict:
    return {rid: r for rid, r in result["retrievers"].items() if "error" not in r}


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}"


def _rank(r) -> str:
    return "not retrieved" if r is None else f"#{r}"


# ---- nDCG and Robustness bars -------------------------------------------------------------------
THIS_QUERY, WHOLE_DATASET = "this query", "whole dataset"  # every title says which (docs/architecture.md, views)


def scoped(title: str, scope: str) -> str:
    return f"{title} · {scope}"


def _bar_text(n_bars: int) -> dict:
    """Bar labels that cannot collide: one label per retriever (on the edited bar), and none past
    three retrievers, where a bar can be narrower than its number (the hover and the text beside
    the plot give every value)."""
    if n_bars > 3:
        return dict(texttemplate=None)
    return dict(texttemplate="%{y:.0f}", textposition="outside", textangle=0, constraintext="none")


SUBPLOT_MIN_PX = 130  # the narrowest a subplot of the bars is drawn (a 390 px phone)


def _upright_ticks(labels: list[str], st, width: float = SUBPLOT_MIN_PX) -> dict:
    """Tick labels turned upright when, side by side, they would not fit the narrowest width."""
    longest = max((len(x) for x in labels), default=0)
    return {"tickangle": -90} if labels and longest * st.font * 0.62 > width / len(labels) else {}


@safe
def robustness_figure(result: dict, style: str | None = None) -> Figure:
    """nDCG@k of this instance and Robustness@k of its query (its users), per retriever. With an
    edit each retriever gets a pair of bars, the original instruction (left, grey, unlabelled) and
    the edit (right, blue, labelled); without one a single bar each. No legend: the subtitle says
    which bar is which, so nothing can overlap the axis labels."""
    st, rs, k = style_of(style), _ok(result), int(result["k"])
    ids = list(rs)
    changed = result.get("changed", True)
    fig = Figure(make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                               subplot_titles=(f"nDCG@{k}<br>this user", f"Robustness@{k}<br>all its users")),
                 config=plot_config(f"instructir-scores-{result.get('instance_id', '')}"))
    x = [esc(i) for i in ids]
    for col, (metric, original, edited) in enumerate([
            (f"nDCG@{k}", [rs[i]["original_ndcg"] for i in ids], [rs[i]["ndcg"] for i in ids]),
            (f"Robustness@{k}", [result["original_robustness"][i] for i in ids], [result["robustness"][i] for i in ids])],
            start=1):
        bars = [(f"{metric} original", original, ORIGINAL, False), (f"{metric} edited", edited, EDITED, True)] \
            if changed else [(metric, edited, EDITED, True)]
        for name, vals, color, labelled in bars:
            fig.add_bar(name=name, x=x, y=[100 * v for v in vals], marker_color=color, cliponaxis=False,
                        showlegend=False, hovertemplate="%{x}<br>%{fullData.name}: %{y:.1f}<extra></extra>",
                        row=1, col=col, **(_bar_text(len(ids)) if labelled else {}))
    sub = ("grey: original · blue: your edit" if changed else "the original instruction")
    fig.update_layout(**base_layout(st, scoped(f"nDCG@{k} and Robustness@{k}", THIS_QUERY), sub, top_lines=2),
                      barmode="group", bargap=0.3, bargroupgap=0.05)
    fig.update_yaxes(range=[0, 118], tickvals=[0, 25, 50, 75, 100], fixedrange=True)
    fig.update_yaxes(title_text="score (×100)", row=1, col=1)
    fig.update_xaxes(fixedrange=True, automargin=True, **_upright_ticks(ids, st))
    fig.update_annotations(font_size=st.font)  # subplot titles
    return fig


@safe_text
def robustness_summary(result: dict) -> str:
    rs, k = _ok(result), int(result["k"])
    parts = [f"{rid}: nDCG@{k} {_pct(r['original_ndcg'])} with the original instruction, {_pct(r['ndcg'])} with "
             f"yours; Robustness@{k} of the query {_pct(result['original_robustness'][rid])}, "
             f"{_pct(result['robustness'][rid])} with your edit" for rid, r in rs.items()]
    failed = [rid for rid in result["retrievers"] if rid not in rs]
    text = "Scores ×100. " + ("; ".join(parts) + "." if parts else "No retriever could rank.")
    return text + (f" Not shown (unavailable): {', '.join(failed)}." if failed else "")


# ---- rank movement -----------------------------------------------------------------------------
def _focus(rs: dict, focus: str | None) -> str | None:
    return focus if focus in rs else next(iter(rs), None)


def _target_axis(values: list, most: int) -> tuple[dict, float | None]:
    """y axis for target ranks of any depth: integer ticks, linear when shallow, log when deep;
    "not retrieved" gets its own row below the deepest rank. Returns (axis, y of that row)."""
    ranks = [v for v in values if v is not None]
    deepest = max(ranks, default=1)
    missing = any(v is None for v in values)
    if deepest <= CUT:
        if missing:
            vals, text = slotted_ticks(deepest, most, "none")
        else:
            vals = rank_ticks(deepest, most)
            text = [str(v) for v in vals]
        return dict(type="linear", range=[deepest + missing + 0.5, 0.5], tickvals=vals, ticktext=text), \
            (deepest + 1 if missing else None)
    ticks = log_rank_ticks(deepest, most - missing)
    slot = 2 * deepest if missing else None
    return dict(type="log", range=[math.log10((slot or deepest) * 1.3), math.log10(0.8)],
                tickvals=ticks + ([slot] if slot else []),
                ticktext=[str(t) for t in ticks] + (["none"] if slot else [])), slot


@safe
def rank_shift_figure(result: dict, focus: str | None = None, style: str | None = None) -> Figure:
    """Left: each retriever's target rank, original → edited instruction. Right: how the top k
    of one retriever (`focus`, e.g. from a selector; default the first working column) moved."""
    st, rs, k = style_of(style), _ok(result), int(result["k"])
    focus = _focus(rs, focus)
    fig = Figure(make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.16,
                               subplot_titles=("Target rank", f"Top-{k} of<br>{esc(focus)}" if focus else "")),
                 config=plot_config(f"instructir-rank-shift-{result.get('instance_id', '')}-{focus}"))
    values = [v for r in rs.values() for v in (r["original_target_rank"], r["target_rank"])]
    target_axis, slot = _target_axis(values, st.rank_labels)
    for rid, r in rs.items():
        old, new = r["original_target_rank"], r["target_rank"]
        fig.add_scatter(x=["original", "edited"], y=[slot if v is None else v for v in (old, new)],
                        mode="lines+markers", name=esc(rid), marker_size=st.font * 0.7,
                        customdata=[f"{esc(rid)}<br>{which}: target {_rank(v)}"
                                    for which, v in (("original", old), ("edited", new))],
                        hovertemplate="%{customdata}<extra></extra>", row=1, col=1)
    if focus:
        _movement(fig, rs[focus], k)
        for name, color in (("target", TARGET), ("other users' targets", SIBLING)):  # legend keys for the right
            fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=color, width=4), name=name,
                            hoverinfo="skip", row=1, col=2)
    # no x titles: the ticks say original / edited, and the legend below them must not cover a title
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(title_text="rank (1 = top)", fixedrange=True, row=1, col=1, **target_axis)
    vals, text = slotted_ticks(k, st.rank_labels, f">{k}")
    fig.update_yaxes(range=[k + 1.5, 0.5], tickvals=vals, ticktext=text, fixedrange=True, row=1, col=2)
    lay = base_layout(st, scoped("Where the target went", THIS_QUERY), "original → edited instruction", top_lines=2)
    names = list(rs) + (["target", "other users' targets"] if focus else [])
    lay.update(_legend_below(st, names, lay))
    fig.update_layout(**lay)
    fig.update_annotations(font_size=st.font)  # subplot titles
    return fig


LEGEND_MIN_WIDTH = 300  # px: the narrowest the plot gets (a 390 px phone, or the 340 px side panel)


def _legend_below(st, names: list[str], lay: dict) -> dict:
    """A horizontal legend in a bottom margin of its own, as many rows as the names need at the
    narrowest width the plot is drawn at, so however the page is resized the legend never lies
    over the chart (plotly wraps it into those rows or fewer)."""
    rows, used = 1, 0.0
    for name in names:
        w = len(name) * st.font * 0.62 + 46  # symbol, gap and text
        if used and used + w > LEGEND_MIN_WIDTH:
            rows, used = rows + 1, 0.0
        used += w
    legend_px = round(rows * st.font * 1.7 + 8)
    bottom = round(st.font * 2.6) + legend_px  # tick labels, then the legend
    return {"height": lay["height"] + legend_px, "margin": {**lay["margin"], "b": bottom},
            "legend": dict(orientation="h", x=0, xanchor="left", xref="container", y=0, yanchor="bottom",
                           yref="container", font=dict(size=st.font), entrywidthmode="pixels", tracegroupgap=0)}


def _movement(fig, r: dict, k: int) -> None:
    edited = {c["doc_id"]: c for c in r["ranking"]}
    for doc in dict.fromkeys(r["original_top"] + list(edited)):
        card = edited.get(doc)
        old = card["original_rank"] if card else r["original_top"].index(doc) + 1
        new = card["rank"] if card else None
        is_target = bool(card and card["is_target"])
        color = TARGET if is_target else (SIBLING if card and card["is_sibling"] else OTHER)
        role = " (target)" if is_target else (" (sibling)" if color == SIBLING else "")
        was = f"original {_rank(old)}"  # None: a lexical retriever did not retrieve it before
        where = f"edited #{new}" if new is not None else f"edited: below #{k}"
        fig.add_scatter(x=["original", "edited"], y=[k + 1 if old is None else min(old, k + 1),
                                                     k + 1 if new is None else new],
                        mode="lines+markers", line=dict(color=color, width=4 if is_target else 2), showlegend=False,
                        customdata=[f"{esc(doc)}{role}<br>{was} → {where}"] * 2,
                        hovertemplate="%{customdata}<extra></extra>", row=1, col=2)


@safe_text
def rank_shift_summary(result: dict, focus: str | None = None) -> str:
    rs, k = _ok(result), int(result["k"])
    if not rs:
        return "No retriever could rank."
    moves = "; ".join(f"{rid} {_rank(r['original_target_rank'])} → {_rank(r['target_rank'])}" for rid, r in rs.items())
    focus = _focus(rs, focus)
    r = rs[focus]
    new_top = [c["doc_id"] for c in r["ranking"]]
    entered = len(set(new_top) - set(r["original_top"]))
    same = sum(a == b for a, b in zip(new_top, r["original_top"]))
    return (f"Target rank, original → edited instruction: {moves}. Top {k} of {focus}: {entered} of "
            f"{len(new_top)} documents are new to it, {same} kept their rank.")


# ---- sweep heatmap -------------------------------------------------------------------------------
def rank_bins(k: int) -> list[dict]:
    """Colour classes of a target rank for the sweep, with the top k in greens, the rest of
    the cut (50, or k if larger) in amber, deeper ranks in dark red, and "not retrieved" in
    grey: each {"lo", "hi" (None = no limit), "label", "color"}; "not retrieved" is last."""
    cut = max(CUT, k)
    edges = sorted({1, 2, 4, k + 1, cut + 1})  # no class straddles k: each is all inside or all outside
    greens, ambers = iter(["#166534", "#22c55e", "#86efac"]), iter(["#fde047", "#f59e0b"])
    bins = []
    for lo, nxt in zip(edges, edges[1:]):
        hi = nxt - 1
        bins.append({"lo": lo, "hi": hi, "label": str(lo) if lo == hi else f"{lo}–{hi}",
                     "color": next(greens) if hi <= k else next(ambers)})
    bins.append({"lo": cut + 1, "hi": None, "label": f">{cut}", "color": "#7f1d1d"})
    bins.append({"lo": None, "hi": None, "label": "not retrieved", "color": NOT_RETRIEVED})
    return bins


def _bin_of(rank, bins) -> int:
    if rank is None:
        return len(bins) - 1
    return next(i for i, b in enumerate(bins[:-1]) if rank >= b["lo"] and (b["hi"] is None or rank <= b["hi"]))


def variant_labels(variants: list[dict], limit: int) -> list[str]:
    """Short axis labels: the user's persona for an original instruction, "para N" for a
    paraphrase, the perturbation's name, "your edit"; escaped and cut to `limit`."""
    out = []
    for v in variants:
        kind, label = v.get("kind"), v.get("label") or v.get("kind") or "?"
        if kind == "paraphrase":
            label = "para " + str(label).rpartition(" ")[2]
        elif kind not in ("original", "edit", "paraphrase"):
            label = str(kind).replace("-", " ")
        out.append(short(label, limit))
    return out


@safe
def sweep_figure(sweep: dict, style: str | None = None) -> Figure:
    st, k = style_of(style), int(sweep["k"])
    rs = {rid: r for rid, r in sweep["retrievers"].items() if "error" not in r}
    variants, ids, bins = sweep["variants"], list(rs), rank_bins(k)
    n = len(variants)
    for rid in ids:
        if len(rs[rid]["target_rank"]) != n or len(rs[rid]["ndcg"]) != n:
            raise ValueError(f"{rid}: {len(rs[rid]['target_rank'])} ranks for {n} variants")
    # a null nDCG is a variant a run file does not cover: an empty cell
    z = [[None if nd is None else _bin_of(r, bins) for r, nd in zip(rs[rid]["target_rank"], rs[rid]["ndcg"])]
         for rid in ids]
    deep = bins[-2]  # ">cut": the cell says so, the hover gives the exact rank
    text = [["–" if r is None else (deep["label"] if r >= deep["lo"] else str(r))
             for r in rs[rid]["target_rank"]] for rid in ids]
    hover = [[f"{esc(rid)}<br>{short(v.get('label', v.get('kind')), 60)} ({esc(v.get('kind'))})<br>" +
              (f"target #{r}" + ("" if r <= k else f", below the top {k}") if r is not None
               else "target not retrieved (no rank)") + f"<br>nDCG@{k} {100 * nd:.1f}" if nd is not None
              else f"{esc(rid)}<br>{short(v.get('label', v.get('kind')), 60)}: not in the run file"
              for v, r, nd in zip(variants, rs[rid]["target_rank"], rs[rid]["ndcg"])] for rid in ids]
    colorscale = [[(i + edge) / len(bins), b["color"]] for i, b in enumerate(bins) for edge in (0, 1)]
    heat = dict(z=z, x=list(range(n)), y=[f"{esc(rid)}<br>R@{k} {_pct(rs[rid]['robustness'])}" for rid in ids],
                customdata=hover, hovertemplate="%{customdata}<extra></extra>", zmin=-0.5, zmax=len(bins) - 0.5,
                colorscale=colorscale, xgap=1, ygap=1,
                colorbar=dict(title=dict(text="target rank", side="top"), tickvals=list(range(len(bins))),
                              ticktext=[b["label"] for b in bins], thickness=14, len=1, lenmode="fraction",
                              outlinewidth=0, tickfont=dict(size=st.font - 1)))
    if n <= st.text_columns:  # more columns than this leave cells too narrow to read a number
        heat.update(text=text, texttemplate="%{text}")  # font size "auto": shrinks to fit a cell
    fig = Figure(config=plot_config(f"instructir-sweep-{sweep.get('query_id', '')}"))
    fig.add_heatmap(**heat)
    for i in range(1, n):  # thin lines between originals, paraphrases, perturbations and the edit
        if _group(variants[i]) != _group(variants[i - 1]):
            fig.add_vline(x=i - 0.5, line=dict(color=st.text, width=2))
    lay = base_layout(st, scoped("Target rank per variant", THIS_QUERY), f"“{short(sweep['query'], 48)}”")
    # rows tall enough for two-line retriever labels and for every colour-bar label to stand apart,
    # below them room for the variant labels turned upright (up to label_chars) and the axis title
    plot_px = max(len(ids) * (st.font * 3 + 12), len(bins) * st.font * 1.8)
    bottom = st.label_chars * st.font * 0.55 + st.font * 3
    lay["height"] = round(lay["margin"]["t"] + bottom + plot_px)
    fig.update_layout(**lay)
    fig.update_xaxes(title_text="variant",
                     tickvals=list(range(n)), ticktext=variant_labels(variants, st.label_chars), tickangle=-90,
                     fixedrange=True, automargin=True, showgrid=False)
    fig.update_yaxes(title_text="retriever", autorange="reversed", fixedrange=True, automargin=True, showgrid=False)
    return fig


def _group(v: dict) -> str:
    kind = v.get("kind")
    return kind if kind in ("original", "paraphrase", "edit") else "perturbation"


@safe_text
def sweep_summary(sweep: dict) -> str:
    k = int(sweep["k"])
    rs = {rid: r for rid, r in sweep["retrievers"].items() if "error" not in r}
    variants = sweep["variants"]
    parts = []
    for rid, r in rs.items():
        ranks = r["target_rank"]
        inside = sum(1 for x in ranks if x is not None and x <= k)
        worst = max(range(len(ranks)), key=lambda i: math.inf if ranks[i] is None else ranks[i])
        parts.append(f"{rid}: target in the top {k} for {inside} of {len(ranks)} variants, worst "
                     f"{_rank(ranks[worst])} ({variants[worst].get('label')}); Robustness@{k} over the "
                     f"original instructions {_pct(r['robustness'])}")
    return (f"Target rank for every variant of “{sweep['query']}”. " +
            ("; ".join(parts) + "." if parts else "No retriever could rank."))


# ---- the whole dataset: nDCG@k against Robustness@k ------------------------------------------------
LIVE, PUBLISHED = "#2563eb", "#a855f7"
# where a point's label may go, and the offset of its box from the point (label widths, in units
# of the axis: the narrowest chart, 300 px for 100 units, is about 3 px per unit)
_SIDES = {"middle right": (1, 0), "middle left": (-1, 0), "top center": (0, 1), "bottom center": (0, -1),
          "top right": (1, 1), "bottom right": (1, -1), "top left": (-1, 1), "bottom left": (-1, -1)}
PX_PER_UNIT = 2.6


def label_sides(points: list[tuple[float, float, str]], font: int) -> list[str]:
    """A textposition per (x, y, label) such that no two label boxes (estimated at the narrowest
    width the chart is drawn at) overlap each other or a point, where one of the sides allows."""
    boxes, out = [], []
    marks = [(x, y) for x, y, _ in points]
    h = font * 1.3 / PX_PER_UNIT
    for x, y, text in points:
        w = (len(text) * font * 0.6 + 6) / PX_PER_UNIT
        best, best_hits = "middle right", None
        for side, (dx, dy) in _SIDES.items():
            cx = x + dx * (w / 2 + 1.5)
            cy = y + dy * (h / 2 + 1.5)
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            hits = sum(1 for b in boxes if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3])
            hits += sum(1 for mx, my in marks if (mx, my) != (x, y) and box[0] < mx < box[2] and box[1] < my < box[3])
            hits += 0.5 * (box[0] < 0 or box[2] > 104 or box[3] > 108)  # off the chart
            if best_hits is None or hits < best_hits:
                best, best_hits, chosen = side, hits, box
            if hits == 0:
                break
        boxes.append(chosen)
        out.append(best)
    return out


@safe
def dataset_figure(board: dict, published=(), style: str | None = None, dataset: str = "") -> Figure:
    """One point per retriever: its nDCG@k (y) against its Robustness@k (x) over the whole dataset
    (Explorer.scoreboard), the instruction-blind floor as a grey cross, and `published` rows
    (demo.published, InstructIR only) as hollow labelled points whose hover names the source.
    Robustness never exceeds nDCG, so every point lies above the dashed diagonal; the gap to it
    is what the worst-served user loses."""
    st, k = style_of(style), int(board["k"])
    key_n, key_r = f"ndcg@{k}", f"robustness@{k}"
    fig = Figure(config=plot_config(f"instructir-dataset-{dataset}"))
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", line=dict(color=st.muted, dash="dot", width=1),
                    hoverinfo="skip", showlegend=False)
    rids = list(board["retrievers"])
    rows = list(published)
    xs = [100 * board["retrievers"][r][key_r] for r in rids]
    ys = [100 * board["retrievers"][r][key_n] for r in rids]
    sides = label_sides([(x, y, r) for x, y, r in zip(xs, ys, rids)] +
                        [(r.robustness10, r.ndcg10, r.label) for r in rows], st.font)
    fig.add_scatter(x=xs, y=ys, mode="markers+text",
                    text=[esc(r) for r in rids], textposition=sides[:len(rids)],
                    marker=dict(size=st.font * 0.9, color=LIVE), name="measured here", cliponaxis=False,
                    customdata=[[esc(r)] for r in rids],
                    hovertemplate=f"%{{customdata[0]}}<br>nDCG@{k} %{{y:.1f}} · Robustness@{k} %{{x:.1f}}<extra></extra>")
    floor = board.get("floor")
    if floor:
        fig.add_scatter(x=[100 * floor[key_r]], y=[100 * floor[key_n]], mode="markers", name="instruction-blind floor",
                        marker=dict(symbol="x", size=st.font * 0.8, color=st.muted),
                        hovertemplate=f"instruction-blind floor (computed here)<br>nDCG@{k} %{{y:.1f}} · "
                                      f"Robustness@{k} %{{x:.1f}}<extra></extra>")
    if rows:
        fig.add_scatter(x=[r.robustness10 for r in rows], y=[r.ndcg10 for r in rows], mode="markers+text",
                        text=[esc(r.label) for r in rows], textposition=sides[len(rids):],
                        textfont=dict(size=st.font - 2, color=st.muted),
                        marker=dict(symbol="circle-open", size=st.font * 0.9, color=PUBLISHED, line=dict(width=2)),
                        name="published (hollow)", customdata=[[esc(r.title)] for r in rows], cliponaxis=False,
                        hovertemplate="%{text}: nDCG@10 %{y:.1f} · Robustness@10 %{x:.1f}<br>%{customdata[0]}"
                                      "<extra></extra>")
    lay = base_layout(st, scoped("Per retriever", WHOLE_DATASET),
                      f"nDCG@{k} against Robustness@{k}" + (" · hollow: published" if rows else ""))
    lay.update(_legend_below(st, ["measured here", "instruction-blind floor"] + (["published (hollow)"] if rows else []),
                             lay))
    fig.update_layout(**lay)
    fig.update_xaxes(title_text=f"Robustness@{k} (×100)", range=[0, 100], fixedrange=True, dtick=25)
    fig.update_yaxes(title_text=f"nDCG@{k} (×100)", range=[0, 105], fixedrange=True, dtick=25)
    return fig


@safe_text
def dataset_summary(board: dict, published=()) -> str:
    k = int(board["k"])
    parts = [f"{rid}: nDCG@{k} {_pct(m[f'ndcg@{k}'])}, Robustness@{k} {_pct(m[f'robustness@{k}'])}"
             for rid, m in board["retrievers"].items()]
    text = f"Whole dataset, scores ×100. " + "; ".join(parts) + "."
    if published:
        text += " Published on InstructIR: " + "; ".join(f"{r.label} {r.ndcg10:.1f}/{r.robustness10:.1f}"
                                                         for r in published) + f" ({published[0].source})."
    return text
