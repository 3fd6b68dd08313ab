"""Memory and speed at full size, checked small: compact rankings equal full sorts, byte-bounded
memos, whole-dataset tables kept on disk, cold-start progress relayed to every waiting caller."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from demo import service
from demo.data.sources import LOADED
from demo.memo import ByteLRU
from demo.retrievers.templates import query_input
from demo.service import Corpus, Explorer


def full_ranks(corpus: Corpus, scores: np.ndarray) -> np.ndarray:
    """Reference: sort the whole corpus, score descending, doc id descending (DESIGN §4)."""
    order = np.lexsort((-corpus.id_order, -scores))
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
def test_head_and_tracked_ranks_equal_a_full_sort_with_ties(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n = 500
    ids = [f"d{j}" for j in rng.permutation(n)]
    scores = np.round(rng.random(n) * 20) / 4  # heavy ties
    corpus = Corpus(ScoresModel({"q": scores}), ids)
    monkeypatch.setattr(service, "TOP", 37)
    track = rng.choice(n, 25, replace=False).tolist()
    (r,), ref = corpus.rankings([service.EncodeInput("q")], track), full_ranks(corpus, scores)
    assert len(r.head) == 37
    np.testing.assert_array_equal(ref[r.head], np.arange(1, 38))
    assert all(r.rank(i) == ref[i] for i in track)
    assert [r.score(i) for i in r.head] == scores[r.head].tolist()


def test_byte_lru_keeps_within_budget_and_evicts_oldest():
    memo = ByteLRU(10_000)
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
    ex, src = tiny_ex
    monkeypatch.setattr(service, "TOP", 2)
    bench = ex.benchmark(src)
    inst = bench.instances["a_1"]
    edit = "Replace a stretched bicycle chain measured with a simple gauge tool"
    out = ex.rank(src, "a_1", edit, ["bm25"], 2)["retrievers"]["bm25"]
    corpus = ex.corpus(src, "bm25")
    tmpl = corpus.model.template

    def reference(instruction):  # BM25 retrieves only docs with a score above 0
        scores = corpus.model.score_all([query_input(tmpl, "full", instruction, inst.query)])[0]
        ranks = full_ranks(corpus, scores)
        return lambda i: int(ranks[i]) if scores[i] > 0 else None
    new, orig = reference(edit), reference(inst.instruction)
    for card in out["ranking"]:
        i = corpus.index[card["doc_id"]]
        assert card["rank"] == new(i) and card["original_rank"] == orig(i)
    assert out["target_rank"] == new(corpus.index["a_1"])
    assert any(card["original_rank"] is not None and card["original_rank"] > 2 for card in out["ranking"]), \
        "a card must come from beyond the kept head"


def test_memo_stays_within_its_byte_budget_however_many_instances_are_visited(tiny_ex):
    ex, src = tiny_ex
    bench = ex.benchmark(src)
    for n in range(30):
        for iid in bench.instances:
            ex.rank(src, iid, f"edit number {n} for {iid}", ["bm25", "bm25@query"], 10)
    assert 0 < ex._memo.nbytes <= ex._memo.budget == 48_000


def test_scoreboard_is_stored_and_a_new_process_reads_it(tiny_ex, monkeypatch, tmp_path):
    ex, src = tiny_ex
    seen = []
    first = ex.scoreboard(src, ["bm25", "bm25@query"], 10, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("ranking every instance with bm25@query", 6, 6)
    calls = []
    with monkeypatch.context() as m:  # not monkeypatch.undo(): that also drops the test's own cache folder
        m.setattr(Corpus, "rankings", lambda self, *a, **kw: calls.append(a) or [])
        again = Explorer()  # a restart: memory empty, the disk keeps the tables
        assert again.scoreboard(src, ["bm25", "bm25@query"], 10) == first and calls == []
    # a broken stored table is recomputed, not trusted (in this test's cache folder, not the user's)
    assert str(service.cache_dir()).startswith(str(tmp_path))
    for path in (service.cache_dir() / "tables").glob("*.json"):
        path.write_text(json.dumps({"a_1": 7.0}))
    assert Explorer().scoreboard(src, ["bm25", "bm25@query"], 10) == first


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
    monkeypatch.setattr(service, "load_model", lambda spec, cache: SlowModel())
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
        m.setattr(Corpus, "rankings", lambda self, *a, **kw: calls.append(a) or [])
        assert Explorer().inspect(src, ["bm25", "bm25@query"], 10) == first and calls == []
    stored = [p for p in (service.cache_dir() / "tables").glob("*.json")
              if isinstance(next(iter(json.loads(p.read_text()).values())), dict)]
    assert len(stored) == 2 and str(stored[0]).startswith(str(tmp_path))
    for path in stored:  # an outcome this project never writes
        records = json.loads(path.read_text())
        records[next(iter(records))]["outcome"] = "lucky"
        path.write_text(json.dumps(records))
    assert Explorer().inspect(src, ["bm25", "bm25@query"], 10) == first
