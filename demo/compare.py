"""A comparison of systems on one dataset: per system nDCG@k and Robustness@k with 95% bootstrap
intervals, per pair the paired tests (demo.significance), and the tied groups. Input: per-system
per-instance nDCG@k tables; output: a frozen Comparison that demo.compare_report prints."""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Mapping, Sequence

from demo.metrics import mean
from demo.significance import (ALPHA, FLIPS, RESAMPLES, Interval, PairTest, better_than, bootstrap_intervals,
                               compare_pairs, rank_intervals, tied_groups)

MEASURES = ("ndcg", "robustness")
LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class SystemRow:
    name: str
    letter: str
    ndcg: float
    robustness: float
    ci_ndcg: Interval
    ci_robustness: Interval
    better_ndcg: tuple[str, ...]  # letters of the systems it is significantly better than
    better_robustness: tuple[str, ...]
    ranks_ndcg: tuple[int, int]  # rank interval (best, worst)
    ranks_robustness: tuple[int, int]
    instances: int  # scored units: instances of the table

    def value(self, measure: str) -> float:
        return getattr(self, measure)

    def ci(self, measure: str) -> Interval:
        return getattr(self, f"ci_{measure}")

    def better(self, measure: str) -> tuple[str, ...]:
        return getattr(self, f"better_{measure}")

    def ranks(self, measure: str) -> tuple[int, int]:
        return getattr(self, f"ranks_{measure}")


@dataclass(frozen=True)
class Comparison:
    k: int
    convention: str
    group_by: str
    official: bool
    systems: tuple[SystemRow, ...]
    pairs: tuple[PairTest, ...]
    tied: Mapping[str, tuple[tuple[str, ...], ...]]  # measure -> groups of system names
    flips: int = FLIPS
    resamples: int = RESAMPLES
    alpha: float = ALPHA

    def label(self, measure: str) -> str:
        return f"nDCG@{self.k}" if measure == "ndcg" else f"Robustness@{self.k}"


def figures(table: Mapping[str, float], groups: Mapping[str, Sequence[str]], official: bool) -> tuple[float, float]:
    """(nDCG@k, Robustness@k) of one table under the convention (as score_run computes them)."""
    if official:
        groups = {g: [m for m in ms if m in table] for g, ms in groups.items()}
    groups = {g: ms for g, ms in groups.items() if ms}
    values = [table.get(m, 0.0) for ms in groups.values() for m in ms]
    return mean(values), mean(min(table.get(m, 0.0) for m in ms) for ms in groups.values())


def build(tables: Mapping[str, Mapping[str, float]], groups: Mapping[str, Sequence[str]], k: int, convention: str,
          group_by: str = "query", official: bool = False, flips: int = FLIPS, resamples: int = RESAMPLES,
          seed: int = 0) -> Comparison:
    names = list(tables)
    if len(names) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} systems")
    letter = dict(zip(names, LETTERS))
    pairs = compare_pairs(tables, groups, official, flips, seed)
    wins = {m: better_than(pairs, m) for m in MEASURES}
    ranks = {m: rank_intervals(names, pairs, m) for m in MEASURES}
    rows = []
    for name in names:
        nd, rob = figures(tables[name], groups, official)
        ci = bootstrap_intervals(tables[name], groups, resamples, seed, official=official)
        marks = {m: tuple(sorted(letter[s] for s in wins[m].get(name, []))) for m in MEASURES}
        rows.append(SystemRow(name, letter[name], nd, rob, ci["ndcg"], ci["robustness"], marks["ndcg"],
                              marks["robustness"], ranks["ndcg"][name], ranks["robustness"][name], len(tables[name])))
    tied = {m: tuple(tied_groups(names, pairs, m)) for m in MEASURES}
    return Comparison(k, convention, group_by, official, tuple(rows), tuple(pairs), tied, flips, resamples)
