"""The hub loader (demo.data.hub): a local folder in the hub repo's shape goes through the real
`datasets` code path; offline, `hf:` sources fail fast with one clear line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo.data.hub import INSTRUCTIR_REVISION, hub_folder, materialize, parse_hub_source
from demo.data.release import load_folder
from demo.data.sources import canonical, resolve
from demo.errors import UserError
from helpers import TINY, write_release

ROOT = Path(__file__).resolve().parents[2]

README = """---
configs:
- config_name: corpus
  data_files:
  - split: corpus
    path: corpus.jsonl
- config_name: queries
  data_files:
  - split: queries
    path: queries.jsonl
- config_name: qrels
  data_files:
  - split: test
    path: qrels/test.tsv
---
# A test repository in the shape of kaist-ai/InstructIR
"""


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path, monkeypatch):
    """Keep the `datasets` library's own cache inside the test folder."""
    import datasets
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))


def hub_shaped_repo(folder: Path) -> Path:
    """The TINY data as the hub repo holds it: README configs, jsonl files, qrels with hub column names."""
    (folder / "qrels").mkdir(parents=True)
    (folder / "README.md").write_text(README, encoding="utf-8")
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": "Title " + d if d.startswith("x") else "", "text": t}) + "\n"
                for d, t in TINY["corpus"]), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": f"{i} [SEP] {o}", "metadata": {"origin_query": o}}) + "\n"
                for q, i, o in TINY["queries"]), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{q}\t1\n" for q, _, _ in TINY["queries"]), encoding="utf-8")
    return folder


def same_benchmark(a, b) -> None:
    assert dict(a.docs) == dict(b.docs)
    assert {k: (v.query_id, v.query, v.instruction, dict(v.qrels)) for k, v in a.instances.items()} == \
           {k: (v.query_id, v.query, v.instruction, dict(v.qrels)) for k, v in b.instances.items()}
    assert dict(a.groups) == dict(b.groups)
    assert dict(a.paraphrases) == dict(b.paraphrases)


def test_materialize_local_repo_equals_direct_load(tmp_path):
    repo = hub_shaped_repo(tmp_path / "repo")
    out = materialize(str(repo), None, tmp_path / "materialized")
    assert out == tmp_path / "materialized"
    assert not (tmp_path / "materialized.partial").exists()
    hub = load_folder(out)

    direct_folder = write_release(tmp_path / "direct")
    rows = [json.loads(line) for line in (repo / "corpus.jsonl").read_text().splitlines()]  # same titles
    (direct_folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    direct = load_folder(direct_folder)

    same_benchmark(hub, direct)
    assert hub.docs["x_1"].title == "Title x_1"
    assert len(hub.instances) == 6 and len(hub.groups) == 2


def test_materialize_writes_release_layout(tmp_path):
    out = materialize(str(hub_shaped_repo(tmp_path / "repo")), None, tmp_path / "out")
    header, *rows = (out / "qrels" / "test.tsv").read_text().splitlines()
    assert header.split("\t") == ["qid", "pid", "score"]
    assert sorted(rows) == sorted(f"{q}\t{q}\t1" for q, _, _ in TINY["queries"])
    ids = [json.loads(line)["_id"] for line in (out / "queries.jsonl").read_text().splitlines()]
    assert ids == [q for q, _, _ in TINY["queries"]]


def test_materialize_missing_repo_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot load hf:") as e:
        materialize(str(tmp_path / "nowhere"), None, tmp_path / "out")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_downloaded_hub_folder_is_reused_offline(tmp_path, monkeypatch):
    # isolated_cache points INSTRUCTIR_EXPLORER_CACHE at tmp_path/cache
    target = tmp_path / "cache" / "datasets" / f"kaist-ai__InstructIR@{INSTRUCTIR_REVISION}"
    materialize(str(hub_shaped_repo(tmp_path / "repo")), None, target)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_folder("hf:kaist-ai/InstructIR") == target
    key = canonical("hf:kaist-ai/InstructIR")
    assert key == f"hf:kaist-ai/InstructIR@{INSTRUCTIR_REVISION}"
    folder = resolve(key)
    assert len(load_folder(folder).instances) == 6
    with pytest.raises(UserError, match="offline"):
        hub_folder("hf:kaist-ai/InstructIR@someotherrev")


def test_offline_cli_fails_fast_with_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INSTRUCTIR_EXPLORER_CACHE": str(tmp_path / "empty-cache")}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "demo", "validate", "--dataset", "hf:kaist-ai/InstructIR"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert elapsed < 20
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "kaist-ai/InstructIR" in lines[0] and "offline" in lines[0].lower()


def test_parse_hub_source_pins_instructir_revision():
    assert INSTRUCTIR_REVISION == "1615ed0ee07d6d33b0082362f008bfe62041a54b"
    assert parse_hub_source("hf:kaist-ai/InstructIR") == ("kaist-ai/InstructIR", INSTRUCTIR_REVISION)


def test_parse_hub_source_honours_revision():
    assert parse_hub_source("hf:kaist-ai/InstructIR@abc123") == ("kaist-ai/InstructIR", "abc123")
    assert parse_hub_source("hf:someone/other") == ("someone/other", "main")
    assert parse_hub_source("hf:someone/other@v2") == ("someone/other", "v2")


@pytest.mark.parametrize("source", ["hf:", "hf:InstructIR", "hf:kaist-ai/InstructIR/extra", "hf:/InstructIR",
                                    "hf:kaist-ai/", "hf:@abc"])
def test_bad_hub_source(source):
    with pytest.raises(UserError, match="bad hub source"):
        parse_hub_source(source)


def test_bad_hub_source_through_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "demo", "validate", "--dataset", "hf:no-slash"],
                          cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "hf:no-slash" in proc.stderr
