"""Measure the memory overhead factor the memory-fit rule (demo/retrievers/fit.py) multiplies a
model's weight bytes by: resident memory added by loading a model and running one encode, divided
by parameters x bytes per parameter (float32 on CPU).

    python -m benchmarks.memory_fit [--models minilm,mpnet] [--texts 64]

Each model is measured in a fresh process: RSS after importing torch and sentence-transformers
(before), after loading the model (loaded), after one encode of `--texts` passages of ~120 words
(encoded) and the peak (VmHWM). Figures go to benchmarks/RESULTS-space.md by hand.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, os, sys
def rss():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
import torch, sentence_transformers  # noqa: F401
sys.path.insert(0, os.getcwd())
from demo.retrievers.registry import MODELS, _local_path
spec = MODELS[sys.argv[1]]
before, _ = rss()
local = _local_path(spec)
model = sentence_transformers.SentenceTransformer(str(local) if local else spec.hub_id, device="cpu")
loaded, _ = rss()
params = sum(p.numel() for p in model.parameters())
texts = [" ".join(["retrieval instruction passage query user"] * 24)] * int(sys.argv[2])
model.encode(texts, batch_size=32)
encoded, peak = rss()
print(json.dumps({"model": spec.model_id, "params": params, "weights_fp32": params * 4, "before": before,
                  "loaded": loaded, "encoded": encoded, "peak": peak}))
"""


def measure(model_id: str, texts: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, model_id, str(texts)], capture_output=True, text=True,
                         check=True, env=None).stdout
    row = json.loads(out.strip().splitlines()[-1])
    row["factor_loaded"] = (row["loaded"] - row["before"]) / row["weights_fp32"]
    row["factor_encoded"] = (row["encoded"] - row["before"]) / row["weights_fp32"]
    row["factor_peak"] = (row["peak"] - row["before"]) / row["weights_fp32"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="minilm,mpnet")
    p.add_argument("--texts", type=int, default=64)
    args = p.parse_args()
    mb = 2**20
    print("| model | parameters | fp32 weights | RSS before | + after load | + after one encode | peak | factor (encode) | factor (peak) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model_id in args.models.split(","):
        r = measure(model_id, args.texts)
        print(f"| {r['model']} | {r['params'] / 1e6:.1f}M | {r['weights_fp32'] / mb:.0f} MB | {r['before'] / mb:.0f} MB "
              f"| {(r['loaded'] - r['before']) / mb:.0f} MB | {(r['encoded'] - r['before']) / mb:.0f} MB "
              f"| {(r['peak'] - r['before']) / mb:.0f} MB | {r['factor_encoded']:.2f} | {r['factor_peak']:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
