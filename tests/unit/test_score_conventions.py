"""`score` conventions: coverage, missing as 0 (trec_eval -c) vs --official, and --group-by
instruction, checked against an implementation of the official robust_eval.py grouping written
here (groups from the run's queries only, keyed by the text around [SEP]; a doc whose id is its
query id dropped; pytrec_eval's nDCG), on a small dataset and on the real release's qrels."""
from __future__ import annotations

import json
import random

import pytest
import pytrec_eval

from demo.cli import main
from demo.data.release import load_folder
from demo.evaluation import score_run
from helpers import SHARED, real_release_folder, write_release

INSTRUCTIONS = ["I am a beginner who wants the simplest answer.", "I am a specialist who needs exact figures.",
                "I teach children and need a gentle explanation."]


def official_oracle(texts: dict[str, str], qrels, results, k: int, type: str = "query") -> tuple[float, float]:
    """The official evaluation, restated: returns (mean nDCG@k over the run's queries, mean of group minima)."""
    results = {q: {d: s for d, s in docs.items() if d != q} for q, docs in results.items()}
    groups: dict[str, dict] = {}
    for qid, rels in results.items():
        instruction, query = texts[qid].split("[SEP]")
        key = instruction.strip() if type == "instruction" else query.strip()
        groups.setdefault(key, {})[qid] = rels
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {f"ndcg_cut.{k}"})
    values, minima = [], []
    for group in groups.values():
        scores = [m[f"ndcg_cut_{k}"] for m in evaluator.evaluate(group).values()]
        values += scores
        minima.append(min(scores))
    return sum(values) / len(values), sum(minima) / len(minima)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """8 base queries x 3 instances; instruction texts shared across base queries; one distractor doc
    whose id is an instance id (the official evaluation drops it from that instance's ranking)."""
    corpus, queries, qrels = [], [], []
    for g in range(8):
        for i in range(1, 4):
            qid = f"{g}_{i}"
            corpus.append((f"t{g}_{i}", f"Target note {i} about gadget {g}."))
            queries.append((qid, INSTRUCTIONS[i - 1], f"gadget {g} care"))
            qrels.append((qid, f"t{g}_{i}", 1))
    corpus += [("0_1", "A distractor whose id is an instance id."), ("z", "Filler.")]
    folder = write_release(tmp_path_factory.mktemp("conv") / "small", corpus, queries, qrels)
    return folder, load_folder(folder)


def random_run(bench, rng, share=0.6, depth=12):
    docs = sorted(bench.docs)
    run = {}
    for iid, inst in bench.instances.items():
        if rng.random() < share:
            picked = rng.sample(docs, min(depth, len(docs)))
            if rng.random() < 0.7 and inst.targets[0] not in picked:
                picked[rng.randrange(len(picked))] = inst.targets[0]
            run[iid] = {d: rng.random() for d in picked}
    return run


def texts_of(bench):
    return {iid: f"{i.instruction} [SEP] {i.query}" for iid, i in bench.instances.items()}


@pytest.mark.parametrize("group_by", ["query", "instruction"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_official_equals_the_oracle_on_a_small_dataset(small, group_by, seed):
    _, bench = small
    run = random_run(bench, random.Random(seed))
    run["0_1"] = {"0_1": 9.0, "t0_1": 5.0, "z": 1.0}  # identical id on top: official drops it
    result = score_run(run, bench, 10, official=True, group_by=group_by)
    nd, rob = official_oracle(texts_of(bench), bench.qrels, run, 10, group_by)
    assert result["ndcg@10"] == pytest.approx(nd, abs=1e-12)
    assert result["robustness@10"] == pytest.approx(rob, abs=1e-12)
    assert result["per_instance"]["0_1"]["ndcg@10"] == 1.0 and result["identical_ids_dropped"] == 1
    assert set(result["per_instance"]) == set(run)
    assert result["coverage"] == {"instances": len(run), "of_instances": 24}
    # the default convention on the same run: every instance, missing as 0, whole base queries
    full = score_run(run, bench, 10, group_by=group_by)
    assert full["conventions"]["official"] == {"ndcg@10": result["ndcg@10"], "robustness@10": result["robustness@10"]}
    assert result["conventions"]["missing_as_zero"] == {k: full[k] for k in ("ndcg@10", "robustness@10")}
    assert full["per_instance"]["0_1"]["ndcg@10"] < 1.0  # not dropped: trec_eval -c scores the run as given
    assert full["ndcg@10"] < result["ndcg@10"]


def test_instruction_groups_span_base_queries(small):
    _, bench = small
    run = {iid: {bench.instances[iid].targets[0]: 1.0} for iid in bench.instances}  # every target first
    run["3_2"] = {}  # one miss: the group of instruction 2 has minimum 0, not base query 3's alone
    by_q = score_run(run, bench, 10)
    by_i = score_run(run, bench, 10, group_by="instruction")
    assert by_q["robustness@10"] == pytest.approx(7 / 8) and by_i["robustness@10"] == pytest.approx(2 / 3)
    assert by_i["group_by"] == "instruction" and "conventions" not in by_i  # full coverage, nothing dropped


def test_score_cli_reports_coverage_and_both_conventions(small, tmp_path, capsys):
    folder, bench = small
    run = random_run(bench, random.Random(4))
    path = tmp_path / "part.trec"
    path.write_text("".join(f"{q} Q0 {d} 1 {s} x\n" for q, docs in run.items() for d, s in docs.items()))
    for flags in ([], ["--official"], ["--official", "--group-by", "instruction"]):
        assert main(["score", "--dataset", str(folder), "--run", str(path), "--json", str(tmp_path / "s.json"), *flags]) == 0
        out = capsys.readouterr().out
        data = json.loads((tmp_path / "s.json").read_text())
        assert f"coverage: {len(run)} of 24 instances" in out
        other = "missing_as_zero" if flags else "official"
        assert f"{100 * data['conventions'][other]['ndcg@10']:.1f}" in out.splitlines()[-1]
        nd, rob = official_oracle(texts_of(bench), bench.qrels, run, 10, "instruction" if "instruction" in flags else "query")
        official = data if flags else data["conventions"]["official"]
        assert (official["ndcg@10"], official["robustness@10"]) == pytest.approx((nd, rob), abs=1e-12)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (SHARED / "queries.jsonl").exists():
        pytest.skip("../shared/instructir is absent")
    return load_folder(real_release_folder(tmp_path_factory.mktemp("real")))


@pytest.mark.parametrize("group_by", ["query", "instruction"])
def test_official_equals_the_oracle_on_the_release_qrels(real, group_by):
    texts = {}
    for line in (SHARED / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts[row["_id"]] = row["text"]
    run = random_run(real, random.Random(7), share=0.3, depth=10)
    some = next(iter(run))
    run[some][some] = 99.0  # a doc id equal to the query id (not in the corpus: scoring does not check)
    result = score_run(run, real, 10, official=True, group_by=group_by)
    nd, rob = official_oracle(texts, real.qrels, run, 10, group_by)
    assert result["ndcg@10"] == pytest.approx(nd, abs=1e-12)
    assert result["robustness@10"] == pytest.approx(rob, abs=1e-12)
    if group_by == "instruction":  # every instruction text of the release is distinct: groups of one
        assert len({i.instruction for i in real.instances.values()}) == len(real.instances) == 9906
        assert result["robustness@10"] == pytest.approx(result["ndcg@10"], abs=1e-12)
