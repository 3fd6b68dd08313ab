"""HTML rendering (demo.ui.render): every user or data text is escaped; columns carry
data-retriever; badges, shift marks, term highlights and error columns are what they say."""
from __future__ import annotations

import re

import pytest

from app_server import new_explorer
from demo.data.records import Document
from demo.ui.render import (highlight, render_card, render_error, render_rankings, render_summary, render_unavailable,
                            shift_badge)

XSS_INSTRUCTION = "<img src=x onerror=alert(1)>"
XSS_DOC = "Cabinets keep wine cool. <script>alert('doc')</script> Humidity near 70% matters."


def card(doc_id, rank, original_rank, is_target=False, is_sibling=False, score=1.0):
    return {"doc_id": doc_id, "score": score, "rank": rank, "shift": original_rank - rank,
            "original_rank": original_rank, "is_target": is_target, "is_sibling": is_sibling}


def column(ranking, target_rank=1, original_target_rank=1, encoded="enc", label="BM25"):
    return {"label": label, "encoded": encoded, "ranking": ranking, "target_rank": target_rank, "ndcg": 1.0,
            "original_target_rank": original_target_rank, "original_ndcg": 1.0}


@pytest.fixture
def docs():
    return {"t1": Document("t1", "Cellar temperature for storing wine at home."),
            "s1": Document("s1", XSS_DOC),
            "o1": Document("o1", "Other passage about vinegar."),
            "o2": Document("o2", "A passage that fell."),
            "o3": Document("o3", "A passage that stayed.")}


@pytest.fixture
def result():
    # the summary's sentences come from these keys (ui.render.summarize): a persona carries the attack
    return {"instance_id": "i_1", "k": 5, "changed": True, "graded_against": "i_2", "graded_chosen": False,
            "graded_persona": f"<b>teacher</b> {XSS_INSTRUCTION}", "retrievers": {
        "bm25": column([card("t1", 1, 3, is_target=True), {**card("s1", 2, 9, is_sibling=True), "sibling_of": "teacher <b>"},
                        card("o1", 3, 1), card("o2", 4, 2), card("o3", 5, 5)],
                       target_rank=1, original_target_rank=3, encoded=f"{XSS_INSTRUCTION} [SEP] wine cabinets"),
        "bm25@query": column([card("o3", 1, 1)], target_rank=12, original_target_rank=12, label="BM25 (query only)"),
        "gtr-t5-base": {"label": "GTR-T5-base", "error": "gtr-t5-base unavailable: offline <not cached>"},
    }}


def test_user_and_data_text_is_escaped(result, docs):
    html = render_rankings(result, docs, "wine cabinets <b>", XSS_INSTRUCTION)
    for raw in ("<img", "<script", "</script>", "<not cached>"):
        assert raw not in html, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the encoded text, shown escaped
    assert "&lt;script&gt;" in html and "&lt;/script&gt;" in html
    assert "&lt;not cached&gt;" in html
    summary = render_summary(result)
    assert "Graded against the target of i_2" in summary
    assert "<img" not in summary and "<b>" not in summary and "&lt;img src=x onerror=alert(1)&gt;" in summary
    assert "<script" not in render_error("<script>alert(1)</script>")
    assert "&lt;script&gt;" in render_error("<script>alert(1)</script>")


def test_escaped_attributes_cannot_break_out():
    html = render_card(card('x" onmouseover="alert(1)', 1, 1), "text", 10, (set(), set()))
    assert 'data-doc="x&quot; onmouseover=&quot;alert(1)"' in html
    assert ' onmouseover="' not in html
    unavailable = render_unavailable([("m", "M", 'needs "x" <y>'), ("bm25", "BM25", None)])
    assert "<y>" not in unavailable and "&lt;y&gt;" in unavailable and 'title="needs &quot;x&quot;' in unavailable
    assert "bm25" not in unavailable


def test_one_column_per_retriever_with_data_retriever(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "my instruction")
    assert re.findall(r'data-retriever="([^"]+)"', html) == ["bm25", "bm25@query", "gtr-t5-base"]


def test_target_and_sibling_badges(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "my instruction")
    cards = dict(re.findall(r'<div class="card[^"]*" data-doc="([^"]+)"[^>]*>(.*?)</details></div>', html))
    assert ">TARGET<" in cards["t1"] and ">SIBLING" not in cards["t1"]
    assert ">SIBLING · teacher &lt;b&gt;<" in cards["s1"] and ">TARGET<" not in cards["s1"]  # names its user, escaped
    assert ">TARGET<" not in cards["o1"] and ">SIBLING" not in cards["o1"]
    assert html.count(">TARGET<") == 1 and html.count(">SIBLING") == 1
    assert 'class="card is-target" data-doc="t1"' in html and 'class="card is-sibling" data-doc="s1"' in html


def test_one_tab_stop_per_column_and_no_tab_stop_per_passage_toggle(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "my instruction")
    assert html.count('tabindex="0"') == 2  # the first card of each of the two ranked columns
    assert html.count('<summary tabindex="-1">full passage</summary>') == 6


def test_columns_share_rows_so_headers_and_ranks_line_up(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "my instruction")
    assert 'class="columns" style="--rows:8"' in html  # head, encoded text, 5 cards, the line below
    assert re.findall(r'data-goto="(col-\d)"', html) == ["col-0", "col-1", "col-2"]  # the phone's column buttons


@pytest.mark.parametrize("rank, original, k, cls, text", [
    (1, 3, 5, "up", "↑2"),
    (4, 2, 5, "down", "↓2"),
    (2, 9, 5, "new", "new"),  # was below the top k
    (2, 6, 5, "new", "new"),
    (2, 5, 5, "up", "↑3"),  # was at k: not new
])
def test_shift_badges(rank, original, k, cls, text):
    html = shift_badge(card("d", rank, original), k)
    assert re.fullmatch(rf'<span class="shift {cls}"[^>]*>{re.escape(text)}</span>', html), html
    assert f"#{original}" in html  # the tooltip says where it was


def test_no_shift_badge_when_nothing_moved():
    assert shift_badge(card("d", 5, 5), 5) == ""


def test_shift_badges_in_the_rendered_column(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "my instruction")
    marks = re.findall(r'<span class="shift (\w+)"[^>]*>([^<]*)</span>', html)
    assert marks == [("up", "↑2"), ("new", "new"), ("down", "↓2"), ("down", "↓2")]  # o3 and bm25@query's card stayed


def test_highlight_marks_query_and_instruction_terms():
    out = highlight("Wine cabinets, for a <b>cellar</b>!", {"wine", "cabinets"}, {"cellar"})
    assert out == ('<mark class="hq">Wine</mark> <mark class="hq">cabinets</mark>, for a &lt;b&gt;'
                   '<mark class="hi">cellar</mark>&lt;/b&gt;!')


def test_rendered_snippets_highlight_terms_of_this_query_and_instruction(result, docs):
    html = render_rankings(result, docs, "wine storage", "I keep a cellar at home")
    assert '<mark class="hq">wine</mark>' in html
    assert '<mark class="hi">Cellar</mark>' in html  # instruction term, case-insensitive
    assert '<mark class="hi">home</mark>' in html
    assert '<mark class="hi">wine</mark>' not in html  # a query term is marked as a query term only
    assert '<mark class="hq">vinegar</mark>' not in html and '<mark class="hi">vinegar</mark>' not in html


def test_error_column_for_a_failed_retriever(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "x")
    col = re.search(r'<section class="col error" id="col-2" data-retriever="gtr-t5-base">(.*?)</section>', html).group(1)
    assert "gtr-t5-base unavailable: offline &lt;not cached&gt;" in col
    assert 'class="col-error"' in col and "card" not in col


def test_below_k_and_metrics_line(result, docs):
    html = render_rankings(result, docs, "wine cabinets", "x")
    assert "Target is at #12, below the top 5." in html
    assert '<span class="was">(was #3)</span>' in html


def test_a_real_result_renders_escaped(docs):
    ex = new_explorer()
    bench = ex.benchmark("demo")
    iid = next(iter(bench.instances))
    r = ex.rank("demo", iid, XSS_INSTRUCTION, ["bm25", "bm25@query"], 10)
    html = render_rankings(r, bench.docs, bench.instances[iid].query, XSS_INSTRUCTION)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert re.findall(r'data-retriever="([^"]+)"', html) == ["bm25", "bm25@query"]
    assert html.count(' data-doc=') == 20
    assert '<mark class="hq">' in html


def test_p_mrr_is_shown_in_the_column_when_present():
    from demo.ui.render import _pmrr
    assert "+75" in _pmrr({"p_mrr": 0.75}) and 'class="pmrr up"' in _pmrr({"p_mrr": 0.75})
    assert 'class="pmrr down"' in _pmrr({"p_mrr": -0.5})
    assert _pmrr({}) == ""


def test_presenter_mode_names_the_columns_it_hides_and_a_target_below_the_top_5(result, docs):
    """Presenter mode shows three columns of five cards: the page names the rest and says where
    a target below the fifth card is (both hidden by CSS outside presenter mode)."""
    four = {**result, "retrievers": {**result["retrievers"], "minilm@query": result["retrievers"]["bm25@query"]}}
    html = render_rankings(four, docs, "q", "i")
    assert '<div class="more-cols" role="note">+1 more: minilm@query' in html
    assert "more-cols" not in render_rankings(result, docs, "q", "i")
    deep = {**result, "k": 10, "retrievers": {"bm25": {**result["retrievers"]["bm25"], "target_rank": 7}}}
    assert "Target at #7, below the top 5 shown." in render_rankings(deep, docs, "q", "i")
