"""App benchmark at InstructIR size: cold start with and without artifacts, first
ranking, edit, sweep, whole-dataset scoreboard, and memory after visiting 1,000 instances.

    python -m benchmarks.app_full [--work DIR] [--docs 16000] [--visits 1000] [--edits 40] [--sweeps 20]
                                  [--with-perturbations]

The dataset is a folder in the release layout built from ../shared/instructir (skipped when that
folder is absent): its real queries, qrels and paraphrases, and a stand-in corpus (the real one is
only on the hub) of --docs passages of 60-100 real English words drawn from the words of the
queries, never their sentences: each instance's target mixes words of its own instruction and
query with words drawn by frequency; the other passages draw words by frequency only. Retrievers
bm25, bm25@query, minilm, minilm@query; k = 10.

Sections, in order (each subprocess gets an empty embedding cache of its own):
1. cold start without artifacts (subprocess): load the dataset, index BM25, load MiniLM and embed
   the corpus, first ranking (4 retrievers);
2. export the artifacts (`python -m demo index --export`, on the cache of section 1);
3. cold start with artifacts (subprocess, empty cache, INSTRUCTIR_EXPLORER_ARTIFACTS set);
4. in-process, with artifacts: edits (each a new text: one MiniLM encode), sweeps (a new query
   each time, and with a new edit on a visited query), scoreboard first and second time, and
   after a restart (a new Explorer reading the stored tables);
5. RSS after visiting --visits instances (rank with the original instruction and the sweep of
   each), sampled along the way;
6. the Inspect tab's instance table at full size: first and second time, and each filter click.
Results go to benchmarks/results-full.json after every section (a long run that stops keeps
what it measured).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "instructir"
RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
K = 10
OUT = ROOT / "benchmarks" / "results-full.json"  # --out overrides
TARGETS = {"first_rank_artifacts_s": 30.0, "edit_ms": 150.0, "sweep_ms": 150.0, "scoreboard_first_s": 90.0,
           "scoreboard_second_s": 2.0, "rss_mb": 1536.0}
STOP = set("a an the of and or to in on for with by at from is are was be as it this that i my me we our you your "
           "am have has do does what how why when where which who can will would should about into need want".split())


# ---- the dataset ------------------------------------------------------------------------------
def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def build_folder(folder: Path, n_docs: int, seed: int = 7) -> dict:
    """Release-layout folder: the real queries, qrels and paraphrases, a stand-in corpus."""
    if (folder / "corpus.jsonl").exists():
        return json.loads((folder / "shape.json").read_text())
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    queries = [json.loads(line) for line in (SHARED / "queries.jsonl").open(encoding="utf-8")]
    shutil.copyfile(SHARED / "queries.jsonl", folder / "queries.jsonl")
    shutil.copyfile(SHARED / "qrels" / "test.tsv", folder / "qrels" / "test.tsv")
    shutil.copyfile(SHARED / "paraphrases" / "5new_queries.jsonl", folder / "paraphrases.jsonl")
    counts = collections.Counter(w for q in queries for w in words_of(q["text"]))
    vocab = [w for w, _ in counts.most_common()]
    weights = [counts[w] for w in vocab]
    target_of = {}
    for line in (SHARED / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, pid, _ = line.split("\t")
        target_of[pid] = qid
    by_id = {q["_id"]: q for q in queries}
    ids = list(target_of)[:n_docs]
    ids += [f"standin_{j}" for j in range(n_docs - len(ids))]
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for doc_id in ids:
            n = rng.randint(60, 100)
            own = []
            if doc_id in target_of:  # some of its instance's own words, shuffled: BM25 can find it
                own = [w for w in words_of(by_id[target_of[doc_id]]["text"]) if w not in STOP]
                own = rng.sample(own, min(len(own), rng.randint(8, 20)))
            text = own + rng.choices(vocab, weights, k=n - len(own))
            rng.shuffle(text)
            f.write(json.dumps({"_id": doc_id, "title": "", "text": " ".join(text)}) + "\n")
    shape = {"docs": n_docs, "instances": len(queries), "targets_in_corpus": min(len(target_of), n_docs)}
    if n_docs < len(target_of):  # a small corpus for quick checks: keep the instances whose target is in it
        kept = set(target_of[p] for p in ids if p in target_of)
        with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
            for q in queries:
                if q["_id"] in kept:
                    f.write(json.dumps(q) + "\n")
        lines = (SHARED / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
        (folder / "qrels" / "test.tsv").write_text("\n".join([lines[0]] + [x for x in lines[1:] if x.split("\t")[0] in kept]) + "\n")
        paras = [line for line in (SHARED / "paraphrases" / "5new_queries.jsonl").open(encoding="utf-8")
                 if json.loads(line)["_id"].rpartition(".")[0] in kept]
        (folder / "paraphrases.jsonl").write_text("".join(paras))
        shape["instances"] = len(kept)
    (folder / "shape.json").write_text(json.dumps(shape))
    return shape


# ---- helpers ----------------------------------------------------------------------------------
def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def save(results: dict) -> None:
    OUT.write_text(json.dumps(results, indent=1) + "\n")


def env_for(cache: Path, artifacts: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "INSTRUCTIR_EXPLORER_ARTIFACTS"}
    env.update(INSTRUCTIR_EXPLORER_CACHE=str(cache), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    if artifacts:
        env["INSTRUCTIR_EXPLORER_ARTIFACTS"] = str(artifacts)
    return env


# ---- sections ---------------------------------------------------------------------------------
def cold_start(folder: str) -> dict:
    """Run in a fresh process: the steps the app takes up to its first ranking, timed."""
    t0 = time.perf_counter()
    import demo  # noqa: F401
    from demo.service import Explorer
    ex = Explorer()
    marks = {"import_s": time.perf_counter() - t0}
    bench = ex.benchmark(folder)
    marks["dataset_s"] = time.perf_counter() - t0
    stages = []
    for model_id in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS):
        ex.corpus(folder, model_id, on_stage=lambda s, d, t: stages.append((round(time.perf_counter() - t0, 2), model_id, s, d, t)))
        marks[f"{model_id}_ready_s"] = time.perf_counter() - t0
    inst = next(iter(bench.instances.values()))
    ex.rank(folder, inst.instance_id, inst.instruction, RETRIEVERS, K)
    marks["first_rank_s"] = time.perf_counter() - t0
    encoders = [getattr(ex.corpus(folder, m).model, "encoder", None) for m in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS)]
    marks.update(encoded=sum(getattr(e, "encoded_count", 0) for e in encoders),  # every dense model, not MiniLM only
                 artifact_hits=sum(getattr(e, "artifact_hits", 0) for e in encoders), rss_mb=rss_mb(),
                 progress_updates=len(stages), stages_sample=stages[:3] + stages[-2:])
    return marks


def run_cold(folder: Path, cache: Path, artifacts: Path | None) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.app_full", "--cold-start", str(folder),
                           "--retrievers", ",".join(RETRIEVERS)], cwd=ROOT,
                          env=env_for(cache, artifacts), capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export(folder: Path, cache: Path, art: Path, with_perturbations: bool = False) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "demo", "index", "--dataset", str(folder), "--retrievers", "minilm",
                           "--export", str(art)] + (["--with-perturbations"] if with_perturbations else []),
                          cwd=ROOT, env=env_for(cache), capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    size = sum(f.stat().st_size for f in art.rglob("*") if f.is_file())
    return {"export_s": time.perf_counter() - t0, "bytes": size, "with_perturbations": with_perturbations}


def in_process(folder: str, n_edits: int, n_sweeps: int, visits: int, results: dict, cache: Path, art: Path) -> None:
    os.environ.update(INSTRUCTIR_EXPLORER_CACHE=str(cache), INSTRUCTIR_EXPLORER_ARTIFACTS=str(art))
    import demo  # noqa: F401
    from demo.service import Explorer
    ex = Explorer()
    bench = ex.benchmark(folder)
    for m in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS):
        ex.corpus(folder, m)
    rng = random.Random(11)
    groups = list(bench.groups.values())
    rng.shuffle(groups)
    words = sorted({w for g in groups[:50] for i in g for w in words_of(bench.instances[i].instruction)})

    def timed(fn, *a):
        t = time.perf_counter()
        fn(*a)
        return (time.perf_counter() - t) * 1000

    # edits: each a new text (one MiniLM encode, one BM25 query per mode), on visited instances
    edit_ms = []
    for j in range(n_edits):
        inst = bench.instances[groups[j % 8][0]]
        ex.rank(folder, inst.instance_id, inst.instruction, RETRIEVERS, K)  # visited first
        edit = f"{inst.instruction} {' '.join(rng.sample(words, 3))}"
        edit_ms.append(timed(ex.rank, folder, inst.instance_id, edit, RETRIEVERS, K))
    # sweeps: a query not seen before (its perturbations are new texts), and a visited one with a new edit
    fresh_ms, edit_sweep_ms = [], []
    for j in range(n_sweeps):
        inst = bench.instances[groups[100 + j][0]]
        fresh_ms.append(timed(ex.sweep, folder, inst.query_id, RETRIEVERS, K, inst.instance_id, None))
        edit = f"{inst.instruction} {' '.join(rng.sample(words, 3))}"
        edit_sweep_ms.append(timed(ex.sweep, folder, inst.query_id, RETRIEVERS, K, inst.instance_id, edit))
    results["warm"] = {
        "edit_ms": {"p50": p(edit_ms, 50), "p90": p(edit_ms, 90), "n": len(edit_ms)},
        "sweep_new_query_ms": {"p50": p(fresh_ms, 50), "p90": p(fresh_ms, 90), "n": len(fresh_ms)},
        "sweep_with_edit_ms": {"p50": p(edit_sweep_ms, 50), "p90": p(edit_sweep_ms, 90), "n": len(edit_sweep_ms)},
        "variants_per_sweep": len(ex.sweep(folder, inst.query_id, RETRIEVERS, K, inst.instance_id, None)["variants"]),
    }
    save(results)
    # scoreboard: first (rank all instances), second (memory), after a restart (disk)
    ticks = []
    t = time.perf_counter()
    ex.scoreboard(folder, RETRIEVERS, K, progress=lambda w, d, n: ticks.append(d))
    first = time.perf_counter() - t
    t = time.perf_counter()
    ex.scoreboard(folder, RETRIEVERS, K)
    second = time.perf_counter() - t
    t = time.perf_counter()
    Explorer().scoreboard(folder, RETRIEVERS, K)
    restart = time.perf_counter() - t
    results["scoreboard"] = {"first_s": first, "second_s": second, "after_restart_s": restart,
                             "progress_updates": len(ticks), "instances": len(bench.instances)}
    save(results)
    # memory while visiting instances: rank (original instruction) and sweep of each
    samples = [(0, rss_mb())]
    order = [i for g in groups for i in g][:visits]
    t = time.perf_counter()
    for n, iid in enumerate(order, 1):
        inst = bench.instances[iid]
        ex.rank(folder, iid, inst.instruction, RETRIEVERS, K)
        ex.sweep(folder, inst.query_id, RETRIEVERS, K, iid, None)
        if n % max(1, visits // 8) == 0 or n == len(order):
            samples.append((n, rss_mb()))
    results["memory"] = {"visits": len(order), "rss_mb": samples, "peak_mb": hwm_mb(),
                         "memo_mb": ex.rankers.memo.nbytes / 2**20, "tables_mb": ex.tables._memory.nbytes / 2**20,
                         "visit_s_mean": (time.perf_counter() - t) / max(1, len(order))}
    save(results)


def inspect_section(folder: str, results: dict, cache: Path, art: Path) -> None:
    """The Inspect tab at 9,906 rows: the instance table first and second time, then
    what each click costs (filter "A hit, B sibling" and sort, contrast, instruction hurts, worst
    instance per query) and one page of the table, through the tab's own pure helpers."""
    os.environ.update(INSTRUCTIR_EXPLORER_CACHE=str(cache), INSTRUCTIR_EXPLORER_ARTIFACTS=str(art))
    from demo.service import Explorer
    from demo.ui.inspect_tab import VIEWS, page_table, view_rows
    ex = Explorer()
    a, b = RETRIEVERS[0], RETRIEVERS[-1]
    t = time.perf_counter()
    result = ex.inspect(folder, RETRIEVERS, K)
    first = time.perf_counter() - t
    t = time.perf_counter()
    ex.inspect(folder, RETRIEVERS, K)
    second = time.perf_counter() - t
    t = time.perf_counter()
    Explorer().inspect(folder, RETRIEVERS, K)  # a restart: the records come from disk (models load again)
    restart = time.perf_counter() - t
    rows = result["rows"]
    views = {"all, sorted": (None, None, VIEWS[0], False), "A hit, B sibling": (["hit"], ["sibling"], VIEWS[0], False),
             "contrast": (None, None, VIEWS[1], False), "worst per query": (None, None, VIEWS[0], True)}
    clicks = {}
    for name, (a_out, b_out, view, worst) in views.items():
        times = []
        for _ in range(5):
            t = time.perf_counter()
            shown = view_rows(rows, a, a_out, b, b_out, view, None, "", worst, None)
            state = {"ids": [r["instance_id"] for r in shown], "rows": {r["instance_id"]: r for r in shown}, "page": 0}
            page_table(state, a, b, {})
            times.append((time.perf_counter() - t) * 1000)
        clicks[name] = {"ms_p50": p(times, 50), "rows": len(shown)}
    results["inspect"] = {"rows": len(rows), "first_s": first, "second_s": second, "after_restart_s": restart,
                          "clicks": clicks}
    save(results)


def main(argv=None) -> int:
    global SHARED, RETRIEVERS, OUT
    ap = argparse.ArgumentParser(prog="python -m benchmarks.app_full", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(SHARED), help="the InstructIR release files (default ../shared/instructir)")
    ap.add_argument("--work", default="/tmp/instructir-full-bench", help="folder for the dataset, caches and artifacts")
    ap.add_argument("--docs", type=int, default=16000)
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--sweeps", type=int, default=20)
    ap.add_argument("--retrievers", default=",".join(RETRIEVERS),
                    help="default bm25,bm25@query,minilm,minilm@query; BM25 alone skips the artifact sections")
    ap.add_argument("--with-perturbations", action="store_true",
                    help="export the perturbations' embeddings too (a sweep of a new query then encodes nothing)")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: cold,export,cold-artifacts,warm,inspect")
    ap.add_argument("--out", help="results JSON (default benchmarks/results-full.json)")
    ap.add_argument("--cold-start", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    OUT = Path(args.out) if args.out else OUT
    RETRIEVERS = [r.strip() for r in args.retrievers.split(",") if r.strip()]
    if args.cold_start:
        print(json.dumps(cold_start(args.cold_start)))
        return 0
    SHARED = Path(args.shared)
    if not (SHARED / "queries.jsonl").exists():
        print(f"skipped: {SHARED} is absent")
        return 0
    skip = set(args.skip.split(","))
    if not any(r.startswith("minilm") for r in RETRIEVERS):  # no embeddings: nothing to export
        skip |= {"export", "cold-artifacts"}
    work = Path(args.work)
    folder, cache, art = work / f"instructir-{args.docs}", work / f"cache-{args.docs}", work / f"artifacts-{args.docs}"
    results = {"retrievers": RETRIEVERS, "machine": {"nproc": os.cpu_count(), "load_before": os.getloadavg()},
               "dataset": build_folder(folder, args.docs)}
    save(results)
    if "cold" not in skip:
        shutil.rmtree(cache, ignore_errors=True)
        results["cold_no_artifacts"] = run_cold(folder, cache, None)
        save(results)
    if "export" not in skip:
        results["export"] = export(folder, cache, art, args.with_perturbations)
        save(results)
    if "cold-artifacts" not in skip:
        empty = work / f"cache-empty-{args.docs}"
        shutil.rmtree(empty, ignore_errors=True)
        results["cold_artifacts"] = run_cold(folder, empty, art)
        save(results)
    if "warm" not in skip:
        in_process(str(folder), args.edits, args.sweeps, args.visits, results, work / f"cache-warm-{args.docs}", art)
    if "inspect" not in skip:
        inspect_section(str(folder), results, work / f"cache-warm-{args.docs}", art)
    results["machine"]["load_after"] = os.getloadavg()
    save(results)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
