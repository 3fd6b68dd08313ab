"""Bounded hub access (demo.hubaccess): with the hub refusing connections (a closed port) or
stalling (accepts, never answers), loading a hub model, a reranker or an hf: dataset fails with one
line within a few seconds (it took 24-82 s); a pinned revision in the Hugging Face cache still loads;
and artifacts published as a hub dataset are read back from a cache laid out as the hub lays it out."""
from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest
from cachetools import TTLCache

from demo import artifacts, hubaccess
from demo.errors import UserError
from demo.keep import Keep
from demo.retrievers import registry
from demo.retrievers.registry import MODELS, ModelSpec, ModelUnavailable

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stalling_port():
    """A server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held, stop = [], threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


@pytest.fixture
def hub_at(monkeypatch, tmp_path):
    """Point huggingface_hub at http://127.0.0.1:PORT with an empty cache, online."""
    import huggingface_hub.constants as c

    def use(port: int):
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
        monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)  # the library read HF_HUB_OFFLINE=1 at import (conftest)
        monkeypatch.setattr(c, "ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf"))
        monkeypatch.setattr(hubaccess, "_failures", TTLCache(maxsize=16, ttl=hubaccess.RECHECK_S))
        monkeypatch.setattr(registry, "_RERANKERS", Keep(len(registry.RERANKERS)))
        monkeypatch.setenv("INSTRUCTIR_EXPLORER_HUB_TIMEOUT", "2")
    return use


def one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize("server", ["refuses", "stalls"])
def test_a_hub_model_fails_in_seconds_with_one_line(hub_at, stalling_port, server):
    hub_at(closed_port() if server == "refuses" else stalling_port)
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as e:
        registry.load_model(MODELS["gtr-t5-base"])
    assert time.monotonic() - start < 8  # one request of at most 2 s here (3 s by default), plus imports
    text = one_line(e.value)
    assert text.startswith("gtr-t5-base unavailable: the Hugging Face hub (http://127.0.0.1:")
    assert (("is unreachable (" in text) if server == "refuses" else text.endswith("did not answer within 2 s")), text


@pytest.mark.parametrize("server", ["refuses", "stalls"])
def test_the_hub_dataset_fails_in_seconds_with_one_line(hub_at, stalling_port, server):
    from demo.data.hub import hub_folder
    hub_at(closed_port() if server == "refuses" else stalling_port)
    start = time.monotonic()
    with pytest.raises(UserError) as e:
        hub_folder("hf:kaist-ai/InstructIR")
    assert time.monotonic() - start < 5
    assert one_line(e.value).startswith("cannot load hf:kaist-ai/InstructIR@1615ed0e")
    assert "the Hugging Face hub (http://127.0.0.1:" in str(e.value)


def test_a_reranker_and_hub_artifacts_fail_in_seconds(hub_at):
    hub_at(closed_port())
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as e:
        registry.load_reranker("ms-marco-minilm")
    assert one_line(e.value).startswith("ms-marco-minilm unavailable: the Hugging Face hub")
    with pytest.raises(UserError) as e:
        artifacts.resolve_source("hf:someone/instructir-artifacts")
    assert "the Hugging Face hub (http://127.0.0.1:" in one_line(e.value)
    assert time.monotonic() - start < 8


def test_a_failed_hub_is_asked_again_only_after_a_few_seconds(hub_at, stalling_port, monkeypatch):
    hub_at(stalling_port)
    start = time.monotonic()
    for repo in ("a/b", "c/d", "e/f"):  # three columns of one request: one wait, not three
        with pytest.raises(hubaccess.HubUnreachable):
            hubaccess.check(repo)
    assert time.monotonic() - start < 4
    hubaccess._failures.clear()  # as RECHECK_S seconds later
    start = time.monotonic()
    with pytest.raises(hubaccess.HubUnreachable):
        hubaccess.check("a/b")
    assert time.monotonic() - start >= 1.9  # asked again


def _cache_layout(root, kind: str, repo: str, source) -> str:
    """Copy `source` where huggingface_hub keeps repo@COMMIT: <kind>s--org--name/snapshots/<commit>/."""
    base = root / f"{kind}s--{repo.replace('/', '--')}"
    shutil.copytree(source, base / "snapshots" / COMMIT)
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(COMMIT)
    return str(base / "snapshots" / COMMIT)


def test_a_pinned_revision_in_the_cache_loads_while_the_hub_is_down(hub_at, tiny_model_path, tmp_path):
    """As on a Space whose preload_from_hub fetched the model at build time."""
    hub_at(closed_port())
    folder = _cache_layout(tmp_path / "hf", "model", "someone/tiny", tiny_model_path)
    spec = ModelSpec("tiny-hub", "Tiny", "test", "sep", "cosine", "someone/tiny", COMMIT, params=1000)
    start = time.monotonic()
    model = registry.load_model(spec)
    assert time.monotonic() - start < 8
    assert model.encoder.revision == COMMIT
    assert model.encoder.encode([artifacts.EncodeInput("some text")]).shape[0] == 1
    assert hubaccess.resolve("someone/tiny", COMMIT) == folder


def test_artifacts_read_back_from_the_hub_cache_layout(tmp_path, monkeypatch, tiny_model_path):
    """Artifacts exported, then laid out as `huggingface_hub` caches a dataset repo
    (datasets--org--name/snapshots/<rev>/), are found offline through HF_HUB_CACHE and served."""
    import huggingface_hub.constants as c
    from demo.artifacts import export, lookup_for
    from demo.cache import EmbeddingCache
    from demo.data.release import load_folder
    from helpers import write_release
    bench = load_folder(write_release(tmp_path / "tiny"))
    spec = ModelSpec("tiny-bert", "Tiny BERT", "test", "sep", "cosine", local_path=str(tiny_model_path))
    model = registry.load_model(spec, EmbeddingCache(tmp_path / "c1"))
    model.index_corpus(list(bench.docs.values()))
    exported = export(bench, {"tiny-bert": (spec, model)}, tmp_path / "art", "tiny")
    folder = _cache_layout(tmp_path / "hf", "dataset", "me/instructir-artifacts", exported)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf"))
    for source in (f"hf:me/instructir-artifacts@{COMMIT}", "hf:me/instructir-artifacts"):
        assert str(artifacts.resolve_source(source)) == folder
    monkeypatch.setenv(artifacts.ENV, "hf:me/instructir-artifacts")
    artifacts._load_folder.cache_clear()
    artifacts.configured_folders.cache_clear()
    try:
        served = registry.load_model(spec, EmbeddingCache(tmp_path / "c2"), artifacts=lookup_for)
        served.index_corpus(list(bench.docs.values()))
        assert served.encoder.encoded_count == 0 and served.encoder.artifact_hits == len(bench.docs)
        assert lookup_for("tiny-bert", model.encoder.revision, served.encoder.dim) != []
    finally:
        artifacts._load_folder.cache_clear()
        artifacts.configured_folders.cache_clear()
