"""Plot builders: plain result dicts in, plotly figures out. A builder never raises: on bad
input it returns a figure that says what went wrong (as MTEB's plots do)."""
from __future__ import annotations

import functools

import plotly.graph_objects as go
from plotly.subplots import make_subplots

ORIGINAL, EDITED = "#94a3b8", "#2563eb"
LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=60, b=50), font=dict(size=13), height=380,
              legend=dict(orientation="h", y=-0.18))


def safe(builder):
    @functools.wraps(builder)
    def wrapped(*args, **kwargs):
        try:
            return builder(*args, **kwargs)
        except Exception as e:  # a plot must never take the page down
            return error_figure(f"{builder.__name__}: {type(e).__name__}: {e}")
    return wrapped


def error_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(**LAYOUT, xaxis_visible=False, yaxis_visible=False)
    return fig


def _ok(result: dict) -> dict:
    return {rid: r for rid, r in result["retrievers"].items() if "error" not in r}


@safe
def robustness_figure(result: dict) -> go.Figure:
    rs, k = _ok(result), result["k"]
    ids = list(rs)
    fig = go.Figure()
    series = [
        (f"nDCG@{k} original", [rs[i]["original_ndcg"] for i in ids], ORIGINAL, ""),
        (f"nDCG@{k} edited", [rs[i]["ndcg"] for i in ids], EDITED, ""),
        (f"Robustness@{k} of the query", [result["original_robustness"][i] for i in ids], "#fca5a5", "/"),
        (f"Robustness@{k} with the edit", [result["robustness"][i] for i in ids], "#dc2626", "/"),
    ]
    for name, vals, color, pattern in series:
        fig.add_bar(name=name, x=ids, y=[100 * v for v in vals], marker_color=color, marker_pattern_shape=pattern,
                    text=[f"{100 * v:.0f}" for v in vals], textposition="outside",
                    hovertemplate="%{x}<br>" + name + ": %{y:.1f}<extra></extra>")
    fig.update_layout(**LAYOUT, barmode="group", title=f"nDCG@{k} and Robustness@{k}: original vs edited instruction",
                      yaxis=dict(title="score (×100)", range=[0, 115]), xaxis_title="retriever")
    return fig


@safe
def rank_shift_figure(result: dict, focus: str | None = None) -> go.Figure:
    rs, k = _ok(result), result["k"]
    focus = focus if focus in rs else next(iter(rs), None)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.12,
                        subplot_titles=("Target rank per retriever", f"Top-{k} movement: {focus}"))
    for rid, r in rs.items():
        old, new = r["original_target_rank"], r["target_rank"]
        fig.add_scatter(x=["original", "edited"], y=[old, new], mode="lines+markers", name=rid,
                        hovertemplate=f"{rid}<br>%{{x}}: target #%{{y}}<extra></extra>", row=1, col=1)
    if focus:
        r = rs[focus]
        edited = {c["doc_id"]: c for c in r["ranking"]}
        docs = list(dict.fromkeys(r["original_top"] + list(edited)))
        for doc in docs:
            card = edited.get(doc)
            old = card["original_rank"] if card else r["original_top"].index(doc) + 1
            new = card["rank"] if card else None
            is_target = card["is_target"] if card else False
            color = "#16a34a" if is_target else ("#f59e0b" if card and card["is_sibling"] else "#cbd5e1")
            y_new = new if new is not None else k + 1
            fig.add_scatter(x=["original", "edited"], y=[old if old is not None and old <= k else k + 1, y_new], mode="lines+markers",
                            line=dict(color=color, width=4 if is_target else 2), showlegend=False,
                            hovertemplate=f"{doc}<br>original {f'#{old}' if old else 'not retrieved'} → edited " +
                                          (f"#{new}" if new is not None else f"below #{k}") + "<extra></extra>",
                            row=1, col=2)
    fig.update_xaxes(title_text="instruction")
    fig.update_yaxes(autorange="reversed", title_text="rank (1 = top)", row=1, col=1)
    fig.update_yaxes(autorange="reversed", range=[k + 1.5, 0.5], tickvals=list(range(1, k + 1)) + [k + 1],
                     ticktext=[str(i) for i in range(1, k + 1)] + [f">{k}"], title_text=f"rank in the top {k}",
                     row=1, col=2)
    fig.update_layout(**LAYOUT, title="Rank shift: original → edited instruction")
    return fig


@safe
def sweep_figure(sweep: dict) -> go.Figure:
    rs = {rid: r for rid, r in sweep["retrievers"].items() if "error" not in r}
    variants = sweep["variants"]
    x = [f"{i + 1}. {v['kind']}" for i, v in enumerate(variants)]
    ids = list(rs)
    cap = 50
    z = [[min(r or cap, cap) for r in rs[rid]["target_rank"]] for rid in ids]
    text = [[f"{r}" if r is not None else "–" for r in rs[rid]["target_rank"]] for rid in ids]
    hover = [[f"{rid}<br>{v['label']}<br>target #{r}<br>nDCG@{sweep['k']} {100 * n:.1f}"
              for v, r, n in zip(variants, rs[rid]["target_rank"], rs[rid]["ndcg"])] for rid in ids]
    ylabels = [f"{rid}<br>R@{sweep['k']} {100 * rs[rid]['robustness']:.0f}" for rid in ids]
    fig = go.Figure(go.Heatmap(z=z, x=x, y=ylabels, text=text, texttemplate="%{text}", customdata=hover,
                               hovertemplate="%{customdata}<extra></extra>", zmin=1, zmax=cap,
                               colorscale=[[0, "#15803d"], [0.2, "#fde047"], [1, "#b91c1c"]],
                               colorbar=dict(title="target<br>rank")))
    fig.update_layout(**{**LAYOUT, "height": 200 + 45 * len(ids), "margin": dict(l=130, r=20, t=60, b=110)},
                      title=f"Sweep of “{sweep['query']}”: target rank per variant (Robustness@{sweep['k']} over its instructions)",
                      xaxis=dict(title="variant", tickangle=-40), yaxis=dict(title="retriever", autorange="reversed"))
    return fig
