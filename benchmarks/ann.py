"""ANN benchmark (issue 16): exact vs HNSW search with faiss, a step toward a million-passage corpus.

    python -m benchmarks.ann [--n 200000] [--queries 1000] [--ef-search 32,64,128,256] [--sets random,clustered]

For each vector set, --n passages and --queries queries of --dim (384, MiniLM's size) float32
values, L2-normalised, from a seeded generator:
- random: i.i.d. Gaussian directions (the pessimistic case for a graph index: no structure);
- clustered: --clusters Gaussian centres, each vector a random centre plus noise of norm
  about --noise (cosine to its centre ~ 1/sqrt(1 + noise^2)), then normalised; queries are
  drawn the same way. Closer to real embeddings, whose neighbours come in topics.
Two indexes, both inner product (= cosine on normalised vectors):
- exact: IndexFlatIP;
- HNSW: IndexHNSWFlat(dim, --M, METRIC_INNER_PRODUCT) with efConstruction --ef-construction,
  searched at each --ef-search.
Reported per set and index: build time (add), index size (len of faiss.serialize_index) and
bytes per passage, p50/p90 latency of a single query (one search call per query, --single of
them after a warm-up, with --search-threads OpenMP threads: 1 by default, as a server answering
several users would; the exact index is also timed with faiss's default thread count), and for
HNSW recall@k against the exact top k (all --queries queries, searched as one batch with all
threads). Exact single-query latency is also measured on prefixes of the corpus
(--scale-sizes) to show how it grows with the corpus.

The exact rank of a target with an approximate index: its score is one dot product with its
stored vector, its rank 1 + the number of passages scoring higher. The last section of each set
times that count as a brute-force numpy pass (matrix-vector product + comparison, BLAS limited
to --search-threads) over the vectors the HNSW index already stores (a zero-copy view of its
IndexFlat storage) and checks it against the exact index's ranking; at the end the same count
is timed on --count-at random vectors (default 1,000,000: 1.5 GB, out of every cache) rather
than only extrapolated.

faiss uses all cores (OpenMP) for the build and batch searches. Load averages are printed
before and after: on a shared machine, figures taken at a load above nproc are inflated.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import time

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.machine import cpu_model


def pct(xs, p: float) -> float:
    return float(np.percentile(np.asarray(xs, dtype=float), p))


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def vectors(kind: str, n: int, nq: int, dim: int, clusters: int, noise: float, seed: int):
    """(passages, queries), float32, L2-normalised."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        xb = rng.standard_normal((n, dim), dtype=np.float32)
        xq = rng.standard_normal((nq, dim), dtype=np.float32)
    elif kind == "clustered":
        centres = normalise(rng.standard_normal((clusters, dim), dtype=np.float32))
        scale = np.float32(noise / np.sqrt(dim))  # noise vectors of norm ~ noise

        def draw(m: int) -> np.ndarray:
            x = centres[rng.integers(0, clusters, m)]
            x += scale * rng.standard_normal((m, dim), dtype=np.float32)
            return x

        xb, xq = draw(n), draw(nq)
    else:
        raise SystemExit(f"unknown vector set {kind!r} (random, clustered)")
    return normalise(xb), normalise(xq)


def single_latency(index, xq: np.ndarray, k: int, n: int, threads: int) -> list[float]:
    """Wall ms of one search call per query (a few untimed first), with `threads` OpenMP threads."""
    default = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        for i in range(min(5, len(xq))):
            index.search(xq[i:i + 1], k)
        out = []
        for i in range(n):
            q = xq[i % len(xq):i % len(xq) + 1]
            t = time.perf_counter()
            index.search(q, k)
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        faiss.omp_set_num_threads(default)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))


def stored_vectors(hnsw: faiss.IndexHNSWFlat, dim: int) -> np.ndarray:
    """The passages' vectors as kept by the HNSW index's flat storage (no copy)."""
    storage = faiss.downcast_index(hnsw.storage)
    flat = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * dim)
    return np.asarray(flat).reshape(storage.ntotal, dim)


def exact_rank(xb: np.ndarray, q: np.ndarray, target: int) -> int:
    """1 + number of passages scoring strictly higher than the target."""
    scores = xb @ q
    return 1 + int(np.count_nonzero(scores > scores[target]))


def count_times(xb: np.ndarray, xq: np.ndarray, targets, threads: int) -> list[float]:
    """Wall ms of exact_rank per (query, target), BLAS limited to `threads`."""
    out = []
    with threadpool_limits(threads):
        exact_rank(xb, xq[0], int(targets[0]))
        for i, target in enumerate(targets):
            t = time.perf_counter()
            exact_rank(xb, xq[i % len(xq)], int(target))
            out.append((time.perf_counter() - t) * 1000)
    return out


def count_at(n: int, args) -> dict:
    """The brute-force count on n random vectors (generated in blocks to bound the temporaries)."""
    rng = np.random.default_rng(args.seed + 2)
    xb = np.empty((n, args.dim), dtype=np.float32)
    for i in range(0, n, 100_000):
        xb[i:i + 100_000] = normalise(rng.standard_normal((min(100_000, n - i), args.dim), dtype=np.float32))
    xq = normalise(rng.standard_normal((args.count_reps, args.dim), dtype=np.float32))
    times = count_times(xb, xq, rng.integers(0, n, args.count_reps), args.search_threads)
    return {"n": n, "dim": args.dim, "p50_ms": pct(times, 50), "p90_ms": pct(times, 90), "reps": len(times)}


def bench_set(kind: str, args) -> dict:
    t = time.perf_counter()
    xb, xq = vectors(kind, args.n, args.queries, args.dim, args.clusters, args.noise, args.seed)
    res: dict = {"set": kind, "n": args.n, "generate_s": time.perf_counter() - t, "rows": []}

    def row(name, build_s, index, lat, batch_s, rec):
        size = len(faiss.serialize_index(index))
        res["rows"].append({"index": name, "build_s": build_s, "bytes": size, "bytes_per": size / args.n,
                            "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "batch_qps": args.queries / batch_s,
                            "recall": rec})

    flat = faiss.IndexFlatIP(args.dim)
    t = time.perf_counter()
    flat.add(xb)
    build = time.perf_counter() - t
    t = time.perf_counter()
    _, truth = flat.search(xq, args.k)
    batch = time.perf_counter() - t
    row("exact IndexFlatIP", build, flat, single_latency(flat, xq, args.k, args.single, args.search_threads),
        batch, 1.0)
    threads = faiss.omp_get_max_threads()
    lat = single_latency(flat, xq, args.k, args.single, threads)
    res["exact_default_threads"] = {"threads": threads, "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90)}

    scaling = []
    for m in sorted(s for s in args.scale_sizes if s < args.n):
        sub = faiss.IndexFlatIP(args.dim)
        sub.add(xb[:m])
        scaling.append({"n": m, "p50_ms": pct(single_latency(sub, xq, args.k, args.single, args.search_threads), 50)})
        del sub
    scaling.append({"n": args.n, "p50_ms": res["rows"][0]["p50_ms"]})
    res["exact_scaling"] = scaling

    hnsw = faiss.IndexHNSWFlat(args.dim, args.M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    t = time.perf_counter()
    hnsw.add(xb)
    build = time.perf_counter() - t
    for ef in args.ef_search:
        hnsw.hnsw.efSearch = ef
        t = time.perf_counter()
        _, found = hnsw.search(xq, args.k)
        batch = time.perf_counter() - t
        row(f"HNSW M={args.M} efC={args.ef_construction} efSearch={ef}", build, hnsw,
            single_latency(hnsw, xq, args.k, args.single, args.search_threads), batch, recall(found, truth))

    # exact rank of a target beside the ANN list: one dot product + a brute-force count
    stored = stored_vectors(hnsw, args.dim)
    assert np.array_equal(stored[:3], xb[:3]) and not stored.flags.owndata
    targets = np.random.default_rng(args.seed + 1).integers(0, args.n, args.single)
    times = count_times(stored, xq, targets, args.search_threads)
    checked = min(args.check, len(targets))
    _, full = flat.search(xq[:checked], args.n)  # the exact index's whole ranking, for a check
    diffs = [abs(exact_rank(stored, xq[i], int(targets[i])) - 1 - int(np.nonzero(full[i] == targets[i])[0][0]))
             for i in range(checked)]  # float32 rounding: faiss (BLAS) and numpy sum in different orders
    res["count"] = {"p50_ms": pct(times, 50), "p90_ms": pct(times, 90), "checked": checked,
                    "agree": diffs.count(0), "max_rank_diff": max(diffs, default=0),
                    "linear_1m_ms": pct(times, 50) * 1_000_000 / args.n}
    return res


def markdown(res: dict, args) -> str:
    lines = [f"### {res['set']} vectors: {res['n']:,} x {args.dim}-d, {args.queries:,} queries, k = {args.k}", "",
             f"Single queries with {args.search_threads} search thread(s); batch and build with all.", "",
             f"| index | build | index size | bytes / passage | single query p50 | p90 | batch q/s | recall@{args.k} |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['index']} | {r['build_s']:.1f} s | {r['bytes'] / 2**20:.1f} MiB | {r['bytes_per']:,.0f} "
                     f"| {r['p50_ms']:.3f} ms | {r['p90_ms']:.3f} ms | {r['batch_qps']:,.0f} | {r['recall']:.3f} |")
    d, c = res["exact_default_threads"], res["count"]
    lines += ["", f"Exact single query with faiss's default {d['threads']} threads: p50 {d['p50_ms']:.3f} ms, "
              f"p90 {d['p90_ms']:.3f} ms.",
              "Exact single-query p50 by corpus size: "
              + ", ".join(f"{s['n']:,}: {s['p50_ms']:.2f} ms" for s in res["exact_scaling"]) + ".",
              f"Exact rank of a target by brute-force count over the stored vectors (numpy): p50 {c['p50_ms']:.2f} ms, "
              f"p90 {c['p90_ms']:.2f} ms (linear extrapolation to 1,000,000: {c['linear_1m_ms']:.0f} ms); same rank "
              f"as the exact index's ranking for {c['agree']}/{c['checked']} checked targets, at most "
              f"{c['max_rank_diff']} apart (float32 rounding between near-equal scores).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ann", description=__doc__.split("\n\n")[0])
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    ap.add_argument("--n", type=int, default=200_000, help="passages per vector set")
    ap.add_argument("--queries", type=int, default=1000, help="queries for recall and batch throughput")
    ap.add_argument("--single", type=int, default=200, help="timed single-query searches per setting")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--M", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef-search", type=ints, default=[32, 64, 128, 256])
    ap.add_argument("--sets", default="random,clustered")
    ap.add_argument("--clusters", type=int, default=2000)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--scale-sizes", type=ints, default=[25_000, 50_000, 100_000])
    ap.add_argument("--search-threads", type=int, default=1, help="OpenMP / BLAS threads for single queries")
    ap.add_argument("--count-at", type=int, default=1_000_000, help="time the brute-force count at this size too "
                    "(0: skip)")
    ap.add_argument("--count-reps", type=int, default=50)
    ap.add_argument("--check", type=int, default=20, help="targets whose brute-force rank is checked against exact")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args(argv)
    res = {"date": datetime.date.today().isoformat(), "machine": {"cpu": cpu_model(), "nproc": os.cpu_count(),
           "faiss_threads": faiss.omp_get_max_threads(), "load_before": loadavg()},
           "versions": {"faiss": faiss.__version__, "numpy": np.__version__}, "args": vars(args), "sets": []}
    t = time.perf_counter()
    for kind in args.sets.split(","):
        res["sets"].append(bench_set(kind, args))
        print(f"{kind}: done at {time.perf_counter() - t:.0f} s (load {loadavg()})", flush=True)
    if args.count_at:
        res["count_at"] = count_at(args.count_at, args)
    res["machine"]["load_after"] = loadavg()
    res["total_s"] = time.perf_counter() - t
    print(json.dumps({k: v for k, v in res.items() if k not in ("sets", "args")}, indent=1))
    for s in res["sets"]:
        print(markdown(s, args))
    if args.count_at:
        c = res["count_at"]
        print(f"Brute-force count measured on {c['n']:,} random {c['dim']}-d vectors: p50 {c['p50_ms']:.1f} ms, "
              f"p90 {c['p90_ms']:.1f} ms ({c['reps']} targets, {args.search_threads} BLAS thread(s)).")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
