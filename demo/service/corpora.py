"""Datasets and their indexed corpora: loading, bounds, progress and the models that cannot load.

One `Corpus` per (dataset, model): the model indexed on the dataset's documents, built once
however many ask (one lock per pair: a slow model never blocks the others), at most
`loaded_limits()[1]` kept. Run files of the runs folder are read here too, once per dataset.
"""
from __future__ import annotations

import gc
import threading
from dataclasses import dataclass
from typing import Callable, Mapping

from cachetools import TTLCache

from demo.artifacts import lookup_for
from demo.cache import EmbeddingCache, default_cache
from demo.data.records import Benchmark
from demo.data.sources import open_source
from demo.engine import DocOrder
from demo.errors import UserError
from demo.keep import Keep
from demo.retrievers.base import Model
from demo.retrievers.registry import MODELS, ModelUnavailable, load_model
from demo.runs import PREFIX, RunFile, load_run, run_files, text_index
from demo.settings import loaded_limits, runs_dir

Stage = Callable[[str, int, int], None]  # (stage, done, total)
RETRY_UNAVAILABLE_S = 60  # a model that could not load is tried again after this (the hub may come back)


@dataclass(frozen=True)
class Corpus:
    """A model indexed on one dataset's documents, and the documents' order."""
    model: Model
    docs: DocOrder

    @property
    def doc_ids(self) -> list[str]:
        return self.docs.doc_ids

    @property
    def index(self) -> dict[str, int]:
        return self.docs.index


class Corpora:
    def __init__(self, cache: EmbeddingCache | None = None, devices: list[str] | None = None):
        self._cache, self._devices = cache, devices
        self._lock = threading.Lock()
        self._corpora = Keep(loaded_limits()[1])  # (dataset key, model id) -> Corpus, least recently used first
        self._unavailable = TTLCache(maxsize=256, ttl=RETRY_UNAVAILABLE_S)  # model id -> ModelUnavailable
        self._status: dict[tuple[str, str], tuple[str, int, int]] = {}
        self._folder_runs = Keep(loaded_limits()[0])  # dataset key -> (runs, skipped lines)
        self._docs = Keep(loaded_limits()[0])  # dataset key -> (benchmark, DocOrder)
        self._text_index = Keep(loaded_limits()[0])

    def embedding_cache(self) -> EmbeddingCache:
        with self._lock:
            if self._cache is None:
                self._cache = default_cache()
            return self._cache

    # ---- datasets ------------------------------------------------------------------------------
    @staticmethod
    def benchmark(source: str) -> Benchmark:
        return open_source(source)[1]

    @staticmethod
    def dataset_key(source: str) -> str:
        """The canonical key of a source, checked against public mode: every memo is keyed by it,
        so aliases of one dataset share one copy. Idempotent."""
        return open_source(source)[0]

    def docs(self, source: str) -> DocOrder:
        """The dataset's documents in corpus order (every score array follows it)."""
        key, bench = open_source(source)
        found = self._docs.get(key)
        if found is None or found[0] is not bench:  # a reloaded dataset gets a new order
            found = (bench, DocOrder(list(bench.docs)))
            self._docs.put(key, found)
        return found[1]

    def text_index(self, source: str) -> dict:
        """(instruction, query) -> ids of the instances and paraphrases with that text."""
        key, bench = open_source(source)
        found = self._text_index.get(key)
        if found is None or found[0] is not bench:
            found = (bench, text_index(bench))
            self._text_index.put(key, found)
        return found[1]

    # ---- indexed corpora -------------------------------------------------------------------------
    def status(self, source: str, model_id: str) -> tuple[str, int, int] | None:
        """What building (dataset, model) is doing now: (stage, done, total), None when idle."""
        try:
            return self._status.get((self.dataset_key(source), model_id))
        except UserError:
            return None

    def corpus(self, source: str, model_id: str, progress: Callable[[int, int], None] | None = None,
               on_stage: Stage | None = None) -> Corpus:
        """The model indexed on the dataset. A model that cannot load here is said to be
        unavailable for RETRY_UNAVAILABLE_S, then tried again; any other failure (a fault while
        indexing) is tried again next time. `on_stage(stage, done, total)` hears "loading" then
        "embedding" (or, for BM25, "indexing") n of N passages, also while another caller (e.g.
        the start-up warm-up) is the one building it."""
        if model_id not in MODELS:
            raise UserError(f"unknown model {model_id!r}")
        key = (self.dataset_key(source), model_id)
        with self._lock:
            failed = self._unavailable.get(model_id)
        if failed is not None:
            raise failed

        def relay():
            if on_stage and self._status.get(key):
                on_stage(*self._status[key])
        return self._corpora.get_or_build(key, lambda: self._build(key, progress, on_stage), relay)

    def _build(self, key: tuple[str, str], progress, on_stage) -> Corpus:
        source, model_id = key

        def stage(name: str, done: int, total: int) -> None:
            self._status[key] = (name, done, total)
            if on_stage:
                on_stage(name, done, total)
            if progress and name in ("embedding", "indexing"):
                progress(done, total)
        try:
            bench = self.benchmark(source)
            stage("loading", 0, 1)
            model = load_model(MODELS[model_id], self.embedding_cache(), self._devices, artifacts=lookup_for)
            docs = list(bench.docs.values())
            work = "indexing" if getattr(model, "lexical", False) else "embedding"
            stage(work, 0, len(docs))
            model.index_corpus(docs, lambda d, t: stage(work, d, t))
            corpus = Corpus(model, self.docs(source))
        except ModelUnavailable as e:  # remembered for a while: it will not load on the next try either
            with self._lock:
                self._unavailable[model_id] = e
            raise
        except UserError:
            raise
        except Exception as e:  # shown in that retriever's column; the others go on; not remembered
            raise UserError(f"{model_id}: {type(e).__name__}: {e}") from e
        finally:
            self._status.pop(key, None)
        # A full-size index and its artifacts are ~500k long-lived objects: one full garbage
        # collection over them took 270-340 ms and landed on a random request. Collect once now
        # (the garbage of the build is not frozen with them), then move everything alive out of
        # the collector's sight. An evicted index is still freed by refcounting, except what sits
        # in reference cycles: a bounded leak, at most once per index built.
        gc.collect()
        gc.freeze()
        return corpus

    # ---- run files ---------------------------------------------------------------------------------
    def _load_folder_runs(self, source: str) -> tuple[dict[str, RunFile], list[str]]:
        """Runs in INSTRUCTIR_EXPLORER_RUNS that fit this dataset, and one line per file that
        does not (another dataset's run, a malformed file); read once per dataset."""
        key = self.dataset_key(source)  # aliases of one dataset share one reading

        def read() -> tuple[dict[str, RunFile], list[str]]:
            bench = self.benchmark(key)
            runs, skipped = {}, []
            folder = runs_dir()
            for path in run_files(folder) if folder else []:
                try:
                    run = load_run(path, bench)
                except UserError as e:
                    skipped.append(str(e))
                    continue
                if run.name in runs:
                    skipped.append(f"{path}: another run is named {run.name!r} ({runs[run.name].source})")
                    continue
                runs[run.name] = run
            return runs, skipped
        return self._folder_runs.get_or_build(key, read)

    def forget_folder_runs(self, source: str) -> None:
        """Read the runs folder again next time (after it changed)."""
        self._folder_runs.pop(self.dataset_key(source))

    def runs(self, source: str, extra: Mapping[str, RunFile] | None = None) -> dict[str, RunFile]:
        """Run files usable on this dataset: the runs folder's, then this session's uploads
        (`extra`: plain data the UI keeps per session; they win on a name clash)."""
        return {**self._load_folder_runs(source)[0], **(extra or {})}

    def run_report(self, source: str, extra: Mapping[str, RunFile] | None = None) -> list[str]:
        """One line per run: its coverage, or why a file in the runs folder was not loaded."""
        bench = self.benchmark(source)
        return [r.describe(bench) for r in self.runs(source, extra).values()] + self._load_folder_runs(source)[1]

    def run(self, source: str, name: str, extra: Mapping[str, RunFile] | None = None) -> RunFile:
        found = self.runs(source, extra)
        if name not in found:
            known = ", ".join(PREFIX + n for n in found) or "none"
            raise UserError(f"no run file named {name!r} for {source} (runs here: {known})")
        return found[name]
