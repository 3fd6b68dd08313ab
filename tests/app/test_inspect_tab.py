"""The Inspect tab's handlers and table helpers, called directly: outcomes at a chosen depth,
conditions, signed contrast, note search and tag, an empty view that says why, the target beside
the passage that beat it with "why here?" for both, and uploaded runs kept in the browser's
storage (localStorage, through the page scripts) and read back after a reload."""
from __future__ import annotations

import base64
import gzip
import json
import re
from html import unescape
from types import SimpleNamespace

import pytest

from app_server import DEFAULT, new_explorer
from demo.inspection import HIT, SIBLING
from demo.ui import inspect_handlers as h
from demo.ui.app import build_page
from demo.ui.inspect_table import A_WORSE, ALL, ALL_VIEW, ANY_TAG, B_WORSE, headers, page_table, view_rows, why_empty
from helpers import write_bm25_run

QUIET = lambda *a, **k: None  # noqa: E731 (a progress that shows nothing)


@pytest.fixture(scope="module")
def page():
    return build_page(new_explorer())


@pytest.fixture(scope="module")
def rows(page):
    return page.inspect.explorer.inspect("demo", DEFAULT, 10)["rows"]


def build(page, a="minilm", a_out=(), b="bm25", b_out=(), view=ALL_VIEW, text="", depth="k", conditions=(),
          tag=ANY_TAG, held=None, runs=None, retrievers=DEFAULT):
    return h.compute(page.inspect, "demo", list(retrievers), 10, runs, a, list(a_out), b, list(b_out), view, ALL,
                     text, False, None, held, "", depth, list(conditions), tag, progress=QUIET)


def shown(out, ui):
    return out[ui.view_state]["ids"]


def test_minilm_hits_everywhere_at_10_and_its_losses_show_at_depth_1(page, rows):
    ui = page.inspect.ui
    at10 = build(page, a_out=["sibling", "generic", "off-topic", "not retrieved"])
    at1 = build(page, a_out=["sibling", "generic", "off-topic", "not retrieved"], depth="1")
    losses1 = [r["instance_id"] for r in rows if r["retrievers"]["minilm"]["target_rank"] != 1]
    assert shown(at1, ui) and sorted(shown(at1, ui)) == sorted(losses1)
    assert len(shown(at10, ui)) < len(shown(at1, ui))
    assert "outcome at depth 1, nDCG@10" in at1[ui.summary]
    assert at1[ui.table]["visible"] is True and at1[ui.empty] == ""
    assert "minilm outcome@1" in at1[ui.table]["value"]["headers"]


def test_an_empty_view_says_which_filter_emptied_it(page, rows):
    ui = page.inspect.ui
    out = build(page, a_out=["not retrieved"], conditions=["A's target below B's"])
    assert shown(out, ui) == [] and out[ui.table]["visible"] is False and out[ui.pager]["visible"] is False
    said = unescape(out[ui.empty])
    assert "No instance matches: 240 instances → minilm outcome not retrieved at depth 10: 0." in said
    assert "1 2 3" not in said
    # the helper alone: each filter and what it left
    text = why_empty(rows, "minilm", ["hit"], "bm25", [], ALL_VIEW, ALL, "zzz-nowhere", False)
    assert text.startswith("No instance matches: 240 instances → search “zzz-nowhere”")
    assert h.compute(page.inspect, "demo", [], 10, None, None, [], None, [], ALL_VIEW, ALL, "", False, None, None,
                     "", progress=QUIET)[ui.table]["visible"] is False


def test_conditions_and_signed_contrast_through_the_handler(page, rows):
    ui = page.inspect.ui
    below = build(page, conditions=["A's target below B's"])
    want = [r["instance_id"] for r in rows
            if (r["retrievers"]["minilm"]["target_rank"] or 10**9) > (r["retrievers"]["bm25"]["target_rank"] or 10**9)]
    assert sorted(shown(below, ui)) == sorted(want) and want
    a_worse, b_worse = build(page, view=A_WORSE), build(page, view=B_WORSE)
    deltas = [a_worse[ui.view_state]["rows"][i]["delta"] for i in shown(a_worse, ui)]
    assert deltas == sorted(deltas) and deltas[0] < 0 < deltas[-1]  # minilm's worst losses first
    assert shown(b_worse, ui)[0] == shown(a_worse, ui)[-1]
    assert "Δ nDCG" in a_worse[ui.table]["value"]["headers"]
    sibling = build(page, a="bm25", b="minilm", conditions=["a sibling's target above A's"], depth="1")
    for iid in shown(sibling, ui):
        c = sibling[ui.view_state]["rows"][iid]["retrievers"]["bm25"]
        assert c["sibling_rank"] < (c["target_rank"] or 10**9)


def test_note_search_and_tag_filter(page, rows):
    ui = page.inspect.ui
    iid = rows[7]["instance_id"]
    held = {"dataset": "demo", "folder": "", "notes": {iid: {"instance_id": iid, "tag": "wrong persona",
                                                          "text": "Ranks the vegan persona's passage first"}}}
    held["folder"] = h.folder_of("")
    found = build(page, text="VEGAN PERSONA", held=held)
    assert shown(found, ui) == [iid]
    assert "[wrong persona] Ranks the vegan" in found[ui.table]["value"]["data"][0][-1]
    assert shown(build(page, tag="wrong persona", held=held), ui) == [iid]
    assert len(shown(build(page, tag="(no note)", held=held), ui)) == 239


def test_headers_are_short_and_the_page_table_hides_when_empty():
    assert headers(["bm25"], 10, 1, True) == ["instance", "query", "bm25 rank", "bm25 nDCG@10", "bm25 outcome@1",
                                                 "bm25 first", "Δ nDCG", "note"]
    table, label = page_table({"ids": [], "rows": {}, "page": 0, "k": 10}, "bm25", None, {})
    assert table["visible"] is False and label == ""


def test_a_row_shows_its_target_beside_the_passage_that_beat_it_with_why_for_both(page, rows):
    ictx, ui = page.inspect, page.inspect.ui
    out = build(page, a="bm25", b="minilm", a_out=["sibling"])
    view = out[ui.view_state]
    iid = view["ids"][0]
    cell = view["rows"][iid]["retrievers"]["bm25"]
    picked = h.on_select(ictx, view, {}, "bm25", "minilm", SimpleNamespace(row_value=[iid]))
    pair = unescape(re.sub(r"<[^>]+>", "", picked[ui.pair_html]))
    target = view["rows"][iid]["targets"][0]
    assert f"TARGET {target} · #{cell['target_rank']}" in pair
    assert f"{cell['sibling_doc']} · #{cell['sibling_rank']}" in pair and "SIBLING" in pair
    assert picked[ui.pair_system]["value"] == "bm25" and picked[ui.why_beat_btn]["visible"] is True
    why_t = h.on_why_target(ictx, view, iid, "bm25")[ui.why_html]
    why_b = h.on_why_beat(ictx, view, iid, "bm25")[ui.why_html]
    assert f"<code>{target}</code>" in why_t and f"#{cell['target_rank']}" in why_t and "why-table" in why_t
    assert f"<code>{cell['sibling_doc']}</code>" in why_b and f"#{cell['sibling_rank']}" in why_b
    other = h.on_pair_system(ictx, view, iid, "minilm")
    assert "minilm" in other[ui.pair_html]
    assert "Pick a row" in h.on_why_target(ictx, view, None, "bm25")[ui.why_html]


def test_an_uploaded_run_is_kept_in_the_browser_and_comes_back(page, tmp_path):
    ictx, ui, bar = page.inspect, page.inspect.ui, page.inspect.bar
    ex = ictx.explorer
    run = write_bm25_run(ex, tmp_path / "sys.trec", list(ex.benchmark("demo").instances), depth=50)
    up = h.on_run_upload(ictx, str(run), "demo", {}, ["bm25"], "")
    kept = up[ui.kept]
    entries = json.loads(kept)["runs"]
    assert [e["name"] for e in entries] == ["sys"] and "Kept in this browser" in up[ui.run_info]
    assert gzip.decompress(base64.b64decode(entries[0]["data"])) == run.read_bytes()
    # a reload: the session's state is empty, the browser's storage is not
    back = h.on_restore(ictx, kept, {}, "demo", ["bm25"])
    assert list(back[bar.runs]) == ["sys"] and back[bar.retrievers]["value"] == ["bm25", "run:sys"]
    assert back[bar.runs]["sys"].as_run() == up[bar.runs]["sys"].as_run()
    assert "Back from this browser's storage: run:sys" in unescape(back[ui.run_info])
    # nothing kept: nothing changes
    for nothing in ("", "not json", '{"runs": 3}', None):
        assert h.on_restore(ictx, nothing, {}, "demo", ["bm25"])[bar.runs] == {}
    # a damaged entry is dropped and said
    bad = h.on_restore(ictx, json.dumps({"runs": [{"name": "x", "dataset": "demo", "data": "bm90IGEgcnVu"}]}), {},
                       "demo", [])
    assert bad[ui.kept] == "" and "no longer readable" in bad[ui.run_info]
    assert h.on_forget(ictx, kept)[ui.kept] == ""
    # what the page sends is checked: a gzip bomb stops at the upload limit
    bomb = base64.b64encode(gzip.compress(b"0" * (h.MAX_RUN_BYTES + 10))).decode()
    out = h.on_restore(ictx, json.dumps({"runs": [{"name": "b", "dataset": "demo", "data": bomb}]}), {}, "demo", [])
    assert out[bar.runs] == {} and "unpacks to more than 100 MB" in out[ui.run_info]


def test_a_run_too_large_to_keep_is_said_before_it_is_lost(monkeypatch):
    monkeypatch.setattr(h, "KEEP_CHARS", 100)
    kept, said = h.keep_run("", "big.trec", "big", "demo", bytes(range(256)) * 40)
    assert kept == "" and "Not kept after a reload" in said and "upload it again" in said
    monkeypatch.setattr(h, "KEEP_CHARS", 60)  # each of the next two fits (32 and 36 characters), not both
    kept, _ = h.keep_run("", "a.trec", "a", "demo", b"a 1")
    kept, said = h.keep_run(kept, "b.trec", "b", "demo", b"b 2" * 3)
    assert [e["name"] for e in json.loads(kept)["runs"]] == ["b"] and "run:a will no longer come back" in said
