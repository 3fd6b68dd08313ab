"""Hosting in public (public mode, docs/architecture.md; issue 9), probed as a visitor would: through the API of a
launched app (gradio_client) and through the CLI. One test (or group) per defect the issue lists."""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from app_server import launched, new_explorer
from helpers import TINY, assert_one_line_error, run_cli, write_release

gradio_client = pytest.importorskip("gradio_client")
AppError = gradio_client.exceptions.AppError
ASSETS_DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo"


@pytest.fixture(scope="module")
def explorer():
    return new_explorer()


@pytest.fixture(scope="module")
def client(explorer):
    with launched(explorer, warm=("bm25",)) as url:
        yield gradio_client.Client(url, verbose=False)


def app_error(client, *args, api_name: str) -> str:
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    return str(info.value)


# ---------------------------------------------------------------- 1. one key per dataset, bounded memory

def test_aliases_of_one_dataset_share_one_index(client, explorer, tmp_path):
    link = tmp_path / "link-to-demo"
    link.symlink_to(ASSETS_DEMO)
    inst = next(iter(explorer.benchmark("demo").instances))
    aliases = ["demo", " " * 50 + "demo", f"{ASSETS_DEMO}/.", str(link), f"/proc/self/root{ASSETS_DEMO}"]
    outs = [client.predict(a, inst, None, ["bm25"], 10, api_name="/rank") for a in aliases]
    assert all(o["retrievers"]["bm25"]["ranking"] == outs[0]["retrievers"]["bm25"]["ranking"] for o in outs)
    # one index, not one per spelling
    assert {key[0] for key in explorer.corpora._corpora._items.keys()} == {"demo"}
    assert all(explorer.corpus(a, "bm25") is explorer.corpus("demo", "bm25") for a in aliases)


def test_loaded_datasets_and_indexes_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MAX_INDEXES", "3")
    from demo.data.sources import LOADED
    explorer = new_explorer()
    with launched(explorer, warm=()) as url:
        client = gradio_client.Client(url, verbose=False)
        for n in range(6):
            folder = write_release(tmp_path / f"copy{n}")
            client.predict(str(folder), "a_1", None, ["bm25"], 5, api_name="/rank")
            assert len(explorer.corpora._corpora) <= 3
            assert len(LOADED._items) <= LOADED.limit
    assert len(explorer.corpora._corpora) == 3


def test_one_loaded_model_serves_every_dataset(tmp_path):
    from demo.service import Explorer
    explorer = new_explorer()
    a = explorer.corpus(str(write_release(tmp_path / "a")), "minilm")
    b = explorer.corpus(str(write_release(tmp_path / "b")), "minilm")
    assert a is not b and isinstance(explorer, Explorer)
    assert a.model.encoder.encoder is b.model.encoder.encoder  # the SentenceTransformer, loaded once


# ---------------------------------------------------------------- 2. public mode (also test_public_mode.py)

def test_public_dataset_choices_are_the_configured_list(monkeypatch):
    from demo.data.sources import dataset_choices
    monkeypatch.setenv("SPACE_ID", "someone/space")
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_DATASETS", "hf:kaist-ai/InstructIR, /srv/x")
    assert dataset_choices() == ["demo", "hf:kaist-ai/InstructIR", "/srv/x"]
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "0")  # a Space may opt out explicitly
    assert "hf:kaist-ai/InstructIR" in dataset_choices()


def test_exports_are_deleted_after_their_time_to_live(monkeypatch, tmp_path):
    from demo.ui import export
    monkeypatch.setattr(export.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_EXPORT_TTL", "3600")
    old = export.write_exports({"a.csv": "x"})
    folder = Path(old[0]).parent
    os.utime(folder, (time.time() - 3700, time.time() - 3700))
    fresh = export.write_exports({"b.csv": "y"})  # each export sweeps expired ones
    assert not folder.exists() and Path(fresh[0]).is_file()
    assert [p.name for p in (tmp_path / export.EXPORT_ROOT).iterdir()] == [Path(fresh[0]).parent.name]


def test_gradio_copies_of_exports_expire_too():
    from demo.ui.app import build_app
    assert build_app(new_explorer()).delete_cache == (600, 3600)


def test_query_embedding_cache_has_a_byte_limit(monkeypatch):
    from demo.cache import default_cache
    cache = default_cache()
    assert cache._cache.size_limit == 2**30
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE_MB", "64")
    assert default_cache()._cache.size_limit == 64 * 2**20


# ---------------------------------------------------------------- 3. cache faults are never fatal

def unusable_cache_dir(tmp_path) -> Path:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")  # unwritable even for root
    return blocker / "cache"


def test_cli_works_without_a_usable_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(unusable_cache_dir(tmp_path)))
    proc = run_cli("evaluate", "--dataset", write_release(tmp_path / "tiny"), "--retrievers", "bm25,minilm")
    assert proc.returncode == 0, proc.stderr
    assert "minilm" in proc.stdout and "in memory" in proc.stderr
    assert proc.stderr.count("in memory") == 1  # said once


def test_api_works_without_a_usable_cache(tmp_path, monkeypatch):
    from demo.service import Explorer
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(unusable_cache_dir(tmp_path)))
    tiny = str(write_release(tmp_path / "tiny"))
    with launched(Explorer(), warm=()) as url:
        client = gradio_client.Client(url, verbose=False)
        out = client.predict(tiny, "a_1", None, ["bm25", "minilm"], 5, api_name="/rank")
        again = client.predict(tiny, "a_1", "a different need", ["bm25", "minilm"], 5, api_name="/rank")
    for o in (out, again):
        assert set(o["retrievers"]) == {"bm25", "minilm"}
        assert all("error" not in col for col in o["retrievers"].values()), o


def test_cache_deleted_under_load_never_fails_a_request(tmp_path):
    from demo.cache import EmbeddingCache
    cache = EmbeddingCache(tmp_path / "emb")
    errors, stop = [], threading.Event()

    def work(n):
        rng = np.random.default_rng(n)
        try:
            while not stop.is_set():
                keys = [f"k{n}-{rng.integers(1000)}" for _ in range(8)]
                cache.set_many({k: rng.random(16, dtype=np.float32) for k in keys})
                cache.get_many(keys, 16)
        except Exception as e:  # noqa: BLE001 - any escape is the failure under test
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for _ in range(30):
        shutil.rmtree(tmp_path / "emb", ignore_errors=True)
        time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_a_fault_while_indexing_is_not_remembered_as_a_model_failure(tmp_path, monkeypatch):
    from demo.retrievers.dense import DenseModel
    explorer = new_explorer()
    tiny = str(write_release(tmp_path / "tiny"))
    real, calls = DenseModel.index_corpus, []

    def flaky(self, docs, progress=None):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(self, docs, progress)

    monkeypatch.setattr(DenseModel, "index_corpus", flaky)
    first = explorer.rank(tiny, "a_1", None, ["minilm"], 5)
    assert "No space left" in first["retrievers"]["minilm"]["error"]
    second = explorer.rank(tiny, "a_1", None, ["minilm"], 5)
    assert "error" not in second["retrievers"]["minilm"] and len(calls) == 2


def test_a_zeroed_cache_row_is_detected_and_recomputed(tmp_path):
    from demo.cache import EmbeddingCache, embedding_key
    from demo.retrievers.registry import MODELS, load_model
    cache = EmbeddingCache(tmp_path / "emb")
    bench = new_explorer().benchmark(str(write_release(tmp_path / "tiny")))
    docs = list(bench.docs.values())
    model = load_model(MODELS["minilm"], cache)
    model.index_corpus(docs)
    enc, doc = model.encoder, model.template.document(docs[0])
    key = embedding_key(enc.name, enc.revision, doc.prompt, doc.text)
    raw = cache._cache.get(key)
    cache._cache.set(key, bytes(len(raw)))  # same length, all zeros
    again = load_model(MODELS["minilm"], cache)
    again.index_corpus(docs)
    assert again.encoder.encoded_count == 1  # that row only
    np.testing.assert_allclose(again.vectors, model.vectors, atol=1e-6)


# ---------------------------------------------------------------- 4. long work runs once

def test_indexing_runs_once_however_many_ask(tmp_path, monkeypatch):
    from demo.retrievers.dense import DenseModel
    real, calls = DenseModel.index_corpus, []

    def counted(self, docs, progress=None):
        calls.append(len(docs))
        time.sleep(0.5)  # long enough for every request to arrive while it runs
        return real(self, docs, progress)

    monkeypatch.setattr(DenseModel, "index_corpus", counted)
    tiny = str(write_release(tmp_path / "tiny"))
    with launched(new_explorer(), warm=()) as url:
        client = gradio_client.Client(url, verbose=False)
        aliases = [tiny, tiny + "/", " " + tiny, tiny + "/."] * 2
        with ThreadPoolExecutor(8) as pool:
            outs = list(pool.map(lambda a: client.predict(a, "a_1", None, ["minilm"], 5, api_name="/rank"), aliases))
    assert calls == [len(TINY["corpus"])]
    assert all(o == outs[0] for o in outs)


# ---------------------------------------------------------------- 5. every bad input gets one line

def deep_json_folder(tmp_path) -> Path:
    folder = write_release(tmp_path / "deep")
    with (folder / "queries.jsonl").open("a", encoding="utf-8") as f:
        f.write("[" * 5000 + "]" * 5000 + "\n")
    return folder


def inf_qrels_folder(tmp_path) -> Path:
    folder = write_release(tmp_path / "inf")
    with (folder / "qrels" / "test.tsv").open("a", encoding="utf-8") as f:
        f.write("a_1\tx_1\tinf\n")
    return folder


@pytest.mark.parametrize("args, message", [
    (("demo", "INST", "x", None, 10), "retrievers must be a list of strings"),
    (("demo", "INST", "x", [1, 2], 10), "retrievers must be a list of strings"),
    (("demo", "INST", 42, ["bm25"], 10), "instruction must be text"),
    (("demo", "INST", ["a", "b"], ["bm25"], 10), "instruction must be text"),
    (("demo", "INST", "x", ["bm25"], 10.7), "k must be a whole number"),
    (("demo", "INST", "x", ["bm25"], True), "k must be a whole number"),
    (("demo", 7, "x", ["bm25"], 10), "instance id must be text"),
    ((["demo"], "INST", "x", ["bm25"], 10), "dataset must be text"),
    (("~nosuchuser", "INST", "x", ["bm25"], 10), "not found"),
    (("/" + "d" * 5000, "INST", "x", ["bm25"], 10), "too long"),
    (("/tmp/" + "d" * 300 + "/x", "INST", "x", ["bm25"], 10), "cannot be read"),
    (("/proc/1/cwd", "INST", "x", ["bm25"], 10), "not found"),
    (("DEEP", "a_1", "x", ["bm25"], 10), "nested too deeply"),
    (("INF", "a_1", "x", ["bm25"], 10), "not a finite number"),
])
def test_bad_api_input_gets_one_clear_line(client, explorer, tmp_path, args, message):
    inst = next(iter(explorer.benchmark("demo").instances))
    swap = {"INST": inst, "DEEP": str(deep_json_folder(tmp_path)), "INF": str(inf_qrels_folder(tmp_path))}
    args = tuple(swap.get(a, a) if isinstance(a, str) else a for a in args)
    assert message in app_error(client, *args, api_name="/rank")


def raw_call(base_url: str, api_name: str, body: str) -> str:
    """Gradio's HTTP API without the client (which cannot send a lone surrogate): the event stream."""
    import httpx
    posted = httpx.post(f"{base_url}gradio_api/call/{api_name}", content=body,
                        headers={"Content-Type": "application/json"}, timeout=30)
    posted.raise_for_status()
    return httpx.get(f"{base_url}gradio_api/call/{api_name}/{posted.json()['event_id']}", timeout=60).text


def test_a_lone_surrogate_in_the_instruction_gets_one_line(client, explorer):
    inst = next(iter(explorer.benchmark("demo").instances))
    body = json.dumps({"data": ["demo", inst, "x\ud800y", ["bm25", "minilm"], 10]})  # ASCII JSON with the escape
    stream = raw_call(client.src, "rank", body)
    assert "event: error" in stream and "lone surrogate" in stream, stream[:500]


def test_k_as_a_whole_float_is_accepted(client, explorer):
    inst = next(iter(explorer.benchmark("demo").instances))
    assert len(client.predict("demo", inst, None, ["bm25"], 7.0, api_name="/rank")["retrievers"]["bm25"]["ranking"]) == 7


@pytest.mark.parametrize("dataset, message", [
    ("~nosuchuser", "not found"), ("/" + "d" * 5000, "too long"), ("/tmp/" + "d" * 300 + "/x", "cannot be read"),
    ("/proc/1/cwd", "not found"), ("DEEP", "nested too deeply"), ("INF", "not a finite number"),
])
def test_bad_cli_input_gets_exit_2_and_one_line(tmp_path, dataset, message):
    dataset = {"DEEP": str(deep_json_folder(tmp_path)), "INF": str(inf_qrels_folder(tmp_path))}.get(dataset, dataset)
    assert_one_line_error(run_cli("validate", "--dataset", dataset, timeout=120), message)


def test_missing_and_existing_non_dataset_folders_read_the_same(tmp_path):
    (tmp_path / "folderA1").mkdir()
    (tmp_path / "folderA1" / "secret.txt").write_text("x")
    one = assert_one_line_error(run_cli("validate", "--dataset", tmp_path / "folderA1", timeout=120))
    two = assert_one_line_error(run_cli("validate", "--dataset", tmp_path / "folderB2", timeout=120))
    assert one.replace("folderA1", "X") == two.replace("folderB2", "X")


def test_csv_cells_cannot_become_formulas():
    import csv
    import io
    from demo.ui.export import to_csv
    card = {"doc_id": '=HYPERLINK("http://x.example","click")', "rank": 1, "score": 1.0, "shift": -3,
            "original_rank": 4, "is_target": True, "is_sibling": False}
    result = {"k": 10, "instance_id": "@SUM(A1)", "robustness": {"+cmd": 0.5},
              "retrievers": {"+cmd": {"ranking": [card], "ndcg": 1.0, "target_rank": 1, "original_target_rank": 4}}}
    (row,) = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert row["doc_id"] == "'" + card["doc_id"] and row["instance_id"] == "'@SUM(A1)" and row["retriever"] == "'+cmd"
    assert row["shift"] == "-3"  # numbers stay numbers
    assert json.loads(json.dumps(row))  # plain strings


def test_failed_loads_leave_nothing_behind(tmp_path):
    from demo.data.sources import LOADED
    explorer = new_explorer()
    for n in range(20):
        with pytest.raises(Exception, match="not found"):
            explorer.benchmark(str(tmp_path / f"missing{n}"))
    assert LOADED._key_locks == {}


# ---- public mode through the API, as an anonymous visitor probes it: only the offered datasets
# open, nothing tells which server paths exist, errors name no server path, caps say so ----------

@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """A launched app in public mode, offering demo and one configured folder."""
    root = tmp_path_factory.mktemp("public")
    offered = write_release(root / "srv" / "offered")
    other = write_release(root / "srv" / "elsewhere")  # a valid dataset the host did not offer
    big = write_release(root / "srv" / "big", corpus=TINY["corpus"] + [(f"x_{i + 10}", f"filler passage {i}")
                                                                      for i in range(40)])
    broken = write_release(root / "srv" / "broken")
    (broken / "corpus.jsonl").write_text('{"_id": "a_1", "text": \n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "1")
        mp.setenv("INSTRUCTIR_EXPLORER_DATASETS", f"{offered},{big},{broken},hf:kaist-ai/InstructIR")
        mp.setenv("INSTRUCTIR_EXPLORER_MAX_DOCS", "20")
        mp.setenv("INSTRUCTIR_EXPLORER_MAX_UPLOAD_MB", "1")
        with launched(new_explorer(), warm=("bm25",)) as url:
            yield gradio_client.Client(url, verbose=False), url, {"offered": offered, "other": other,
                                                                 "big": big, "broken": broken, "root": root}


def test_public_mode_opens_the_offered_datasets(public):
    client, _, paths = public
    assert client.predict("demo", next(iter(new_explorer().benchmark("demo").instances)),
                          api_name="/instance")["targets"]
    assert client.predict(str(paths["offered"]), "a_1", api_name="/instance")["targets"] == ["a_1"]


@pytest.mark.parametrize("name", ["other", "/root/.ssh", "/nonexistent", "/etc", "hf:someone/else",
                                  "hf:kaist-ai/InstructIR@main", "~root", "/proc/1/cwd"])
def test_public_mode_refuses_everything_else_without_touching_the_disk(public, name):
    client, _, paths = public
    source = str(paths["other"]) if name == "other" else name
    message = app_error(client, source, "a_1", api_name="/instance")
    assert "not offered on this server" in message and "demo" in message
    assert "not found" not in message and "corpus.jsonl" not in message  # says nothing of what exists
    # the same refusal whatever the path is: nothing tells existing folders from missing ones
    assert message.replace(repr(source), "X") == \
        app_error(client, "/no/such/place", "a_1", api_name="/instance").replace(repr("/no/such/place"), "X")


def test_public_errors_name_no_server_path(public):
    client, _, paths = public
    message = app_error(client, str(paths["broken"]), "a_1", api_name="/instance")
    assert "malformed JSON" in message and "corpus.jsonl:1" in message
    assert str(paths["root"]) not in message


def test_public_corpus_cap_has_a_clear_message(public):
    client, _, paths = public
    message = app_error(client, str(paths["big"]), "a_1", api_name="/instance")
    assert "corpus too large" in message and "20" in message and str(paths["root"]) not in message


def test_public_uploads_have_a_size_limit(public):
    import httpx
    _, url, _ = public
    small = httpx.post(url + "gradio_api/upload", files={"files": ("ok.txt", b"x" * 1000)}, timeout=30)
    assert small.status_code == 200, small.text
    big = httpx.post(url + "gradio_api/upload", files={"files": ("big.txt", b"x" * (2 * 2**20))}, timeout=30)
    assert big.status_code == 413, (big.status_code, big.text[:200])


def test_public_api_has_no_route_around_the_queue(public):
    """/gradio_api/run/<name> would skip the queue and so the heavy endpoints' concurrency group; the
    queued routes (gradio_client's, and /gradio_api/call/<name>) and the page's unqueued events
    still answer."""
    import httpx
    client, url, _ = public
    inst = next(iter(new_explorer().benchmark("demo").instances))
    direct = httpx.post(url + "gradio_api/run/instance", json={"data": ["demo", inst]}, timeout=30)
    assert direct.status_code == 404, (direct.status_code, direct.text[:200])
    with httpx.Client(base_url=url + "gradio_api/", timeout=30) as http:
        event = http.post("call/instance", json={"data": ["demo", inst]}).raise_for_status().json()["event_id"]
        assert "event: complete" in http.get(f"call/instance/{event}").text
    assert client.predict("demo", inst, api_name="/instance")["instance_id"] == inst
    # the page's unqueued events (typing refreshes) take the same route and stay open
    unqueued = [d for d in httpx.get(url + "config", timeout=30).json()["dependencies"]
                if d.get("queue") is False and d.get("backend_fn")]
    assert unqueued
    page = httpx.post(url + "gradio_api/run/predict", timeout=30, json={
        "data": [None] * len(unqueued[0]["inputs"]), "fn_index": unqueued[0]["id"], "session_hash": "page"})
    assert page.status_code != 404, page.text[:200]
