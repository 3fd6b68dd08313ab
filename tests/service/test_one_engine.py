"""One engine: every bundled instance ranked by the CLI (`python -m demo run`, a TREC file) and
by the app (`Explorer.rank`, the `/rank` JSON) gives the same documents in the same order with
the same scores, ties included, for BM25, MiniLM, their fusion and a run file."""
from __future__ import annotations

import pytest

from demo.data.sources import load_source
from demo.metrics.ranking import ranked
from demo.service import Explorer
from helpers import run_cli

K = 20
RETRIEVERS = ["bm25", "minilm", "rrf(bm25,minilm)"]


def read_trec(path) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, {})[doc] = float(score)
    return run


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one-engine")
    out = {}
    for rid in RETRIEVERS:
        path = folder / f"{rid.replace('(', '_').replace(')', '_').replace(',', '_')}.trec"
        proc = run_cli("run", "--dataset", "demo", "--retriever", rid, "--out", path, "--top", K)
        assert proc.returncode == 0, proc.stderr
        out[rid] = path
    return out


def test_the_cli_and_the_app_rank_every_bundled_instance_alike(cli_runs):
    bench = load_source("demo")
    ex = Explorer()
    for rid, path in cli_runs.items():
        cli = read_trec(path)
        assert set(cli) == set(bench.instances), rid
        for iid in bench.instances:
            col = ex.rank("demo", iid, None, [rid], K)["retrievers"][rid]
            app = [(c["doc_id"], c["score"]) for c in col["ranking"]]
            # the CLI's file as trec_eval reads it (score, then doc id descending); scores written exactly (repr)
            assert [d for d in ranked(cli[iid])] == [d for d, _ in app], (rid, iid)
            assert [cli[iid][d] for d, _ in app] == [s for _, s in app], (rid, iid)


def test_a_run_file_reads_back_the_same_through_both_paths(cli_runs, tmp_path, monkeypatch):
    """The CLI's BM25 run, read as a run file, gives the app the rankings it came from."""
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_RUNS", str(cli_runs["bm25"].parent))
    ex = Explorer()
    name = "run:" + cli_runs["bm25"].name.removesuffix(".trec")
    evaluate = run_cli("evaluate", "--dataset", "demo", "--retrievers", f"bm25,run:{cli_runs['bm25']}", "--k", 10)
    assert evaluate.returncode == 0, evaluate.stderr
    rows = {line.split()[0]: line.split()[1:] for line in evaluate.stdout.splitlines()[2:]}
    assert rows["bm25"] == rows[name], evaluate.stdout  # a run of a retriever scores as the retriever
    bench = load_source("demo")
    for iid in list(bench.instances)[::7]:
        live = ex.rank("demo", iid, None, ["bm25", name], 10)["retrievers"]
        assert [c["doc_id"] for c in live["bm25"]["ranking"]] == [c["doc_id"] for c in live[name]["ranking"]], iid
        assert live["bm25"]["ndcg"] == pytest.approx(live[name]["ndcg"]), iid


def test_ties_are_broken_alike(cli_runs):
    """The bundled data has tied BM25 scores; both paths break them by doc id, descending."""
    cli = read_trec(cli_runs["bm25"])
    tied = [(iid, docs) for iid, docs in cli.items() if len(set(docs.values())) < len(docs)]
    assert tied, "no ties in the bundled data: this test would check nothing"
    ex = Explorer()
    for iid, docs in tied[:20]:
        col = ex.rank("demo", iid, None, ["bm25"], K)["retrievers"]["bm25"]
        assert [c["doc_id"] for c in col["ranking"]] == ranked(docs)
