"""Online/offline defaults: what huggingface_hub and datasets end up with, in a fresh process per
case (both libraries read the flags once, at import)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

PROBE = ("import demo, json, huggingface_hub.constants as h, datasets.config as d; "
         "from demo.settings import hub_offline; "
         "print(json.dumps([h.HF_HUB_OFFLINE, d.HF_HUB_OFFLINE, hub_offline()]))")
FLAGS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "SPACE_ID")


def flags_in_fresh_process(**env) -> list[bool]:
    base = {k: v for k, v in os.environ.items() if k not in FLAGS}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env},
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env, expected", [
    ({}, [True, True, True]),  # a laptop: offline
    ({"SPACE_ID": "someone/instructir-explorer"}, [False, False, False]),  # a Space: online
    ({"SPACE_ID": "someone/x", "HF_HUB_OFFLINE": "1"}, [True, True, True]),  # a Space told to stay offline
    ({"HF_HUB_OFFLINE": "0"}, [False, False, False]),  # a laptop told to go online: datasets follows
    ({"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "1"}, [False, True, False]),  # an explicit datasets flag wins
], ids=["laptop", "space", "space-forced-offline", "laptop-online", "datasets-own-flag"])
def test_offline_flags_reach_both_libraries(env, expected):
    assert flags_in_fresh_process(**env) == expected


def test_configured_datasets(monkeypatch):
    from demo.settings import configured_datasets
    monkeypatch.delenv("INSTRUCTIR_EXPLORER_DATASETS", raising=False)
    assert configured_datasets() == ["hf:kaist-ai/InstructIR"]
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DATASETS", " hf:a/b@v1, demo,hf:a/b@v1,,/data/x ")
    assert configured_datasets() == ["hf:a/b@v1", "/data/x"]


def test_memory_budget(monkeypatch):
    from demo.settings import memory_budget_bytes
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MEMORY_MB", "64")
    assert memory_budget_bytes() == 64 * 2**20
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MEMORY_MB", "lots")
    assert memory_budget_bytes() == 256 * 2**20
