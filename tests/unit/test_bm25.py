"""BM25: the vectorised scorer gives rank_bm25's BM25Okapi scores; the tokenizer contract; depth cuts."""
from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from demo.data.records import Document
from demo.data.sources import load_source
from demo.metrics.ranking import ranked
from demo.retrievers.bm25 import BM25Index, tokenize
from demo.retrievers.sparse import BM25Model
from demo.retrievers.templates import TEMPLATES, EncodeInput
from helpers import engine_run


def assert_same_scores(index: BM25Index, okapi: BM25Okapi, queries: list[str]) -> None:
    got = index.scores(queries)
    assert got.shape == (len(queries), len(okapi.doc_len))
    for row, q in zip(got, queries):
        np.testing.assert_allclose(row, okapi.get_scores(tokenize(q)), rtol=0, atol=1e-9)


def test_scores_equal_rank_bm25_on_demo_dataset():
    bench = load_source("demo")
    texts = [d.text for d in bench.docs.values()]
    instances = list(bench.instances.values())
    queries = [i.text for i in instances[::12]][:20]
    queries.append(instances[0].query)  # bare query
    assert len(queries) >= 20
    index = BM25Index(texts)
    okapi = BM25Okapi([tokenize(t) for t in texts])
    assert_same_scores(index, okapi, queries)
    assert index.scores(queries[:1]).max() > 0


def random_corpus(seed: int):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(40)]
    common = ["omnipresent", "frequent"]  # in (nearly) every doc: negative idf -> rank_bm25's epsilon floor
    docs = []
    for _ in range(60):
        words = [rng.choice(vocab[: rng.randint(5, 40)]) for _ in range(rng.randint(1, 40))]
        words += ["omnipresent"] + (["frequent"] * rng.randint(1, 3) if rng.random() < 0.8 else [])
        rng.shuffle(words)
        docs.append(" ".join(words))
    queries = []
    for _ in range(30):
        terms = [rng.choice(vocab + common + ["unseenterm"]) for _ in range(rng.randint(1, 6))]
        terms += [terms[0]] * rng.randint(0, 3)  # repeated query terms
        queries.append(" ".join(terms))
    return docs, queries


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_rank_bm25_on_random_texts(seed):
    docs, queries = random_corpus(seed)
    assert all(tokenize(d) == d.split() for d in docs)  # the generated words pass the tokenizer unchanged
    okapi = BM25Okapi([d.split() for d in docs])
    assert okapi.idf["omnipresent"] == pytest.approx(0.25 * okapi.average_idf)
    assert_same_scores(BM25Index(docs), okapi, queries)


def test_repeated_query_terms_count_repeatedly():
    docs, _ = random_corpus(3)
    index = BM25Index(docs)
    once, twice, thrice = index.scores(["w1", "w1 w1", "w1 W1 w1"])
    assert once.max() > 0
    np.testing.assert_allclose(twice, 2 * once, atol=1e-12)
    np.testing.assert_allclose(thrice, 3 * once, atol=1e-12)


def test_other_parameters_follow_rank_bm25():
    docs, queries = random_corpus(4)
    okapi = BM25Okapi([d.split() for d in docs], k1=0.9, b=0.4, epsilon=0.1)
    assert_same_scores(BM25Index(docs, k1=0.9, b=0.4, epsilon=0.1), okapi, queries)


def test_tokenizer_contract():
    assert tokenize("Green TEA, brewed") == ["green", "tea", "brewed"]  # lower-case, punctuation splits
    assert tokenize("hand-sewn fox's naïve foo_bar 42") == ["hand", "sewn", "fox", "s", "naïve", "foo_bar", "42"]
    assert tokenize("what is the best way to do it") == ["best", "way"]  # stop words dropped
    assert tokenize("be polite [SEP] tea kettle") == ["polite", "sep", "tea", "kettle"]
    assert tokenize("") == [] and tokenize("the of and") == []


def test_sep_token_matches_no_passage_word():
    index = BM25Index(["a kettle for tea", "a separate sep token", "bike chain", "garden hose"])
    scores = index.scores(["[SEP]"])[0]
    assert scores[0] == 0 and scores[1] > 0  # "[SEP]" is the plain word "sep", no special treatment


def test_empty_doc_is_indexed_with_zero_scores():
    index = BM25Index(["tea kettle", "the of and", "kettle descaling"])
    scores = index.scores(["kettle"])[0]
    assert scores.shape == (3,) and scores[1] == 0 and scores[0] > 0


def tied_model(doc_ids_and_texts):
    model = BM25Model(TEMPLATES["sep"])
    model.index_corpus([Document(d, t) for d, t in doc_ids_and_texts])
    model.indexed_ids = [d for d, _ in doc_ids_and_texts]  # the engine's doc order (tests only)
    return model


def score(model, inputs, depth):
    """The model's run dicts through the engine (the doc order is the indexed one)."""
    return engine_run(model, model.indexed_ids, inputs, depth)


def test_depth_keeps_exactly_depth_docs_breaking_ties_by_doc_id():
    docs = [("d5", "apple banana"), ("z9", "cherry plum"), ("d1", "apple banana"), ("d3", "apple banana"),
            ("top", "apple apple banana"), ("d2", "apple banana"), ("a0", "plum pear"), ("d4", "apple banana")]
    model = tied_model(docs)
    query = [EncodeInput("apple")]
    full = score(model, query, None)[0]
    assert len(full) == 6  # z9 and a0 share no term with the query: not retrieved (score 0)
    assert ranked(full) == ["top", "d5", "d4", "d3", "d2", "d1"]  # ties by doc id descending (trec_eval)
    for depth in range(1, len(docs) + 2):
        kept = score(model, query, depth)[0]
        assert len(kept) == min(depth, 6)
        assert set(kept) == set(ranked(full)[:depth])
        assert all(kept[d] == full[d] for d in kept)
    assert set(score(model, query, 3)[0]) == {"top", "d5", "d4"}
    assert set(score(model, query, 7)[0]) == set(full)


def test_depth_on_random_ties():
    rng = random.Random(7)
    ids = [f"doc{n:03d}" for n in range(80)]
    rng.shuffle(ids)
    # fillers keep every colour in under half the docs: positive idf, so a shared term scores > 0
    model = tied_model([(d, " ".join(rng.choice(["red", "blue", "green"]) for _ in range(rng.randint(1, 3))))
                        for d in ids] + [(f"filler{n:03d}", "grey stone") for n in range(200)])
    inputs = [EncodeInput(q) for q in ("red", "blue green", "red red blue", "purple")]
    full = score(model, inputs, None)
    for depth in (1, 5, 17, 40, 79, 80):
        for scores, kept in zip(full, score(model, inputs, depth)):
            assert len(kept) == min(depth, len(scores))
            assert set(kept) == set(ranked(scores)[:depth])
            assert all(v > 0 for v in kept.values())
    assert full[-1] == {} and all(len(f) > 5 for f in full[:-1])  # "purple" shares no term: nothing retrieved


def test_bm25_model_scores_the_encoded_query_string():
    texts = ["tea kettle boil", "bike chain oil", "garden hose reel"]  # p3 keeps the idfs positive
    model = tied_model([(f"p{i}", t) for i, t in enumerate(texts, 1)])
    okapi = BM25Okapi([tokenize(t) for t in texts])
    text = TEMPLATES["sep"].query("oil the chain", "kettle")
    scores = score(model, [text], None)[0]
    assert set(scores) == {"p1", "p2"}  # p3 shares no term: not retrieved
    assert [scores["p1"], scores["p2"], 0.0] == pytest.approx(list(okapi.get_scores(tokenize("oil the chain [SEP] kettle"))),
                                                         abs=1e-12)
