"""`python -m demo compare`, run in-process: the table with marks, JSON (pairs and ci95) checked
against scipy on ir_measures' per-query nDCG, Markdown and LaTeX, the conventions, and bad input."""
from __future__ import annotations

import json
import random

import ir_measures
import numpy as np
import pytest
from ir_measures import nDCG
from scipy import stats

from demo.cli import main
from demo.data.release import load_folder
from helpers import write_release

GROUPS, PER_GROUP = 24, 4
TOPICS = ["kettles", "tents", "violins", "orchids", "tyres", "lamps", "ferries", "clocks"]


def dataset(folder):
    corpus, queries = [], []
    for g in range(GROUPS):
        topic = f"{TOPICS[g % len(TOPICS)]} {g}"
        for i in range(1, PER_GROUP + 1):
            corpus.append((f"p{g}_{i}", f"A note on {topic} written for reader type {i}."))
            queries.append((f"{g}_{i}", f"I am reader type {i} and want the matching note.", f"about {topic}"))
    corpus += [(f"x{n}", f"An unrelated filler note number {n}.") for n in range(20)]
    qrels = [(qid, f"p{qid}", 1) for qid, _, _ in queries]
    return write_release(folder, corpus, queries, qrels)


def ranked_run(bench, target_rank) -> dict:
    """A run placing each instance's target at target_rank(iid) among the dataset's other docs."""
    run = {}
    for iid, inst in bench.instances.items():
        target = inst.targets[0]
        others = [d for d in sorted(bench.docs) if d != target][:15]
        rank = target_rank(iid)
        order = others[:rank - 1] + [target] + others[rank - 1:]
        run[iid] = {d: float(100 - r) for r, d in enumerate(order)}
    return run


def write_trec(run, path):
    path.write_text("".join(f"{q} Q0 {d} 1 {s} x\n" for q, docs in run.items() for d, s in docs.items()))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    folder = dataset(tmp / "data")
    bench = load_folder(folder)
    rng = random.Random(0)
    good = ranked_run(bench, lambda iid: rng.choice([1, 1, 1, 2]))
    weak = ranked_run(bench, lambda iid: rng.randint(1, 14))
    runs = {"good": write_trec(good, tmp / "good.trec"), "weak_sys": write_trec(weak, tmp / "weak_sys.trec")}
    runs["copy"] = tmp / "copy.json"
    runs["copy"].write_text(json.dumps(good))
    return folder, bench, runs, {"good": good, "weak_sys": weak, "copy": good}, tmp


def compare(capsys, *args) -> tuple[int, str, str]:
    try:
        code = main(["compare", *map(str, args)])
    except SystemExit as e:  # argparse errors
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def compared(setup, tmp_path_factory):
    folder, _, runs, _, tmp = setup
    out = tmp / "out"
    out.mkdir()
    mp = pytest.MonkeyPatch()
    import io
    import sys
    buf = io.StringIO()
    mp.setattr(sys, "stdout", buf)
    try:
        code = main(["compare", "--dataset", str(folder), "--runs", str(runs["good"]), str(runs["weak_sys"]),
                     str(runs["copy"]), "--json", str(out / "c.json"), "--latex", str(out / "c.tex"),
                     "--markdown", str(out / "c.md")])
    finally:
        mp.undo()
    assert code == 0
    return buf.getvalue(), json.loads((out / "c.json").read_text()), out


def oracle(bench, run) -> dict[str, float]:
    return {m.query_id: m.value for m in ir_measures.iter_calc([nDCG @ 10], bench.qrels, run)}


def test_json_pairs_match_scipy_on_ir_measures_values(setup, compared):
    _, bench, _, plain, _ = setup
    _, data, _ = compared
    names = {"good": "run:good", "weak_sys": "run:weak_sys", "copy": "run:copy"}
    tables = {names[n]: oracle(bench, run) for n, run in plain.items()}
    members = [m for ms in bench.groups.values() for m in ms]
    pairs = {(p["a"], p["b"], p["measure"]): p for p in data["pairs"]}
    assert len(pairs) == 6
    for p in data["pairs"]:
        assert {"a", "b", "measure", "delta", "p_randomization", "p_ttest", "p_holm"} <= set(p)
        if p["measure"] == "ndcg@10":
            x = np.array([tables[p["a"]][m] for m in members])
            y = np.array([tables[p["b"]][m] for m in members])
        else:
            x = np.array([min(tables[p["a"]][m] for m in ms) for ms in bench.groups.values()])
            y = np.array([min(tables[p["b"]][m] for m in ms) for ms in bench.groups.values()])
        assert p["delta"] == pytest.approx(x.mean() - y.mean(), abs=1e-12)
        if (x == y).all():
            assert (p["delta"], p["p_randomization"], p["p_ttest"], p["p_holm"]) == (0.0, 1.0, 1.0, 1.0)
        else:
            assert p["p_ttest"] == pytest.approx(stats.ttest_rel(x, y).pvalue, rel=1e-9)
            assert p["p_randomization"] < 0.01 and p["p_holm"] < 0.05
            assert (p["delta"] < 0) == (p["a"] == "run:weak_sys")  # good and its copy beat weak_sys
    assert pairs[("run:good", "run:weak_sys", "ndcg@10")]["p_randomization"] < 0.01
    assert pairs[("run:good", "run:copy", "robustness@10")]["p_randomization"] == 1.0


def test_json_systems_have_fraction_cis(setup, compared):
    _, bench, _, plain, _ = setup
    _, data, _ = compared
    assert list(data["systems"]) == ["run:good", "run:weak_sys", "run:copy"]
    for name, s in data["systems"].items():
        values = oracle(bench, plain[name[4:]])
        assert s["ndcg@10"] == pytest.approx(sum(values.values()) / len(values))
        for key in ("ndcg@10", "robustness@10"):
            lo, hi = s["ci95"][key]
            assert 0 <= lo <= s[key] <= hi <= 1
            assert hi - lo < 0.5
    assert data["systems"]["run:good"]["better_than"]["ndcg@10"] == ["b"]
    assert data["systems"]["run:weak_sys"]["better_than"]["ndcg@10"] == []
    assert data["tied_groups"]["ndcg@10"] == [["run:good", "run:copy"], ["run:weak_sys"]]


def test_printed_table_marks_and_pairs(compared):
    out, data, _ = compared
    row = next(line for line in out.splitlines() if line.split()[:2] == ["a", "run:good"])
    assert f"{100 * data['systems']['run:good']['ndcg@10']:.1f}ᵇ" in row
    weak = next(line for line in out.splitlines() if line.split()[:2] == ["b", "run:weak_sys"])
    assert "ᵃ" not in weak and "ᶜ" not in weak
    assert any(line.split()[:3] == ["run:good", "run:copy", "nDCG@10"] and "1.0000" in line for line in out.splitlines())
    assert "Holm" in out and "bootstrap" in out


def test_markdown_and_latex_tables(compared):
    _, data, out = compared
    md = (out / "c.md").read_text()
    assert md.splitlines()[0].startswith("| | system | nDCG@10 | 95% CI | Robustness@10 |")
    good = next(line for line in md.splitlines() if "`run:good`" in line)
    assert f"{100 * data['systems']['run:good']['ndcg@10']:.1f}<sup>b</sup>" in good
    tex = (out / "c.tex").read_text()
    assert tex.startswith(r"\begin{tabular}") and r"\end{tabular}" in tex
    assert r"run:weak\_sys" in tex and "$^{b}$" in tex and "95\\% CI" in tex


def test_live_retrievers_beside_a_run(setup, capsys, tmp_path):
    folder, _, runs, _, _ = setup
    code, out, err = compare(capsys, "--dataset", folder, "--runs", runs["good"], "--retrievers", "bm25,bm25@query",
                             "--k", "5", "--json", tmp_path / "c.json")
    assert code == 0, err
    data = json.loads((tmp_path / "c.json").read_text())
    assert list(data["systems"]) == ["run:good", "bm25", "bm25@query"]
    assert {p["measure"] for p in data["pairs"]} == {"ndcg@5", "robustness@5"}
    assert "nDCG@5" in out


def test_official_convention_compares_shared_units_only(setup, capsys, tmp_path):
    folder, bench, runs, plain, _ = setup
    partial = {iid: docs for iid, docs in plain["weak_sys"].items() if not iid.endswith("_1")}
    path = write_trec(partial, tmp_path / "partial.trec")
    for official, units in ((False, GROUPS * PER_GROUP), (True, GROUPS * (PER_GROUP - 1))):
        flags = ["--official"] if official else []
        code, _, err = compare(capsys, "--dataset", folder, "--runs", runs["good"], path, *flags,
                               "--json", tmp_path / "c.json")
        assert code == 0, err
        (pair,) = [p for p in json.loads((tmp_path / "c.json").read_text())["pairs"] if p["measure"] == "ndcg@10"]
        assert pair["units"] == units
        good, weak = oracle(bench, plain["good"]), oracle(bench, partial)
        shared = [m for m in good if m in partial] if official else list(good)
        assert pair["delta"] == pytest.approx(np.mean([good[m] - weak.get(m, 0.0) for m in shared]))


@pytest.mark.parametrize("args, fragment", [
    (["--runs", "GOOD"], "at least two systems"),
    (["--runs", "/no/such.trec", "GOOD"], "/no/such.trec"),
    (["--runs", "GOOD", "--retrievers", "nosuchmodel"], "nosuchmodel"),
    (["--runs", "GOOD", "WEAK", "--k", "0"], "--k"),
    (["--runs", "GOOD", "WEAK", "--flips", "0"], "--flips"),
    (["--runs", "GOOD", "WEAK", "--group-by", "persona"], "--group-by"),
])
def test_bad_input_is_one_line_and_exit_2(setup, capsys, args, fragment):
    folder, _, runs, _, _ = setup
    args = [str(runs["good"]) if a == "GOOD" else str(runs["weak_sys"]) if a == "WEAK" else a for a in args]
    code, _, err = compare(capsys, "--dataset", folder, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err
