"""Bounded attack benchmark (issue 18): the nine cheap attacks on public hosting, before and after.

    .venv/bin/python -m benchmarks.attack [--root DIR] [--seconds 30] [--json out.json]

`--root` is the checkout whose code is attacked (default: this one; give the old checkout to
measure "before"). Every server is started on 127.0.0.1 and a free port, in public mode, with its
own cache folder; everything else runs in a fresh interpreter on the checkout's modules, so RSS
figures are that interpreter's own. Cases:

1. /explain with a 496-sentence instruction from 8 clients while a bystander calls /rank:
   bystander p50/p90 quiet and under attack, the attackers' outcomes, server RSS.
2. a full cache disk (a 1 MB tmpfs, filled; needs root, else skipped): /instance, /rank, /sweep.
3. a 10 MB notes file of `{}` lines, and a gzipped run unpacking to 200 MB: peak RSS, outcome.
4. one flipped bit in a stored table: is the table recomputed (right numbers)?
5. 200 sessions upload a run each, then idle past the session time to live (Gradio's state rule
   applied as Gradio applies it: a State with time_to_live is dropped and its delete_callback
   called): RSS held.
6. 40 distinct tables stored: rows and bytes in <cache>/tables.
7. notes downloads and exports with a 1 s time to live, 3 s later: files left.
8. /config and the page grepped for server paths.
9. a JSON run nested 100,000 deep, uploaded: the message.

Bounded: at most --seconds of attack, 8 attackers, loopback only; a few minutes in all.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
LONG = "Go. " * 495 + "x."  # 496 sentences, 1,982 characters (the limit is 2,000)
ATTACKERS = 8


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def start_app(root: Path, cache: str, extra: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1",
           "INSTRUCTIR_EXPLORER_CACHE": cache, "INSTRUCTIR_EXPLORER_PUBLIC": "1", **(extra or {})}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start within 120 s")


def pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0], 3)


def call(client, *args, api_name):
    start = time.perf_counter()
    try:
        out = client.predict(*args, api_name=api_name)
        return time.perf_counter() - start, "ok", out
    except Exception as e:  # noqa: BLE001 - outcomes are counted
        return time.perf_counter() - start, (str(e).strip().splitlines() or ["(no message)"])[-1][:160], None


def bystander(url: str, n: int, stop: threading.Event | None = None) -> list[float]:
    from gradio_client import Client
    client = Client(url, verbose=False)
    times = []
    for i in range(n):
        if stop is not None and stop.is_set():
            break
        took, outcome, _ = call(client, "demo", "101_1", f"I need a short answer {i} {time.time()}", ["bm25", "minilm"],
                                10, api_name="/rank")
        if outcome == "ok":
            times.append(took)
    return times


def case_explain(root: Path, seconds: float) -> dict:
    from gradio_client import Client
    with tempfile.TemporaryDirectory(prefix="attack-") as cache:
        proc, url = start_app(root, cache)
        try:
            warm = Client(url, verbose=False)
            call(warm, "demo", "101_1", None, ["bm25", "minilm"], 10, api_name="/rank")
            quiet = bystander(url, 15)
            before = rss_mb(proc.pid)
            outcomes: dict[str, int] = {}
            explain_times: list[float] = []
            lock, stop = threading.Lock(), threading.Event()

            def attacker(seed: int):
                client = Client(url, verbose=False)
                n = 0
                while not stop.is_set():
                    n += 1  # a new text each call (no memo helps); still within 2,000 characters
                    text = "Go. " * 492 + f"x{seed}-{n % 100000}."
                    took, outcome, _ = call(client, "demo", "101_1", text, "minilm", "p101", api_name="/explain")
                    with lock:
                        outcomes[outcome] = outcomes.get(outcome, 0) + 1
                        if outcome == "ok":
                            explain_times.append(took)
            threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(ATTACKERS)]
            for t in threads:
                t.start()
            time.sleep(2)
            loaded: list[float] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                loaded += bystander(url, 3)
            stop.set()
            deadline = time.monotonic() + 60  # calls still running are cut off with the server
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            return {"bystander_quiet_p50_s": pct(quiet, 50), "bystander_quiet_p90_s": pct(quiet, 90),
                    "bystander_attacked_p50_s": pct(loaded, 50), "bystander_attacked_p90_s": pct(loaded, 90),
                    "bystander_calls": len(loaded), "explain_p50_s": pct(explain_times, 50),
                    "attack_outcomes": outcomes, "rss_before_mb": before, "rss_after_mb": rss_mb(proc.pid)}
        finally:
            proc.kill()


def case_full_disk(root: Path) -> dict:
    from gradio_client import Client
    where = Path(tempfile.mkdtemp(prefix="attack-tmpfs-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True).returncode:
        return {"skipped": "cannot mount a tmpfs (needs root)"}
    try:
        (where / "embeddings").mkdir()
        with (where / "filler").open("wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        proc, url = start_app(root, str(where))
        try:
            client = Client(url, verbose=False)
            out = {}
            for name, args, api in [("instance", ("demo", "101_1"), "/instance"),
                                    ("rank", ("demo", "101_1", "a new need", ["bm25", "minilm"], 5), "/rank"),
                                    ("sweep", ("demo", "101", ["bm25", "minilm"], 5), "/sweep")]:
                _, outcome, answer = call(client, *args, api_name=api)
                if answer and isinstance(answer, dict) and "retrievers" in answer:
                    cols = answer["retrievers"].values()
                    bad = [c["error"] for c in cols if isinstance(c, dict) and "error" in c]
                    outcome = "ok" if not bad else f"column errors: {bad[0][:100]}"
                out[name] = outcome
            (where / "filler").unlink()  # space returns
            time.sleep(1)
            _, outcome, _ = call(client, "demo", "101_1", "another need after space returned", ["minilm"], 5,
                                 api_name="/rank")
            out["rank_after_space_returns"] = outcome
            out["embeddings_folder_kept"] = (where / "embeddings").is_dir()
            return out
        finally:
            proc.kill()
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        where.rmdir()


INPROCESS = r'''
import json, os, resource, sys, time, tempfile, gzip, types, logging
sys.path.insert(0, ROOT)
os.chdir(ROOT)
import demo
from pathlib import Path
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
def hwm():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from demo.service import Explorer
from demo.ui import inspect_handlers as h
NS = types.SimpleNamespace
def ctx(explorer):
    ui = NS(run_info="run_info", notes_state="notes_state", notes_info="notes_info", note_files="note_files")
    return h.InspectCtx(explorer, True, NS(runs="runs", retrievers="retrievers"), None, None, ui)
def msg(out, key):
    text = str(out.get(key, ""))
    import re
    return re.sub("<[^>]+>", "", text)[:160]
tmp = Path(tempfile.mkdtemp(prefix="attack-"))
out = {}
'''

CASES = {
    "notes_10mb": r'''
p = tmp / "notes.jsonl"; p.write_bytes(b"{}\n" * (10 * 2**20 // 3))
ex = Explorer(); ex.benchmark("demo"); base = hwm(); t = time.time()
import tracemalloc; tracemalloc.start()
r = h.on_notes_upload(ctx(ex), str(p), "demo", {}, "")
out = {"peak_traced_mb": round(tracemalloc.get_traced_memory()[1] / 2**20, 1), "peak_rss_delta_mb": round(hwm() - base, 1),
       "seconds": round(time.time() - t, 2), "message": msg(r, "notes_info")}
''',
    "gzip_run_200mb": r'''
line = b"101_1 Q0 p101 1 1.0 tag\n"
p = tmp / "bomb.trec.gz"; p.write_bytes(gzip.compress(line * (200 * 2**20 // len(line)), 9))
ex = Explorer(); ex.benchmark("demo"); base = hwm(); t = time.time()
import tracemalloc; tracemalloc.start()
r = h.on_run_upload(ctx(ex), str(p), "demo", {}, [])
out = {"packed_kb": p.stat().st_size // 1024, "peak_traced_mb": round(tracemalloc.get_traced_memory()[1] / 2**20, 1),
       "peak_rss_delta_mb": round(hwm() - base, 1),
       "seconds": round(time.time() - t, 2), "message": msg(r, "run_info")}
''',
    "table_bit_flip": r'''
ex = Explorer(); want = ex.instance_records("demo", "bm25", 10)
store = ex.tables._disk(); key = list(store._cache)[0]
raw = bytearray(store._cache.get(key)); raw[len(raw) // 2] ^= 0x04; store._cache.set(key, bytes(raw))
again = Explorer().instance_records("demo", "bm25", 10)
out = {"recomputed_equal": again == want}
''',
    "sessions_200": r'''
from demo.ui.app import build_page
import gc
page = build_page(Explorer())
states = [b for b in page.app.blocks.values() if type(b).__name__ == "State"]
runs_state = next((b for b in states if getattr(b, "time_to_live", None) not in (None, float("inf"))), None)
ex = Explorer(); bench = ex.benchmark("demo")
ids = list(bench.instances); docs = list(bench.docs)
p = tmp / "r.trec"
with p.open("w") as f:
    for q in ids:
        for r, d in enumerate(docs[:300], 1):
            f.write(f"{q} Q0 {d} {r} {1000 - r * 0.5!r} a-long-system-tag-for-size\n")
import tracemalloc
gc.collect(); tracemalloc.start(); base = rss(); held = {}; refused = 0
for i in range(200):
    try:
        r = h.on_run_upload(ctx(ex), str(p), "demo", {}, [], NS(session_hash=f"s{i}"))
    except TypeError:  # a checkout without per-session accounting
        r = h.on_run_upload(ctx(ex), str(p), "demo", {}, [])
    if r["runs"]:
        held[f"s{i}"] = r["runs"]
    else:
        refused += 1
gc.collect(); after_uploads = rss(); traced_uploads = tracemalloc.get_traced_memory()[0] / 2**20
ttl = getattr(runs_state, "time_to_live", None)
if ttl is not None:  # Gradio's rule: a State with time_to_live goes after it, with its delete_callback
    for sid in list(held):
        runs_state.delete_callback(held.pop(sid))
gc.collect()
out = {"file_mb": round(p.stat().st_size / 2**20, 1), "rss_after_200_uploads_mb": round(after_uploads - base, 1),
       "held_after_200_uploads_mb": round(traced_uploads, 1), "refused": refused, "state_ttl_s": ttl,
       "rss_after_idle_mb": round(rss() - base, 1),
       "held_after_idle_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1)}
''',
    "tables_bound": r'''
ex = Explorer()
for k in range(1, 41):
    ex.instance_records("demo", "bm25", k)
store = ex.tables._disk()
folder = Path(os.environ["INSTRUCTIR_EXPLORER_CACHE"]) / "tables"
size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
out = {"tables_written": 40, "rows_kept": len(store), "folder_kb": size // 1024,
       "limit_kb": getattr(store._cache, "size_limit", 0) // 1024}
''',
    "temp_files": r'''
import tempfile as tf
os.environ["INSTRUCTIR_EXPLORER_EXPORT_TTL"] = "1"
ex = Explorer()
from demo.ui import export
try:
    from demo.ui.app import start_sweeper
except ImportError:
    start_sweeper = None
before = {str(p) for p in Path(tf.gettempdir()).glob("instructir-notes-*")}
for _ in range(5):
    h.on_download(ctx(ex), "demo", {}, "", {})
export.write_exports({"a.csv": "x"})
if start_sweeper:
    start_sweeper()
time.sleep(3.5)
left = [p for p in Path(tf.gettempdir()).glob("instructir-notes-*") if str(p) not in before]
out = {"notes_downloads_left": len(left), "exports_left": len(list(export.export_root().glob("export-*")))}
''',
    "nested_json": r'''
p = tmp / "deep.json"; p.write_text('{"a":' * 100000 + "1" + "}" * 100000)
ex = Explorer()
try:
    r = h.on_run_upload(ctx(ex), str(p), "demo", {}, [])
    out = {"message": msg(r, "run_info")}
except BaseException as e:
    out = {"message": f"unhandled {type(e).__name__}"}
''',
}


def inprocess(root: Path, case: str) -> dict:
    code = f"ROOT = {str(root)!r}\n" + INPROCESS + CASES[case] + "\nprint('RESULT ' + json.dumps(out))\n"
    with tempfile.TemporaryDirectory(prefix="attack-cache-") as cache:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "INSTRUCTIR_EXPLORER_PUBLIC": "1", "INSTRUCTIR_EXPLORER_CACHE": cache}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not found:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(found[-1][7:])


def case_config(root: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="attack-") as cache:
        proc, url = start_app(root, cache)
        try:
            texts = [urllib.request.urlopen(url + "config").read().decode(), urllib.request.urlopen(url).read().decode()]
        finally:
            proc.kill()
    paths = [cache, str(root.resolve()), str(Path.home()) + "/"]
    hits = sum(t.count(p) for t in texts for p in paths)
    return {"server_paths_in_config_and_page": hits,
            "notes_folder_value": (re.findall(r'"elem_id":\s*"notes-folder"[^}]*?"value":\s*"([^"]*)"', texts[0]) or
                                   re.findall(r'"value":\s*"([^"]*annotations[^"]*)"', texts[0]) or [""])[0]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=str(HERE), help="the checkout to attack")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--json")
    p.add_argument("--only", help="comma list of cases to run")
    args = p.parse_args()
    if not 5 <= args.seconds <= 120:
        raise SystemExit("keep it bounded: 5-120 seconds of attack")
    root = Path(args.root).resolve()
    plan = {"1 explain attack": lambda: case_explain(root, args.seconds),
            "2 full cache disk": lambda: case_full_disk(root),
            "3a notes 10 MB": lambda: inprocess(root, "notes_10mb"),
            "3b gzip run 200 MB": lambda: inprocess(root, "gzip_run_200mb"),
            "4 table bit flip": lambda: inprocess(root, "table_bit_flip"),
            "5 200 sessions": lambda: inprocess(root, "sessions_200"),
            "6 tables bound": lambda: inprocess(root, "tables_bound"),
            "7 temp files": lambda: inprocess(root, "temp_files"),
            "8 config grep": lambda: case_config(root),
            "9 nested JSON": lambda: inprocess(root, "nested_json")}
    only = set(args.only.split(",")) if args.only else None
    results = {"root": str(root), "load_average": os.getloadavg()}
    for name, run in plan.items():
        if only and name.split()[0] not in only:
            continue
        start = time.monotonic()
        results[name] = run()
        results[name]["case_seconds"] = round(time.monotonic() - start, 1)
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
