"""Plot builders (demo.plots): a real result gives a titled figure with the result's numbers,
readable at every k (integral, thinned rank ticks), with its plotly.js config (PNG export)
in its JSON, every dataset text escaped, a plain-text summary, and a presenter style;
malformed input gives an error figure, never an exception."""
from __future__ import annotations

import copy
import json
import re

import plotly.graph_objects as go
import pytest

from app_server import new_explorer
from demo.plot_style import MODEBAR_PX, STYLES, Figure, esc, nice_step, rank_ticks, slotted_ticks
from demo.plots import (NOT_RETRIEVED, dataset_figure, error_figure, rank_bins, rank_shift_figure, rank_shift_summary,
                        robustness_figure, robustness_summary, sweep_figure, sweep_summary)

RIDS = ["bm25", "bm25@query", "gtr-t5-base"]  # gtr-t5-base is unavailable offline: an error column
EVIL = '<a href="x">click</a> <b>bold</b> <span style="color:red">%{x}</span> & more'


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def setup(explorer):
    bench = explorer.benchmark("demo")
    iid = next(i for i in bench.instances if i in bench.paraphrases)
    inst = bench.instances[iid]
    edit = bench.instances[next(s for s in bench.groups[inst.query_id] if s != iid)].instruction
    return bench, inst, edit


@pytest.fixture(scope="module")
def real(explorer, setup):
    _, inst, edit = setup
    result = explorer.rank("demo", inst.instance_id, edit, RIDS, 10)
    sweep = explorer.sweep("demo", inst.query_id, RIDS, 10, inst.instance_id, edit)
    return result, sweep


@pytest.fixture(scope="module")
def real50(explorer, setup):
    _, inst, edit = setup
    return explorer.rank("demo", inst.instance_id, edit, RIDS, 50)


def ok_ids(result):
    return [rid for rid, r in result["retrievers"].items() if "error" not in r]


def layout(fig) -> dict:
    return fig.to_plotly_json()["layout"]


def axes(fig, prefix: str) -> dict:
    return {name: ax for name, ax in layout(fig).items() if name.startswith(prefix)}


def strings(obj):
    """Every string in a figure's JSON, keys excluded."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def assert_titled(fig):
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    json.loads(fig.to_json())  # serialisable, as gr.Plot needs


def assert_error_figure(fig, *words):
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 0
    texts = " ".join(a.text for a in fig.layout.annotations)
    for w in words:
        assert w in texts, texts


# ---- the numbers -------------------------------------------------------------------------------
def test_robustness_figure(real):
    result, _ = real
    fig = robustness_figure(result)
    assert_titled(fig)
    assert fig.layout.title.text == "nDCG@10 and Robustness@10 · this query"  # every title says its scope
    assert {a.text for a in fig.layout.annotations} == {"nDCG@10<br>this user", "Robustness@10<br>all its users"}
    assert axes(fig, "yaxis")["yaxis"]["title"]["text"] == "score (×100)"
    ids = ok_ids(result)
    assert len(fig.data) == 4 and all(list(t.x) == ids for t in fig.data)
    by_name = {t.name: list(t.y) for t in fig.data}
    rs = result["retrievers"]
    assert by_name["nDCG@10 edited"] == pytest.approx([100 * rs[i]["ndcg"] for i in ids])
    assert by_name["nDCG@10 original"] == pytest.approx([100 * rs[i]["original_ndcg"] for i in ids])
    assert by_name["Robustness@10 edited"] == pytest.approx([100 * result["robustness"][i] for i in ids])
    assert by_name["Robustness@10 original"] == pytest.approx([100 * result["original_robustness"][i] for i in ids])
    # one label per retriever (on the edited bar), so no two labels stand side by side
    assert [bool(t.texttemplate) for t in fig.data] == ([False, True, False, True] if len(ids) <= 3 else [False] * 4)


def test_without_an_edit_one_bar_per_retriever(real):
    result, _ = real
    fig = robustness_figure({**result, "changed": False})
    assert [t.name for t in fig.data] == ["nDCG@10", "Robustness@10"]
    assert "original instruction" in fig.layout.title.subtitle.text


def test_every_title_says_its_scope(real):
    result, sweep = real
    for fig in (robustness_figure(result), rank_shift_figure(result), sweep_figure(sweep)):
        assert fig.layout.title.text.endswith("· this query"), fig.layout.title.text
    board = {"k": 10, "retrievers": {"bm25": {"ndcg@10": .69, "robustness@10": .19}},
             "floor": {"ndcg@10": .5, "robustness@10": .3}}
    assert dataset_figure(board).layout.title.text.endswith("· whole dataset")


def test_dataset_figure_plots_the_board_and_published_points_hollow():
    from demo.published import ROWS
    board = {"k": 10, "retrievers": {"bm25": {"ndcg@10": .694, "robustness@10": .187},
                                     "minilm": {"ndcg@10": .82, "robustness@10": .5}},
             "floor": {"ndcg@10": .497, "robustness@10": .321}}
    fig = dataset_figure(board, ROWS, dataset="instructir")
    assert_titled(fig)
    live = next(t for t in fig.data if t.name == "measured here")
    assert list(live.text) == ["bm25", "minilm"]
    assert list(live.y) == pytest.approx([69.4, 82]) and list(live.x) == pytest.approx([18.7, 50])
    pub = next(t for t in fig.data if t.name == "published (hollow)")
    assert pub.marker.symbol == "circle-open" and list(pub.text) == [r.label for r in ROWS]
    assert all(r.source in c[0] for r, c in zip(ROWS, pub.customdata))  # the hover names the source
    assert not any(t.name == "published (hollow)" for t in dataset_figure(board).data)


@pytest.mark.parametrize("style", ["dark", "present-dark"])
def test_dark_styles_use_a_dark_template_and_light_text(real, style):
    from demo.plot_style import DARK_BG, DARK_TEXT
    result, sweep = real
    for fig in all_figures(real, style):
        assert fig.layout.paper_bgcolor == DARK_BG and fig.layout.font.color == DARK_TEXT
        assert fig.layout.template.layout.paper_bgcolor != "white"
    assert robustness_figure(result, style="present-dark").layout.font.size == STYLES["present"].font


def test_rank_shift_figure(real):
    result, _ = real
    fig = rank_shift_figure(result, "bm25")
    assert_titled(fig)
    assert {a.text for a in fig.layout.annotations} == {"Target rank", "Top-10 of<br>bm25"}
    ids = ok_ids(result)
    target_lines = [t for t in fig.data if t.name in ids]
    assert [t.name for t in target_lines] == ids
    for t in target_lines:
        r = result["retrievers"][t.name]
        assert list(t.y) == [r["original_target_rank"], r["target_rank"]]
    movement = [t for t in fig.data[len(ids):] if t.showlegend is False]
    top = set(result["retrievers"]["bm25"]["original_top"]) | {c["doc_id"] for c in result["retrievers"]["bm25"]["ranking"]}
    assert len(movement) == len(top)
    assert {t.name for t in fig.data if t.showlegend is not False} >= {"target", "other users' targets"}
    # an unknown focus falls back to the first working column
    assert "Top-10 of<br>bm25" in {a.text for a in rank_shift_figure(result, "nope").layout.annotations}


def test_the_rank_movement_shows_the_retriever_asked_for(real):
    result, _ = real
    fig = rank_shift_figure(result, "bm25@query")
    assert "Top-10 of<br>bm25@query" in {a.text for a in fig.layout.annotations}
    r = result["retrievers"]["bm25@query"]
    movement = [t for t in fig.data if t.showlegend is False]
    hovered = {t.customdata[0].split("<br>")[0].removesuffix(" (target)").removesuffix(" (sibling)") for t in movement}
    assert hovered == {esc(d) for d in r["original_top"]} | {esc(c["doc_id"]) for c in r["ranking"]}
    assert json.loads(fig.to_json())["config"]["toImageButtonOptions"]["filename"].endswith("-bm25-query")


def test_sweep_figure(real):
    _, sweep = real
    fig = sweep_figure(sweep)
    assert_titled(fig)
    assert sweep["query"] in fig.layout.title.subtitle.text
    (heat,) = fig.data
    ids, bins = ok_ids(sweep), rank_bins(10)
    assert len(heat.z) == len(ids) and all(len(row) == len(sweep["variants"]) for row in heat.z)
    assert list(heat.x) == list(range(len(sweep["variants"])))
    for row, rid in zip(heat.z, ids):
        for b, rank in zip(row, sweep["retrievers"][rid]["target_rank"]):
            lo, hi = bins[b]["lo"], bins[b]["hi"]
            assert (rank is None and lo is None) or (lo <= rank and (hi is None or rank <= hi)), (rank, bins[b])


# ---- readable at every k -----------------------------------------------------------------------
def test_rank_ticks_are_integral_and_thinned():
    assert rank_ticks(10, 11) == list(range(1, 11))
    assert rank_ticks(50, 11) == [1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    for last in (1, 2, 3, 7, 10, 33, 50, 100, 1000):
        for most in (4, 6, 11):
            ticks = rank_ticks(last, most)
            assert ticks[0] == 1 and all(isinstance(t, int) for t in ticks) and ticks == sorted(set(ticks))
            assert len(ticks) <= max(most, 2) and ticks[-1] <= last
            vals, text = slotted_ticks(last, most, ">k")
            assert len(vals) <= max(most, 3) and vals[-1] == last + 1 and text[-1] == ">k"
            gaps = [b - a for a, b in zip(vals, vals[1:])]
            assert min(gaps, default=1) >= nice_step(last, most - 1) / 2  # the ">k" label never touches another
    assert slotted_ticks(50, 11, ">50")[1][-2:] == ["40", ">50"]  # 50 would sit on top of ">50"


@pytest.mark.parametrize("style", [None, "present"])
def test_at_k50_the_rank_movement_labels_do_not_smear(real50, style):
    fig = rank_shift_figure(real50, "bm25", style=style)
    right = axes(fig, "yaxis2")["yaxis2"]
    most = STYLES[style or "normal"].rank_labels
    assert 3 <= len(right["tickvals"]) <= most
    assert right["ticktext"][-1] == ">50" and "50" not in right["ticktext"]
    plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    spacing = plot_px * min(b - a for a, b in zip(right["tickvals"], right["tickvals"][1:])) / 51
    assert spacing >= 1.3 * fig.layout.font.size  # a label's height, with room between


def test_two_retrievers_give_integer_ticks_only(explorer, setup):
    _, inst, edit = setup
    result = explorer.rank("demo", inst.instance_id, edit, ["bm25", "bm25@query"], 10)
    for fig in (rank_shift_figure(result), robustness_figure(result)):
        for name, ax in axes(fig, "yaxis").items():
            assert ax.get("tickvals"), f"{name}: ticks left to plotly could fall on 1.5"
            assert all(float(v).is_integer() for v in ax["tickvals"]), (name, ax["tickvals"])


def test_a_target_that_is_not_retrieved_gets_its_own_row(real):
    result = copy.deepcopy(real[0])
    result["retrievers"]["bm25"]["target_rank"] = None
    result["retrievers"]["bm25@query"]["original_target_rank"] = 7
    fig = rank_shift_figure(result)
    left = axes(fig, "yaxis")["yaxis"]
    assert left["ticktext"][-1] == "none"
    slot = left["tickvals"][-1]
    line = next(t for t in fig.data if t.name == "bm25")
    assert line.y[1] == slot and "not retrieved" in line.customdata[1]


def test_a_document_bm25_did_not_retrieve_before_enters_from_below(real):
    result = copy.deepcopy(real[0])
    card = result["retrievers"]["bm25"]["ranking"][0]
    card["original_rank"] = None
    fig = rank_shift_figure(result, "bm25")
    line = next(t for t in fig.data if t.customdata and t.customdata[0].startswith(esc(card["doc_id"])))
    assert list(line.y) == [11, card["rank"]] and "original not retrieved" in line.customdata[0]


def sweep_with(ranks: list, k: int = 10, kinds=None) -> dict:
    n = len(ranks)
    kinds = kinds or ["original"] * n
    return {"query_id": "q1", "query": "a query", "k": k, "pivot": "q1_1",
            "variants": [{"kind": kind, "label": f"user {i}", "instance_id": "q1_1", "text": "t"}
                         for i, kind in enumerate(kinds)],
            "retrievers": {"bm25": {"label": "BM25", "target_rank": ranks, "ndcg": [0.5] * n, "robustness": 0.25},
                           "minilm": {"label": "MiniLM", "target_rank": list(reversed(ranks)), "ndcg": [0.5] * n,
                                      "robustness": 0.5}}}


def colour_of(heat, z: int) -> str:
    """The colour a discrete heatmap gives to bin z (zmin -0.5 .. zmax n - 0.5)."""
    middle = (z - heat.zmin) / (heat.zmax - heat.zmin)
    return next(c for f, c in reversed(heat.colorscale) if f <= middle)


def test_the_sweep_tells_below_the_cut_from_not_retrieved():
    fig = sweep_figure(sweep_with([1, 201, None, 30]))
    (heat,) = fig.data
    row = list(heat.z[0])
    below, missing = row[1], row[2]
    assert below != missing
    assert colour_of(heat, missing) == NOT_RETRIEVED
    assert colour_of(heat, below) not in (NOT_RETRIEVED, colour_of(heat, row[3]), colour_of(heat, row[0]))
    assert list(heat.text[0]) == ["1", ">50", "–", "30"]
    assert "target #201" in heat.customdata[0][1] and "not retrieved" in heat.customdata[0][2]
    ticktext = list(heat.colorbar.ticktext)
    assert ticktext[row[1]] == ">50" and ticktext[row[2]] == "not retrieved"


def test_sweep_colour_bar_labels_have_room(real):
    for n_ret in (1, 2, 6):
        sweep = sweep_with([1, 3, 8, 30, 201, None])
        sweep["retrievers"] = {f"r{i}": sweep["retrievers"]["bm25"] for i in range(n_ret)}
        for style in (None, "present"):
            fig = sweep_figure(sweep, style=style)
            (heat,) = fig.data
            labels = list(heat.colorbar.ticktext)
            assert list(heat.colorbar.tickvals) == list(range(len(labels))) and len(labels) <= 6
            # the plot area left once the upright variant labels and the axis title have taken the bottom
            font = fig.layout.font.size
            plot_px = fig.layout.height - fig.layout.margin.t - STYLES[style or "normal"].label_chars * font * 0.55 - 3 * font
            assert plot_px / len(labels) >= 1.5 * heat.colorbar.tickfont.size, (n_ret, style)


def test_the_sweep_axis_names_the_users(real, setup):
    bench, inst, _ = setup
    _, sweep = real
    (heat,) = sweep_figure(sweep).data
    ticktext = list(sweep_figure(sweep).layout.xaxis.ticktext)
    personas = [bench.instances[i].persona for i in bench.groups[inst.query_id]]
    assert all(personas)
    limit = STYLES["normal"].label_chars
    assert ticktext[:len(personas)] == [esc(p if len(p) <= limit else p[:limit - 1].rstrip() + "…") for p in personas]
    assert ticktext[-1] == "your edit" and not any(t.startswith(("1.", "7.")) for t in ticktext)
    assert len(ticktext) == len(sweep["variants"]) == len(heat.x)


def test_sweep_cell_text_only_when_cells_are_wide_enough():
    assert sweep_figure(sweep_with(list(range(1, 11)))).data[0].texttemplate == "%{text}"
    crowded = sweep_figure(sweep_with(list(range(1, 41))))
    assert crowded.data[0].texttemplate is None and crowded.data[0].text is None
    assert "target #40" in crowded.data[0].customdata[0][39]  # the hover still tells


# ---- toolbar, export, phone ---------------------------------------------------------------------
def all_figures(real, style=None):
    result, sweep = real
    return [robustness_figure(result, style=style), rank_shift_figure(result, style=style),
            sweep_figure(sweep, style=style), error_figure("x", style=style)]


def test_figures_carry_a_png_export_and_no_other_toolbar_button(real):
    for fig in all_figures(real):
        config = json.loads(fig.to_json())["config"]
        assert config["modeBarButtons"] == [["toImage"]] and config["displaylogo"] is False
        image = config["toImageButtonOptions"]
        assert image["format"] == "png" and image["scale"] == 2
        assert re.fullmatch(r"instructir-[A-Za-z0-9._-]+", image["filename"]), image
        assert copy.deepcopy(fig).config == fig.config  # copies keep it
    result, sweep = real
    assert result["instance_id"] in robustness_figure(result).config["toImageButtonOptions"]["filename"]
    assert sweep["query_id"] in sweep_figure(sweep).config["toImageButtonOptions"]["filename"]


def test_gradio_hands_the_config_to_plotly(real):
    """gr.Plot has no config argument; its front end reads "config" from the figure JSON."""
    gr = pytest.importorskip("gradio")
    payload = json.loads(gr.Plot().postprocess(robustness_figure(real[0])).plot)
    assert payload["config"]["toImageButtonOptions"]["scale"] == 2


def test_titles_sit_below_the_toolbar_and_fit_a_phone(real):
    for style in (None, "present"):
        for fig in all_figures(real, style)[:3]:
            lay = layout(fig)
            title = lay["title"]
            assert title["yref"] == "container" and title["yanchor"] == "top" and title["pad"]["t"] >= MODEBAR_PX
            assert lay["margin"]["t"] >= MODEBAR_PX + title["font"]["size"] + lay["font"]["size"]
            lines = title["text"].split("<br>") + title.get("subtitle", {}).get("text", "").split("<br>")
            assert all(len(line) <= 52 for line in lines), lines  # ~360 px at these sizes
            assert lay["autosize"] is True and "width" not in lay
            assert lay["dragmode"] is False  # a drag on a phone scrolls the page
    bars = robustness_figure(real[0])
    assert layout(bars)["uniformtext"]["mode"] == "hide"  # bar values hide rather than read "100100"


def test_presenter_style_is_larger_with_fewer_labels(real, real50):
    for normal, present in zip(all_figures(real), all_figures(real, "present")):
        assert present.layout.font.size >= 18 > normal.layout.font.size
        assert present.layout.title.font.size > normal.layout.title.font.size
    assert len(rank_shift_figure(real50, style="present").layout.yaxis2.tickvals) < \
        len(rank_shift_figure(real50).layout.yaxis2.tickvals)
    assert robustness_figure(real[0], style="nonsense").layout.font.size == STYLES["normal"].font


# ---- escaping ---------------------------------------------------------------------
ALLOWED_TAGS = {"br", "extra", "/extra"}


def assert_no_markup(fig):
    """Plotly reads <tag> anywhere in a string as markup: only the builders' own <br> and
    <extra> may appear."""
    for s in strings(json.loads(fig.to_json())):
        tags = {t.lower() for t in re.findall(r"<\s*(/?\w+)", s)}
        assert tags <= ALLOWED_TAGS, (tags, s)


def test_dataset_and_user_text_is_shown_as_text_not_markup(real):
    result, sweep = copy.deepcopy(real)
    evil_id = EVIL
    result["instance_id"] = evil_id
    result["retrievers"] = {evil_id if rid == "bm25" else rid: r for rid, r in result["retrievers"].items()}
    result["robustness"][evil_id] = result["robustness"].pop("bm25")
    result["original_robustness"][evil_id] = result["original_robustness"].pop("bm25")
    r = result["retrievers"][evil_id]
    r["original_top"][0] = evil_id
    r["ranking"][0]["doc_id"] = evil_id
    sweep["query"] = EVIL
    sweep["query_id"] = EVIL
    sweep["variants"][0]["label"] = EVIL
    sweep["variants"][-1]["kind"] = "<b>kind</b>"
    sweep["retrievers"][evil_id] = sweep["retrievers"].pop("bm25")
    figs = [robustness_figure(result), rank_shift_figure(result, evil_id), sweep_figure(sweep)]
    for fig in figs:
        assert not fig.layout.annotations or all("Error" not in (a.text or "") for a in fig.layout.annotations)
        assert_no_markup(fig)
        shown = list(strings(json.loads(fig.to_json())))
        assert any('&lt;a href="x"&gt;click&lt;/a&gt;' in s for s in shown)  # literally, quotes as they are
        templates = [t.hovertemplate or "" for t in fig.data] + [t.texttemplate or "" for t in fig.data]
        assert not any("click" in t or "span" in t for t in templates)  # user text is data, never a template
    assert "&lt;b&gt;kind&lt;/b&gt;" in figs[2].to_json()
    # plotly would not decode &quot; (it shows it as is): quotes are left alone
    assert "&quot;" not in figs[0].to_json()
    assert re.fullmatch(r"instructir-[A-Za-z0-9._-]+", figs[2].config["toImageButtonOptions"]["filename"])


def test_error_figures_escape_the_message():
    fig = error_figure('<a href="x">boom</a>')
    assert fig.layout.annotations[0].text == '&lt;a href="x"&gt;boom&lt;/a&gt;'


# ---- text alternatives --------------------------------------------------------------------------
def pct(v):
    return f"{100 * v:.0f}"


def test_summaries_say_what_each_plot_shows(real):
    result, sweep = real
    rs = result["retrievers"]
    text = robustness_summary(result)
    for rid in ok_ids(result):
        assert (f"{rid}: nDCG@10 {pct(rs[rid]['original_ndcg'])} with the original instruction, "
                f"{pct(rs[rid]['ndcg'])} with yours") in text
        assert f"Robustness@10 of the query {pct(result['original_robustness'][rid])}" in text
    assert "Not shown (unavailable): gtr-t5-base" in text

    text = rank_shift_summary(result, "bm25@query")
    for rid in ok_ids(result):
        assert f"{rid} #{rs[rid]['original_target_rank']} → #{rs[rid]['target_rank']}" in text
    assert "Top 10 of bm25@query" in text

    text = sweep_summary(sweep)
    assert sweep["query"] in text
    for rid in ok_ids(sweep):
        ranks = sweep["retrievers"][rid]["target_rank"]
        inside = sum(1 for r in ranks if r is not None and r <= 10)
        assert f"{rid}: target in the top 10 for {inside} of {len(ranks)} variants" in text
        assert f"Robustness@10 over the original instructions {pct(sweep['retrievers'][rid]['robustness'])}" in text


def test_sweep_summary_names_the_worst_variant():
    text = sweep_summary(sweep_with([1, 201, None, 30]))
    assert "bm25: target in the top 10 for 1 of 4 variants, worst not retrieved (user 2)" in text


@pytest.mark.parametrize("summary", [robustness_summary, rank_shift_summary, sweep_summary])
def test_summaries_of_bad_input_say_so(summary):
    assert summary({}).startswith("No summary")
    assert summary(None).startswith("No summary")


# ---- malformed input --------------------------------------------------------------------------
def test_error_figure_says_why():
    assert_error_figure(error_figure("no instance selected"), "no instance selected")
    assert isinstance(error_figure("x"), Figure)


@pytest.mark.parametrize("builder, bad", [
    (robustness_figure, {}),
    (robustness_figure, None),
    (robustness_figure, {"k": 10, "retrievers": {"bm25": {"ndcg": 0.5}}}),
    (rank_shift_figure, {"retrievers": 3, "k": 10}),
    (rank_shift_figure, "not a result"),
    (rank_shift_figure, {"k": 10, "retrievers": {"bm25": {"original_target_rank": 1, "target_rank": 2}}}),
    (sweep_figure, {}),
    (sweep_figure, {"k": 10, "query": "q", "variants": [{"kind": "x"}],
                    "retrievers": {"bm25": {"target_rank": [1], "ndcg": [0.5]}}}),
    (sweep_figure, {"k": 10, "query": "q", "variants": [], "retrievers": {"bm25": {"target_rank": "xx"}}}),
])
def test_malformed_input_gives_an_error_figure(builder, bad):
    fig = builder(bad)
    assert_error_figure(fig, builder.__name__)
