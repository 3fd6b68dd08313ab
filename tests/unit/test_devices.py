"""Device, precision and ZeroGPU selection, checked on CPU with stand-ins for torch's device
probes, for SentenceTransformer and for the `spaces` package."""
import dataclasses
import sys
import types

import numpy as np
import pytest
import torch

from demo import devices
from demo.errors import UserError
from demo.retrievers import encoders, registry
from demo.retrievers.encoders import SentenceTransformerEncoder
from demo.retrievers.templates import EncodeInput


def fake_torch(cuda=False, mps=False):
    return types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda),
                                 backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps)),
                                 float16=torch.float16)


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("INSTRUCTIR_EXPLORER_DEVICE", raising=False)
    assert devices.select_device(torch=fake_torch(cuda, mps)) == expected
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "auto")
    assert devices.select_device(torch=fake_torch(cuda, mps)) == expected


def test_requested_device_wins_and_is_checked(monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "cpu")
    assert devices.select_device(torch=fake_torch(cuda=True)) == "cpu"
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "cuda:1")
    assert devices.select_device(torch=fake_torch(cuda=True)) == "cuda:1"
    with pytest.raises(UserError, match="no CUDA device"):
        devices.select_device(torch=fake_torch(mps=True))
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "tpu")
    with pytest.raises(UserError, match="unknown device 'tpu'"):
        devices.select_device(torch=fake_torch())


def test_parse_devices_list():
    assert devices.parse_devices("cuda:0, cuda:1", fake_torch(cuda=True)) == ["cuda:0", "cuda:1"]
    assert devices.parse_devices("cpu,cpu", fake_torch()) == ["cpu", "cpu"]
    with pytest.raises(UserError):
        devices.parse_devices("cuda:0", fake_torch())


@pytest.mark.parametrize("model_id, device, half", [
    ("e5-mistral-7b-instruct", "cuda", True), ("promptriever-llama3.1-8b-instruct", "cuda:1", True),
    ("e5-mistral-7b-instruct", "mps", True), ("e5-mistral-7b-instruct", "cpu", False),
    ("minilm", "cuda", False), ("bge-base-en-v1.5", "cuda", False)])
def test_half_precision_only_for_big_models_on_gpu(model_id, device, half):
    dtype = devices.dtype_for(registry.MODELS[model_id].params, device)
    assert dtype == (torch.float16 if half else None)


class RecordingST:
    """Stands in for sentence_transformers.SentenceTransformer: records how it was built."""
    built: list = []

    def __init__(self, name, **kwargs):
        RecordingST.built.append((name, kwargs))

    def get_embedding_dimension(self):
        return 4

    def __iter__(self):
        return iter(())


@pytest.mark.parametrize("cuda, model_id, device, dtype", [
    (True, "e5-mistral-7b-instruct", "cuda", torch.float16),
    (True, "gtr-t5-base", "cuda", None),
    (False, "e5-mistral-7b-instruct", "cpu", None),
])
def test_each_model_gets_its_device_and_dtype(monkeypatch, cuda, model_id, device, dtype):
    import sentence_transformers
    monkeypatch.delenv("INSTRUCTIR_EXPLORER_DEVICE", raising=False)
    monkeypatch.setattr(devices, "available_devices", lambda torch=None: {"cuda": cuda, "mps": False})
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", RecordingST)
    RecordingST.built.clear()
    enc = registry._load_encoder(registry.MODELS[model_id])
    (name, kwargs), = RecordingST.built
    assert name == registry.MODELS[model_id].hub_id and kwargs["device"] == device
    assert kwargs.get("model_kwargs", {}).get("dtype") == dtype
    assert enc.pool_devices is None


def test_several_devices_build_a_pool_on_the_first(monkeypatch):
    import sentence_transformers
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", RecordingST)
    RecordingST.built.clear()
    enc = registry._load_encoder(registry.MODELS["minilm"], ["cpu", "cpu"])
    assert RecordingST.built[0][1]["device"] == "cpu" and enc.pool_devices == ["cpu", "cpu"]


def test_unavailable_device_is_a_column_error(monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DEVICE", "cuda")
    monkeypatch.setattr(devices, "available_devices", lambda torch=None: {"cuda": False, "mps": False})
    with pytest.raises(registry.ModelUnavailable, match="minilm unavailable: device 'cuda'"):
        registry.load_model(registry.MODELS["minilm"])


class FakeModel:
    def __init__(self):
        self.calls = []

    def get_embedding_dimension(self):
        return 3

    def encode(self, texts, **kwargs):
        self.calls.append((len(texts), kwargs.get("device")))
        return np.ones((len(texts), 3), dtype=np.float32)


def test_encode_runs_under_spaces_gpu_when_spaces_is_importable(monkeypatch):
    calls = []

    def gpu(fn):
        def wrapper(*a, **kw):
            calls.append(fn.__name__)
            return fn(*a, **kw)
        return wrapper
    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    enc = SentenceTransformerEncoder(FakeModel(), "m", "r", True)
    enc.encode([EncodeInput("a"), EncodeInput("b")])
    assert calls == ["_model_encode"]


def test_without_spaces_the_wrapper_is_the_function(monkeypatch):
    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None)
    assert devices.on_gpu(len) is len


def test_pool_only_for_large_encodes(monkeypatch):
    monkeypatch.setattr(encoders, "POOL_MIN_TEXTS", 5)
    model = FakeModel()
    enc = SentenceTransformerEncoder(model, "m", "r", True, pool_devices=["cuda:0", "cuda:1"])
    enc.encode([EncodeInput(str(i)) for i in range(3)])
    enc.encode([EncodeInput(str(i)) for i in range(7)])
    assert model.calls == [(3, None), (7, ["cuda:0", "cuda:1"])]


def test_real_pool_on_two_cpu_processes_gives_the_same_vectors(tiny_model_path, monkeypatch):
    """sentence-transformers' multi-process pool, for real, with two CPU workers."""
    from sentence_transformers import SentenceTransformer
    monkeypatch.setattr(encoders, "POOL_MIN_TEXTS", 4)
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    inputs = [EncodeInput(f"text number {i} about tea") for i in range(10)]
    single = SentenceTransformerEncoder(model, "m", "r", True).encode(inputs)
    pooled = SentenceTransformerEncoder(model, "m", "r", True, pool_devices=["cpu", "cpu"]).encode(inputs)
    np.testing.assert_allclose(pooled, single, atol=1e-5)
