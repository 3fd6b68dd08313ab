"""Inspection: where a system breaks, over the whole dataset.

Pure functions over plain rows. A row is one instance:
    {"instance_id", "query_id", "query", "instruction", "targets",
     "retrievers": {id: {"target_rank", "ndcg", "outcome", "top_doc"}}}
The service builds the rows (it owns the rankings); the CLI, the API and the Inspect tab show
the same rows, filtered, sorted and contrasted here.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from demo.csvsafe import safe_cell

from demo.data.records import Benchmark, Instance

HIT, SIBLING, GENERIC, OFF_TOPIC, NOT_RETRIEVED = "hit", "sibling", "generic", "off-topic", "not retrieved"
OUTCOMES = (HIT, SIBLING, GENERIC, OFF_TOPIC, NOT_RETRIEVED)
OUTCOME_HELP = {
    HIT: "the target is in the top k",
    SIBLING: "another user's target outranks it: the instruction was not followed",
    GENERIC: "an untailored passage of the same query outranks it",
    OFF_TOPIC: "something else outranks it",
    NOT_RETRIEVED: "the target was not retrieved at all",
}


def generic_docs(bench: Benchmark, inst: Instance) -> set[str]:
    """Untailored passages of the instance's query: InstructIR revises one passage per instance
    and names the revision `<passage id>_<k>`, so the target's id without its `_k` suffix is the
    original passage (7865137 for 7865137_1; the bundled dataset's p101 for p101_3)."""
    out = set()
    for t in inst.targets:
        base, sep, k = t.rpartition("_")
        if sep and k.isdigit() and base in bench.docs:
            out.add(base)
    return out - set(inst.targets)


def outcome(target_rank: int | None, k: int, best_sibling: int | None, best_generic: int | None) -> str:
    """The outcome of one ranking for one instance, from the ranks of its target, its siblings'
    targets and its generic passage (None = not retrieved). When both a sibling and the generic
    passage outrank a missed target, the one ranked higher names the failure."""
    if target_rank is None:
        return NOT_RETRIEVED
    if target_rank <= k:
        return HIT
    above = [(r, name) for r, name in ((best_sibling, SIBLING), (best_generic, GENERIC))
             if r is not None and r < target_rank]
    return min(above)[1] if above else OFF_TOPIC


# ---- filters and orders ---------------------------------------------------------------------------
def _cell(row: Mapping, rid: str) -> Mapping | None:
    return row["retrievers"].get(rid)


def _rank_key(rank: int | None) -> float:
    return float("inf") if rank is None else rank


def filter_rows(rows: Iterable[Mapping], outcomes: Mapping[str, Iterable[str]] | None = None,
                query_id: str | None = None, text: str | None = None) -> list[Mapping]:
    """Rows whose outcome is one of the given ones for each named retriever ("A hit, B sibling"),
    of one base query, and whose id, query or instruction contains `text` (case-insensitive)."""
    wanted = {rid: set(o) for rid, o in (outcomes or {}).items() if o}
    needle = (text or "").strip().lower()
    out = []
    for row in rows:
        if query_id and row["query_id"] != query_id:
            continue
        if needle and not any(needle in str(row.get(f, "")).lower() for f in ("instance_id", "query", "instruction")):
            continue
        if any((_cell(row, rid) or {}).get("outcome") not in o for rid, o in wanted.items()):
            continue
        out.append(row)
    return out


def worst_per_query(rows: Iterable[Mapping], rid: str) -> list[Mapping]:
    """The instance of each base query that sets `rid`'s Robustness (its lowest nDCG; then the
    lowest-ranked target; then the instance id), in the rows' order of queries."""
    best: dict[str, Mapping] = {}
    for row in rows:
        cell = _cell(row, rid)
        if cell is None:
            continue
        key = (cell["ndcg"], -_rank_key(cell["target_rank"]), row["instance_id"])
        held = best.get(row["query_id"])
        if held is None or key < (_cell(held, rid)["ndcg"], -_rank_key(_cell(held, rid)["target_rank"]),
                                  held["instance_id"]):
            best[row["query_id"]] = row
    return list(best.values())


SORTS = ("instance", "nDCG (lowest first)", "nDCG (highest first)", "target rank (worst first)")


def sort_rows(rows: Iterable[Mapping], by: str = "instance", rid: str | None = None) -> list[Mapping]:
    rows = list(rows)
    if by == "instance" or rid is None:
        return sorted(rows, key=lambda r: _id_key(r["instance_id"]))
    def cell(r):
        return _cell(r, rid) or {"ndcg": 0.0, "target_rank": None}
    if by == SORTS[1]:
        return sorted(rows, key=lambda r: (cell(r)["ndcg"], _id_key(r["instance_id"])))
    if by == SORTS[2]:
        return sorted(rows, key=lambda r: (-cell(r)["ndcg"], _id_key(r["instance_id"])))
    if by == SORTS[3]:
        return sorted(rows, key=lambda r: (-_rank_key(cell(r)["target_rank"]), _id_key(r["instance_id"])))
    raise ValueError(f"unknown sort {by!r}")


def _id_key(instance_id: str):
    """101_10 after 101_9: numeric parts compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in instance_id.replace(".", "_").split("_"))


def contrast(rows: Iterable[Mapping], a: str, b: str, only_different: bool = False) -> list[dict]:
    """Instances ordered by how much systems a and b disagree (as DiffIR orders two runs):
    |Δ nDCG@k| descending, then |Δ target rank| (a missing target counts below every rank),
    then instance id. Each row gains "delta" (nDCG a − b) and "rank_delta" (rank b − rank a:
    positive when a ranks the target higher)."""
    out = []
    for row in rows:
        ca, cb = _cell(row, a), _cell(row, b)
        if ca is None or cb is None:
            continue
        delta = ca["ndcg"] - cb["ndcg"]
        ra, rb = ca["target_rank"], cb["target_rank"]
        rank_delta = None if ra is None or rb is None else rb - ra
        spread = abs(rank_delta) if rank_delta is not None else (0 if ra == rb else float("inf"))
        if only_different and delta == 0 and spread == 0:
            continue
        out.append((-abs(delta), -spread, _id_key(row["instance_id"]),
                    {**row, "delta": delta, "rank_delta": rank_delta}))
    out.sort(key=lambda t: t[:3])
    return [t[3] for t in out]


def instruction_hurts(rows: Iterable[Mapping], rid: str, query_rid: str | None = None) -> list[dict]:
    """Instances where `rid` does worse with the instruction than `rid@query` does without it,
    the largest loss first. Each row gains "delta" (nDCG rid − rid@query, negative)."""
    query_rid = query_rid or f"{rid.partition('@')[0]}@query"
    hurt = [{**row, "delta": _cell(row, rid)["ndcg"] - _cell(row, query_rid)["ndcg"]}
            for row in rows if _cell(row, rid) is not None and _cell(row, query_rid) is not None
            and _cell(row, rid)["ndcg"] < _cell(row, query_rid)["ndcg"]]
    return sorted(hurt, key=lambda r: (r["delta"], _id_key(r["instance_id"])))


def outcome_counts(rows: Iterable[Mapping], rid: str) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for row in rows:
        cell = _cell(row, rid)
        if cell is not None:
            counts[cell["outcome"]] += 1
    return counts


# ---- the explorer's query order -----------------------------------------------------------------
def order_queries(table: Sequence[Mapping], by: str, other: str | None = None) -> list[Mapping]:
    """Base queries (rows of Explorer.query_table) ordered by one retriever's Robustness, lowest
    first, or, with `other`, by the gap Robustness(by) − Robustness(other), largest first: where
    `by` beats `other` most. Ties by mean nDCG, then query id. Queries the retriever lacks go last."""
    def value(row, rid):
        return row["robustness"].get(rid)

    if other:
        def key(row):
            a, b = value(row, by), value(row, other)
            gap = None if a is None or b is None else a - b
            return (gap is None, -(gap or 0.0), row["query_id"])
    else:
        def key(row):
            v = value(row, by)
            return (v is None, v if v is not None else 0.0, row["ndcg"].get(by, 0.0), row["query_id"])
    return sorted(table, key=key)


def table_answer(result: Mapping) -> dict:
    """The answer of API /inspect and `inspect --json` from Explorer.inspect."""
    return {"k": result["k"], "retrievers": list(result["retrievers"]), "errors": dict(result["errors"]),
            "rows": [{key: row[key] for key in ("instance_id", "query_id", "retrievers")} for row in result["rows"]]}


# ---- export ------------------------------------------------------------------------------------
def rows_to_csv(rows: Iterable[Mapping], retrievers: Sequence[str], k: int,
                notes: Mapping[str, Mapping] | None = None) -> str:
    """One line per instance: ids, then per retriever its target rank, nDCG@k, outcome and
    top doc (empty where a run does not cover the instance), then the note if any."""
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["instance_id", "query_id"]
    for rid in retrievers:
        head += [f"{rid} target_rank", f"{rid} ndcg@{k}", f"{rid} outcome", f"{rid} top_doc"]
    w.writerow(head + (["note_tag", "note_text"] if notes is not None else []))
    for row in rows:
        line = [row["instance_id"], row["query_id"]]
        for rid in retrievers:
            c = _cell(row, rid)
            line += ["", "", "", ""] if c is None else [c["target_rank"], f"{c['ndcg']:.6f}", c["outcome"], c["top_doc"]]
        if notes is not None:
            note = notes.get(row["instance_id"], {})
            line += [note.get("tag", ""), note.get("text", "")]
        w.writerow([safe_cell(v) for v in line])
    return buf.getvalue()
