"""Bounded load test (issue 9): `python app.py` on loopback, N gradio_client visitors for T seconds.

    cd /work/main && .venv/bin/python -m benchmarks.load [--clients 16 --seconds 30 --public]

Starts the app in a subprocess on 127.0.0.1 and a free port (never another interface), waits
for the first page, warms the default models with one /rank call, then runs N threads, each
with its own gradio_client, calling /rank (3 of 4 calls; a fresh edited instruction each, so
the query embedding is new) or /sweep (1 of 4) on random instances of the bundled data, with
bm25,bm25@query,minilm,minilm@query at k=10, until T seconds have passed. Reports p50 and
p95 latency per endpoint, errors, throughput, and the server's RSS before and after (VmRSS
from /proc) and its peak (VmHWM). Every reply is checked for the four columns; a reply
without them counts as an error. RSS is sampled every 5 s during the run. --public runs the app in public mode.

The load is bounded (duration, clients, loopback only) so that it can run on a shared machine;
figures from a shared, noisy machine are indicative only. Load averages are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RETRIEVERS = ["bm25", "bm25@query", "minilm", "minilm@query"]
WORDS = ("brief detailed official practical legal medical beginner expert local recent technical cheap "
         "quick safe simple visual academic modern historical").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def start_app(port: int, public: bool, cache: str) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "HF_HUB_OFFLINE": "1", "INSTRUCTIR_EXPLORER_CACHE": cache}
    if public:
        env["INSTRUCTIR_EXPLORER_PUBLIC"] = "1"
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start within 120 s")


def visitor(url: str, instances: list[tuple[str, str]], until: float, seed: int, out: dict, lock) -> None:
    from gradio_client import Client
    client = Client(url, verbose=False)
    rng = random.Random(seed)
    while time.monotonic() < until:
        iid, qid = rng.choice(instances)
        sweep = rng.random() < 0.25
        start = time.perf_counter()
        try:
            if sweep:
                reply = client.predict("demo", qid, RETRIEVERS, 10, api_name="/sweep")
            else:
                edit = f"I want something {' '.join(rng.sample(WORDS, 3))}. {seed}-{rng.random():.6f}"
                reply = client.predict("demo", iid, edit, RETRIEVERS, 10, api_name="/rank")
            ok = set(reply["retrievers"]) == set(RETRIEVERS) and not any("error" in v for v in reply["retrievers"].values())
        except Exception as e:  # noqa: BLE001 - every failure is counted, not raised
            ok, reply = False, repr(e)
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            out["sweep" if sweep else "rank"].append(elapsed)
            if not ok:
                out["errors"].append(str(reply)[:200])


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else float("nan"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--public", action="store_true")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 300:
        raise SystemExit("keep it bounded: 1-64 clients, 1-300 seconds")

    sys.path.insert(0, str(ROOT))
    import demo  # noqa: F401
    from demo.data.sources import load_source
    bench = load_source("demo")
    instances = [(i.instance_id, i.query_id) for i in bench.instances.values()]

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="instructir-load-") as cache:
        proc = start_app(port, args.public, cache)
        try:
            from gradio_client import Client
            Client(url, verbose=False).predict("demo", instances[0][0], None, RETRIEVERS, 10, api_name="/rank")
            before = memory_mb(proc.pid)
            out, lock = {"rank": [], "sweep": [], "errors": []}, threading.Lock()
            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=visitor, args=(url, instances, until, n, out, lock))
                       for n in range(args.clients)]
            samples: list[tuple[float, float]] = []

            def sample() -> None:  # RSS every 5 s: a plateau is bounded memory, a slope is a leak
                while time.monotonic() < until + 1:
                    samples.append((round(time.monotonic() - started, 1), round(memory_mb(proc.pid)["VmRSS"])))
                    time.sleep(5)
            started = time.monotonic()
            threads.append(threading.Thread(target=sample))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
            after = memory_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    calls = len(out["rank"]) + len(out["sweep"])
    figures = {
        "clients": args.clients, "seconds": args.seconds, "public": args.public, "calls": calls,
        "errors": len(out["errors"]), "calls_per_s": calls / wall,
        "rank_ms": {"n": len(out["rank"]), "p50": percentile(out["rank"], 50), "p95": percentile(out["rank"], 95)},
        "sweep_ms": {"n": len(out["sweep"]), "p50": percentile(out["sweep"], 50), "p95": percentile(out["sweep"], 95)},
        "rss_mb_before": before["VmRSS"], "rss_mb_after": after["VmRSS"], "peak_rss_mb": after["VmHWM"],
        "rss_mb_every_5s": samples,
        "load_before": load_before, "load_after": os.getloadavg(), "nproc": os.cpu_count(),
        "first_errors": out["errors"][:3],
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
