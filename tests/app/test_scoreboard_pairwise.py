"""The scoreboard's pairwise table (render_pairwise) on the Explorer's own per-instance tables:
figures equal the scoreboard's, marks and p-values shown, names escaped."""
from __future__ import annotations

import re

import pytest

from demo.compare import build
from demo.compare_report import markdown
from demo.conventions import MISSING_AS_ZERO
from demo.data.sources import open_source
from demo.service import Explorer
from demo.ui.render import render_pairwise


@pytest.fixture(scope="module")
def tables():
    ex = Explorer()
    ids = ["bm25", "bm25@query"]
    return ex.instance_ndcgs("demo", ids, 10), ex.scoreboard("demo", ids, 10)


def test_pairwise_table_agrees_with_the_scoreboard(tables):
    per, board = tables
    _, bench = open_source("demo")
    c = build(per, bench.groups, 10, MISSING_AS_ZERO, resamples=500, flips=2_000)
    html = render_pairwise(c)
    for s in c.systems:
        assert s.ndcg == pytest.approx(board["retrievers"][s.name]["ndcg@10"], abs=1e-12)
        assert s.robustness == pytest.approx(board["retrievers"][s.name]["robustness@10"], abs=1e-12)
    row = re.search(r"<tr><td>a</td><td><code>bm25</code></td><td>([\d.]+)<sup>(\w*)</sup>", html)
    assert row and row.group(1) == f"{100 * board['retrievers']['bm25']['ndcg@10']:.1f}" and row.group(2) == "b"
    assert html.count('class="significant"') == 2  # bm25 beats bm25@query on both measures
    assert "`bm25`" in markdown(c) and "<sup>b</sup>" in markdown(c)


def test_names_are_escaped():
    groups = {"q": ["q_1", "q_2"]}
    c = build({"<b>x</b>": {"q_1": 1.0, "q_2": 0.5}, "run:y&z": {"q_1": 0.0, "q_2": 0.5}}, groups, 10, MISSING_AS_ZERO,
              resamples=100)
    html = render_pairwise(c)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "run:y&amp;z" in html


def test_the_tab_returns_the_board_the_pairwise_table_and_both_exports():
    from demo.ui.scoreboard_tab import on_scoreboard
    ex = Explorer()

    def fn(*args, **kwargs):
        return on_scoreboard(ex, *args, **kwargs)
    board, pairwise, md, tex = fn("demo", ["bm25", "bm25@query"], 10, None, progress=lambda *a, **k: None)
    assert 'class="scoreboard"' in board and "p Holm" in pairwise
    assert md.startswith("| | system |") and tex.startswith(r"\begin{tabular}")
    _, one, md, tex = fn("demo", ["bm25"], 10, None, progress=lambda *a, **k: None)
    assert "two or more" in one and md == tex == ""
