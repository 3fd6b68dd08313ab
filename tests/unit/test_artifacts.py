"""Artifacts: export, reuse when model, revision and text hashes match, recompute otherwise,
and one log line (never wrong vectors) for corrupt, truncated or mismatched files."""
from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest

from demo import artifacts
from demo.artifacts import export, lookup_for, query_inputs, stale_models
from demo.cache import EmbeddingCache
from demo.data.release import load_folder
from demo.errors import UserError
from demo.retrievers.registry import ModelSpec, load_model
from demo.retrievers.templates import TEMPLATES
from helpers import TINY, assert_one_line_error, run_cli, write_release

PARAPHRASES = [("a_1.1", "Please give the exact steeping numbers for green tea.", "how to brew tea"),
               ("b_2.1", "My race bike has eleven speeds and I need the matching chain.", "when to replace bike chain")]


def spec(path) -> ModelSpec:
    return ModelSpec("tiny-bert", "Tiny BERT", "test", "sep", "cosine", local_path=str(path))


@pytest.fixture(autouse=True)
def fresh_reads(monkeypatch):
    monkeypatch.delenv(artifacts.ENV, raising=False)
    artifacts._load_folder.cache_clear()
    artifacts.configured_folders.cache_clear()
    yield
    artifacts._load_folder.cache_clear()
    artifacts.configured_folders.cache_clear()


@pytest.fixture
def bench(tmp_path):
    return load_folder(write_release(tmp_path / "tiny", paraphrases=PARAPHRASES))


def fresh_model(path, tmp_path, name: str):
    """The tiny model with an empty embedding cache of its own, artifacts looked up anew."""
    return load_model(spec(path), EmbeddingCache(tmp_path / name), artifacts=lookup_for)


@pytest.fixture
def exported(bench, tiny_model_path, tmp_path, monkeypatch):
    model = fresh_model(tiny_model_path, tmp_path, "export-cache")
    model.index_corpus(list(bench.docs.values()))
    folder = export(bench, {"tiny-bert": (spec(tiny_model_path), model)}, tmp_path / "art", "tiny")
    monkeypatch.setenv(artifacts.ENV, str(folder))
    return folder, model


def instance_inputs(bench, template):
    return query_inputs(bench, template)


def test_export_writes_npy_hashes_and_manifest(bench, exported):
    folder, model = exported
    manifest = json.loads((folder / "manifest.json").read_text())
    meta = manifest["models"]["tiny-bert"]
    assert manifest["format"] == artifacts.FORMAT and meta["corpus_rows"] == len(bench.docs)
    corpus = np.load(folder / "tiny-bert" / "corpus.npy", allow_pickle=False)
    ids = json.loads((folder / "tiny-bert" / "corpus.json").read_text())
    assert corpus.shape == (len(bench.docs), meta["dim"]) and ids["doc_ids"] == list(bench.docs)
    np.testing.assert_array_equal(corpus, model.encoder.encode(artifacts.document_inputs(bench, TEMPLATES["sep"])))
    # instances and paraphrases, each in full, query and instruction mode (deduplicated)
    queries = np.load(folder / "tiny-bert" / "queries.npy", allow_pickle=False)
    texts = {e.text for e in query_inputs(bench, TEMPLATES["sep"])}
    assert queries.shape[0] == meta["query_rows"] == len(texts)
    inst = bench.instances["a_1"]
    assert {f"{inst.instruction} [SEP] {inst.query}", inst.query, inst.instruction,
            f"{PARAPHRASES[0][1]} [SEP] {inst.query}"} <= texts
    assert not (folder.parent / "art.partial").exists()


def test_matching_artifacts_replace_every_encode(bench, exported, tiny_model_path, tmp_path):
    folder, original = exported
    served = fresh_model(tiny_model_path, tmp_path, "empty-cache")
    served.index_corpus(list(bench.docs.values()))
    inputs = query_inputs(bench, TEMPLATES["sep"])
    vectors = served.encoder.encode(inputs)
    assert served.encoder.encoded_count == 0 and served.encoder.artifact_hits == len(bench.docs) + len(inputs)
    np.testing.assert_array_equal(served.vectors, original.vectors)
    np.testing.assert_array_equal(vectors, original.encoder.encode(inputs))
    served.encoder.encode([artifacts.EncodeInput("a text nobody exported")])
    assert served.encoder.encoded_count == 1


def test_a_changed_passage_is_recomputed(bench, exported, tiny_model_path, tmp_path):
    corpus = [(d, t + " Edited." if d == "a_2" else t) for d, t in TINY["corpus"]]
    changed = load_folder(write_release(tmp_path / "changed", corpus=corpus, paraphrases=PARAPHRASES))
    model = fresh_model(tiny_model_path, tmp_path, "c2")
    model.index_corpus(list(changed.docs.values()))
    assert model.encoder.encoded_count == 1
    reference = load_model(spec(tiny_model_path))  # no cache, no artifacts
    reference.index_corpus(list(changed.docs.values()))
    np.testing.assert_allclose(model.vectors, reference.vectors, atol=1e-6)
    assert stale_models(exported[0], changed, {"tiny-bert": TEMPLATES["sep"]}) == ["tiny-bert"]
    assert stale_models(exported[0], bench, {"tiny-bert": TEMPLATES["sep"]}) == []


def rewrite_manifest(folder, **changes):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["models"]["tiny-bert"].update(changes)
    path.write_text(json.dumps(manifest))


def corrupt_truncate(folder):
    path = folder / "tiny-bert" / "corpus.npy"
    path.write_bytes(path.read_bytes()[:-100])


def corrupt_flip(folder):
    path = folder / "tiny-bert" / "corpus.npy"
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))


def corrupt_pickle(folder):
    """An object array (needs pickle to load), with the manifest's hash updated to match."""
    path = folder / "tiny-bert" / "corpus.npy"
    rows = json.loads((folder / "tiny-bert" / "corpus.json").read_text())["sha256"]
    np.save(path, np.array([[object()] * 3] * len(rows), dtype=object), allow_pickle=True)
    files = json.loads((folder / "manifest.json").read_text())["models"]["tiny-bert"]["files"]
    rewrite_manifest(folder, files={**files, "corpus.npy": artifacts.file_sha256(path)})


def corrupt_shape(folder):
    path = folder / "tiny-bert" / "corpus.npy"
    np.save(path, np.load(path)[:, :-1])
    files = json.loads((folder / "manifest.json").read_text())["models"]["tiny-bert"]["files"]
    rewrite_manifest(folder, files={**files, "corpus.npy": artifacts.file_sha256(path)})


def corrupt_manifest(folder):
    (folder / "manifest.json").write_text("{not json")


def other_revision(folder):
    rewrite_manifest(folder, revision="some-other-revision")


@pytest.mark.parametrize("damage, words", [
    (corrupt_truncate, "sha256"), (corrupt_flip, "sha256"), (corrupt_pickle, "corpus"),
    (corrupt_shape, "shape"), (corrupt_manifest, "manifest.json"), (other_revision, "revision some-other-revision"),
])
def test_bad_artifacts_log_one_line_and_are_recomputed(bench, exported, tiny_model_path, tmp_path, caplog, damage, words):
    folder, original = exported
    damage(folder)
    with caplog.at_level(logging.WARNING, logger="demo.artifacts"):
        model = fresh_model(tiny_model_path, tmp_path, "after-damage")
        model.index_corpus(list(bench.docs.values()))
    assert model.encoder.encoded_count == len(bench.docs) and model.encoder.artifact_hits == 0
    np.testing.assert_allclose(model.vectors, original.vectors, atol=1e-6)
    lines = [r.getMessage() for r in caplog.records if r.name == "demo.artifacts"]
    assert len(lines) == 1 and words in lines[0] and str(folder) in lines[0], lines


def test_hub_artifacts_offline_fail_fast_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    start = time.perf_counter()
    with pytest.raises(UserError) as err:
        artifacts.resolve_source("hf:someone/instructir-artifacts@v1")
    assert time.perf_counter() - start < 5
    assert "\n" not in str(err.value) and "offline" in str(err.value) and "hf:someone/instructir-artifacts@v1" in str(err.value)
    assert lookup_for("minilm", "x", 384, folders=[]) == []


def test_cli_export_and_bad_uses(tiny, tmp_path):
    out = tmp_path / "exported"
    proc = run_cli("index", "--dataset", tiny, "--retrievers", "bm25,minilm,minilm@query", "--export", out)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["models"]) == ["minilm"]  # BM25 has no embeddings
    assert np.load(out / "minilm" / "corpus.npy", allow_pickle=False).shape == (len(TINY["corpus"]), 384)
    assert_one_line_error(run_cli("index", "--dataset", tiny, "--retrievers", "bm25", "--export", out), "dense retriever")
    assert_one_line_error(run_cli("index", "--dataset", tiny, "--retrievers", "minilm", "--devices", "tpu:0"),
                          "unknown device")


def test_bundled_demo_artifacts_are_fresh():
    """assets/artifacts/demo (make demo-artifacts) must match the bundled dataset's texts; stale
    ones would only be ignored (recomputed), but then the cold start they promise is lost."""
    if not (artifacts.BUNDLED / "manifest.json").is_file():
        pytest.skip("no bundled artifacts (make demo-artifacts writes them)")
    from demo.data.sources import load_source
    from demo.retrievers.registry import MODELS
    manifest = json.loads((artifacts.BUNDLED / "manifest.json").read_text())
    templates = {m: TEMPLATES[MODELS[m].template] for m in manifest["models"]}
    assert stale_models(artifacts.BUNDLED, load_source("demo"), templates) == [], \
        "assets/artifacts/demo is stale: run `make demo-artifacts`"
