"""demo.significance against scipy.stats (ttest_rel, permutation_test, bootstrap) and ir_measures,
and hand-worked cases of Holm's adjustment, the unit conventions and the tied groups."""
from __future__ import annotations

import math
import random

import ir_measures
import numpy as np
import pytest
from ir_measures import nDCG
from scipy import stats

from demo.data.release import load_folder
from demo.evaluation import score_run
from demo.significance import (Interval, PairTest, bootstrap_intervals, compare_pairs, holm, pair_units,
                               randomization_test, rank_intervals, t_test, tied_groups)


def mean_diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def scipy_permutation_p(x, y, n_resamples=np.inf, seed=0) -> float:
    return stats.permutation_test((x, y), mean_diff, permutation_type="samples", alternative="two-sided",
                                  n_resamples=n_resamples, vectorized=True, random_state=seed).pvalue


def ndcg_like(rng, n, shift=0.0):
    """Values like per-instance nDCG@10 (1/log2(r+1) or 0), paired with a noisy copy."""
    ranks = rng.integers(1, 20, n)
    a = np.where(ranks <= 10, 1 / np.log2(ranks + 1), 0.0)
    moved = np.clip(ranks + rng.integers(-3, 4, n), 1, None)
    b = np.where(moved <= 10, 1 / np.log2(moved + 1), 0.0)
    return np.clip(a + shift, 0, 1), b


# ---- t-test -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_t_test_is_scipys_ttest_rel(seed):
    rng = np.random.default_rng(seed)
    a, b = ndcg_like(rng, 50)
    expected = stats.ttest_rel(a, b).pvalue
    assert 0 < expected < 1
    assert t_test(a, b) == pytest.approx(expected, rel=1e-12)


def test_t_test_edge_cases():
    a = [0.5, 0.2, 1.0]
    assert t_test(a, a) == 1.0  # identical systems: p = 1, not NaN
    assert t_test([0.6, 0.3, 1.0], [0.5, 0.2, 0.9]) == 0.0  # the same non-zero difference everywhere
    assert math.isnan(t_test([0.5], [0.1]))


# ---- randomization test -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_exact_randomization_equals_scipy_exact(seed):
    rng = np.random.default_rng(seed)
    n = 8 + seed * 2  # 8..14 units: scipy enumerates all 2^n sign patterns too
    a, b = ndcg_like(rng, n)
    a[0] = b[0]  # a unit with no difference
    got = randomization_test(a, b)
    assert got.exact
    assert got.p == pytest.approx(scipy_permutation_p(a, b), abs=1e-12)


def test_zero_differences_do_not_change_p_and_keep_it_exact():
    """40 units, 10 of them differ: enumerated over the 10 (2^10), as scipy gives on those 10."""
    rng = np.random.default_rng(5)
    a, b = ndcg_like(rng, 10)
    same = rng.random(30)
    got = randomization_test(np.concatenate([a, same]), np.concatenate([b, same]))
    assert got.exact and got.flips == 2 ** int(np.count_nonzero(a - b))
    assert got.p == pytest.approx(scipy_permutation_p(a, b), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_sampled_randomization_agrees_with_scipy_on_larger_n(seed):
    rng = np.random.default_rng(seed)
    a, b = ndcg_like(rng, 300, shift=0.012)
    got = randomization_test(a, b, flips=20_000, seed=seed)
    assert not got.exact and got.flips == 20_000
    expected = scipy_permutation_p(a, b, n_resamples=20_000, seed=seed)
    assert 0.001 < expected < 0.9
    assert got.p == pytest.approx(expected, abs=0.015)  # two Monte Carlo estimates: se ~ 0.004
    assert randomization_test(a, b, flips=20_000, seed=seed) == got  # seeded


def test_a_real_difference_is_found_and_identical_runs_are_not():
    rng = np.random.default_rng(3)
    b = rng.random(200) * 0.8
    a = np.clip(b + 0.05 + rng.normal(0, 0.1, 200), 0, 1)
    assert randomization_test(a, b).p < 0.01
    assert t_test(a, b) < 0.01
    same = randomization_test(b, b.copy())
    assert same.p == 1.0 and t_test(b, b.copy()) == 1.0


def test_float_noise_counts_as_equally_extreme():
    """Differences summed in another order may differ in the last bit; they still count."""
    d = np.array([0.1, 0.2, 0.3, -0.6])  # one flip pattern gives exactly the observed |sum| = 0
    p = randomization_test(d, np.zeros(4)).p
    assert p == 1.0


# ---- Holm --------------------------------------------------------------------------------------------
def test_holm_step_down_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([float("nan"), 0.01]) == pytest.approx([1.0, 0.02])
    assert holm([]) == []


# ---- units and conventions ---------------------------------------------------------------------------
GROUPS = {"q1": ["q1_1", "q1_2"], "q2": ["q2_1", "q2_2", "q2_3"]}


def test_pair_units_missing_as_zero():
    a = {"q1_1": 1.0, "q1_2": 0.5, "q2_1": 0.2, "q2_2": 0.4, "q2_3": 0.9}
    b = {"q1_1": 0.3, "q2_1": 0.6, "q2_2": 0.7, "q2_3": 0.8}  # lacks q1_2
    u = pair_units(a, b, GROUPS)
    assert list(u["ndcg"][0]) == [1.0, 0.5, 0.2, 0.4, 0.9] and list(u["ndcg"][1]) == [0.3, 0.0, 0.6, 0.7, 0.8]
    assert list(u["robustness"][0]) == [0.5, 0.2] and list(u["robustness"][1]) == [0.0, 0.6]


def test_pair_units_official_leaves_missing_units_out_of_both():
    a = {"q1_1": 1.0, "q1_2": 0.5, "q2_1": 0.2, "q2_3": 0.9}
    b = {"q1_2": 0.3, "q2_1": 0.6, "q2_2": 0.7, "q2_3": 0.8}
    u = pair_units(a, b, GROUPS, official=True)
    assert list(u["ndcg"][0]) == [0.5, 0.2, 0.9] and list(u["ndcg"][1]) == [0.3, 0.6, 0.8]
    assert list(u["robustness"][0]) == [0.5, 0.2] and list(u["robustness"][1]) == [0.3, 0.6]
    only = pair_units({"q1_1": 1.0}, {"q1_1": 0.0, "q2_1": 1.0}, GROUPS, official=True)
    assert list(only["robustness"][0]) == [1.0]  # q2 has no shared instance: left out


def random_runs(bench, seed):
    rng = random.Random(seed)
    docs = list(bench.docs)
    return {iid: {d: rng.random() for d in rng.sample(docs, rng.randint(1, len(docs)))} for iid in bench.instances}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_units_are_ir_measures_ndcg_per_query(tiny, seed):
    bench = load_folder(tiny)
    runs = [random_runs(bench, seed), random_runs(bench, seed + 10)]
    tables = []
    for run in runs:
        expected = {m.query_id: m.value for m in ir_measures.iter_calc([nDCG @ 10], bench.qrels, run)}
        table = {iid: v["ndcg@10"] for iid, v in score_run(run, bench, 10)["per_instance"].items()}
        assert table == pytest.approx(expected, abs=1e-9)
        tables.append(expected)
    u = pair_units(*tables, bench.groups)
    members = [m for ms in bench.groups.values() for m in ms]
    assert list(u["ndcg"][0]) == pytest.approx([tables[0][m] for m in members], abs=1e-12)
    assert list(u["robustness"][1]) == pytest.approx([min(tables[1][m] for m in ms) for ms in bench.groups.values()])


# ---- pairs --------------------------------------------------------------------------------------------
def test_compare_pairs_holm_per_measure_and_identical_systems():
    rng = np.random.default_rng(7)
    groups = {f"q{g}": [f"q{g}_{i}" for i in range(5)] for g in range(40)}
    ids = [m for ms in groups.values() for m in ms]
    base = {m: float(v) for m, v in zip(ids, rng.random(len(ids)) * 0.7)}
    better = {m: min(1.0, v + 0.2 + 0.1 * float(e)) for (m, v), e in zip(base.items(), rng.random(len(ids)))}
    tables = {"base": base, "copy": dict(base), "better": better}
    pairs = compare_pairs(tables, groups, flips=5_000)
    assert [(t.a, t.b, t.measure) for t in pairs] == [
        ("base", "copy", "ndcg"), ("base", "better", "ndcg"), ("copy", "better", "ndcg"),
        ("base", "copy", "robustness"), ("base", "better", "robustness"), ("copy", "better", "robustness")]
    for t in pairs:
        assert t.p_holm >= t.p_randomization
        if t.b == "copy":
            assert (t.delta, t.p_randomization, t.p_ttest, t.p_holm) == (0.0, 1.0, 1.0, 1.0)
        else:
            assert t.delta < 0 and t.p_randomization < 0.01 and t.p_ttest < 0.01 and t.p_holm < 0.01
    nd = [t for t in pairs if t.measure == "ndcg"]
    assert [t.p_holm for t in nd] == pytest.approx(holm([t.p_randomization for t in nd]))
    assert pairs[1].units == 200 and pairs[4].units == 40


# ---- bootstrap ----------------------------------------------------------------------------------------
def test_bootstrap_of_singleton_groups_is_scipys_percentile_bootstrap():
    rng = np.random.default_rng(11)
    values = rng.random(150)
    table = {f"q{i}_1": float(v) for i, v in enumerate(values)}
    groups = {f"q{i}": [f"q{i}_1"] for i in range(150)}
    ci = bootstrap_intervals(table, groups, resamples=4_000, seed=1)
    ref = stats.bootstrap((values,), np.mean, method="percentile", n_resamples=4_000, random_state=1).confidence_interval
    for got in (ci["ndcg"], ci["robustness"]):  # one instance per group: both are the mean
        assert got.low == pytest.approx(ref.low, abs=0.006) and got.high == pytest.approx(ref.high, abs=0.006)
        assert got.low < values.mean() < got.high


def test_bootstrap_resamples_siblings_together():
    """Siblings with equal values: the interval is the bootstrap of the group means (scipy), and much
    wider than resampling instances one by one would give."""
    rng = np.random.default_rng(2)
    per_group = rng.random(60)
    groups = {f"q{g}": [f"q{g}_{i}" for i in range(8)] for g in range(60)}
    table = {m: float(per_group[g]) for g, ms in enumerate(groups.values()) for m in ms}
    ci = bootstrap_intervals(table, groups, resamples=3_000, seed=0)["ndcg"]
    ref = stats.bootstrap((per_group,), np.mean, method="percentile", n_resamples=3_000, random_state=0).confidence_interval
    instance_level = stats.bootstrap((np.array(list(table.values())),), np.mean, method="percentile",
                                     n_resamples=3_000, random_state=0).confidence_interval
    width = ci.high - ci.low
    assert width == pytest.approx(ref.high - ref.low, rel=0.15)
    assert width > 2 * (instance_level.high - instance_level.low)
    assert bootstrap_intervals(table, groups, resamples=3_000, seed=0)["ndcg"] == ci  # seeded


def test_bootstrap_official_leaves_missing_instances_out():
    groups = {"q1": ["q1_1", "q1_2"], "q2": ["q2_1"]}
    ci = bootstrap_intervals({"q1_1": 1.0, "q2_1": 1.0}, groups, resamples=200, official=True)
    assert ci["robustness"] == Interval(1.0, 1.0)  # q1_2 is not a 0 here
    ci = bootstrap_intervals({"q1_1": 1.0, "q2_1": 1.0}, groups, resamples=200)
    assert ci["robustness"].low == 0.0


# ---- ties ---------------------------------------------------------------------------------------------
def pt(a, b, delta, p):
    return PairTest(a, b, "ndcg", delta, p, p, p, 10, False)


def test_tied_groups_are_components_of_not_separated_and_rank_intervals():
    systems = ["A", "B", "C", "D"]
    tests = [pt("A", "B", 0.01, 0.5), pt("A", "C", 0.2, 0.001), pt("A", "D", 0.3, 0.001),
             pt("B", "C", 0.02, 0.3), pt("B", "D", 0.3, 0.001), pt("C", "D", 0.2, 0.01)]
    # A~B, B~C (A and C separated, but chained through B); D separated from all
    assert tied_groups(systems, tests, "ndcg") == [("A", "B", "C"), ("D",)]
    assert rank_intervals(systems, tests, "ndcg") == {"A": (1, 2), "B": (1, 3), "C": (2, 3), "D": (4, 4)}
    assert tied_groups(systems, tests, "robustness") == [("A", "B", "C", "D")]  # no robustness tests given
