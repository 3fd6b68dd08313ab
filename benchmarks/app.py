"""App benchmark on the bundled data: edit latency, sweep latency, start-up and memory.

    cd /work/main && .venv/bin/python -m benchmarks.app [--edits 60 --sweeps 20 --starts 3]

Dataset "demo", retrievers bm25,bm25@query,minilm,minilm@query, k=10, warm cache (models
loaded, corpus embeddings in the disk cache, every original instruction ranked once):

1. Explorer.rank in-process for N distinct edited instructions (the instance's instruction
   with three words from a list appended, drawn at random per run so that the edit misses
   both the in-memory memo and the disk cache: each costs one MiniLM encode and one BM25
   query), over several instances of different base queries; and for the unchanged
   original instruction (everything memoised). Target p50 <= 30 ms.
2. The same edits through gradio_client against build_app(explorer) launched in-process on
   a free port, api_name="/rank". Target p50 <= 150 ms.
3. Sweep of one base query (all variants x 4 retrievers): in-process with a fresh edit (so
   the edit variant is new), and through gradio_client /sweep (which takes no edit, so the
   variants are memoised after warm-up). Target p50 <= 150 ms.
4. Start-up: `python app.py` in a subprocess with GRADIO_SERVER_PORT set to a free port,
   time until GET / returns 200 (median of --starts runs; target <= 10 s); then one /rank
   call with the 4 retrievers and the process's VmHWM (peak RSS; target <= 1.5 GB).

Diagnostics printed alongside: the two parts of a new edit on their own (one raw MiniLM
encode, one BM25 query); the same /rank edits through the REST API on one httpx connection
and through gradio_client(ssl_verify=False); and gradio_client on a no-op gr.api endpoint
(the transport floor). --torch-threads N sets torch.set_num_threads for the in-process and
gradio_client sections (not for the app.py subprocess).

Targets are judged on wall-clock time. Process CPU time is shown too for the in-process
sections (summed over torch's intra-op threads, OpenMP spin-waiting included): on a shared
machine it tells contention from cost. Load averages are printed before and after; figures
taken at a load above nproc are not comparable with the targets.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import numpy as np

from benchmarks.machine import cpu_model
import demo  # noqa: F401  (offline Hugging Face flags before any HF import)

ROOT = Path(__file__).resolve().parents[1]
DATASET = "demo"
RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
K = 10
TARGETS = {"edit_ms": 30.0, "edit_client_ms": 150.0, "sweep_ms": 150.0, "start_s": 10.0, "rss_mb": 1536.0}
WORDS = ("recent peer reviewed historical practical technical economic legal medical academic beginner "
         "expert detailed brief official primary secondary european asian african american local "
         "global urban rural modern ancient statistical experimental theoretical clinical industrial "
         "environmental political social cultural financial educational scientific engineering "
         "biological chemical physical digital online printed visual written spoken quantitative "
         "qualitative comparative critical introductory advanced children students teachers parents "
         "doctors lawyers farmers engineers nurses researchers journalists investors tourists").split()


# ---- helpers -------------------------------------------------------------------------------
def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def vm_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS of a process in MB (from /proc/<pid>/status)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0]) / 1024
    return out


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:
    """(wall ms, process CPU ms, result)."""
    w, c = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000, result


def summary(wall: list[float], cpu: list[float] | None = None) -> dict:
    out = {"n": len(wall), "p50": pct(wall, 50), "p90": pct(wall, 90), "max": max(wall)}
    if cpu:
        out.update(cpu_p50=pct(cpu, 50), cpu_p90=pct(cpu, 90))
    return out


class Edits:
    """Distinct edited instructions: the original plus three words, never repeated in a run and
    drawn with a per-run seed so the disk cache (shared across runs) does not hold them."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def __call__(self, instruction: str) -> str:
        while True:
            text = f"{instruction.rstrip()} " + " ".join(self.rng.choice(WORDS) for _ in range(3))
            if text not in self.seen:
                self.seen.add(text)
                return text


def encoded_count(explorer) -> int:
    enc = explorer.corpus(DATASET, "minilm").model.encoder
    return getattr(enc, "encoded_count", 0)


# ---- sections --------------------------------------------------------------------------------
def pick_instances(explorer, n_queries: int) -> list:
    bench = explorer.benchmark(DATASET)
    groups = list(bench.groups.values())
    step = max(1, len(groups) // n_queries)
    return [bench.instances[g[0]] for g in groups[::step][:n_queries]]


def warm_up(explorer, instances) -> dict:
    t = time.perf_counter()
    for mid in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS):
        explorer.corpus(DATASET, mid)
    models_s = time.perf_counter() - t
    for inst in instances:
        explorer.rank(DATASET, inst.instance_id, inst.instruction, RETRIEVERS, K)
        explorer.sweep(DATASET, inst.query_id, RETRIEVERS, K, inst.instance_id)
        explorer.sweep(DATASET, inst.query_id, RETRIEVERS, K)  # the default pivot, as /sweep uses
    for i in range(3):  # first calls of torch / faiss paths, not counted
        explorer.rank(DATASET, instances[0].instance_id, instances[0].instruction + f" warmup{i}", RETRIEVERS, K)
    return {"models_s": models_s, "total_s": time.perf_counter() - t}


def bench_components(explorer, instances, n: int, edits: Edits) -> dict:
    """What one new edit costs inside rank: one raw MiniLM encode (sentence-transformers, no
    cache) and one BM25 query over the corpus."""
    from demo.retrievers.templates import query_input

    dense = explorer.corpus(DATASET, "minilm").model
    raw = getattr(dense.encoder, "encoder", dense.encoder)  # under the CachedEncoder
    st = raw.model
    bm25 = explorer.corpus(DATASET, "bm25").model
    enc_w, enc_c, bm_w, bm_c = [], [], [], []
    for j in range(n):
        inst = instances[j % len(instances)]
        text = query_input(dense.template, "full", edits(inst.instruction), inst.query).text
        w, c, _ = timed(st.encode, [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        enc_w.append(w)
        enc_c.append(c)
        w, c, _ = timed(bm25.score_all, [query_input(bm25.template, "full", edits(inst.instruction), inst.query)])
        bm_w.append(w)
        bm_c.append(c)
    return {"encode": summary(enc_w, enc_c), "bm25": summary(bm_w, bm_c)}


def bench_rank_inprocess(explorer, instances, n: int, edits: Edits) -> dict:
    wall, cpu, orig_wall, orig_cpu = [], [], [], []
    before = encoded_count(explorer)
    for j in range(n):
        inst = instances[j % len(instances)]
        w, c, _ = timed(explorer.rank, DATASET, inst.instance_id, edits(inst.instruction), RETRIEVERS, K)
        wall.append(w)
        cpu.append(c)
    encoded = encoded_count(explorer) - before
    for j in range(n):
        inst = instances[j % len(instances)]
        w, c, _ = timed(explorer.rank, DATASET, inst.instance_id, inst.instruction, RETRIEVERS, K)
        orig_wall.append(w)
        orig_cpu.append(c)
    return {"edit": summary(wall, cpu), "original": summary(orig_wall, orig_cpu), "texts_encoded": encoded}


def bench_sweep_inprocess(explorer, instances, n: int, edits: Edits) -> dict:
    wall, cpu, cached_wall, cached_cpu = [], [], [], []
    variants = set()
    for j in range(n):
        inst = instances[j % len(instances)]
        w, c, out = timed(explorer.sweep, DATASET, inst.query_id, RETRIEVERS, K, inst.instance_id,
                          edits(inst.instruction))
        wall.append(w)
        cpu.append(c)
        variants.add(len(out["variants"]))
    for j in range(n):
        inst = instances[j % len(instances)]
        w, c, _ = timed(explorer.sweep, DATASET, inst.query_id, RETRIEVERS, K)
        cached_wall.append(w)
        cached_cpu.append(c)
    return {"edit": summary(wall, cpu), "cached": summary(cached_wall, cached_cpu),
            "variants": f"{min(variants)}-{max(variants)}"}


def bench_client(explorer, instances, n_edits: int, n_sweeps: int, edits: Edits) -> dict:
    from gradio_client import Client

    from demo.ui.app import build_app, launch_kwargs

    port = free_port()
    app = build_app(explorer)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for i in range(3):  # connection set-up, first request through the queue
            inst = instances[i % len(instances)]
            client.predict(DATASET, inst.instance_id, inst.instruction, RETRIEVERS, K, api_name="/rank")
            client.predict(DATASET, inst.query_id, RETRIEVERS, K, api_name="/sweep")
        rank, rank_orig, sweep = [], [], []
        for j in range(n_edits):
            inst = instances[j % len(instances)]
            w, _, out = timed(client.predict, DATASET, inst.instance_id, edits(inst.instruction), RETRIEVERS, K,
                              api_name="/rank")
            assert set(out["retrievers"]) == set(RETRIEVERS), out
            rank.append(w)
        for j in range(n_edits):
            inst = instances[j % len(instances)]
            w, _, _ = timed(client.predict, DATASET, inst.instance_id, inst.instruction, RETRIEVERS, K,
                            api_name="/rank")
            rank_orig.append(w)
        for j in range(n_sweeps):
            inst = instances[j % len(instances)]
            w, _, _ = timed(client.predict, DATASET, inst.query_id, RETRIEVERS, K, api_name="/sweep")
            sweep.append(w)
        fast = Client(f"http://127.0.0.1:{port}/", verbose=False, ssl_verify=False)
        fast_rank = []  # gradio_client without building an SSL context per request (plain http anyway)
        for j in range(n_edits):
            inst = instances[j % len(instances)]
            fast_rank.append(timed(fast.predict, DATASET, inst.instance_id, edits(inst.instruction), RETRIEVERS, K,
                                   api_name="/rank")[0])
        rest = []  # the same server through its REST API (POST /call, GET the event) on one connection
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/gradio_api/", timeout=60) as http:
            for j in range(n_edits):
                inst = instances[j % len(instances)]
                w, _, text = timed(_rest_call, http, "rank",
                                   [DATASET, inst.instance_id, edits(inst.instruction), RETRIEVERS, K])
                assert "event: complete" in text, text[:300]
                rest.append(w)
    finally:
        app.close()
    return {"rank_edit": summary(rank), "rank_original": summary(rank_orig), "sweep": summary(sweep),
            "rank_edit_rest": summary(rest), "rank_edit_noverify": summary(fast_rank), **gradio_floor(n_edits)}


def _rest_call(http, api_name: str, data: list) -> str:
    event_id = http.post(f"call/{api_name}", json={"data": data}).raise_for_status().json()["event_id"]
    return http.get(f"call/{api_name}/{event_id}").text


def gradio_floor(n: int) -> dict:
    """gradio_client.predict on an endpoint that does nothing: the cost of the transport alone."""
    import gradio as gr
    from gradio_client import Client

    def noop(text: str) -> dict:
        return {"text": text}

    with gr.Blocks() as app:
        gr.api(noop, api_name="noop")
    app.queue(default_concurrency_limit=8)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for _ in range(3):
            client.predict("x", api_name="/noop")
        wall = [timed(client.predict, f"x{j}", api_name="/noop")[0] for j in range(n)]
        fast = Client(f"http://127.0.0.1:{port}/", verbose=False, ssl_verify=False)
        fast_wall = [timed(fast.predict, f"x{j}", api_name="/noop")[0] for j in range(n)]
    finally:
        app.close()
    return {"floor": summary(wall), "floor_noverify": summary(fast_wall)}


def bench_startup(starts: int, instance) -> dict:
    """`python app.py` until GET / answers 200; then one /rank call and VmHWM."""
    from gradio_client import Client

    times, hwm, first_rank = [], [], []
    for _ in range(starts):
        port = free_port()
        env = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
        url = f"http://127.0.0.1:{port}/"
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"app.py exited with {proc.returncode}")
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError("app.py did not answer within 120 s")
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.02)
            times.append(time.perf_counter() - t0)
            client = Client(url, verbose=False)
            client.predict("demo", instance.instance_id, instance.instruction + " startup", RETRIEVERS, K,
                           api_name="/rank")
            first_rank.append(time.perf_counter() - t0)
            hwm.append(vm_status(proc.pid)["VmHWM"])
        finally:
            proc.terminate()  # the process this function started, by its handle
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"to_200_s": times, "first_rank_s": first_rank, "vmhwm_mb": hwm,
            "median_s": statistics.median(times), "rss_mb": max(hwm)}


# ---- report -----------------------------------------------------------------------------------
def machine() -> dict:
    import gradio
    import torch
    return {"nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "cpu": cpu_model(),
            "python": platform.python_version(), "gradio": gradio.__version__, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}


def table(res: dict) -> list[str]:
    rows = []

    def row(name, value, unit, target=None):
        ratio = f"{value / target:.2f}x" if target else ""
        verdict = ("" if target is None else ("met" if value <= target else "MISSED"))
        rows.append(f"| {name} | {value:.1f} {unit} | {'' if target is None else f'{target:g} {unit}'} | {ratio} | {verdict} |")

    rows.append("| measurement | median (p50) | target | ratio | |")
    rows.append("|---|---|---|---|---|")
    if "rank" in res:
        r = res["rank"]
        row("rank, new edit, in-process (wall)", r["edit"]["p50"], "ms", TARGETS["edit_ms"])
        row("rank, new edit, in-process (process CPU time, all threads)", r["edit"]["cpu_p50"], "ms")
        row("rank, new edit, in-process p90 (wall)", r["edit"]["p90"], "ms")
        row("rank, original (memoised), in-process", r["original"]["p50"], "ms")
    if "parts" in res:
        row("  of which: raw MiniLM encode, 1 text (wall)", res["parts"]["encode"]["p50"], "ms")
        row("  of which: raw MiniLM encode, 1 text (process CPU time)", res["parts"]["encode"]["cpu_p50"], "ms")
        row("  of which: BM25 score_all, 1 query", res["parts"]["bm25"]["p50"], "ms")
    if "client" in res:
        c = res["client"]
        row("rank, new edit, gradio_client /rank", c["rank_edit"]["p50"], "ms", TARGETS["edit_client_ms"])
        row("rank, new edit, gradio_client p90", c["rank_edit"]["p90"], "ms")
        row("rank, original, gradio_client /rank", c["rank_original"]["p50"], "ms")
        row("rank, new edit, REST /call/rank (httpx, one connection)", c["rank_edit_rest"]["p50"], "ms")
        row("rank, new edit, gradio_client(ssl_verify=False)", c["rank_edit_noverify"]["p50"], "ms")
        row("gradio_client floor: no-op gr.api endpoint", c["floor"]["p50"], "ms")
        row("gradio_client(ssl_verify=False) floor: no-op endpoint", c["floor_noverify"]["p50"], "ms")
    if "sweep" in res:
        s = res["sweep"]
        row("sweep with new edit, in-process (wall)", s["edit"]["p50"], "ms", TARGETS["sweep_ms"])
        row("sweep with new edit, in-process (process CPU time)", s["edit"]["cpu_p50"], "ms")
        row("sweep, memoised, in-process", s["cached"]["p50"], "ms")
    if "client" in res:
        row("sweep, gradio_client /sweep", res["client"]["sweep"]["p50"], "ms", TARGETS["sweep_ms"])
    if "startup" in res:
        st = res["startup"]
        row("python app.py -> GET / 200", st["median_s"], "s", TARGETS["start_s"])
        row("python app.py -> first /rank answered", statistics.median(st["first_rank_s"]), "s")
        row("peak RSS (VmHWM) after a 4-retriever /rank", st["rss_mb"], "MB", TARGETS["rss_mb"])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__.split("\n\n")[0])
    ap.add_argument("--edits", type=int, default=60, help="distinct edits timed per rank section (default 60)")
    ap.add_argument("--sweeps", type=int, default=20, help="sweeps timed per sweep section (default 20)")
    ap.add_argument("--starts", type=int, default=3, help="app.py start-ups timed (default 3)")
    ap.add_argument("--queries", type=int, default=6, help="base queries the edits rotate over (default 6)")
    ap.add_argument("--torch-threads", type=int, help="torch.set_num_threads for the in-process sections")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: rank,client,sweep,startup")
    ap.add_argument("--seed", type=int, help="seed for the appended words (default: from the clock)")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    from demo.service import Explorer

    if args.torch_threads:
        import torch
        torch.set_num_threads(args.torch_threads)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    edits = Edits(seed)
    info = machine()
    print(f"machine: nproc={info['nproc']} (affinity {info['affinity']}), {info['cpu']}, python {info['python']}, "
          f"gradio {info['gradio']}, torch {info['torch']} ({info['torch_threads']} threads); load {loadavg()}")
    res: dict = {"seed": seed, "load_before": loadavg()}

    explorer = Explorer()
    instances = pick_instances(explorer, args.queries)
    w = warm_up(explorer, instances)
    print(f"warm-up: models {w['models_s']:.1f} s, total {w['total_s']:.1f} s; "
          f"instances {', '.join(i.instance_id for i in instances)}")
    if "rank" not in skip:
        res["parts"] = bench_components(explorer, instances, args.edits, edits)
        p = res["parts"]
        print(f"0. parts of one new edit: raw MiniLM encode of 1 text p50 {p['encode']['p50']:.1f} ms "
              f"(CPU {p['encode']['cpu_p50']:.1f} ms); BM25 score_all of 1 query p50 {p['bm25']['p50']:.2f} ms")
        res["rank"] = bench_rank_inprocess(explorer, instances, args.edits, edits)
        r = res["rank"]
        print(f"1. rank in-process, {args.edits} new edits: p50 {r['edit']['p50']:.1f} ms, p90 {r['edit']['p90']:.1f} ms "
              f"(CPU p50 {r['edit']['cpu_p50']:.1f} ms, p90 {r['edit']['cpu_p90']:.1f} ms; "
              f"{r['texts_encoded']} texts encoded); original: p50 {r['original']['p50']:.2f} ms, "
              f"p90 {r['original']['p90']:.2f} ms")
    if "sweep" not in skip:
        res["sweep"] = bench_sweep_inprocess(explorer, instances, args.sweeps, edits)
        s = res["sweep"]
        print(f"3a. sweep in-process ({s['variants']} variants x 4), new edit: p50 {s['edit']['p50']:.1f} ms, "
              f"p90 {s['edit']['p90']:.1f} ms (CPU p50 {s['edit']['cpu_p50']:.1f} ms); "
              f"memoised: p50 {s['cached']['p50']:.1f} ms")
    if "client" not in skip:
        res["client"] = bench_client(explorer, instances, args.edits, args.sweeps, edits)
        c = res["client"]
        print(f"2. gradio_client /rank, {args.edits} new edits: p50 {c['rank_edit']['p50']:.1f} ms, "
              f"p90 {c['rank_edit']['p90']:.1f} ms; original: p50 {c['rank_original']['p50']:.1f} ms, "
              f"p90 {c['rank_original']['p90']:.1f} ms")
        print(f"2b. same server via REST /call/rank (httpx, one connection), new edits: "
              f"p50 {c['rank_edit_rest']['p50']:.1f} ms, p90 {c['rank_edit_rest']['p90']:.1f} ms; "
              f"gradio_client(ssl_verify=False): p50 {c['rank_edit_noverify']['p50']:.1f} ms, "
              f"p90 {c['rank_edit_noverify']['p90']:.1f} ms")
        print(f"2c. gradio_client on a no-op endpoint: p50 {c['floor']['p50']:.1f} ms, p90 {c['floor']['p90']:.1f} ms; "
              f"with ssl_verify=False: p50 {c['floor_noverify']['p50']:.1f} ms, p90 {c['floor_noverify']['p90']:.1f} ms")
        print(f"3b. gradio_client /sweep: p50 {c['sweep']['p50']:.1f} ms, p90 {c['sweep']['p90']:.1f} ms")
    if "startup" not in skip:
        res["startup"] = bench_startup(args.starts, instances[0])
        st = res["startup"]
        print(f"4. python app.py -> GET / 200: {', '.join(f'{t:.2f}' for t in st['to_200_s'])} s "
              f"(median {st['median_s']:.2f} s); first /rank answered at "
              f"{', '.join(f'{t:.2f}' for t in st['first_rank_s'])} s; "
              f"VmHWM {', '.join(f'{m:.0f}' for m in st['vmhwm_mb'])} MB")
    print(f"load after: {loadavg()} (1/5/15 min); seed {seed}")
    print()
    print("\n".join(table(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
