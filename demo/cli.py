"""Command line: python -m demo evaluate | run | score | compare | index | inspect | validate.

Bad input prints one line on stderr and exits with code 2; no tracebacks.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from demo.cache import default_cache
from demo.errors import UserError
from demo.retrievers.ids import Rerank, is_run
from demo.retrievers.registry import MODELS, load_reranker, parse_id, parse_retriever_list
from tqdm import tqdm
from demo.devices import parse_devices
from demo.runs import PREFIX, check_unique, load_run
from demo.service import Explorer
from demo.service.batch import instance_run
from demo.data.sources import load_source
from demo.evaluation import blind_floor, score_run
from demo.trec import write_run
from demo.conventions import MISSING_AS_ZERO, OFFICIAL, groups_of
from demo.compare import LETTERS, build
from demo.compare_report import latex, markdown, text, to_json
from demo.inspection import OUTCOMES, outcome_counts, rows_to_csv, table_answer
from demo.artifacts import export
from demo.data.stats import dataset_stats

EXIT_BAD_INPUT = 2


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def progress_bar():
    """A tqdm-backed (what, done, total) callback, one bar per 'what'; silent when not a terminal."""
    bars = {}

    def update(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = tqdm(total=total, desc=what, unit="item", file=sys.stderr, disable=None, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
    return update


def build_parser() -> Parser:
    # long by nature (81 lines): one flat block of add_argument calls per command, read top to bottom
    p = Parser(prog="python -m demo", description="InstructIR Explorer command line.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def dataset(sp):
        sp.add_argument("--dataset", required=True, help="demo, a folder in the release layout, or hf:owner/name[@rev]")

    def devices(sp):
        sp.add_argument("--devices", help="comma list of devices for dense models, e.g. cuda:0,cuda:1 (several: "
                        "one process per device embeds the corpus); default INSTRUCTIR_EXPLORER_DEVICE or auto")

    def k(sp):
        sp.add_argument("--k", type=int, default=10, help="cut-off for nDCG@k and Robustness@k (default 10)")

    e = sub.add_parser("evaluate", help="nDCG@k and Robustness@k per retriever")
    dataset(e)
    e.add_argument("--retrievers", required=True,
                   help="comma-separated, e.g. bm25,bm25@query,minilm,run:e5.trec (run:PATH = a TREC or JSON run file)")
    k(e)
    e.add_argument("--depth", type=int, default=1000, help="docs retrieved per instance (default 1000)")
    e.add_argument("--json", help="write the results, with per-instance ranks, to this file")
    devices(e)

    r = sub.add_parser("run", help="write a TREC run file")
    dataset(r)
    r.add_argument("--retriever", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--top", type=int, default=1000)

    def conventions(sp):
        sp.add_argument("--official", action="store_true",
                        help="score only the run's instances and build Robustness groups from them, as the official "
                        "robust_eval.py does (a doc whose id equals its query id is dropped); default: an instance "
                        "missing from a run scores 0 (trec_eval -c)")
        sp.add_argument("--group-by", choices=("query", "instruction"), default="query",
                        help="Robustness groups: base query (default) or instruction text (robust_eval.py's "
                        "type='instruction')")

    s = sub.add_parser("score", help="score any TREC or JSON run file against the dataset")
    dataset(s)
    s.add_argument("--run", required=True)
    k(s)
    conventions(s)
    s.add_argument("--json")

    c = sub.add_parser("compare", help="paired significance tests and 95%% intervals between systems")
    dataset(c)
    c.add_argument("--runs", nargs="+", default=[], metavar="RUN", help="run files (TREC or JSON)")
    c.add_argument("--retrievers", help="live retrievers, comma-separated, e.g. bm25,minilm,rrf(bm25,minilm)")
    k(c)
    c.add_argument("--depth", type=int, default=1000, help="docs retrieved per instance by live retrievers")
    conventions(c)
    c.add_argument("--flips", type=int, default=10_000, help="sign flips of the randomization test when "
                   "too many units differ to enumerate them all (default 10,000)")
    c.add_argument("--resamples", type=int, default=2_000, help="bootstrap resamples (default 2,000)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", help="write systems (with ci95) and pairs (delta, p-values) to this file")
    c.add_argument("--latex", help="write a LaTeX table (booktabs) to this file")
    c.add_argument("--markdown", help="write a Markdown table to this file")
    devices(c)

    i = sub.add_parser("index", help="precompute and cache corpus embeddings")
    dataset(i)
    i.add_argument("--retrievers", required=True)
    devices(i)
    i.add_argument("--export", metavar="DIR", help="also write artifacts (corpus and query embeddings as .npy, "
                   "doc ids, text hashes, manifest.json) of the dense models to DIR")
    i.add_argument("--with-perturbations", action="store_true",
                   help="with --export: also embed every instance's perturbations (what a sweep encodes)")

    n = sub.add_parser("inspect", help="per instance: target rank, nDCG@k, top doc and outcome per retriever")
    dataset(n)
    n.add_argument("--retrievers", required=True, help="comma-separated, e.g. bm25,minilm,run:e5.trec")
    k(n)
    n.add_argument("--csv", help="write the instance table to this CSV file (instead of printing it)")
    n.add_argument("--json", help="write {\"rows\": [...]} (the API's /inspect answer) to this file")

    v = sub.add_parser("validate", help="structure checks and dataset statistics")
    dataset(v)
    v.add_argument("--json")
    return p


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise UserError(f"--{name} must be at least 1, got {value}")


def _write_json(path: str, obj) -> None:
    _write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _write_text(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def metrics_table(results: dict, k: int, floor: dict | None = None) -> str:
    rows = [("retriever", f"nDCG@{k}", f"Robustness@{k}")]
    for rid, m in results.items():
        rows.append((rid, f"{100 * m[f'ndcg@{k}']:.1f}", f"{100 * m[f'robustness@{k}']:.1f}"))
    if floor:
        rows.append(("(instruction-blind floor)", f"{100 * floor[f'ndcg@{k}']:.1f}", f"{100 * floor[f'robustness@{k}']:.1f}"))
    return _table(rows)


def _devices(args) -> list[str] | None:
    return parse_devices(args.devices) if args.devices else None


def load_cli_runs(ids: list[str], bench) -> dict:
    """`run:PATH` ids -> RunFile (read and checked against the dataset), by id."""
    runs = {}
    for rid in ids:
        if is_run(rid):
            run = load_run(rid[len(PREFIX):], bench)
            check_unique({r.name: r for r in runs.values()}, run)
            runs[rid] = run
    return runs


def instance_runs(ids: list[str], source: str, bench, depth: int, progress, devices: list[str] | None = None) -> dict[str, dict]:
    """Per retriever id as printed (run:<name> for files), its run over the dataset's instances,
    ranked by the engine the app uses. Every model loads and indexes before any instance is ranked,
    so an unavailable one fails at once."""
    files = load_cli_runs(ids, bench)
    explorer = Explorer(default_cache(), devices=devices)
    for rid in ids:
        ref = parse_id(rid)
        if isinstance(ref, Rerank):
            load_reranker(ref.reranker_id)
        for mid in ref.model_ids():
            explorer.corpus(source, mid, lambda d, t, mid=mid: progress(f"indexing {mid}", d, t))
    out = {}
    for rid in ids:
        if rid in files:
            print(files[rid].describe(bench), file=sys.stderr)
        run = files.get(rid)
        name = run.retriever_id if run else rid
        # a run file is scored as it is, to its own depth (only a live retriever is cut at --depth)
        out[name] = instance_run(explorer.rankers, source, name, bench, len(bench.docs) if run else depth,
                                 {run.name: run} if run else None,
                                 lambda d, t, rid=rid: progress(f"searching {rid}", d, t))
    return out


def cmd_evaluate(args) -> None:
    _check_positive("k", args.k)
    _check_positive("depth", args.depth)
    ids = parse_retriever_list(args.retrievers)
    bench = load_source(args.dataset)
    runs = instance_runs(ids, args.dataset, bench, args.depth, progress_bar(), _devices(args))
    results = {rid: score_run(run, bench, args.k) for rid, run in runs.items()}
    floor = blind_floor(bench, args.k)
    print(f"{bench.name}: {len(bench.instances)} instances in {len(bench.groups)} base queries, {len(bench.docs)} docs")
    print(metrics_table(results, args.k, floor))
    if args.json:
        _write_json(args.json, {"dataset": args.dataset, "k": args.k, "retrievers": results,
                                "instruction_blind_floor": floor})


def cmd_run(args) -> None:
    _check_positive("top", args.top)
    (rid,) = parse_retriever_list([args.retriever])
    bench = load_source(args.dataset)
    ((tag, run),) = instance_runs([rid], args.dataset, bench, args.top, progress_bar()).items()
    try:
        write_run(run, args.out, tag=tag, top=args.top)
    except OSError as e:
        raise UserError(f"cannot write {args.out}: {e.strerror}") from None
    print(f"wrote {sum(len(v) for v in run.values())} lines for {len(run)} instances to {args.out}")


def cmd_score(args) -> None:
    _check_positive("k", args.k)
    bench = load_source(args.dataset)
    run = load_run(args.run, bench)
    print(run.describe(bench), file=sys.stderr)
    result = score_run(run.as_run(bench.instances), bench, args.k, args.official, args.group_by)
    name = Path(args.run).name
    print(metrics_table({name: result}, args.k))
    print(score_notes(result, args.k))
    if args.json:
        _write_json(args.json, result)


def score_notes(result: dict, k: int) -> str:
    """Coverage, the convention used and, when the other one differs, its figures."""
    cov = result["coverage"]
    lines = [f"coverage: {cov['instances']:,} of {cov['of_instances']:,} instances in the run; "
             f"scored {result['convention']}; Robustness groups by {result['group_by']}"]
    if result.get("identical_ids_dropped"):
        lines.append(f"dropped a doc whose id equals its query id from {result['identical_ids_dropped']:,} queries "
                     "(as the official evaluation does)")
    for key, label in (("missing_as_zero", MISSING_AS_ZERO), ("official", OFFICIAL)):
        other = result.get("conventions", {}).get(key)
        if other and label != result["convention"]:
            lines.append(f"{label}: nDCG@{k} {100 * other[f'ndcg@{k}']:.1f}, Robustness@{k} "
                         f"{100 * other[f'robustness@{k}']:.1f}" + ("  (--official)" if key == "official" else ""))
    return "\n".join(lines)


def cmd_compare(args) -> None:
    for name in ("k", "depth", "flips", "resamples"):
        _check_positive(name, getattr(args, name))
    ids = [f"run:{path}" for path in args.runs] + (parse_retriever_list(args.retrievers) if args.retrievers else [])
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        raise UserError(f"compare needs at least two systems (--runs and --retrievers), got {len(ids)}")
    if len(ids) > len(LETTERS):
        raise UserError(f"at most {len(LETTERS)} systems at once, got {len(ids)}")
    bench = load_source(args.dataset)
    runs = instance_runs(ids, args.dataset, bench, args.depth, progress_bar(), _devices(args))
    tables = {}
    for rid, run in runs.items():
        result = score_run(run, bench, args.k, args.official, args.group_by)
        tables[rid] = {iid: v[f"ndcg@{args.k}"] for iid, v in result["per_instance"].items()}
    comparison = build(tables, groups_of(bench, args.group_by, args.official), args.k,
                       result["convention"], args.group_by, args.official, args.flips, args.resamples, args.seed)
    print(f"{bench.name}: {len(bench.instances)} instances in {len(bench.groups)} base queries, k={args.k}")
    print(text(comparison))
    if args.json:
        _write_json(args.json, {"dataset": args.dataset, **to_json(comparison)})
    if args.latex:
        _write_text(args.latex, latex(comparison))
    if args.markdown:
        _write_text(args.markdown, markdown(comparison))


def cmd_inspect(args) -> None:
    _check_positive("k", args.k)
    ids = parse_retriever_list(args.retrievers)
    bench = load_source(args.dataset)
    files = load_cli_runs(ids, bench)
    for run in files.values():
        print(run.describe(bench), file=sys.stderr)
    ids = [files[i].retriever_id if i in files else i for i in ids]
    result = Explorer(default_cache()).inspect(args.dataset, ids, args.k, runs={r.name: r for r in files.values()})
    if result["errors"]:
        raise UserError("; ".join(result["errors"].values()))
    rows = result["rows"]
    summary = [("retriever", *OUTCOMES)] + [(rid, *(str(n) for n in outcome_counts(rows, rid).values())) for rid in ids]
    print(f"{bench.name}: {len(rows)} instances, outcome at k={args.k}")
    print(_table(summary))
    if args.csv:
        _write_text(args.csv, rows_to_csv(rows, ids, args.k))
        print(f"wrote {len(rows)} rows to {args.csv}")
    if args.json:
        _write_json(args.json, table_answer(result))
    if not args.csv and not args.json:
        table = [("instance", *ids)]
        for row in rows:
            cells = [row["retrievers"].get(rid) for rid in ids]
            table.append((row["instance_id"], *(f"{c['outcome']} #{c['target_rank'] or '-'}" if c else "(not in run)"
                                                for c in cells)))
        print(_table(table))


def cmd_index(args) -> None:
    models = list(dict.fromkeys(m for i in parse_retriever_list(args.retrievers) for m in parse_id(i).model_ids()))
    if not models:  # a run file needs no index
        raise UserError("nothing to index: run files are read as they are")
    bench = load_source(args.dataset)
    cache = default_cache()
    bar = progress_bar()
    explorer = Explorer(cache, devices=_devices(args))
    corpora = {m: explorer.corpus(args.dataset, m, lambda d, t, m=m: bar(f"indexing {m}", d, t)) for m in models}
    print(f"indexed {len(bench.docs)} docs for {', '.join(models)}; cache {cache.directory} holds {len(cache)} embeddings")
    if args.export:
        _export(args, bench, corpora, bar)


def _export(args, bench, corpora: dict, bar) -> None:
    models = {m: (MODELS[m], c.model) for m, c in corpora.items() if MODELS[m].loader != "bm25"}
    if not models:
        raise UserError("--export needs a dense retriever (BM25 has no embeddings to store)")
    try:
        folder = export(bench, models, args.export, args.dataset, args.with_perturbations, progress=bar)
    except OSError as e:
        raise UserError(f"cannot write artifacts to {args.export}: {e.strerror or e}") from None
    print(f"wrote artifacts of {', '.join(models)} to {folder} (manifest.json)")


def cmd_validate(args) -> None:
    bench = load_source(args.dataset)
    stats = dataset_stats(bench)
    stats["instruction_blind_floor"] = blind_floor(bench, 10)
    print(format_stats(stats))
    if args.json:
        _write_json(args.json, stats)


def format_stats(s: dict) -> str:
    w, lex, floor = s["words"], s["lexical_overlap"], s["instruction_blind_floor"]

    def span(d):
        return f"{d['min']}-{d['max']} (median {d['median']})" if d else "-"
    lines = [
        f"{s['name']}: valid",
        f"  base queries   {s['base_queries']}  ({span(s['instances_per_query'])} instances each)",
        f"  instances      {s['instances']}  (targets per instance {span(s['targets_per_instance'])})",
        f"  docs           {s['docs']}  ({s['target_docs']} targets, {s['other_docs']} others)",
        f"  paraphrases    {s['paraphrases']}  (of {s['instances_with_paraphrases']} instances)",
        f"  words          query {span(w['query'])}; instruction {span(w['instruction'])}; "
        f"target {span(w['target'])}",
    ]
    if lex["own_target"] is not None:
        lines.append(f"  lexical overlap of instruction with own target {lex['own_target']:.3f}, "
                     f"with sibling targets {lex['sibling_targets']:.3f}")
    lines.append(f"  instruction-blind floor  nDCG@10 {100 * floor['ndcg@10']:.1f}, "
                 f"Robustness@10 {100 * floor['robustness@10']:.1f}")
    return "\n".join(lines)


COMMANDS = {"evaluate": cmd_evaluate, "run": cmd_run, "score": cmd_score, "compare": cmd_compare, "index": cmd_index, "inspect": cmd_inspect, "validate": cmd_validate}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
