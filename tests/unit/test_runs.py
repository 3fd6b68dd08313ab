"""Run files as retrievers: parsing, checks against a dataset, every bad run
through the CLI, and run columns in the service."""
from __future__ import annotations

import gzip
import json
import math

import pytest

from demo.data.release import load_folder
from demo.errors import DataError
from demo.runs import load_bytes, parse_run, read_bytes, run_name
from helpers import TINY, assert_one_line_error, engine_run, run_cli, write_bm25_run, write_release

PARAPHRASES = [("a_1.1", "A tea fan who dislikes bitter cups.", "how to brew tea"),
               ("a_1.2", "Someone wanting the right heat and steeping time.", "how to brew tea")]
DOCS = [d for d, _ in TINY["corpus"]]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("runs") / "tiny", paraphrases=PARAPHRASES)


@pytest.fixture(scope="module")
def bench(folder):
    return load_folder(folder)


def trec(rows) -> str:
    return "".join(f"{q} Q0 {d} {r} {s} tag\n" for q, d, r, s in rows)


# ---- parsing ------------------------------------------------------------------------------------
def test_trec_rank_column_is_ignored_and_ties_go_to_the_larger_doc_id(bench):
    # ranks written backwards, a_2 and a_3 tied: the order is by score, then doc id descending
    text = trec([("a_1", "a_1", 1, 1.0), ("a_1", "a_2", 2, 5.0), ("a_1", "a_3", 3, 5.0), ("b_1", "b_1", 9, 0.5)])
    run = load_bytes(text.encode(), bench, "x.trec")
    assert run.name == "x" and run.retriever_id == "run:x"
    assert list(run.scores("a_1")) == ["a_3", "a_2", "a_1"]
    assert run.scores("a_1") == {"a_3": 5.0, "a_2": 5.0, "a_1": 1.0}
    assert run.scores("a_2") == {}
    assert run.describe(bench) == "run:x covers 2 of 6 instances"


def test_json_runs_pytrec_eval_and_both_mteb_shapes_read_the_same(bench):
    plain = {"a_1": {"a_1": 2.0, "x_1": 1.5}, "b_2": {"b_2": 0.25}}
    mteb2 = {"mteb_model_meta": {"model_name": "some/model", "revision": "abc"}, "default": {"test": plain}}
    expected = load_bytes(json.dumps(plain).encode(), bench, "p.json").as_run()
    assert expected == plain
    assert load_bytes(json.dumps(mteb2).encode(), bench, "InstructIR_predictions.json").as_run() == plain
    two_splits = {**mteb2, "default": {"test": plain, "dev": plain}}
    with pytest.raises(DataError, match="2 subset/split runs"):
        load_bytes(json.dumps(two_splits).encode(), bench, "m.json")


def test_gzip_and_byte_order_mark_are_accepted(bench):
    text = "\ufeff" + trec([("a_1", "a_1", 1, 3.0), ("a_2", "a_2", 1, 2.0)])
    data = gzip.compress(text.encode("utf-8"))
    run = load_bytes(data, bench, "e5.trec.gz")
    assert run.name == "e5" and run.as_run() == {"a_1": {"a_1": 3.0}, "a_2": {"a_2": 2.0}}
    json_bom = "\ufeff" + json.dumps({"a_1": {"a_1": 1}})
    assert load_bytes(json_bom.encode("utf-8"), bench, "j.json").as_run() == {"a_1": {"a_1": 1.0}}


def test_paraphrase_ids_are_accepted_and_counted(bench):
    text = trec([("a_1", "a_1", 1, 3.0), ("a_1.1", "a_1", 1, 3.0), ("a_1.2", "a_2", 1, 3.0)])
    run = load_bytes(text.encode(), bench, "p.trec")
    assert run.describe(bench) == "run:p covers 1 of 6 instances and 2 of 2 paraphrases"


@pytest.mark.parametrize("path, name", [("e5.trec", "e5"), ("dir/e5-mistral.run.gz", "e5-mistral"),
                                        ("bm25", "bm25"), ("my.model.json", "my.model"), ("a b.trec", "a_b")])
def test_run_name_drops_run_extensions_only(path, name):
    assert run_name(path) == name


# ---- bad runs, each one line --------------------------------------------------------------------
BAD = {
    "unknown ids": (trec([("a_1", "a_1", 1, 1.0), ("zz_9", "a_1", 1, 1.0), ("zz_8", "a_2", 1, 1.0)]),
                    ["2 query ids", "'zz_8', 'zz_9'"]),
    "another dataset": (trec([("1078446_1", "p1", 1, 1.0), ("1078446_2", "p2", 1, 1.0)]),
                        ["a run for another dataset", "'1078446_1'"]),
    "unknown docs": (trec([("a_1", "a_1", 1, 1.0), ("a_1", "MARCO_77", 2, 0.5)]),
                     ["not in the corpus", "'MARCO_77'"]),
    "malformed line": (trec([("a_1", "a_1", 1, 1.0)]) + "a_2 Q0 a_2 1\n", [":2:", "6 columns"]),
    "non-numeric score": (trec([("a_1", "a_1", 1, 1.0), ("a_2", "a_2", 1, "high")]), [":2:", "'high'"]),
    "empty file": ("\n  \n", ["empty run file"]),
    "duplicate pair": (trec([("a_1", "a_1", 1, 1.0), ("a_1", "a_2", 2, 0.5), ("a_1", "a_1", 3, 0.1)]),
                       [":3:", "'a_1' listed twice"]),
    "NaN score": (trec([("a_1", "a_1", 1, 1.0), ("a_1", "a_2", 2, "nan")]), [":2:", "nan", "finite"]),
    "infinite score": (trec([("a_1", "a_1", 1, "inf")]), [":1:", "finite"]),
    "JSON NaN": ('{"a_1": {"a_1": NaN}}', ["finite"]),
    "JSON duplicate doc": ('{"a_1": {"a_1": 1.0, "a_1": 2.0}}', ["'a_1' appears twice"]),
    "malformed JSON": ('{"a_1": {"a_1": 1.0,\n "a_2": }}', [":2:", "malformed JSON"]),
    "JSON not a run": ('{"a_1": [1, 2]}', ["expected {doc id: score}"]),
    "binary garbage": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ["binary data"]),
    "not UTF-8": (b"a_1 Q0 a_1 1 1.0 tag\n\xff\xfe\xfa junk\n", [":2:", "not UTF-8"]),
    "broken gzip": (b"\x1f\x8b\x08\x00" + b"\x13" * 40, ["not a readable gzip file"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_every_bad_run_is_one_line_through_the_cli(folder, tmp_path, case):
    content, fragments = BAD[case]
    path = tmp_path / "bad.trec"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for args in (["score", "--run", path], ["evaluate", "--retrievers", f"bm25,run:{path}"]):
        line = assert_one_line_error(run_cli(args[0], "--dataset", folder, *args[1:]), *fragments)
        assert str(path) in line, line


def test_bad_run_is_never_half_loaded(bench):
    """The valid first lines of a bad file give no partial run: load raises and returns nothing."""
    text = trec([("a_1", "a_1", 1, 1.0), ("a_2", "a_2", 1, 1.0)]) + "oops\n"
    with pytest.raises(DataError):
        load_bytes(text.encode(), bench, "half.trec")


def test_missing_run_file_and_empty_run_name(folder):
    assert_one_line_error(run_cli("evaluate", "--dataset", folder, "--retrievers", "run:/no/such.trec"),
                          "/no/such.trec", "not found")
    assert_one_line_error(run_cli("evaluate", "--dataset", folder, "--retrievers", "bm25,run:"), "run:")


# ---- runs through the CLI -----------------------------------------------------------------------
def test_evaluate_prints_a_run_row_beside_live_rows(folder, tmp_path):
    run_file = tmp_path / "bm25-copy.trec"
    assert run_cli("run", "--dataset", folder, "--retriever", "bm25", "--out", run_file).returncode == 0
    out = tmp_path / "e.json"
    proc = run_cli("evaluate", "--dataset", folder, "--retrievers", f"bm25,run:{run_file}", "--json", out)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines() if line.startswith(("bm25", "run:"))}
    assert set(rows) == {"bm25", "run:bm25-copy"} and rows["bm25"] == rows["run:bm25-copy"]
    data = json.loads(out.read_text())["retrievers"]
    assert data["run:bm25-copy"] == data["bm25"]
    assert "run:bm25-copy covers 6 of 6 instances" in proc.stderr


def test_partial_json_run_scores_missing_instances_zero(folder, tmp_path):
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"a_1": {"a_1": 3.0, "a_2": 1.0}, "b_1": {"x_2": 2.0, "b_1": 1.0}}))
    out = tmp_path / "s.json"
    proc = run_cli("score", "--dataset", folder, "--run", path, "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert "covers 2 of 6 instances" in proc.stderr
    per = json.loads(out.read_text())["per_instance"]
    assert per["a_1"] == {"rank": 1, "ndcg@10": 1.0}
    assert per["b_1"] == {"rank": 2, "ndcg@10": pytest.approx(1 / math.log2(3))}
    assert per["a_2"] == {"rank": None, "ndcg@10": 0.0}


def test_read_bytes_and_parse_run_shapes():
    assert parse_run(read_bytes(b"q Q0 d 1 2 t\n", "r"), "r") == {"q": {"d": 2.0}}
    assert parse_run('{"q": {"d": 1}}', "r") == {"q": {"d": 1.0}}


# ---- run columns in the service (bundled dataset, BM25's own rankings as the "system") --------
@pytest.fixture(scope="module")
def ex():
    from app_server import new_explorer
    return new_explorer()


@pytest.fixture(scope="module")
def demo_run(ex, tmp_path_factory):
    """A run covering every instance of two base queries and the paraphrases of one instance."""
    bench = ex.benchmark("demo")
    with_para = next(i for i in bench.instances if i in bench.paraphrases)
    query_id = bench.instances[with_para].query_id
    other = next(q for q in bench.groups if q != query_id)
    qids = list(bench.groups[query_id]) + list(bench.groups[other])
    qids += [p.instance_id for p in bench.paraphrases[with_para]]
    folder = tmp_path_factory.mktemp("runs-folder")
    write_bm25_run(ex, folder / "sys.trec", qids)
    (folder / "other.trec").write_text(trec([("1078446_1", "p1", 1, 1.0)]))
    from demo.runs import load_run
    return {"folder": folder, "instance": with_para, "query_id": query_id,
            "run": load_run(folder / "sys.trec", bench), "covered": qids}


def test_run_column_shows_the_original_ranking_and_says_edits_have_none(ex, demo_run):
    run, iid = demo_run["run"], demo_run["instance"]
    inst = ex.instance("demo", iid)
    original = ex.rank("demo", iid, None, ["bm25", "run:sys"], 10, runs={"sys": run})
    live, col = original["retrievers"]["bm25"], original["retrievers"]["run:sys"]
    assert "note" not in col and col["label"] == "run file sys"
    assert [c["doc_id"] for c in col["ranking"]] == [c["doc_id"] for c in live["ranking"]]
    assert [c["score"] for c in col["ranking"]] == pytest.approx([c["score"] for c in live["ranking"]])
    assert (col["target_rank"], col["ndcg"]) == (live["target_rank"], pytest.approx(live["ndcg"]))
    assert original["robustness"]["run:sys"] == pytest.approx(original["robustness"]["bm25"])
    edited = ex.rank("demo", iid, inst["instruction"] + " Please keep it brief.", ["run:sys"], 10, runs={"sys": run})
    col2 = edited["retrievers"]["run:sys"]
    assert col2["note"].startswith("a run file has no ranking for edited text")
    assert [c["doc_id"] for c in col2["ranking"]] == [c["doc_id"] for c in col["ranking"]]
    assert all(c["shift"] == 0 for c in col2["ranking"])


def test_run_column_follows_a_paraphrase_the_run_covers(ex, demo_run):
    run, iid = demo_run["run"], demo_run["instance"]
    para = ex.benchmark("demo").paraphrases[iid][0]
    out = ex.rank("demo", iid, para.instruction, ["bm25", "run:sys"], 10, runs={"sys": run})
    live, col = out["retrievers"]["bm25"], out["retrievers"]["run:sys"]
    assert "note" not in col and para.instance_id in col["encoded"]
    assert [c["doc_id"] for c in col["ranking"]] == [c["doc_id"] for c in live["ranking"]]
    # the run holds the top 100: a doc ranked lower for the original instruction has no shift there
    assert [c["shift"] for c in col["ranking"]] == [c["shift"] if c["original_rank"] <= 100 else None
                                                     for c in live["ranking"]]


def test_uncovered_instance_and_unknown_run_are_column_errors(ex, demo_run):
    bench = ex.benchmark("demo")
    outside = next(i for i in bench.instances if i not in demo_run["covered"])
    out = ex.rank("demo", outside, None, ["bm25", "run:sys", "run:nope"], 10, runs={"sys": demo_run["run"]})
    assert "error" not in out["retrievers"]["bm25"]
    assert f"no ranking for {outside}" in out["retrievers"]["run:sys"]["error"]
    assert f"covers {len(demo_run['covered']) - 5} of 240 instances" in out["retrievers"]["run:sys"]["error"]
    assert "no run file named 'nope'" in out["retrievers"]["run:nope"]["error"]


def test_sweep_uses_only_the_variants_the_run_covers(ex, demo_run):
    run, iid, qid = demo_run["run"], demo_run["instance"], demo_run["query_id"]
    sweep = ex.sweep("demo", qid, ["bm25", "run:sys"], 10, iid, runs={"sys": run})
    live, col = sweep["retrievers"]["bm25"], sweep["retrievers"]["run:sys"]
    kinds = [v["kind"] for v in sweep["variants"]]
    for a, b, ra, rb in zip(live["ndcg"], col["ndcg"], live["target_rank"], col["target_rank"]):
        if b is None:
            assert rb is None
        else:
            assert (b, rb) == (pytest.approx(a), ra)
    covered = [k for k, n in zip(kinds, col["ndcg"]) if n is not None]
    assert covered.count("original") == kinds.count("original")
    assert covered.count("paraphrase") == 5 and "query-only" not in covered and "typos" not in covered
    assert col["robustness"] == pytest.approx(live["robustness"])


def test_runs_folder_loads_fitting_runs_and_reports_the_others(monkeypatch, demo_run):
    from app_server import new_explorer
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_RUNS", str(demo_run["folder"]))
    ex = new_explorer()
    assert list(ex.runs("demo")) == ["sys"]
    report = ex.run_report("demo")
    paraphrases = sum(len(p) for p in ex.benchmark("demo").paraphrases.values())
    assert report[0] == f"run:sys covers {len(demo_run['covered']) - 5} of 240 instances and 5 of {paraphrases} paraphrases"
    assert any("other.trec" in line and "another dataset" in line for line in report[1:])
    out = ex.rank("demo", demo_run["instance"], None, ["run:sys"], 5)
    assert len(out["retrievers"]["run:sys"]["ranking"]) == 5
    board = ex.scoreboard("demo", ["bm25", "run:sys"], 10)["retrievers"]
    assert 0 < board["run:sys"]["ndcg@10"] < board["bm25"]["ndcg@10"]  # instances it lacks score 0


def test_explain_says_a_run_file_has_no_model(folder, bench):
    from demo.errors import UserError
    from demo.service import Explorer
    inst = next(iter(bench.instances.values()))
    with pytest.raises(UserError, match="is a run file"):
        Explorer().explain(str(folder), inst.instance_id, None, "run:sys", DOCS[0])
