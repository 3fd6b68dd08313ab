"""A Comparison (demo.compare) as a terminal table, Markdown, LaTeX and JSON.

Figures print ×100 with one decimal; JSON holds fractions (0–1). Marks follow ranx: each system
has a letter, and a figure carries the letters of the systems it is significantly better than
(Holm-adjusted randomization p < alpha)."""
from __future__ import annotations

from demo.compare import MEASURES, Comparison

SUPERSCRIPT = dict(zip("abcdefghijklmnoprstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _p(p: float) -> str:
    if p != p:  # NaN
        return "n/a"
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def _sup(letters) -> str:
    return "".join(SUPERSCRIPT.get(c, f"^{c}") for c in letters)


def _method(c: Comparison) -> str:
    return (f"randomization test (exact over all sign flips when at most 16 units differ, else "
            f"{c.flips:,} seeded flips) and paired t-test, two-sided; Holm's adjustment of the randomization "
            f"p over the {len(c.pairs) // 2} pairs per measure; 95% percentile bootstrap CI over base queries "
            f"({c.resamples:,} seeded resamples); {c.convention}; Robustness groups by {c.group_by}")


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def text(c: Comparison) -> str:
    rows = [("", "system", *(h for m in MEASURES for h in (c.label(m), "95% CI", "rank")))]
    for s in c.systems:
        cells = []
        for m in MEASURES:
            ci, (lo, hi) = s.ci(m), s.ranks(m)
            cells += [_pct(s.value(m)) + _sup(s.better(m)), f"[{_pct(ci.low)}, {_pct(ci.high)}]",
                      str(lo) if lo == hi else f"{lo}-{hi}"]
        rows.append((s.letter, s.name, *cells))
    pairs = [("A", "B", "measure", "delta", "p rand", "p t-test", "p Holm", "")]
    for t in sorted(c.pairs, key=lambda t: MEASURES.index(t.measure)):
        pairs.append((t.a, t.b, c.label(t.measure), f"{100 * t.delta:+.1f}", _p(t.p_randomization), _p(t.p_ttest),
                      _p(t.p_holm), "*" if t.p_holm < c.alpha else ""))
    tied = "; ".join(f"{c.label(m)}: " + " ".join("{" + ", ".join(g) + "}" for g in c.tied[m]) for m in MEASURES)
    return "\n".join([_table(rows), "", _table(pairs), "",
                      f"marks: a figure's superscripts name the systems it is significantly better than; "
                      f"* = Holm-adjusted p < {c.alpha}",
                      f"tied groups (connected by pairs no adjusted test separates): {tied}",
                      f"rank: the ranks a system can take given the separated pairs", _method(c)])


def markdown(c: Comparison) -> str:
    head = "| | system | " + " | ".join(f"{c.label(m)} | 95% CI" for m in MEASURES) + " |"
    lines = [head, "|---|---|" + "---:|---|" * len(MEASURES)]
    for s in c.systems:
        cells = " | ".join(f"{_pct(s.value(m))}" + (f"<sup>{''.join(s.better(m))}</sup>" if s.better(m) else "") +
                           f" | [{_pct(s.ci(m).low)}, {_pct(s.ci(m).high)}]" for m in MEASURES)
        lines.append(f"| {s.letter} | `{s.name}` | {cells} |")
    lines += ["", f"Superscripts: significantly better than the systems with those letters (Holm-adjusted "
                  f"p < {c.alpha}). Method: {_method(c)}."]
    return "\n".join(lines) + "\n"


TEX = str.maketrans({"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                     "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"})


def _tex(s: str) -> str:
    return s.translate(TEX)


def latex(c: Comparison) -> str:
    lines = [r"\begin{tabular}{ll" + "rl" * len(MEASURES) + "}", r"\toprule",
             " & System & " + " & ".join(f"{c.label(m)} & 95\\% CI" for m in MEASURES) + r" \\", r"\midrule"]
    for s in c.systems:
        cells = " & ".join(_pct(s.value(m)) + (f"$^{{{''.join(s.better(m))}}}$" if s.better(m) else "") +
                           f" & [{_pct(s.ci(m).low)}, {_pct(s.ci(m).high)}]" for m in MEASURES)
        lines.append(f"({s.letter}) & {_tex(s.name)} & {cells} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}",
              f"% Superscripts: significantly better than the systems with those letters (Holm-adjusted p < {c.alpha}).",
              f"% {_tex(_method(c))}."]
    return "\n".join(lines) + "\n"


def to_json(c: Comparison) -> dict:
    key = {m: c.label(m).replace("nDCG", "ndcg").replace("Robustness", "robustness") for m in MEASURES}
    return {
        "k": c.k, "convention": c.convention, "group_by": c.group_by, "alpha": c.alpha,
        "randomization_flips": c.flips, "bootstrap_resamples": c.resamples,
        "systems": {s.name: {"letter": s.letter, **{key[m]: s.value(m) for m in MEASURES},
                             "ci95": {key[m]: [s.ci(m).low, s.ci(m).high] for m in MEASURES},
                             "better_than": {key[m]: list(s.better(m)) for m in MEASURES},
                             "rank_interval": {key[m]: list(s.ranks(m)) for m in MEASURES}}
                    for s in c.systems},
        "pairs": [{"a": t.a, "b": t.b, "measure": key[t.measure], "delta": t.delta,
                   "p_randomization": t.p_randomization, "p_ttest": None if t.p_ttest != t.p_ttest else t.p_ttest,
                   "p_holm": t.p_holm, "units": t.units, "exact": t.exact} for t in c.pairs],
        "tied_groups": {key[m]: [list(g) for g in c.tied[m]] for m in MEASURES},
    }
