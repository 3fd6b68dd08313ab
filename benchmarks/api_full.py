"""API latency at InstructIR size: where the time goes between the service and a client.

    python -m benchmarks.api_full [--work /tmp/instructir-full-api] [--n 30] [--rounds 3]
                                  [--code NAME=DIR ...] [--out FILE]

The dataset is benchmarks.app_full's full-size folder (the real 9,906 instances and 1,267 base
queries, a 16,000-passage stand-in corpus; built under --work when absent). Retrievers
bm25,bm25@query,minilm,minilm@query, k = 10, no artifacts: the embedding cache under --work
holds the corpus and, once a separate `--warm` process has run (the first run does it), every
text the measured calls need except the new edits. So a measured sweep encodes nothing and a
measured edit encodes its own new text only (each server reports how many texts it encoded).

Each --code NAME=DIR is one server: a subprocess importing `demo` from DIR (default: this
checkout, as "app"; a copy of an older commit gives the "before" side) that loads the models,
measures in-process, then launches build_app on a free loopback port with two endpoints added
for the benchmark (/noop, and /bench_stats: the texts encoded and the service call's start and
end times, from wrapping demo.ui.api.call). Measured, per server:
(a) in-process: Explorer.rank with a new edit (the instance's original visited first) and
    Explorer.sweep of a query not memoised in this process (the default pivot, as /sweep asks);
    and, for the attribution only, sweeps of queries whose texts are not in the cache at all
    (their originals, paraphrases and perturbations are encoded: a sweep without artifacts);
(b) gradio_client.Client.predict on /rank (new edit) and /sweep (a query new to this server),
    with Client(url) ("client") and Client(url, ssl_verify=False, download_files=False)
    ("client_fast");
(c) raw HTTP on one kept-alive httpx connection: POST /gradio_api/call/<name>, then GET
    /gradio_api/call/<name>/<event_id> (the SSE result), without a session hash ("raw": Gradio
    builds the page's session state for every call) and with one ("raw_session"); and POST
    /gradio_api/run/<name> ("run"), the route around the queue (open off a Space outside public
    mode), as a diagnostic;
(d) the answers' size in bytes and the time to serialise them as Gradio does (orjson of the
    ProcessCompletedMessage's model_dump on /queue/data; json.dumps of the data on /call), and
    what the public mode's Heavy wrapper adds to a call;
(e) the no-op endpoint through each transport: the floor of the queue, the SSE and the client.
Every call through the API is split by the service call's timestamps (time.perf_counter is
CLOCK_MONOTONIC, one clock for both processes): before (request, queue, dispatch to a worker
thread), service (demo.ui.api.call), after (the endpoint's reshaping, the result message, SSE,
the client's parsing and polling). The last table attributes each endpoint's p50 (differences
of medians): service, Gradio's queue and SSE, a session state per sessionless call, then what
gradio_client adds.

Servers are measured in --rounds interleaved blocks (server order alternating) so that both
see the same machine load; load averages are printed per block. Results go to --out
(default <work>/api-full.json).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run by path (a server of another checkout): this file's helpers still import
    sys.path.append(str(ROOT))

from benchmarks.app import Edits, free_port, loadavg, pct  # noqa: E402
from benchmarks.app_full import K, RETRIEVERS, build_folder, env_for  # noqa: E402

SECTIONS = ("inproc", "client", "client_fast", "raw", "raw_session", "run")
TRANSPORTS = SECTIONS[1:]  # each its own sweep queries, new to the server
N_EDIT_INSTANCES = 8
N_UNCACHED = 8  # in-process sweeps of queries the warm-up did not cache (drawn per run)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p90": pct(values, 90)} if values else {"n": 0}


# ---- the plan: which instances and queries every section uses --------------------------------
def make_plan(folder: Path, labels: list[str], n: int) -> dict:
    """Edit instances (one per base query) and, per server and section, n sweep queries no other
    section uses; deterministic for a given folder, labels and n."""
    from demo.data.sources import open_source
    _, bench = open_source(str(folder))
    qids = sorted(bench.groups)
    random.Random(23).shuffle(qids)
    edit_instances = [bench.groups[q][0] for q in qids[:N_EDIT_INSTANCES]]
    rest = iter(qids[N_EDIT_INSTANCES:])
    sweeps = {label: {s: [next(rest) for _ in range(n)] for s in SECTIONS} for label in labels}
    return {"edit_instances": edit_instances, "sweeps": sweeps, "unplanned": list(rest)}


def plan_digest(plan: dict) -> str:
    return hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:16]


def warm(folder: str, plan: dict) -> dict:
    """A separate process: the corpus, each edit instance's original ranking and every planned
    query's sweep go into the disk cache, so that the measuring servers encode only new edits."""
    from demo.service import Explorer
    ex = Explorer()
    t = time.perf_counter()
    for model_id in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS):
        ex.corpus(folder, model_id)
    bench = ex.benchmark(folder)
    for iid in plan["edit_instances"]:
        ex.rank(folder, iid, bench.instances[iid].instruction, RETRIEVERS, K)
    queries = [q for per in plan["sweeps"].values() for qs in per.values() for q in qs]
    for qid in queries:
        ex.sweep(folder, qid, RETRIEVERS, K)
    return {"warm_s": time.perf_counter() - t, "queries": len(queries), "encoded": encoded(ex, folder)}


def encoded(ex, folder: str) -> int:
    return ex.corpus(folder, "minilm").model.encoder.encoded_count


# ---- the server (a subprocess; `demo` from its --code directory) ------------------------------
def in_process(ex, folder: str, plan: dict, label: str, edits: Edits, cold: list[str]) -> dict:
    """(a): new edits on visited instances, sweeps of queries this process has not seen (their
    texts in the disk cache), and sweeps of queries in no cache (`cold`, drawn per run: their
    instructions, paraphrases and perturbations are encoded, as with no artifacts; a query an
    earlier run drew is cached by now, hence the count of texts encoded)."""
    bench = ex.benchmark(folder)
    insts = [bench.instances[i] for i in plan["edit_instances"]]
    rank_ms, sweep_ms, cold_ms = [], [], []
    for j in range(len(plan["sweeps"][label]["inproc"])):
        inst = insts[j % len(insts)]
        t = time.perf_counter()
        ex.rank(folder, inst.instance_id, edits(inst.instruction), RETRIEVERS, K)
        rank_ms.append((time.perf_counter() - t) * 1000)
    for qid in plan["sweeps"][label]["inproc"]:
        t = time.perf_counter()
        ex.sweep(folder, qid, RETRIEVERS, K)
        sweep_ms.append((time.perf_counter() - t) * 1000)
    before = encoded(ex, folder)
    for qid in cold:
        t = time.perf_counter()
        ex.sweep(folder, qid, RETRIEVERS, K)
        cold_ms.append((time.perf_counter() - t) * 1000)
    return {"rank": summary(rank_ms), "sweep": summary(sweep_ms), "sweep_uncached": summary(cold_ms),
            "sweep_uncached_encoded": encoded(ex, folder) - before}


def payloads(ex, folder: str, plan: dict, label: str, n: int = 50) -> dict:
    """(d): each endpoint's answer (as the endpoint function returns it) in bytes, and the time to
    serialise it the two ways Gradio does."""
    import orjson
    from gradio.server_messages import ProcessCompletedMessage

    from demo.ui import api
    heavy = api.Heavy(False)
    inst = ex.benchmark(folder).instances[plan["edit_instances"][0]]
    answers = {"rank": api.api_rank(ex, heavy, folder, inst.instance_id, inst.instruction, RETRIEVERS, K),
               "sweep": api.api_sweep(ex, heavy, folder, plan["sweeps"][label]["inproc"][0], RETRIEVERS, K)}
    out = {}
    for name, answer in answers.items():
        def sse():
            message = ProcessCompletedMessage(output={"data": [answer]}, success=True, event_id="x")
            return orjson.dumps(message.model_dump(), default=str)

        times = {}
        for how, fn in (("queue_data_orjson", sse), ("call_json", lambda: json.dumps([answer]))):
            ms = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t) * 1000)
            times[how] = pct(ms, 50)
        out[name] = {"bytes": len(orjson.dumps(answer)), "ms_p50": times,
                     "variants": len(answer.get("variants", ())) or None}
    out["heavy_us"] = heavy_overhead(api, n * 20)
    return out


def heavy_overhead(api, n: int) -> dict:
    """What the public mode's Heavy wrapper (the per-visitor slots) adds to a call, in microseconds."""
    import gradio as gr
    request = gr.Request(username=None)
    times = {}
    for public in (False, True):
        heavy, us = api.Heavy(public), []
        for _ in range(n):
            t = time.perf_counter()
            heavy(int, request=request)
            us.append((time.perf_counter() - t) * 1e6)
        times["public" if public else "local"] = pct(us, 50)
    return times


def serve(folder: str, plan: dict, label: str, seed: int) -> None:
    """Load, measure in-process, launch with /noop and /bench_stats, print one READY line, and
    serve until stdin closes."""
    import gradio as gr

    from demo.service import Explorer
    from demo.ui import api
    from demo.ui.app import build_app, launch_kwargs

    ex = Explorer()
    for model_id in dict.fromkeys(r.split("@")[0] for r in RETRIEVERS):
        ex.corpus(folder, model_id)
    bench = ex.benchmark(folder)
    for iid in plan["edit_instances"]:  # visited first: the originals are memoised, as in app_full
        ex.rank(folder, iid, bench.instances[iid].instruction, RETRIEVERS, K)
    edits = Edits(seed)
    for _ in range(3):  # first calls of torch's paths, not counted
        inst = bench.instances[plan["edit_instances"][0]]
        ex.rank(folder, inst.instance_id, edits(inst.instruction), RETRIEVERS, K)
    before = encoded(ex, folder)
    cold = random.Random(seed).sample(plan["unplanned"], N_UNCACHED)
    report = {"label": label, "inproc": in_process(ex, folder, plan, label, edits, cold),
              "payload": payloads(ex, folder, plan, label)}
    report["inproc_encoded"] = encoded(ex, folder) - before  # the edits' texts and the cold sweeps' ones
    spans = []
    wrapped = getattr(api, "call", None)
    if wrapped is not None:
        def timed_call(fn, *args):
            t = time.perf_counter()
            try:
                return wrapped(fn, *args)
            finally:
                spans.append((t, time.perf_counter()))
        api.call = timed_call

    def noop(text: str) -> dict:
        return {"text": text}

    def bench_stats() -> dict:
        return {"encoded": encoded(ex, folder), "spans": spans[-1:]}

    app = build_app(ex, default_dataset=folder)
    with app:
        gr.api(noop, api_name="noop")
        gr.api(bench_stats, api_name="bench_stats")
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    report.update(port=port, encoded_at_launch=encoded(ex, folder))
    print("READY " + json.dumps(report), flush=True)
    sys.stdin.read()  # until the parent closes it
    app.close()


# ---- the client side --------------------------------------------------------------------------
def rest_call(http, name: str, data: list, session: str | None = None) -> object:
    """POST /gradio_api/call/<name>, then the SSE result on the same connection: the answer. With
    a session hash, Gradio keeps one session state for the caller instead of building one per call."""
    body = {"data": data, **({"session_hash": session} if session else {})}
    event_id = http.post(f"call/{name}", json=body).raise_for_status().json()["event_id"]
    text = http.get(f"call/{name}/{event_id}").text
    if "event: complete" not in text:
        raise RuntimeError(text[:300])
    return json.loads(text.split("event: complete\ndata:", 1)[1].strip())[0]


def run_call(http, name: str, data: list) -> object:
    """POST /gradio_api/run/<name>: the direct route, no queue (a diagnostic)."""
    return http.post(f"run/{name}", json={"data": data}).raise_for_status().json()["data"][0]


def transports(url: str) -> dict:
    """name -> call(api_name, args) for each way of calling the server."""
    import httpx
    from gradio_client import Client

    slow = Client(url, verbose=False)
    fast = Client(url, verbose=False, ssl_verify=False, download_files=False)
    http = httpx.Client(base_url=f"{url}gradio_api/", timeout=120)
    session = f"bench{os.getpid()}"
    return {"client": lambda name, data: slow.predict(*data, api_name=f"/{name}"),
            "client_fast": lambda name, data: fast.predict(*data, api_name=f"/{name}"),
            "raw": lambda name, data: rest_call(http, name, data),
            "raw_session": lambda name, data: rest_call(http, name, data, session),
            "run": lambda name, data: run_call(http, name, data),
            "_stats": lambda: run_call(http, "bench_stats", [])}


def one(calls: dict, name: str, data: list, check) -> dict:
    """One timed call through one transport, split by the service call's span."""
    t0 = time.perf_counter()
    out = calls["call"](name, data)
    t1 = time.perf_counter()
    check(out)
    row = {"ms": (t1 - t0) * 1000}
    spans = calls["_stats"]()["spans"] if name != "noop" else []
    if spans and t0 <= spans[-1][0] <= t1:
        s0, s1 = spans[-1]
        row.update(before=(s0 - t0) * 1000, service=(s1 - s0) * 1000, after=(t1 - s1) * 1000)
    return row


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"unexpected answer: {what}")


def block(server: dict, plan: dict, part: slice, edits: Edits, bench) -> dict:
    """One interleaved block against one server: every transport, rank edits, sweeps, no-ops."""
    out = {}
    for transport in TRANSPORTS:
        calls = {"call": server["calls"][transport], "_stats": server["calls"]["_stats"]}
        rows = {"rank": [], "sweep": [], "noop": []}
        for j, qid in enumerate(plan["sweeps"][server["label"]][transport][part]):
            inst = bench.instances[plan["edit_instances"][j % len(plan["edit_instances"])]]
            data = [server["folder"], inst.instance_id, edits(inst.instruction), RETRIEVERS, K]
            rows["rank"].append(one(calls, "rank", data,
                                    lambda a: expect(set(a["retrievers"]) == set(RETRIEVERS), "rank")))
            rows["sweep"].append(one(calls, "sweep", [server["folder"], qid, RETRIEVERS, K],
                                     lambda a: expect(a["query_id"] == qid, "sweep")))
            rows["noop"].append(one(calls, "noop", [f"x{j}"], lambda a: expect(a == {"text": f"x{j}"}, "noop")))
        out[transport] = rows
    return out


def start_server(label: str, code: Path, folder: Path, cache: Path, plan_file: Path, seed: int, log: Path) -> dict:
    """A server subprocess with `demo` imported from `code`; returns its READY report and handle."""
    env = {**env_for(cache), "PYTHONPATH": str(code)}
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", str(plan_file),
                             "--label", label, "--folder", str(folder), "--seed", str(seed)],
                            cwd=code, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=log.open("w"), text=True)
    for line in proc.stdout:
        if line.startswith("READY "):
            report = json.loads(line[6:])
            return {"label": label, "proc": proc, "report": report, "folder": str(folder),
                    "url": f"http://127.0.0.1:{report['port']}/"}
    proc.wait()
    raise SystemExit(f"server {label} exited with {proc.returncode}; see {log}")


def stop_server(server: dict) -> None:
    proc = server["proc"]  # the process start_server started, by its handle
    proc.stdin.close()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()


def measure(servers: list[dict], plan: dict, n: int, rounds: int, seed: int, folder: Path) -> dict:
    """The interleaved blocks: round r measures every server (order alternating) on its r-th slice."""
    from demo.data.sources import open_source
    _, bench = open_source(str(folder))
    edits = Edits(seed)
    for server in servers:
        server["calls"] = transports(server["url"])
        for transport in TRANSPORTS:  # connections, first calls
            server["calls"][transport]("noop", ["warm"])
    rows = {s["label"]: {} for s in servers}
    loads = []
    step = -(-n // rounds)
    for r in range(rounds):
        order = servers if r % 2 == 0 else servers[::-1]
        for server in order:
            loads.append((server["label"], r, os.getloadavg()))
            got = block(server, plan, slice(r * step, (r + 1) * step), edits, bench)
            print(f"round {r + 1}/{rounds} {server['label']}: load {loadavg()}", flush=True)
            for transport, per in got.items():
                for name, values in per.items():
                    rows[server["label"]].setdefault(transport, {}).setdefault(name, []).extend(values)
    return {"rows": rows, "loads": loads}


def http_client_cost(n: int = 20) -> dict:
    """What gradio_client pays per predict for its two new httpx clients: one construction each."""
    import httpx
    out = {}
    for verify in (True, False):
        ms = []
        for _ in range(n):
            t = time.perf_counter()
            httpx.Client(verify=verify).close()
            ms.append((time.perf_counter() - t) * 1000)
        out[f"verify_{verify}"] = pct(ms, 50)
    return out


# ---- report -----------------------------------------------------------------------------------
BANDS = (50, 100, 150, 200)  # gradio_client looks for the answer every 50 ms: its times fall in bands


def digest(rows: list[dict]) -> dict:
    ms = [r["ms"] for r in rows]
    out = {"total": summary(ms), "bands": [sum(lo <= m < hi for m in ms)
                                           for lo, hi in zip((0,) + BANDS, BANDS + (float("inf"),))]}
    for part in ("before", "service", "after"):
        values = [r[part] for r in rows if part in r]
        if values:
            out[part] = summary(values)
    return out


def report_lines(result: dict) -> list[str]:
    lines = ["| server | endpoint | transport | p50 ms | p90 ms | before p50 | service p50 | after p50 |",
             "|---|---|---|---|---|---|---|---|"]
    for label, server in result["servers"].items():
        a = server["inproc"]
        for name in ("rank", "sweep"):
            lines.append(f"| {label} | /{name} | in-process Explorer.{name} | {a[name]['p50']:.1f} | "
                         f"{a[name]['p90']:.1f} | | | |")
        lines.append(f"| {label} | /sweep | in-process, query not in the cache ({a['sweep_uncached_encoded']} texts "
                     f"encoded) | {a['sweep_uncached']['p50']:.1f} | {a['sweep_uncached']['p90']:.1f} | | | |")
        for transport, per in server["api"].items():
            for name, d in per.items():
                cells = " | ".join(f"{d[part]['p50']:.1f}" if part in d else ""
                                   for part in ("before", "service", "after"))
                lines.append(f"| {label} | /{name} | {transport} | {d['total']['p50']:.1f} | {d['total']['p90']:.1f} "
                             f"| {cells} |")
    lines += ["", "| server | endpoint | service (raw_session) | + Gradio queue, SSE (raw_session) | + a session state "
              "per call (raw) | + gradio_client(ssl_verify=False) over raw_session | + gradio_client() over that |",
              "|---|---|---|---|---|---|---|"]
    for label, server in result["servers"].items():
        api = server["api"]
        for name in ("rank", "sweep", "noop"):
            p50 = {t: api[t][name]["total"]["p50"] for t in api}
            service = api["raw_session"][name].get("service", {}).get("p50", 0.0)
            lines.append(f"| {label} | /{name} | {service:.1f} | {p50['raw_session'] - service:.1f} | "
                         f"{p50['raw'] - p50['raw_session']:.1f} | {p50['client_fast'] - p50['raw_session']:.1f} | "
                         f"{p50['client'] - p50['client_fast']:.1f} |")
    lines += ["", "| server | endpoint | transport | calls in < 50, 50-100, 100-150, 150-200, >= 200 ms |",
              "|---|---|---|---|"]
    for label, server in result["servers"].items():
        for transport in ("client", "client_fast"):
            for name, d in server["api"][transport].items():
                lines.append(f"| {label} | /{name} | {transport} | {' / '.join(map(str, d['bands']))} |")
    lines += ["", "| server | endpoint | answer bytes | orjson(model_dump) ms (/queue/data) | json.dumps ms (/call) |",
              "|---|---|---|---|---|"]
    for label, server in result["servers"].items():
        for name, d in server["payload"].items():
            if name == "heavy_us":
                lines.append(f"| {label} | Heavy wrapper, µs p50 | local {d['local']:.1f} | "
                             f"public {d['public']:.1f} | |")
                continue
            lines.append(f"| {label} | /{name} | {d['bytes']:,} | {d['ms_p50']['queue_data_orjson']:.2f} | "
                         f"{d['ms_p50']['call_json']:.2f} |")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.api_full", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/instructir-full-api", help="folder for the dataset and the cache")
    ap.add_argument("--docs", type=int, default=16000)
    ap.add_argument("--n", type=int, default=30, help="calls per endpoint, transport and server (default 30)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved blocks (default 3)")
    ap.add_argument("--code", action="append", default=[],
                    help="NAME=DIR: a server importing demo from DIR (repeatable; default app=<this checkout>)")
    ap.add_argument("--seed", type=int, help="seed of the edits' words (default: from the clock)")
    ap.add_argument("--out", help="results JSON (default <work>/api-full.json)")
    ap.add_argument("--warm", help=argparse.SUPPRESS)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--label", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    if args.warm:
        print(json.dumps(warm(args.folder, json.loads(Path(args.warm).read_text()))))
        return 0
    if args.serve:
        serve(args.folder, json.loads(Path(args.serve).read_text()), args.label, seed)
        return 0
    work = Path(args.work)
    folder, cache = work / f"instructir-{args.docs}", work / f"cache-{args.docs}"
    codes = [tuple(c.split("=", 1)) for c in args.code] or [("app", str(ROOT))]
    result = {"machine": {"nproc": os.cpu_count(), "load_before": os.getloadavg()},
              "dataset": build_folder(folder, args.docs), "seed": seed}
    plan = make_plan(folder, [label for label, _ in codes], args.n)
    plan_file = work / f"plan-{plan_digest(plan)}.json"
    warmed = work / f"warm-{plan_digest(plan)}.json"
    plan_file.write_text(json.dumps(plan))
    if not warmed.exists():  # a separate process fills the disk cache
        proc = subprocess.run([sys.executable, "-m", "benchmarks.api_full", "--warm", str(plan_file), "--folder",
                               str(folder)], cwd=ROOT, env=env_for(cache), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        warmed.write_text(proc.stdout.strip().splitlines()[-1])
    result["warm"] = json.loads(warmed.read_text())
    result["http_client_ms"] = http_client_cost()
    servers = [start_server(label, Path(code), folder, cache, plan_file, seed + i + 1, work / f"server-{label}.log")
               for i, (label, code) in enumerate(codes)]
    try:
        got = measure(servers, plan, args.n, args.rounds, seed, folder)
        for server in servers:
            server["report"]["encoded_after"] = server["calls"]["_stats"]()["encoded"]
    finally:
        for server in servers:
            stop_server(server)
    result["loads"] = got["loads"]
    result["servers"] = {s["label"]: {**s["report"], "api": {t: {name: digest(rows) for name, rows in per.items()}
                                                             for t, per in got["rows"][s["label"]].items()},
                                      "calls": got["rows"][s["label"]]} for s in servers}
    result["machine"]["load_after"] = os.getloadavg()
    Path(args.out or work / "api-full.json").write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(report_lines(result)))
    print(f"httpx.Client() construction p50: {result['http_client_ms']}; load before "
          f"{result['machine']['load_before']}, after {result['machine']['load_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
