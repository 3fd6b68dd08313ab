"""Memory and speed at full size, checked small: compact rankings equal full sorts, byte-bounded
memos, whole-dataset tables kept on disk, cold-start progress relayed to every waiting caller."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from demo.data.sources import LOADED
from demo.engine import DocOrder, scored
from demo.keep import Keep, size_of
from demo.retrievers.templates import query_input
from demo.service import Explorer, corpora
from demo.service.rankings import Rankers


def full_ranks(doc_ids: list[str], scores: np.ndarray) -> np.ndarray:
    """Reference: sort the whole corpus, score descending, doc id descending."""
    order = sorted(range(len(doc_ids)), key=lambda j: (scores[j], doc_ids[j]), reverse=True)
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


class ScoresModel:
    template = None
    lexical = False

    def __init__(self, rows):
        self.rows = rows

    def score_all(self, inputs):
        return np.array([self.rows[e.text] for e in inputs])


@pytest.mark.parametrize("seed", range(5))
def test_head_and_tracked_ranks_equal_a_full_sort_with_ties(seed):
    from demo.retrievers.templates import EncodeInput
    rng = np.random.default_rng(seed)
    n = 500
    ids = [f"d{j}" for j in rng.permutation(n)]
    scores = np.round(rng.random(n) * 20) / 4  # heavy ties
    model, docs = ScoresModel({"q": scores}), DocOrder(ids)
    track = rng.choice(n, 25, replace=False).tolist()
    s = scored("q", model.score_all([EncodeInput("q")])[0], model.lexical)
    r, ref = docs.ranking(s, 37, track), full_ranks(ids, scores)
    assert len(r.head) == 37
    np.testing.assert_array_equal(ref[r.head], np.arange(1, 38))
    assert all(r.rank(i) == ref[i] for i in track)
    assert all(docs.rank(s, i) == ref[i] for i in range(n))
    np.testing.assert_array_equal(docs.full_ranks(s), ref)
    assert [r.score(i) for i in r.head] == scores[r.head].tolist()


def test_byte_lru_keeps_within_budget_and_evicts_oldest():
    memo = Keep(10_000, size_of)
    for j in range(50):
        memo.put(j, np.zeros(200))  # ~1.7 kB each
    assert memo.nbytes <= 10_000 and 0 not in memo and 49 in memo
    memo.get(45)  # now the most recent: 46 goes first
    memo.put(50, np.zeros(200))
    assert 45 in memo and 46 not in memo
    memo.put("huge", np.zeros(10_000))  # larger than the whole budget: not kept, nothing else lost
    assert "huge" not in memo and 50 in memo


@pytest.fixture
def tiny_ex(tiny):
    return Explorer(memory_bytes=64_000), str(tiny)


def test_cards_keep_exact_original_ranks_beyond_the_kept_head(tiny_ex, monkeypatch):
    """With a head of 2, the cards' original ranks (their shift) come from the tracked docs and
    match a full sort of the original ranking."""
    from demo.service import rankings
    ex, src = tiny_ex
    views_rankings, heads = Rankers.rankings, []

    def head_of_2(self, source, rid, queries, track=(), depth=None, **kw):  # the views' TOP is 2
        docs, out = views_rankings(self, source, rid, queries, track, 2 if depth is None else depth, **kw)
        heads.extend(len(r.head) for r in out if r is not None)
        return docs, out
    monkeypatch.setattr(rankings, "TOP", 2)
    monkeypatch.setattr(Rankers, "rankings", head_of_2)
    bench = ex.benchmark(src)
    inst = bench.instances["a_1"]
    edit = "Replace a stretched bicycle chain measured with a simple gauge tool"
    out = ex.rank(src, "a_1", edit, ["bm25"], 2)["retrievers"]["bm25"]
    corpus = ex.corpus(src, "bm25")
    tmpl = corpus.model.template

    def reference(instruction):  # BM25 retrieves only docs with a score above 0
        scores = corpus.model.score_all([query_input(tmpl, "full", instruction, inst.query)])[0]
        ranks = full_ranks(corpus.doc_ids, scores)
        return lambda i: int(ranks[i]) if scores[i] > 0 else None
    new, orig = reference(edit), reference(inst.instruction)
    for card in out["ranking"]:
        i = corpus.index[card["doc_id"]]
        assert card["rank"] == new(i) and card["original_rank"] == orig(i)
    assert out["target_rank"] == new(corpus.index["a_1"])
    assert any(card["original_rank"] is not None and card["original_rank"] > 2 for card in out["ranking"]), \
        "a card must come from beyond the kept head"
    assert heads and set(heads) == {2}


def test_memo_stays_within_its_byte_budget_however_many_instances_are_visited(tiny_ex):
    ex, src = tiny_ex
    bench = ex.benchmark(src)
    for n in range(30):
        for iid in bench.instances:
            ex.rank(src, iid, f"edit number {n} for {iid}", ["bm25", "bm25@query"], 10)
    assert 0 < ex.rankers.memo.nbytes <= ex.rankers.memo.maxsize == 48_000


def test_scoreboard_is_stored_and_a_new_process_reads_it(tiny_ex, monkeypatch, tmp_path):
    ex, src = tiny_ex
    seen = []
    first = ex.scoreboard(src, ["bm25", "bm25@query"], 10, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("ranking every instance with bm25@query", 6, 6)
    calls = []
    with monkeypatch.context() as m:  # not monkeypatch.undo(): that also drops the test's own cache folder
        no_ranking(m, calls)
        again = Explorer()  # a restart: memory empty, the disk keeps the tables
        assert again.scoreboard(src, ["bm25", "bm25@query"], 10) == first and calls == []
    # a broken stored table is recomputed, not trusted (in this test's cache folder, not the user's)
    store = ex.tables._disk()
    assert str(store.directory).startswith(str(tmp_path))
    keys = stored_keys(store)
    assert len(keys) == 2
    for key in keys:  # damaged bytes: the checksum fails
        store._cache.set(key, b"garbage" + bytes(range(256)))
    assert Explorer().scoreboard(src, ["bm25", "bm25@query"], 10) == first
    assert all(store.get_blob(key) is not None for key in keys)  # stored again
    for key in keys:  # intact bytes of a table that does not fit the dataset
        store.set_blob(key, json.dumps({"a_1": 7.0}).encode())
    calls = []
    with monkeypatch.context() as m:
        counting(m, calls)
        assert Explorer().scoreboard(src, ["bm25", "bm25@query"], 10) == first and calls


def no_ranking(m, calls):
    """Record, instead of computing, any ranking or scores asked of the rankers."""
    m.setattr(Rankers, "rankings", lambda self, *a, **kw: calls.append(a) or (None, []))
    m.setattr(Rankers, "scores", lambda self, *a, **kw: calls.append(a) or (None, []))


def counting(m, calls):
    """Record every scores call and compute it."""
    scores = Rankers.scores
    m.setattr(Rankers, "scores", lambda self, *a, **kw: calls.append(a) or scores(self, *a, **kw))


def stored_keys(store) -> list[str]:
    """The keys of the tables stored on disk (a diskcache.Cache under the checksummed store)."""
    return list(store._cache.iterkeys())


def test_a_changed_dataset_does_not_reuse_stored_tables(tiny, tmp_path):
    from helpers import TINY, write_release
    src = str(tiny)
    first = Explorer().instance_ndcgs(src, ["bm25"], 10)["bm25"]
    corpus = [(d, "unrelated words only" if d == "a_1" else t) for d, t in TINY["corpus"]]
    other = write_release(tmp_path / "other", corpus=corpus)
    LOADED.clear()  # the loaded-dataset table (was an lru_cache)
    second = Explorer().instance_ndcgs(str(other), ["bm25"], 10)["bm25"]
    assert second["a_1"] < first["a_1"]


class SlowModel:
    """Stands in for a dense model whose corpus embedding takes a while, reporting progress."""
    template = None

    def index_corpus(self, docs, progress=None):
        for j in range(1, 4):
            time.sleep(0.3)
            progress(j, 3)


def test_cold_start_progress_moves_and_reaches_a_caller_that_waits(tiny, monkeypatch):
    monkeypatch.setattr(corpora, "load_model", lambda spec, cache, devices=None, artifacts=None: SlowModel())
    ex, src = Explorer(), str(tiny)
    first, waiting = [], []
    builder = threading.Thread(target=lambda: ex.corpus(src, "minilm", on_stage=lambda *a: first.append(a)))
    builder.start()
    time.sleep(0.1)
    ex.corpus(src, "minilm", on_stage=lambda *a: waiting.append(a))  # blocks until built, hearing progress
    builder.join()
    assert first[0] == ("loading", 0, 1) and first[-1] == ("embedding", 3, 3)
    assert [s for s, _, _ in first] == ["loading", "embedding", "embedding", "embedding", "embedding"]
    assert waiting and {s for s, _, _ in waiting} <= {"loading", "embedding"} and len(set(waiting)) >= 2
    assert ex.status(src, "minilm") is None


def test_inspection_records_are_stored_and_a_new_process_reads_them(tiny_ex, monkeypatch, tmp_path):
    """The Inspect tab's table (9,906 instances: 14 s at full size) survives a restart, as the
    scoreboard's does; a stored file that does not fit is recomputed, not trusted."""
    _, src = tiny_ex
    first = Explorer().inspect(src, ["bm25", "bm25@query"], 10)  # fresh: nothing in memory from other tests
    calls = []
    with monkeypatch.context() as m:
        no_ranking(m, calls)
        assert Explorer().inspect(src, ["bm25", "bm25@query"], 10) == first and calls == []
    store = Explorer().tables._disk()
    stored = {key: json.loads(store.get_blob(key)) for key in stored_keys(store)}
    assert len(stored) == 2 and str(store.directory).startswith(str(tmp_path))
    assert all(isinstance(next(iter(records.values())), dict) for records in stored.values())
    for key, records in stored.items():  # an outcome this project never writes, intact bytes
        records[next(iter(records))]["outcome"] = "lucky"
        store.set_blob(key, json.dumps(records).encode())
    with monkeypatch.context() as m:
        counting(m, calls)
        assert Explorer().inspect(src, ["bm25", "bm25@query"], 10) == first and calls
