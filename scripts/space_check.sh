#!/usr/bin/env bash
# Reproduce a Hugging Face Space build of this repository here, and measure it.
#
#     scripts/space_check.sh [REPO]        # REPO: a path or URL to clone (default: this checkout)
#
# As a Space does: a fresh clone of the committed branch, the apt packages of packages.txt (only
# checked here: installing needs root and a network), a fresh venv with `pip install -r
# requirements.txt` and no pip configuration (PIP_CONFIG_FILE=/dev/null, no PIP_* variables but
# PIP_CERT), then `python app.py` with SPACE_ID, SYSTEM=spaces and GRADIO_SERVER_NAME=0.0.0.0.
# Unlike a Space, the hub is made unreachable on purpose (HF_ENDPOINT at a closed local port,
# HF_HUB_OFFLINE unset), to measure how the app behaves when the hub fails.
#
# Measured: install time, venv size, the torch build, time to the first page, the first ranking
# through gradio_client /rank, RSS after 20 rankings, /rank with bm25,mpnet while the hub fails, and
# the retriever list of public mode. Where PyTorch's CPU index is unreachable (this sandbox), torch
# alone comes from this machine's pip configuration (its local CPU wheel, the build the index would
# give) and the rest is installed with --retries 1; the output says so.
set -u
SRC=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
BRANCH=$(git -C "$SRC" rev-parse --abbrev-ref HEAD 2>/dev/null || echo "")
WORK=${SPACE_CHECK_DIR:-/tmp/space-check}
PYTHON=${PYTHON:-python3.11}
PORT=${SPACE_CHECK_PORT:-7877}
say() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

rm -rf "$WORK" && mkdir -p "$WORK"
say "== clone $SRC ${BRANCH:+(branch $BRANCH)}"
git clone -q --no-local ${BRANCH:+--branch "$BRANCH"} "$SRC" "$WORK/repo" || exit 1
cd "$WORK/repo" || exit 1
say "commit $(git rev-parse --short HEAD)"

say "== packages.txt"
while read -r pkg; do
  [ -z "$pkg" ] && continue
  if dpkg -s "$pkg" >/dev/null 2>&1; then say "$pkg: installed"; else say "$pkg: MISSING (a Space apt-get installs it)"; fi
done < packages.txt

say "== pip install -r requirements.txt (no pip configuration)"
CLEAN_ENV=(env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT -u PIP_DEFAULT_TIMEOUT
           -u PIP_DISABLE_PIP_VERSION_CHECK PIP_CONFIG_FILE=/dev/null)
"$PYTHON" -m venv "$WORK/venv" || exit 1
VPY="$WORK/venv/bin/python"
start=$(now)
RETRIES=()
if curl -s -o /dev/null --max-time 10 https://download.pytorch.org/whl/cpu/torch/; then
  say "PyTorch's CPU index is reachable: requirements.txt alone chooses torch"
else
  say "FALLBACK: PyTorch's CPU index (download.pytorch.org) is unreachable here; torch==2.13.0 alone comes"
  say "  from this machine's pip configuration (its local CPU wheel), the rest from PyPI with --retries 1"
  "$VPY" -m pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "WARNING: Location" | tail -3
  RETRIES=(--retries 1)
fi
"${CLEAN_ENV[@]}" "$VPY" -m pip install -q --disable-pip-version-check "${RETRIES[@]}" -r requirements.txt 2>&1 \
  | grep -v -e "Retrying (Retry" -e "WARNING: Location" | tail -5
rc=${PIPESTATUS[0]}
end=$(now)
say "install: exit $rc, $(secs "$start" "$end") s"
say "venv size: $(du -sh "$WORK/venv" | cut -f1)"
"$VPY" -c "import torch; print(f'torch {torch.__version__}, CUDA build: {torch.version.cuda is not None} ({torch.version.cuda}), cuda available: {torch.cuda.is_available()}')"
say "nvidia packages: $("$VPY" -m pip list 2>/dev/null | grep -ci '^nvidia')"
"$VPY" -c "import gradio; print('gradio', gradio.__version__)"

say "== python app.py as a Space (hub unreachable: HF_ENDPOINT at a closed port)"
CLOSED=$("$VPY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
APP_ENV=(env -u HF_HUB_OFFLINE -u HF_DATASETS_OFFLINE -u INSTRUCTIR_EXPLORER_MODEL_MEMORY_GB
         SPACE_ID=me/instructir-explorer SYSTEM=spaces GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT="$PORT"
         HF_ENDPOINT="http://127.0.0.1:$CLOSED" HF_HOME="$WORK/hf" INSTRUCTIR_EXPLORER_CACHE="$WORK/cache"
         INSTRUCTIR_EXPLORER_MODELS="$WORK/models" PYTHONUNBUFFERED=1)
start=$(now)
"${APP_ENV[@]}" "$VPY" app.py > "$WORK/app.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null' EXIT
until curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" | grep -q 200; do
  kill -0 $APP 2>/dev/null || { say "the app exited:"; cat "$WORK/app.log"; exit 1; }
  sleep 0.2
done
say "first page: $(secs "$start" "$(now)") s after start"

"${APP_ENV[@]}" APP_PID=$APP "$VPY" - <<'EOF'
import os, time
from gradio_client import Client

def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

client = Client(f"http://127.0.0.1:{os.environ['GRADIO_SERVER_PORT']}/", verbose=False)
inst = client.predict("demo", "101_1", api_name="/instance")
instruction = inst["instruction"] if isinstance(inst, dict) and "instruction" in inst else ""
default = ["bm25", "bm25@query", "minilm", "minilm@query"]
t = time.monotonic()
out = client.predict("demo", "101_1", instruction, default, 10, api_name="/rank")
errors = {r: c["error"] for r, c in out["retrievers"].items() if "error" in c}
print(f"first ranking ({','.join(default)}): {time.monotonic() - t:.1f} s; errors: {errors or 'none'}")
times = []
for i in range(20):
    t = time.monotonic()
    client.predict("demo", "101_1", f"{instruction} variant {i}", default, 10, api_name="/rank")
    times.append(time.monotonic() - t)
times.sort()
print(f"20 rankings: median {times[10] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; "
      f"app RSS after them: {rss_mb(int(os.environ['APP_PID'])):.0f} MB")
t = time.monotonic()
out = client.predict("demo", "101_1", instruction, ["bm25", "mpnet"], 10, api_name="/rank")
took = time.monotonic() - t
cols = out["retrievers"]
print(f"/rank bm25,mpnet with the hub failing: {took:.1f} s; bm25 column: "
      f"{'ranking of ' + str(len(cols['bm25'].get('ranking', []))) if 'ranking' in cols.get('bm25', {}) else cols.get('bm25')}; "
      f"mpnet: {cols.get('mpnet', {}).get('error', 'ranked')}")
EOF

say "== retriever list in public mode (the picker's choices; reasons of the others)"
"${APP_ENV[@]}" "$VPY" - <<'EOF'
from demo.retrievers.registry import model_choices, reranker_choices
from demo.ui.controls import retriever_choices
print("offered:", ", ".join(v for v, _ in retriever_choices()))
for rid, _, reason in model_choices() + reranker_choices():
    if reason:
        print(f"not offered: {rid}: {reason}")
EOF

say "== app log (warnings, tracebacks)"
grep -n -i -e "warn" -e "traceback" -e "error" -e "GRADIO_HOT_RELOAD" "$WORK/app.log" || say "none"
kill $APP 2>/dev/null
wait $APP 2>/dev/null
say "== done"
