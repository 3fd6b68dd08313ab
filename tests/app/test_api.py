"""The API endpoints of docs/architecture.md through gradio_client, against build_app launched in this
process on a free port (one app for the module)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from app_server import DEFAULT, launched, new_explorer
from helpers import run_cli

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def client(explorer):
    with launched(explorer) as url:
        yield gradio_client.Client(url, verbose=False)


@pytest.fixture(scope="module")
def inst(explorer):
    bench = explorer.benchmark("demo")
    return bench.instances[next(i for i in bench.instances if i in bench.paraphrases)]


def test_the_three_endpoints_are_named(client):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/instance", "/rank", "/sweep", "/inspect"} <= set(named)
    params = {p["parameter_name"]: p for p in named["/rank"]["parameters"]}
    assert list(params) == ["dataset", "instance_id", "instruction", "retrievers", "k"]
    assert params["retrievers"]["python_type"]["type"] == "list[str]"
    assert params["k"]["python_type"]["type"] == "int"


def test_instance(client, explorer, inst):
    out = client.predict("demo", inst.instance_id, api_name="/instance")
    assert {"instance_id", "query_id", "query", "instruction", "targets", "variants"} <= set(out)
    assert out["instance_id"] == inst.instance_id and out["query_id"] == inst.query_id
    assert out["query"] == inst.query and out["instruction"] == inst.instruction
    assert out["targets"] == list(inst.targets) and all(isinstance(t, str) for t in out["targets"])
    assert out["variants"] and all(set(v) >= {"kind", "label", "text"} for v in out["variants"])
    assert all(isinstance(v[key], str) for v in out["variants"] for key in ("kind", "label", "text"))
    kinds = {v["kind"] for v in out["variants"]}
    assert {"original", "other-instruction", "paraphrase", "query-only", "typos"} <= kinds
    assert out["variants"] == explorer.instance("demo", inst.instance_id)["variants"]


def test_rank(client, explorer, inst):
    edit = "I run a small shop and want the cheapest way, step by step."
    out = client.predict("demo", inst.instance_id, edit, DEFAULT, 5, api_name="/rank")
    assert {"retrievers", "robustness"} <= set(out)
    assert list(out["retrievers"]) == DEFAULT and set(out["robustness"]) == set(DEFAULT)
    here = explorer.rank("demo", inst.instance_id, edit, DEFAULT, 5)
    for rid, col in out["retrievers"].items():
        assert isinstance(col["encoded"], str) and isinstance(col["ndcg"], float)
        assert col["target_rank"] is None or type(col["target_rank"]) is int
        assert isinstance(out["robustness"][rid], float)
        assert len(col["ranking"]) == 5
        for card in col["ranking"]:
            assert type(card["doc_id"]) is str and type(card["score"]) is float and type(card["rank"]) is int
            assert type(card["is_target"]) is bool
            # shift is null only for a doc BM25 did not retrieve with the original instruction
            assert type(card["shift"]) is int or (card["shift"] is None and rid.startswith("bm25"))
        ref = here["retrievers"][rid]
        assert col["encoded"] == ref["encoded"] and col["target_rank"] == ref["target_rank"]
        assert col["ndcg"] == pytest.approx(ref["ndcg"])
        assert [(c["doc_id"], c["rank"], c["shift"], c["is_target"]) for c in col["ranking"]] == \
               [(c["doc_id"], c["rank"], c["shift"], c["is_target"]) for c in ref["ranking"]]
        assert [c["score"] for c in col["ranking"]] == pytest.approx([c["score"] for c in ref["ranking"]])
        assert out["robustness"][rid] == pytest.approx(here["robustness"][rid])
    assert out["retrievers"]["bm25"]["encoded"] == f"{edit} [SEP] {inst.query}"
    assert out["retrievers"]["bm25@query"]["encoded"] == inst.query


def test_rank_with_k_default_and_a_failing_retriever(client, inst):
    out = client.predict("demo", inst.instance_id, inst.instruction, ["bm25", "gtr-t5-base"], api_name="/rank")
    assert len(out["retrievers"]["bm25"]["ranking"]) == 10  # k defaults to 10
    assert set(out["retrievers"]["gtr-t5-base"]) == {"error"}
    assert "gtr-t5-base" in out["retrievers"]["gtr-t5-base"]["error"]
    assert all(c["shift"] == 0 for c in out["retrievers"]["bm25"]["ranking"])


def test_sweep(client, explorer, inst):
    out = client.predict("demo", inst.query_id, ["bm25", "minilm"], 10, api_name="/sweep")
    assert out["query_id"] == inst.query_id and out["query"] == inst.query
    assert out["variants"] and all(set(v) >= {"kind", "label", "text"} for v in out["variants"])
    assert list(out["retrievers"]) == ["bm25", "minilm"]
    for rid, col in out["retrievers"].items():
        assert len(col["target_rank"]) == len(col["ndcg"]) == len(out["variants"])
        assert all(r is None or type(r) is int for r in col["target_rank"])
        assert all(isinstance(n, float) for n in col["ndcg"])
    assert out == explorer.sweep("demo", inst.query_id, ["bm25", "minilm"], 10)


@pytest.mark.parametrize("api_name, args, message", [
    ("/instance", ("demo", "no_such_instance"), "unknown instance"),
    ("/rank", ("demo", "no_such_instance", "x", ["bm25"], 10), "unknown instance"),
    ("/rank", ("demo", "INST", "x", ["no-such-model"], 10), "unknown model"),
    ("/rank", ("demo", "INST", "x", ["bm25"], 0), "k must be"),
    ("/rank", ("demo", "INST", "x" * 2001, ["bm25"], 10), "too long"),
    ("/sweep", ("demo", "no_such_query", ["bm25"], 10), "unknown base query"),
    ("/instance", ("no/such/folder", "x"), "no/such/folder"),
])
def test_bad_input_raises_a_clear_error_on_the_client(client, inst, api_name, args, message):
    args = tuple(inst.instance_id if a == "INST" else a for a in args)
    with pytest.raises(gradio_client.exceptions.AppError, match=message):
        client.predict(*args, api_name=api_name)


def test_concurrent_rank_calls_each_get_their_own_instruction(client, explorer, inst):
    texts = [v["text"] for v in explorer.instance("demo", inst.instance_id)["variants"]]
    texts = list(dict.fromkeys(t for t in texts if t.strip() and "[SEP]" not in t))[:7]
    texts.append("A completely different need: only answers written for lawyers.")
    assert len(texts) == 8
    rids = ["bm25", "minilm"]
    call = lambda t: client.predict("demo", inst.instance_id, t, rids, 10, api_name="/rank")  # noqa: E731
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(call, texts))
    for text, out in zip(texts, together):
        alone = call(text)
        for rid in rids:
            assert out["retrievers"][rid]["encoded"] == f"{text} [SEP] {inst.query}"
            assert [c["doc_id"] for c in out["retrievers"][rid]["ranking"]] == \
                   [c["doc_id"] for c in alone["retrievers"][rid]["ranking"]]
            assert out["retrievers"][rid]["target_rank"] == alone["retrievers"][rid]["target_rank"]
            assert out["summary"] == alone["summary"]
    # the calls really differ, so a mix-up would be seen
    assert len({tuple(c["doc_id"] for c in o["retrievers"]["minilm"]["ranking"]) for o in together}) > 4


def test_rank_and_sweep_accept_run_ids(client, explorer, inst, tmp_path_factory, monkeypatch):
    """A run file in INSTRUCTIR_EXPLORER_RUNS is a retriever of the API: /rank gives its column
    beside the live one, with the note for edited text; /sweep its numbers where it covers."""
    from helpers import write_bm25_run
    folder = tmp_path_factory.mktemp("api-runs")
    write_bm25_run(explorer, folder / "sys.trec", list(explorer.benchmark("demo").instances), depth=1000)
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_RUNS", str(folder))
    explorer.corpora.forget_folder_runs("demo")  # read the folder again, now that it is set
    out = client.predict("demo", inst.instance_id, inst.instruction, ["bm25", "run:sys"], 10, api_name="/rank")
    live, col = out["retrievers"]["bm25"], out["retrievers"]["run:sys"]
    assert [c["doc_id"] for c in col["ranking"]] == [c["doc_id"] for c in live["ranking"]]
    assert col["target_rank"] == live["target_rank"] and "note" not in col
    edited = client.predict("demo", inst.instance_id, "Tell me about something else.", ["run:sys"], 10,
                            api_name="/rank")
    assert edited["retrievers"]["run:sys"]["note"].startswith("a run file has no ranking for edited text")
    sweep = client.predict("demo", inst.query_id, ["bm25", "run:sys"], 10, api_name="/sweep")
    kinds = [v["kind"] for v in sweep["variants"]]
    run_ndcg = sweep["retrievers"]["run:sys"]["ndcg"]
    assert all(n is not None for k, n in zip(kinds, run_ndcg) if k == "original")
    assert all(n is None for k, n in zip(kinds, run_ndcg) if k not in ("original", "paraphrase"))
    explorer.corpora.forget_folder_runs("demo")


def test_inspect_gives_the_instance_table(client, explorer):
    out = client.predict("demo", ["bm25", "minilm"], 10, api_name="/inspect")
    here = explorer.inspect("demo", ["bm25", "minilm"], 10)
    assert len(out["rows"]) == len(explorer.benchmark("demo").instances) == len(here["rows"])
    assert out["rows"][0].keys() == {"instance_id", "query_id", "retrievers"}
    for got, want in zip(out["rows"], here["rows"]):
        assert got["instance_id"] == want["instance_id"] and got["query_id"] == want["query_id"]
        for rid in ("bm25", "minilm"):
            cell = got["retrievers"][rid]
            assert set(cell) == {"target_rank", "ndcg", "outcome", "top_doc", "sibling_rank", "sibling_doc",
                                 "generic_rank", "generic_doc"}  # the ranks that give the outcome at any depth
            assert cell["target_rank"] is None or type(cell["target_rank"]) is int
            assert cell["outcome"] == want["retrievers"][rid]["outcome"]
            assert cell["ndcg"] == pytest.approx(want["retrievers"][rid]["ndcg"])
    with pytest.raises(Exception, match="k must be"):
        client.predict("demo", ["bm25"], 0, api_name="/inspect")


def test_explain(client, explorer, inst):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    params = [p["parameter_name"] for p in named["/explain"]["parameters"]]
    assert params == ["dataset", "instance_id", "instruction", "retriever", "doc_id"]
    target = inst.targets[0]
    for rid, method in (("bm25", "terms"), ("minilm", "occlusion")):
        out = client.predict("demo", inst.instance_id, inst.instruction, rid, target, api_name="/explain")
        assert out["method"] == method and out["doc_id"] == target
        assert out == explorer.explain("demo", inst.instance_id, inst.instruction, rid, target)
    with pytest.raises(Exception, match="unknown doc"):
        client.predict("demo", inst.instance_id, inst.instruction, "bm25", "no-such-doc", api_name="/explain")


def test_compare_endpoint_equals_the_cli(client, tmp_path):
    """/compare serves the paired tests the CLI writes: the same systems, deltas and p-values."""
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in named["/compare"]["parameters"]] == ["dataset", "retrievers", "k"]
    out = client.predict("demo", ["bm25", "bm25@query"], 10, api_name="/compare")
    proc = run_cli("compare", "--dataset", "demo", "--retrievers", "bm25,bm25@query", "--json", tmp_path / "c.json")
    assert proc.returncode == 0, proc.stderr
    cli = json.loads((tmp_path / "c.json").read_text())
    assert set(out["systems"]) == set(cli["systems"]) == {"bm25", "bm25@query"}
    for got, want in zip(out["pairs"], cli["pairs"]):
        assert (got["a"], got["b"], got["measure"]) == (want["a"], want["b"], want["measure"])
        assert got["delta"] == pytest.approx(want["delta"]) and got["p_ttest"] == pytest.approx(want["p_ttest"])
        assert got["p_randomization"] == pytest.approx(want["p_randomization"])
    with pytest.raises(Exception, match="two or more"):
        client.predict("demo", ["bm25"], 10, api_name="/compare")
