"""Exports of a comparison (CSV, JSON, TREC run) and deep links, from a real rank() result."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs

import pytest

from app_server import new_explorer
from demo.metrics import ranked
from demo.trec import read_run
from demo.ui.export import deep_link, to_csv, to_json, to_trec

RIDS = ["bm25", "bm25@query"]


@pytest.fixture(scope="module")
def result():
    ex = new_explorer()
    inst = ex.instance("demo", "201_2")
    return ex.rank("demo", "201_2", inst["instruction"] + " Keep it short.", RIDS, 5)


def test_csv_has_a_row_per_card_with_the_shown_numbers(result):
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert len(rows) == 5 * len(RIDS)
    for row in rows:
        r = result["retrievers"][row["retriever"]]
        card = r["ranking"][int(row["rank"]) - 1]
        assert row["doc_id"] == card["doc_id"] and (int(row["shift"]) if row["shift"] else None) == card["shift"]
        assert float(row["ndcg@5"]) == pytest.approx(r["ndcg"], abs=1e-6)
        assert float(row["robustness@5"]) == pytest.approx(result["robustness"][row["retriever"]], abs=1e-6)


@pytest.mark.parametrize("rid", RIDS)
def test_trec_export_reads_back_as_the_shown_ranking(result, tmp_path, rid):
    path = tmp_path / "run.trec"
    path.write_text(to_trec(result, rid))
    run = read_run(path)
    assert set(run) == {"201_2"}
    cards = result["retrievers"][rid]["ranking"]
    assert ranked(run["201_2"]) == [c["doc_id"] for c in cards]
    assert {line.split()[-1] for line in path.read_text().splitlines()} == {rid}


def test_json_export_holds_the_instruction_and_the_result(result):
    data = json.loads(to_json(result, "edited text", "demo"))
    assert data["dataset"] == "demo" and data["instruction"] == "edited text"
    assert data["retrievers"]["bm25"]["target_rank"] == result["retrievers"]["bm25"]["target_rank"]


def test_deep_link_holds_the_instruction_only_when_edited():
    edited = parse_qs(deep_link("demo", "201_2", "new <b>text</b> & more", "old", ["bm25", "minilm"])[1:])
    assert edited == {"dataset": ["demo"], "instance": ["201_2"], "instruction": ["new <b>text</b> & more"],
                      "retrievers": ["bm25,minilm"]}
    assert "instruction" not in parse_qs(deep_link("demo", "201_2", "old", "old", ["bm25"])[1:])
