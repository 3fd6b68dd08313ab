""""Why here" panel HTML (demo.ui.why): data and user text escaped, terms marked by where they
come from and adding up to the score (the tail summed in one row), the sentence that moved the
doc most marked, and a bad request answered with one line."""
from __future__ import annotations

import re

import pytest

from demo.errors import UserError
from app_server import new_explorer
from demo.ui.why import TOP_TERMS, explain_html, render_why, render_why_error

XSS = "<img src=x onerror=alert(1)>"


def head(**kw):
    return {"retriever": "bm25", "label": "BM25", "doc_id": "d<1>", "instance_id": "i1", "score": 6.0, "rank": 2,
            "encoded": "x", "note": f"note {XSS}", **kw}


def term(t, source, contribution):
    return {"term": t, "source": source, "count": 1, "doc_tf": 2, "contribution": contribution}


def sentence(i, text, rank, score, rank_change, score_change, most=False):
    return {"index": i, "text": text, "rank": rank, "score": score, "rank_change": rank_change,
            "score_change": score_change, "moved_most": most}


def cells(html, cls):
    return [float(x) for x in re.findall(rf'<td class="{cls}">([-\d.]+)</td>', html)]


def test_terms_are_escaped_marked_and_add_up_to_the_score():
    out = head(method="terms", terms=[term("tea", "query", 3.5), term(XSS, "instruction", 2.0), term("brew", "both", 0.5)])
    html = render_why(out)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and "d&lt;1&gt;" in html
    assert '<mark class="hq">tea</mark></td><td class="why-src">query<' in html
    assert '<mark class="hi">&lt;img' in html and '>instruction<' in html
    assert '<mark class="hq">brew</mark></td><td class="why-src">query + instruction<' in html
    assert cells(html, "why-num") == [3.5, 2.0, 0.5]
    assert '<td class="why-num why-total">6.000</td>' in html and "#2</b> · score 6.000" in html


def test_terms_past_the_top_are_summed_in_one_row():
    terms = [term(f"t{i}", "query", 1.0) for i in range(TOP_TERMS + 3)]
    html = render_why(head(method="terms", terms=terms, score=float(TOP_TERMS + 3)))
    assert html.count('class="why-term"') == TOP_TERMS
    assert "3 more terms" in html and sum(cells(html, "why-num")) == pytest.approx(TOP_TERMS + 3)


def test_no_matching_term_and_not_retrieved():
    html = render_why(head(method="terms", terms=[], score=0.0, rank=None))
    assert "not retrieved" in html and "why-total\">0.000<" in html and 'class="why-term"' not in html


def test_occlusion_lists_each_sentence_and_marks_the_one_that_moved_most():
    rows = [sentence(0, "Keep it short.", 2, 0.5, 0, -0.01),
            sentence(1, f"I am {XSS}.", 5, 0.3, -3, -0.2, most=True),
            sentence(2, "Thanks.", None, None, None, 0.0)]
    html = render_why(head(method="occlusion", retriever="minilm", label="MiniLM", score=0.51, sentences=rows))
    items = re.findall(r'<li class="why-sentence( moved-most)?">(.*?)</li>', html)
    assert [bool(m) for m, _ in items] == [False, True, False]
    assert "Without “Keep it short.”" in items[0][1] and "#2</span> · score 0.500 (-0.0100)" in items[0][1]
    assert "<img" not in html and "I am &lt;img" in items[1][1] and "moved it most" in items[1][1]
    assert "#5 (↓3)" in items[1][1] and "0.300 (-0.2000)" in items[1][1]
    assert "not retrieved" in items[2][1]
    assert "note &lt;img" in html


def test_an_error_is_one_escaped_line_with_a_close_button():
    html = render_why_error(str(UserError(f"unknown doc {XSS!r}")))
    assert "<img" not in html and "why-close" in html and 'class="app-error"' in html


def test_the_handler_explains_through_the_service_and_answers_bad_requests_in_one_line():
    explorer = new_explorer()
    info = explorer.instance("demo", "101_1")
    state = {"instance": info}
    doc = info["targets"][0]
    html = explain_html(explorer, f'{{"retriever": "bm25", "doc": "{doc}"}}', "demo", info["instruction"], state)
    want = explorer.explain("demo", "101_1", info["instruction"], "bm25", doc)
    assert html == render_why(want)
    assert "Nothing to explain yet" in explain_html(explorer, "", "demo", "x", {})
    bad = explain_html(explorer, '{"retriever": "bm25", "doc": "<nope>"}', "demo", "x", state)
    assert "unknown doc" in bad and "&lt;nope&gt;" in bad and "<nope>" not in bad
    assert "no-such" in explain_html(explorer, f'{{"retriever": "no-such", "doc": "{doc}"}}', "demo", "x", state)
