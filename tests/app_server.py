"""Shared helpers for the service, API and browser tests: one embedding cache folder per test
session (so the bundled corpus is embedded by MiniLM once, not once per module), Explorers on
it, and an in-process launched app on a free port."""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import socket
import tempfile
from pathlib import Path

DEFAULT = ["bm25", "bm25@query", "minilm", "minilm@query"]


@functools.lru_cache(maxsize=None)
def cache_root() -> Path:
    """A temporary cache root for this test session; the CLI reads it from
    INSTRUCTIR_EXPLORER_CACHE and uses <root>/embeddings, as the Explorer below does.
    INSTRUCTIR_TEST_CACHE names a folder to keep and reuse instead (for quick reruns)."""
    if os.environ.get("INSTRUCTIR_TEST_CACHE"):
        root = Path(os.environ["INSTRUCTIR_TEST_CACHE"])
        root.mkdir(parents=True, exist_ok=True)
        return root
    root = Path(tempfile.mkdtemp(prefix="instructir-test-cache-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def new_explorer():
    from demo.cache import EmbeddingCache
    from demo.service import Explorer
    return Explorer(EmbeddingCache(cache_root() / "embeddings"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def launched(explorer=None, warm=("bm25", "minilm")):
    """build_app(explorer) launched in this process on 127.0.0.1:<free port>; yields the base
    URL. The models in `warm` are indexed first so that the first request is not a cold start."""
    from demo.ui.app import build_app, launch_kwargs
    explorer = explorer or new_explorer()
    for model_id in warm:
        explorer.corpus("demo", model_id)
    app = build_app(explorer)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               **launch_kwargs())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
