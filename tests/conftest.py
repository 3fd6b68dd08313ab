import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The memory-fit rule (demo/retrievers/fit.py) is off unless a test sets a machine: which models are
# offered must not depend on the RAM of the machine running the suite (tests/unit/test_fit.py tests the rule).
os.environ.setdefault("INSTRUCTIR_EXPLORER_MODEL_MEMORY_GB", "0")
# Outside a test's own folder (module and session fixtures run before the per-test one below, and
# app servers answer between tests) the cache is this run's temporary folder, never the user's
# ~/.cache/instructir-explorer: tables, records and notes written there leaked into it before.
_SESSION_CACHE = tempfile.mkdtemp(prefix="instructir-test-session-")
os.environ["INSTRUCTIR_EXPLORER_CACHE"] = _SESSION_CACHE
atexit.register(shutil.rmtree, _SESSION_CACHE, True)

import demo  # noqa: E402,F401  (sets the offline flags before any HF import)
from helpers import SHARED, tiny_sentence_transformer, write_release  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own embedding and hub cache folder."""
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def tiny(tmp_path):
    return write_release(tmp_path / "tiny")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    return tiny_sentence_transformer(tmp_path_factory.mktemp("tinybert"))


@pytest.fixture
def shared_instructir():
    if not (SHARED / "queries.jsonl").exists():
        pytest.skip("../shared/instructir is absent")
    return SHARED
