"""demo.published: the published InstructIR figures with their sources, and the scoreboard that
shows them (exact model, size and source on hover; the computed floor never in the published column)."""
from __future__ import annotations

import re

from demo.published import ROWS, for_model
from demo.ui.render import render_scoreboard

# (label, nDCG@10, Robustness@10) as the project brief gives them
BRIEF = {"BM25": (76.0, 26.9), "TART-Contriever": (84.8, 47.5), "Instructor-XL": (48.6, 21.5),
         "E5-Mistral": (86.3, 55.4), "RepLLaMA": (85.7, 50.2), "Promptriever (Llama-2-7B)": (92.1, 63.1),
         "FollowIR-7B (reranker)": (81.3, 71.5), "Mistral-7B-instruct": (63.1, 35.3),
         "Promptriever (Llama-3.1-8B-Instruct)": (89.9, 57.8)}


def test_rows_are_the_briefs_figures_with_sources():
    assert {r.label: (r.ndcg10, r.robustness10) for r in ROWS} == BRIEF
    for r in ROWS:
        assert r.source.startswith("Promptriever paper (Weller et al., 2024), Table ")
        assert r.model and r.verified and 0 <= r.robustness10 <= r.ndcg10 <= 100
    assert {r.label: r.source[-7:] for r in ROWS}["Promptriever (Llama-3.1-8B-Instruct)"] == "Table 7"


def test_the_computed_floor_is_not_a_published_row():
    assert not any("floor" in r.label.lower() or (r.ndcg10, r.robustness10) == (49.7, 32.1) for r in ROWS)


def test_app_models_map_to_the_model_they_run():
    assert (for_model("bm25").ndcg10, for_model("bm25").robustness10) == (76.0, 26.9)
    pr = for_model("promptriever-llama3.1-8b-instruct")  # the Llama-3.1 model, not Table 2's Llama-2 one
    assert (pr.ndcg10, pr.robustness10, pr.size) == (89.9, 57.8, "8B")
    assert for_model("bm25@query") is None and for_model("minilm") is None


BOARD = {"k": 10, "floor": {"ndcg@10": 0.497, "robustness@10": 0.321},
         "retrievers": {"bm25": {"ndcg@10": 0.70, "robustness@10": 0.20},
                        "promptriever-llama3.1-8b-instruct": {"ndcg@10": 0.88, "robustness@10": 0.55}}}


def test_scoreboard_attributes_each_published_figure():
    html = render_scoreboard(BOARD, "hf:kaist-ai/InstructIR")
    cell = re.search(r'<td title="([^"]*)">89\.9 / 57\.8 \(Promptriever \(Llama-3\.1-8B-Instruct\)\)</td>', html)
    assert cell and "samaya-ai/promptriever-llama3.1-8b-instruct-v1, 8B" in cell.group(1) and "Table 7" in cell.group(1)
    assert "92.1 / 63.1" not in html  # Table 2's Promptriever is the Llama-2 model
    floor = re.search(r'<tr class="floor">(.*?)</tr>', html).group(1)
    assert "49.7" in floor and "computed" in floor and "not published" in floor
    assert floor.count("49.7") == 1  # the live, computed cell only
    assert "Promptriever (Llama-2-7B) [7B] 92.1/63.1" in html


def test_scoreboard_on_another_dataset_has_no_published_column():
    html = render_scoreboard(BOARD, "demo")
    assert "published nDCG@10" not in html and "computed here" not in html
    assert "for reference only" in html
