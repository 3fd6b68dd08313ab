"""The memory-fit rule (demo.retrievers.fit): a model or reranker whose estimate does not fit the
machine is listed once with the reason, refused before anything loads, and not offered in the
retriever picker; small models are offered."""
from __future__ import annotations

import pytest

from demo.retrievers import fit, registry
from demo.retrievers.registry import MODELS, RERANKERS, ModelSpec, ModelUnavailable

GiB = 2**30
CPU16 = fit.Machine("cpu", 16 * GiB)
FAKE_7B = ModelSpec("fake-7b", "Fake 7B", "Fake", "sep", "cosine", "example/fake-7b", "0" * 40,
                    params=7_000_000_000)


@pytest.fixture
def on(monkeypatch):
    """Pretend to be a given machine; the registry's memoised choice lists start afresh."""
    def use(where):
        monkeypatch.setattr(fit, "machine", lambda: where)
        registry.model_choices.cache_clear()
        registry.reranker_choices.cache_clear()
    yield use
    registry.model_choices.cache_clear()
    registry.reranker_choices.cache_clear()


def test_a_7b_model_does_not_fit_a_16gb_cpu_machine():
    reason = fit.model_fits(FAKE_7B, CPU16)
    assert reason.startswith("too big for this machine: about 38 GB (7.0B parameters in float32) with 16 GB")
    assert reason.endswith("needs a GPU with ≥ 22 GB")
    assert "\n" not in reason


def test_small_models_fit_and_big_ones_fit_a_big_gpu_in_half_precision():
    for model_id in ("minilm", "mpnet", "gtr-t5-base", "bge-base-en-v1.5"):
        assert fit.model_fits(MODELS[model_id], CPU16) is None
    assert fit.model_fits(MODELS["bm25"], fit.Machine("cpu", 1)) is None  # no weights
    assert fit.model_fits(FAKE_7B, fit.Machine("cuda", 24 * GiB)) is None
    small_gpu = fit.model_fits(FAKE_7B, fit.Machine("cuda", 12 * GiB))
    assert "float16" in small_gpu and "needs a GPU with ≥ 22 GB" in small_gpu
    assert fit.estimate(1_000_000_000, "cuda") < fit.estimate(1_000_000_000, "cpu")  # fp16 vs fp32


def test_the_estimate_covers_the_measured_peaks():
    """benchmarks/RESULTS-space.md: MiniLM 248 MB, MPNet 720 MB added at peak (load + one encode)."""
    MB = 2**20
    assert fit.estimate(MODELS["minilm"].params, "cpu") >= 248 * MB
    assert fit.estimate(109_500_000, "cpu") >= 720 * MB


def test_refused_before_anything_loads(on, monkeypatch):
    on(CPU16)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # online: only the memory rule can refuse it

    def no_load(*args, **kwargs):
        raise AssertionError("tried to load")
    monkeypatch.setattr(registry, "_shared_encoder", no_load)
    monkeypatch.setattr(registry, "_hub_snapshot", no_load)
    assert "needs a GPU with ≥ 22 GB" in registry.availability(FAKE_7B)
    with pytest.raises(ModelUnavailable, match=r"^fake-7b unavailable: too big for this machine: .*needs a GPU"):
        registry.load_model(FAKE_7B)
    with pytest.raises(ModelUnavailable, match=r"^followir-7b unavailable: too big for this machine"):
        registry.load_reranker("followir-7b")


def test_public_picker_offers_minilm_not_the_7b_models(on, monkeypatch):
    on(CPU16)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "1")
    from demo.ui.controls import retriever_choices
    from demo.ui.render import render_unavailable
    offered = {value for value, _ in retriever_choices()}
    assert {"bm25", "minilm", "minilm@query", "gtr-t5-base", "bm25>ms-marco-minilm"} <= offered
    assert not {"e5-mistral-7b-instruct", "promptriever-llama3.1-8b-instruct", "bm25>followir-7b"} & offered
    listing = render_unavailable(registry.model_choices() + registry.reranker_choices())
    for name in ("e5-mistral-7b-instruct", "promptriever-llama3.1-8b-instruct", "followir-7b"):
        assert listing.count(f"{name} <small>") == 1  # listed once, with the reason
    assert listing.count("needs a GPU with ≥") == 2 * 3  # the text and its tooltip


def test_on_a_big_gpu_the_7b_models_are_offered(on, monkeypatch):
    on(fit.Machine("cuda", 80 * GiB))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    reasons = {mid: reason for mid, _, reason in registry.model_choices()}
    assert reasons["e5-mistral-7b-instruct"] is None
    assert dict((r, reason) for r, _, reason in registry.reranker_choices())["followir-7b"] is None


def test_ram_is_the_lower_of_meminfo_and_the_cgroup_limit(tmp_path):
    (tmp_path / "meminfo").write_text("MemTotal:       24683772 kB\nMemFree: 1 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert fit.ram_bytes(tmp_path / "meminfo", cgroup) == 24683772 * 1024
    (cgroup / "memory.max").write_text("max\n")
    assert fit.ram_bytes(tmp_path / "meminfo", cgroup) == 24683772 * 1024
    (cgroup / "memory.max").write_text(f"{16 * GiB}\n")
    assert fit.ram_bytes(tmp_path / "meminfo", cgroup) == 16 * GiB


def test_the_environment_overrides_or_turns_off_the_check(monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "cpu")
    monkeypatch.setenv(fit.ENV, "64")
    fit.machine.cache_clear()
    try:
        assert fit.machine() == fit.Machine("cpu", 64 * GiB)
        assert fit.model_fits(FAKE_7B) is None  # 38 GB of 48 usable
        monkeypatch.setenv(fit.ENV, "0")
        fit.machine.cache_clear()
        assert fit.machine() is None and fit.model_fits(FAKE_7B) is None
        monkeypatch.delenv(fit.ENV)
        fit.machine.cache_clear()
        assert fit.machine().device == "cpu" and fit.machine().memory > 0  # this machine's RAM
    finally:
        fit.machine.cache_clear()


def test_zerogpu_counts_as_a_big_gpu(monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "cpu")
    monkeypatch.delenv(fit.ENV, raising=False)
    fit.machine.cache_clear()
    try:
        assert fit.machine().device == "cuda" and fit.model_fits(MODELS["e5-mistral-7b-instruct"]) is None
    finally:
        fit.machine.cache_clear()
