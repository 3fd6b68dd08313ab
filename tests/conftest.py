import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

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
