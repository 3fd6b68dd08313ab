"""Paired significance tests, Holm's adjustment, bootstrap intervals and tied groups.

Pure functions over plain numbers; no retrieval and no UI. Two units of comparison:
- nDCG@k: one unit per instance;
- Robustness@k: one unit per group (a base query): its minimum nDCG@k over its instances.
Systems are compared on the same units; `pair_units` applies a convention for missing units.

Tests (two-sided, statistic = the mean paired difference):
- randomization: flip each unit's difference's sign at random; p = share of flips whose |mean| is
  at least the observed |mean| (less a float tolerance). Exact over all 2^m flips when the m
  non-zero differences are few (zeros do not move the statistic), else `flips` seeded flips, with
  p = (hits + 1) / (flips + 1) as scipy.stats.permutation_test counts the observed flip;
- paired t: scipy.stats.ttest_rel; no difference at all gives p = 1, not NaN.
Holm's step-down adjustment runs over the randomization p-values of the pairs shown, per measure.

Tied groups: systems are nodes, an edge joins two systems that no Holm-adjusted test separates at
`alpha`; a tied group is a connected component. Ties chain (A ~ B and B ~ C put A and C in one
group even when A and C are separated), so each system also gets a rank interval: from 1 + the
number of systems significantly better than it, to n - the number significantly worse.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy.stats import ttest_rel

EXACT_MAX = 16  # at most 2^16 sign patterns are enumerated
FLIPS = 10_000
RESAMPLES = 2_000
ALPHA = 0.05
TOLERANCE = 1e-12  # |mean| within this of the observed one counts as "as extreme"
CHUNK = 4_000_000  # sign-matrix cells per numpy batch (memory bound)


@dataclass(frozen=True)
class RandomizationResult:
    p: float
    exact: bool
    flips: int  # patterns evaluated (2^m when exact)


@dataclass(frozen=True)
class PairTest:
    a: str
    b: str
    measure: str
    delta: float  # mean(a) - mean(b) over the shared units
    p_randomization: float
    p_ttest: float
    p_holm: float
    units: int
    exact: bool


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


# ---- tests --------------------------------------------------------------------------------------
def randomization_test(a: Sequence[float], b: Sequence[float], flips: int = FLIPS, seed: int = 0,
                       exact_max: int = EXACT_MAX) -> RandomizationResult:
    """Two-sided paired sign-flip test of mean(a - b) = 0."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.size == 0:
        return RandomizationResult(1.0, True, 1)
    nz = d[d != 0]
    observed = abs(nz.sum())  # the mean's denominator (all units) is the same for every flip
    if nz.size == 0:
        return RandomizationResult(1.0, True, 1)
    limit = observed - TOLERANCE * d.size
    if nz.size <= exact_max:
        patterns = ((np.arange(2 ** nz.size)[:, None] >> np.arange(nz.size)) & 1) * 2 - 1
        sums = np.abs(patterns @ nz)
        return RandomizationResult(float(np.mean(sums >= limit)), True, int(2 ** nz.size))
    rng = np.random.default_rng(seed)
    hits, batch = 0, max(1, CHUNK // nz.size)
    for start in range(0, flips, batch):
        n = min(batch, flips - start)
        signs = rng.integers(0, 2, size=(n, nz.size), dtype=np.int8) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ nz) >= limit))
    return RandomizationResult((hits + 1) / (flips + 1), False, flips)


def t_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired t-test p (scipy.stats.ttest_rel). No difference anywhere: 1. Every
    difference equal and non-zero (no variance): 0. Fewer than two units: NaN."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.size and not d.any():
        return 1.0
    if d.size < 2:
        return math.nan
    if np.all(d == d[0]):
        return 0.0
    return float(ttest_rel(a, b).pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (NaN counts as 1)."""
    p = [1.0 if math.isnan(v) else float(v) for v in pvalues]
    m = len(p)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: p[j])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# ---- units --------------------------------------------------------------------------------------
def pair_units(a: Mapping[str, float], b: Mapping[str, float], groups: Mapping[str, Sequence[str]],
               official: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Paired units of two per-instance nDCG tables: {"ndcg": (a, b), "robustness": (a, b)}.
    Default (trec_eval -c): every grouped instance, a missing one is 0. Official: only instances
    both tables hold; a group keeps the members both hold and is dropped when none is left."""
    if official:
        shared = set(a) & set(b)
        groups = {g: [m for m in ms if m in shared] for g, ms in groups.items()}
        groups = {g: ms for g, ms in groups.items() if ms}
    members = [m for ms in groups.values() for m in ms]
    ndcg = (np.array([a.get(m, 0.0) for m in members]), np.array([b.get(m, 0.0) for m in members]))
    rob = (np.array([min(a.get(m, 0.0) for m in ms) for ms in groups.values()]),
           np.array([min(b.get(m, 0.0) for m in ms) for ms in groups.values()]))
    return {"ndcg": ndcg, "robustness": rob}


def compare_pairs(tables: Mapping[str, Mapping[str, float]], groups: Mapping[str, Sequence[str]],
                  official: bool = False, flips: int = FLIPS, seed: int = 0) -> list[PairTest]:
    """Every pair (in the given order) on both measures, Holm-adjusted per measure."""
    names = list(tables)
    raw = []
    for a, b in itertools.combinations(names, 2):
        units = pair_units(tables[a], tables[b], groups, official)
        for measure, (x, y) in units.items():
            r = randomization_test(x, y, flips, seed)
            delta = float(np.mean(x) - np.mean(y)) if x.size else 0.0
            raw.append((a, b, measure, delta, r.p, t_test(x, y), int(x.size), r.exact))
    out = []
    for measure in ("ndcg", "robustness"):
        rows = [r for r in raw if r[2] == measure]
        for r, adjusted in zip(rows, holm([r[4] for r in rows])):
            out.append(PairTest(r[0], r[1], r[2], r[3], r[4], r[5], adjusted, r[6], r[7]))
    return out


# ---- intervals ----------------------------------------------------------------------------------
def bootstrap_intervals(table: Mapping[str, float], groups: Mapping[str, Sequence[str]],
                        resamples: int = RESAMPLES, seed: int = 0, level: float = 0.95,
                        official: bool = False) -> dict[str, Interval]:
    """Percentile bootstrap CIs of nDCG@k (mean over instances) and Robustness@k (mean of group
    minima), resampling groups with replacement (an instance's siblings go together).
    Official: a group keeps only the instances the table holds (a missing one is not 0)."""
    if official:
        groups = {g: [m for m in ms if m in table] for g, ms in groups.items()}
    groups = {g: list(ms) for g, ms in groups.items() if ms}
    if not groups:
        return {"ndcg": Interval(0.0, 0.0), "robustness": Interval(0.0, 0.0)}
    sums = np.array([sum(table.get(m, 0.0) for m in ms) for ms in groups.values()])
    sizes = np.array([len(ms) for ms in groups.values()], dtype=np.float64)
    minima = np.array([min(table.get(m, 0.0) for m in ms) for ms in groups.values()])
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(groups), np.full(len(groups), 1 / len(groups)), size=resamples).astype(np.float64)
    tail = 100 * (1 - level) / 2
    ndcg = (counts @ sums) / (counts @ sizes)
    rob = (counts @ minima) / len(groups)
    return {name: Interval(*map(float, np.percentile(v, [tail, 100 - tail]))) for name, v in
            (("ndcg", ndcg), ("robustness", rob))}


# ---- ties ---------------------------------------------------------------------------------------
def separated(tests: Sequence[PairTest], measure: str, alpha: float = ALPHA) -> dict[frozenset, PairTest]:
    """Pairs a Holm-adjusted test separates on this measure."""
    return {frozenset((t.a, t.b)): t for t in tests if t.measure == measure and t.p_holm < alpha and t.delta != 0}


def better_than(tests: Sequence[PairTest], measure: str, alpha: float = ALPHA) -> dict[str, list[str]]:
    """For each system, the systems it is significantly better than (ranx's superscripts)."""
    out: dict[str, list[str]] = {}
    for t in separated(tests, measure, alpha).values():
        winner, loser = (t.a, t.b) if t.delta > 0 else (t.b, t.a)
        out.setdefault(winner, []).append(loser)
    return out


def tied_groups(systems: Sequence[str], tests: Sequence[PairTest], measure: str,
                alpha: float = ALPHA) -> list[tuple[str, ...]]:
    """Connected components of "not separated", in the order of `systems`."""
    sep = separated(tests, measure, alpha)
    parent = {s: s for s in systems}

    def root(s):
        while parent[s] != s:
            s = parent[s]
        return s
    for a, b in itertools.combinations(systems, 2):
        if frozenset((a, b)) not in sep:
            parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for s in systems:
        groups.setdefault(root(s), []).append(s)
    return [tuple(g) for g in groups.values()]


def rank_intervals(systems: Sequence[str], tests: Sequence[PairTest], measure: str,
                   alpha: float = ALPHA) -> dict[str, tuple[int, int]]:
    """(best, worst) rank each system can take given the separated pairs."""
    wins = better_than(tests, measure, alpha)
    losses = {s: sum(s in losers for losers in wins.values()) for s in systems}
    return {s: (1 + losses[s], len(systems) - len(wins.get(s, []))) for s in systems}
