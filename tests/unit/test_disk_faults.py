"""A full or read-only cache disk degrades, never breaks (docs/architecture.md, "Caches and their
bounds"): a small tmpfs, filled or mounted read-only, holds the cache; the page still ranks, says
"cache not writable: working in memory", deletes nothing, and uses the disk again once space
returns, without a restart. Needs root for the mount (skipped otherwise)."""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import gradio_client
import numpy as np
import pytest

from app_server import launched
from demo import cache as cache_mod, diskstate
from demo.cache import EmbeddingCache


@pytest.fixture
def tmpfs(tmp_path):
    mounts = []

    def mount(size="1m", readonly=False):
        where = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
        where.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()})")
        mounts.append(where)
        return where
    yield mount
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(autouse=True)
def clean_state():
    diskstate._faults.clear()
    yield
    diskstate._faults.clear()


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_disk_faults_are_told_from_damage():
    assert diskstate.disk_fault(OSError(errno.ENOSPC, "No space left on device"))
    assert diskstate.disk_fault(OSError(errno.EROFS, "Read-only file system"))
    assert diskstate.disk_fault(sqlite3.OperationalError("database or disk is full"))
    assert diskstate.disk_fault(sqlite3.OperationalError("attempt to write a readonly database"))
    assert not diskstate.disk_fault(sqlite3.DatabaseError("file is not a database"))
    assert not diskstate.disk_fault(FileNotFoundError(errno.ENOENT, "cache.db was deleted"))


def test_a_full_disk_keeps_the_cache_and_recovers_when_space_returns(tmpfs, monkeypatch):
    where = tmpfs("2m")
    cache = EmbeddingCache(where / "embeddings")
    kept = {f"k{i}": np.full(4, i, dtype=np.float32) for i in range(3)}
    cache.set_many(kept)
    filler = fill(where)
    big = {f"n{i}": np.random.rand(2048).astype(np.float32) for i in range(200)}
    cache.set_many(big)  # the disk is full: memory, nothing deleted
    assert cache.in_memory and diskstate.line() and "embeddings" in diskstate.line()
    assert (where / "embeddings" / "cache.db").is_file()
    assert set(cache.get_many(list(big)[:5])) == set(list(big)[:5])  # what was computed is served from memory
    filler.unlink()  # space returns
    monkeypatch.setattr(cache_mod, "RETRY_SECONDS", 0.0)
    cache._retry_at = 0.0
    cache.set_many({"after": np.ones(4, dtype=np.float32)})
    assert not cache.in_memory and diskstate.line() is None
    found = cache.get_many(list(kept) + ["after"], 4)
    assert set(found) == set(kept) | {"after"}  # the rows from before the fault survived


def test_the_page_ranks_on_a_full_cache_disk_and_says_so(tmpfs, monkeypatch):
    from demo.service import Explorer
    from demo.ui.app import cache_line
    where = tmpfs("1m")
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(where))
    fill(where)
    with launched(Explorer(), warm=()) as url:
        client = gradio_client.Client(url, verbose=False)
        inst = client.predict("demo", "101_1", api_name="/instance")
        out = client.predict("demo", "101_1", "a new need for a quick answer", ["bm25", "minilm"], 5,
                             api_name="/rank")
        swept = client.predict("demo", "101", ["bm25"], 5, api_name="/sweep")
    assert inst["instance_id"] == "101_1" and swept
    assert all("error" not in col for col in out["retrievers"].values()), out
    assert "cache not writable: working in memory" in cache_line()


def test_a_read_only_cache_disk_still_ranks_and_builds_wordnet_elsewhere(tmpfs, monkeypatch, tmp_path):
    from demo.data import wordnet
    from demo.service import Explorer
    where = tmpfs("1m", readonly=True)
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(where))
    monkeypatch.setattr(wordnet.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    explorer = Explorer()
    out = explorer.rank("demo", "101_1", "something else entirely", ["bm25", "minilm"], 5)
    assert all("error" not in col for col in out["retrievers"].values())
    assert "cache not writable" in (diskstate.line() or "")
    if wordnet.unavailable_reason() is None:  # wordnet-base installed: the copy goes to the temporary folder
        assert wordnet.nltk_data_dir() == tmp_path / "tmp" / "instructir-explorer-nltk_data"
        assert "wordnet" in diskstate.line()


def test_wordnet_with_no_writable_folder_is_unavailable_with_a_reason(monkeypatch, tmp_path):
    from demo.data import wordnet
    if wordnet.unavailable_reason() is not None:
        pytest.skip("WordNet is not installed here")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(wordnet.tempfile, "gettempdir", lambda: str(blocker / "tmp"))
    with pytest.raises(wordnet.WordNetUnavailable, match="not writable"):
        wordnet.nltk_data_dir()
