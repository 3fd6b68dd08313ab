"""The guided tour: prepared views on the bundled dataset, each showing one finding
of the paper, with a short narrative whose numbers are computed from what the view shows.

A step is plain data (which instance, which instruction variant, which retrievers, k) plus a
`facts` function that reads the live results through the service and returns the numbers the
narrative quotes and the claims it makes, each as (sentence, holds). Tests open every step and
require every claim to hold, so a change of data or model that breaks a story is caught.

A step owns its whole view: the instance, the instruction (a step about an edit applies it, so
"original → edited" shows a change), the retrievers, the retriever the plots follow (`focus`)
and the one plot it shows (`plot`). Every number its narrative quotes from that plot is listed in
`plotted` as (retriever, value as printed); tests/service/test_tour.py finds each in the text and in the
figure the page draws, so words and plot cannot disagree, and never mix scopes (this query /
whole dataset) without saying which is which.

Nothing here knows Gradio: the UI shows `open_step(explorer, n)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

TOUR_DATASET = "demo"


@dataclass(frozen=True)
class Step:
    title: str
    instance_id: str
    retrievers: tuple[str, ...]
    facts: Callable[["Step", object], dict]
    variant: str = "original"  # "original", "other:<instance id>", "paraphrase:<j>" or a perturbation kind
    k: int = 10
    focus: str = ""  # the retriever the story is about (the rank-movement plot follows it)
    plot: str = "rank-shift"  # the plot the step shows: PLOTS


# The plots a step can show: the first three are the Explore tab's (this query), the last the
# whole-dataset chart (nDCG@k against Robustness@k per retriever, demo.plots.dataset_figure).
PLOTS = ("robustness", "rank-shift", "sweep", "dataset")


def _fmt_rank(rank) -> str:
    return f"#{rank}" if rank is not None else "not retrieved"


def instruction_of(explorer, step: Step) -> str:
    """The editor text the step puts on screen."""
    info = explorer.instance(TOUR_DATASET, step.instance_id)
    if step.variant == "original":
        return info["instruction"]
    kind, _, arg = step.variant.partition(":")
    bench = explorer.benchmark(TOUR_DATASET)
    if kind == "other":
        return bench.instances[arg].instruction
    if kind == "paraphrase":
        return bench.paraphrases[step.instance_id][int(arg) - 1].instruction
    for v in info["variants"]:
        if v["kind"] == kind:
            return v["text"]
    raise KeyError(f"tour step {step.title!r}: no variant {step.variant!r}")


def _ranks_for_group(explorer, step: Step, rid: str) -> dict[str, dict]:
    """The retriever's result for every user of the step's base query (original instructions)."""
    bench = explorer.benchmark(TOUR_DATASET)
    qid = bench.instances[step.instance_id].query_id
    out = {}
    for iid in bench.groups[qid]:
        r = explorer.rank(TOUR_DATASET, iid, bench.instances[iid].instruction, [rid], step.k)
        out[iid] = r["retrievers"][rid]
    return out


def _persona(explorer, iid: str) -> str:
    inst = explorer.benchmark(TOUR_DATASET).instances[iid]
    return inst.persona or f"user {iid}"


# ---- the facts of each kind of step ----------------------------------------------------------

def ignores_instruction(step: Step, explorer) -> dict:
    blind, aware = step.retrievers[0], step.retrievers[1]
    blind_rows = _ranks_for_group(explorer, step, blind)
    aware_rows = _ranks_for_group(explorer, step, aware)
    tops = {tuple(c["doc_id"] for c in r["ranking"]) for r in blind_rows.values()}
    aware_firsts = {r["ranking"][0]["doc_id"] for r in aware_rows.values() if r["ranking"]}
    here_blind, here_aware = blind_rows[step.instance_id], aware_rows[step.instance_id]
    n = len(blind_rows)
    text = (f"`{blind}` reads only the query, so all {n} users get the same top {step.k}, with this user's "
            f"passage at {_fmt_rank(here_blind['target_rank'])}. `{aware}` reads the instruction too: it puts the "
            f"passage at {_fmt_rank(here_aware['target_rank'])}, and {len(aware_firsts)} different passages first "
            f"across the {n} users (the plot: every user of this query).")
    plotted = [(blind, _fmt_rank(here_blind["target_rank"])), (aware, _fmt_rank(here_aware["target_rank"]))]
    claims = [
        (f"{blind} gives every user of the query the same top {step.k}", len(tops) == 1),
        (f"{aware} ranks this user's passage above where {blind} does",
         (here_aware["target_rank"] or 10**9) < (here_blind["target_rank"] or 10**9)),
        (f"{aware} puts different passages first for different users", len(aware_firsts) > 1),
    ]
    return {"text": text, "claims": claims, "plotted": plotted}


def worst_user(step: Step, explorer) -> dict:
    rid = step.focus or step.retrievers[0]
    rows = _ranks_for_group(explorer, step, rid)
    ndcgs = {iid: r["ndcg"] for iid, r in rows.items()}
    mean = sum(ndcgs.values()) / len(ndcgs)
    worst = min(ndcgs, key=lambda i: (ndcgs[i], i))
    served = sum(1 for r in rows.values() if r["target_rank"] is not None and r["target_rank"] <= 3)
    rob = f"{100 * ndcgs[worst]:.0f}"
    text = (f"`{rid}` puts the passage of {served} of this query's {len(rows)} users in its top 3, but its "
            f"Robustness@{step.k} for the query is the worst user's nDCG@{step.k}, {rob}: the "
            f"{_persona(explorer, worst)} finds their passage at {_fmt_rank(rows[worst]['target_rank'])} "
            f"(the plot: every user of this query). InstructIR reports this worst case.")
    plotted = [(rid, rob), (rid, _fmt_rank(rows[worst]["target_rank"]))]
    claims = [
        ("the step shows the worst-served user", worst == step.instance_id),
        ("the mean is at least 25 points above the worst case", mean - ndcgs[worst] >= 0.25),
        ("most users find their passage in the top 3", served > len(rows) / 2),
    ]
    return {"text": text, "claims": claims, "plotted": plotted}


def paraphrase_moves(step: Step, explorer) -> dict:
    rid = step.focus or step.retrievers[0]
    bench = explorer.benchmark(TOUR_DATASET)
    inst = bench.instances[step.instance_id]
    new = explorer.rank(TOUR_DATASET, inst.instance_id, instruction_of(explorer, step), [rid], step.k)
    r = new["retrievers"][rid]
    before, after = r["original_target_rank"], r["target_rank"]
    sweep = explorer.sweep(TOUR_DATASET, inst.query_id, [rid], step.k, inst.instance_id)
    para = [rank for v, rank in zip(sweep["variants"], sweep["retrievers"][rid]["target_rank"])
            if v["kind"] == "paraphrase" and v["instance_id"] == inst.instance_id]
    spread = [p for p in para if p is not None]
    text = (f"A paraphrase of this user's instruction: same need, other words. `{rid}` moves their passage "
            f"from {_fmt_rank(before)} to {_fmt_rank(after)}; over the five paraphrases it lands between "
            f"{_fmt_rank(min(spread) if spread else None)} and {_fmt_rank(max(spread) if spread else None)} "
            f"(the plot: each variant of this query).")
    plotted = [(rid, _fmt_rank(before)), (rid, _fmt_rank(after))] + \
        ([(rid, _fmt_rank(min(spread))), (rid, _fmt_rank(max(spread)))] if spread else [])
    moved = before is not None and after is not None and abs(after - before) >= 2
    claims = [("the paraphrase moves the passage by two ranks or more", moved or (before is None) != (after is None)),
              ("the five paraphrases do not all give the same rank", len(set(para)) > 1)]
    return {"text": text, "claims": claims, "plotted": plotted}


def bigger_model(step: Step, explorer) -> dict:
    small, big = step.retrievers[0], step.retrievers[1]
    r = explorer.rank(TOUR_DATASET, step.instance_id, instruction_of(explorer, step), [small, big], step.k)
    rs, rb = r["retrievers"][small], r["retrievers"][big]
    board = explorer.scoreboard(TOUR_DATASET, [small, big], step.k)["retrievers"]
    key_n, key_r = f"ndcg@{step.k}", f"robustness@{step.k}"
    nums = {rid: (f"{100 * board[rid][key_n]:.0f}", f"{100 * board[rid][key_r]:.0f}") for rid in (small, big)}
    text = (f"`{big}` has five times `{small}`'s parameters. For this user (the columns) it puts the passage at "
            f"{_fmt_rank(rb['target_rank'])}, `{small}` at {_fmt_rank(rs['target_rank'])}. Over the whole dataset "
            f"(the plot), nDCG@{step.k} {nums[big][0]} vs {nums[small][0]} and Robustness@{step.k} "
            f"{nums[big][1]} vs {nums[small][1]}: scale helps, yet the worst case stays far below the mean.")
    plotted = [(rid, v) for rid in (big, small) for v in nums[rid]]
    claims = [
        (f"{big} ranks this user's passage higher than {small}",
         (rb["target_rank"] or 10**9) < (rs["target_rank"] or 10**9)),
        (f"{big}'s Robustness is not below {small}'s", board[big][key_r] >= board[small][key_r]),
        (f"{big}'s Robustness is far below its nDCG", board[big][key_n] - board[big][key_r] >= 0.2),
    ]
    return {"text": text, "claims": claims, "plotted": plotted}


def switched_user(step: Step, explorer) -> dict:
    aware, blind = step.retrievers[0], step.retrievers[1]
    bench = explorer.benchmark(TOUR_DATASET)
    inst = bench.instances[step.instance_id]
    other = step.variant.partition(":")[2]
    r = explorer.rank(TOUR_DATASET, inst.instance_id, instruction_of(explorer, step), [aware, blind], step.k)
    ra, rb = r["retrievers"][aware], r["retrievers"][blind]
    gone_a, gone_b = ra.get("lost_target", {}), rb.get("lost_target", {})
    text = (f"The editor holds the {_persona(explorer, other)}'s instruction, so the view is graded against "
            f"their passage. `{aware}` pushes the {_persona(explorer, inst.instance_id)}'s passage from "
            f"{_fmt_rank(gone_a.get('original_rank'))} to {_fmt_rank(gone_a.get('rank'))} (p-MRR "
            f"{100 * ra.get('p_mrr', 0):+.0f}) and lifts the new one from {_fmt_rank(ra['original_target_rank'])} to "
            f"{_fmt_rank(ra['target_rank'])} (the plot); `{blind}` cannot notice (p-MRR {100 * rb.get('p_mrr', 0):+.0f}). "
            f"p-MRR rewards pushing down what an instruction made irrelevant.")
    plotted = [(aware, _fmt_rank(gone_a.get("original_rank"))), (aware, _fmt_rank(gone_a.get("rank"))),
               (aware, _fmt_rank(ra["original_target_rank"])), (aware, _fmt_rank(ra["target_rank"]))]
    claims = [
        ("the view is graded against the other user's passage", r.get("graded_against") == other),
        (f"{aware} moves the old passage down (p-MRR > 0)", ra.get("p_mrr", 0) > 0),
        (f"{aware} ranks the new user's passage above where {blind} does",
         (ra["target_rank"] or 10**9) < (rb["target_rank"] or 10**9)),
        (f"{blind} scores p-MRR 0", rb.get("p_mrr", 1) == 0 and gone_b.get("rank") == gone_b.get("original_rank")),
        (f"{aware}'s old passage stays in its top {step.k}, so the plot shows where it went",
         (gone_a.get("rank") or 10**9) <= step.k),
    ]
    return {"text": text, "claims": claims, "plotted": plotted}


def hybrid(step: Step, explorer) -> dict:
    lexical, dense, fused = step.retrievers
    board = explorer.scoreboard(TOUR_DATASET, list(step.retrievers), step.k)["retrievers"]
    r = explorer.rank(TOUR_DATASET, step.instance_id, instruction_of(explorer, step), list(step.retrievers), step.k)
    ranks = {rid: r["retrievers"][rid]["target_rank"] for rid in step.retrievers}
    key_r = f"robustness@{step.k}"
    robs = {rid: f"{100 * board[rid][key_r]:.0f}" for rid in step.retrievers}
    text = (f"Reciprocal rank fusion of `{lexical}` and `{dense}` (k = 60), the hybrid search of most RAG "
            f"stacks. For this user (the columns): `{lexical}` {_fmt_rank(ranks[lexical])}, `{dense}` "
            f"{_fmt_rank(ranks[dense])}, fused {_fmt_rank(ranks[fused])}. Robustness@{step.k} over the whole "
            f"dataset (the plot): " + ", ".join(f"`{rid}` {robs[rid]}" for rid in step.retrievers)
            + ": fusion lands between the rankings it fuses.")
    plotted = list(robs.items())
    worse = max((ranks[lexical] or 10**9), (ranks[dense] or 10**9))
    part_robs = [board[rid][key_r] for rid in (lexical, dense)]
    claims = [("the fused ranking is better than the worse of the two", (ranks[fused] or 10**9) < worse),
              ("fusion's Robustness lies between its parts'", min(part_robs) <= board[fused][key_r] <= max(part_robs))]
    return {"text": text, "claims": claims, "plotted": plotted}


def open_step(explorer, steps: list[Step], n: int) -> dict:
    """The view and narrative of step n (1-based): plain data for the UI and the tests."""
    if not 1 <= n <= len(steps):
        raise IndexError(f"the tour has steps 1 to {len(steps)}, not {n}")
    step = steps[n - 1]
    facts = step.facts(step, explorer)
    return {"n": n, "of": len(steps), "title": step.title, "text": facts["text"], "claims": facts["claims"],
            "plotted": facts.get("plotted", []),
            "view": {"dataset": TOUR_DATASET, "instance": step.instance_id,
                     "instruction": instruction_of(explorer, step), "retrievers": list(step.retrievers),
                     "k": step.k, "focus": step.focus or step.retrievers[-1], "plot": step.plot}}


# The tour, in the order a lecture tells it. Chosen with scripts/pick_tour_steps.py on the bundled
# data; tests/service/test_tour.py opens each step and checks every claim its narrative makes.
STEPS: list[Step] = [
    Step("A retriever that ignores the instruction", "101_3", ("minilm@query", "minilm"), ignores_instruction,
         focus="minilm", plot="sweep"),
    Step("nDCG hides the worst-served user: Robustness", "204_1", ("minilm", "bm25"), worst_user, focus="minilm",
         plot="sweep"),
    Step("Same need, other words: a paraphrase moves the passage", "206_2", ("minilm", "bm25"), paraphrase_moves,
         variant="paraphrase:2", focus="minilm", plot="sweep"),
    Step("A bigger model follows instructions better, not perfectly", "303_4", ("minilm", "mpnet"), bigger_model,
         focus="mpnet", plot="dataset"),
    Step("Another user's instruction: grading follows the text, and p-MRR", "101_1", ("minilm", "minilm@query"),
         switched_user, variant="other:101_2", focus="minilm", plot="rank-shift"),
    Step("Hybrid search: fusing BM25 and MiniLM", "101_4", ("bm25", "minilm", "rrf(bm25,minilm)"), hybrid,
         focus="rrf(bm25,minilm)", plot="dataset"),
]
