"""Inspection: where a system breaks, over the whole dataset.

Pure functions over plain rows. A row is one instance:
    {"instance_id", "query_id", "query", "instruction", "targets",
     "retrievers": {id: {"target_rank", "ndcg", "outcome", "top_doc",
                         "sibling_rank", "sibling_doc", "generic_rank", "generic_doc"}}}
The service builds the rows (it owns the rankings); the CLI, the API and the Inspect tab show
the same rows, filtered, sorted and contrasted here. Ranks are exact however deep, so the
outcome at any depth is computed from a row (`at_depth`), not by ranking again.
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


def outcome_at(cell: Mapping, depth: int) -> str:
    """A cell's outcome at another depth, from the exact ranks it holds."""
    return outcome(cell["target_rank"], depth, cell.get("sibling_rank"), cell.get("generic_rank"))


def at_depth(rows: Iterable[Mapping], depth: int | None) -> list[Mapping]:
    """The rows with every outcome taken at `depth` (None: as they are, at the table's k)."""
    if depth is None:
        return list(rows)
    return [{**row, "retrievers": {rid: {**c, "outcome": outcome_at(c, depth)} for rid, c in row["retrievers"].items()}}
            for row in rows]


def beaten_by(cell: Mapping) -> tuple[str, int, str] | None:
    """The passage that beat the target: (doc id, its rank, what it is). The best-ranked of the
    sibling targets and the generic passage when one sits above the target (the one the outcome
    names), else the passage ranked first; None when the target is first or nothing was retrieved."""
    target = cell["target_rank"]
    if target == 1:
        return None
    above = [(r, doc, what) for r, doc, what in ((cell.get("sibling_rank"), cell.get("sibling_doc"), SIBLING),
                                                   (cell.get("generic_rank"), cell.get("generic_doc"), GENERIC))
             if r is not None and doc and (target is None or r < target)]
    if above:
        rank, doc, what = min(above)
        return doc, rank, what
    return (cell["top_doc"], 1, "first") if cell.get("top_doc") else None


# ---- filters and orders ---------------------------------------------------------------------------
def _cell(row: Mapping, rid: str) -> Mapping | None:
    return row["retrievers"].get(rid)


def _rank_key(rank: int | None) -> float:
    return float("inf") if rank is None else rank


def target_below(a: Mapping | None, b: Mapping | None) -> bool:
    """A's target ranked below B's (not retrieved is below every rank); False without both."""
    return a is not None and b is not None and _rank_key(a["target_rank"]) > _rank_key(b["target_rank"])


def not_first(cell: Mapping | None) -> bool:
    return cell is not None and cell["target_rank"] != 1


def sibling_above(cell: Mapping | None) -> bool:
    """Another user's target ranked above the instance's own target."""
    return cell is not None and cell.get("sibling_rank") is not None and \
        cell["sibling_rank"] < _rank_key(cell["target_rank"])


BELOW, NOT_FIRST, SIBLING_ABOVE = "below", "not first", "sibling above"
CHECKS = {BELOW: lambda a, b: target_below(a, b), NOT_FIRST: lambda a, _: not_first(a),
          SIBLING_ABOVE: lambda a, _: sibling_above(a)}
ANY_NOTE, NO_NOTE = "(any note)", "(no note)"


def filter_rows(rows: Iterable[Mapping], outcomes: Mapping[str, Iterable[str]] | None = None,
                query_id: str | None = None, text: str | None = None, checks: Iterable[tuple] = (),
                notes: Mapping[str, Mapping] | None = None, tag: str | None = None) -> list[Mapping]:
    """Rows whose outcome is one of the given ones for each named retriever ("A hit, B sibling"),
    of one base query, whose id, query, instruction or note (tag or text) contains `text`
    (case-insensitive), that pass every check (name, retriever[, other retriever]) of CHECKS
    ("below" a b: a's target below b's), and whose note has `tag` (ANY_NOTE, NO_NOTE)."""
    wanted = {rid: set(o) for rid, o in (outcomes or {}).items() if o}
    needle = (text or "").strip().lower()
    checks = [(CHECKS[name], rids[0], rids[1] if len(rids) > 1 else None) for name, *rids in checks]
    notes = notes or {}
    out = []
    for row in rows:
        if query_id and row["query_id"] != query_id:
            continue
        note = notes.get(row["instance_id"])
        if tag and not (note is None if tag == NO_NOTE else note is not None and (tag == ANY_NOTE or note.get("tag") == tag)):
            continue
        if needle and not any(needle in str(v).lower() for v in
                              [row.get(f, "") for f in ("instance_id", "query", "instruction")]
                              + ([note.get("tag") or "", note.get("text") or ""] if note else [])):
            continue
        if any((_cell(row, rid) or {}).get("outcome") not in o for rid, o in wanted.items()):
            continue
        if not all(check(_cell(row, a), _cell(row, b) if b else None) for check, a, b in checks):
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


def contrast(rows: Iterable[Mapping], a: str, b: str, only_different: bool = False,
             worse: str | None = None) -> list[dict]:
    """Instances of systems a and b ordered by their difference. worse=None: by how much they
    disagree (as DiffIR orders two runs), |Δ nDCG@k| descending, then |Δ target rank|;
    worse="a": signed, where a does worst against b first (Δ nDCG ascending, then a's target
    furthest below b's), b's wins last; worse="b": the reverse. A missing target counts below
    every rank; then instance id. Each row gains "delta" (nDCG a − b) and "rank_delta"
    (rank b − rank a: positive when a ranks the target higher; None when one is not retrieved)."""
    if worse not in (None, "a", "b"):
        raise ValueError(f"worse must be None, 'a' or 'b', not {worse!r}")
    out = []
    for row in rows:
        ca, cb = _cell(row, a), _cell(row, b)
        if ca is None or cb is None:
            continue
        delta = ca["ndcg"] - cb["ndcg"]
        ra, rb = ca["target_rank"], cb["target_rank"]
        rank_delta = None if ra is None or rb is None else rb - ra
        signed = rank_delta if rank_delta is not None else (
            0 if ra == rb else float("-inf") if ra is None else float("inf"))
        if only_different and delta == 0 and signed == 0:
            continue
        key = (-abs(delta), -abs(signed)) if worse is None else (delta, signed) if worse == "a" else (-delta, -signed)
        out.append((key, _id_key(row["instance_id"]), {**row, "delta": delta, "rank_delta": rank_delta}))
    out.sort(key=lambda t: t[:2])
    return [t[2] for t in out]


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
