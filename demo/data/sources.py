"""Dataset sources: `demo` (bundled), a folder in the release layout, or `hf:owner/name[@rev]`.

Every source string is reduced to one canonical key (a bundled name; `hf:repo@revision`; a
resolved folder path) before anything is loaded or cached, so aliases of one dataset
(`' demo'`, `assets/demo/.`, a symlink) share one copy. In public mode (settings.public_mode)
only `demo` and the configured datasets are accepted, and nothing else on the server's file
system is looked at. Loaded datasets are kept in a small least-recently-used table.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from demo import inputs
from demo.data.records import Benchmark
from demo.data.release import load_folder
from demo.errors import DataError, UserError
from demo.settings import configured_datasets, corpus_limits, loaded_limits, public_mode
from demo.data.hub import hub_folder, parse_hub_source

ASSETS = Path(__file__).resolve().parents[2] / "assets"
NAMED = {"demo": ASSETS / "demo"}


def _folder_key(source: str) -> str:
    """The resolved absolute path of a folder source; one line on any path the OS refuses."""
    try:
        path = Path(source).expanduser()
    except RuntimeError:  # `~nosuchuser`
        raise UserError(f"dataset folder {source!r} not found") from None
    try:
        return str(path.resolve())
    except (OSError, RuntimeError, ValueError):  # too long, a symlink loop, a /proc entry we may not read
        raise UserError(f"dataset folder {source!r} not found") from None


def canonical(source) -> str:
    """The one key of a dataset source (no file system access in public mode)."""
    source = inputs.text(source, "dataset", inputs.MAX_SOURCE_CHARS).strip()
    if not source:
        raise UserError("no dataset given")
    if source in NAMED:
        return source
    if source.startswith("hf:"):
        repo, revision = parse_hub_source(source)
        return f"hf:{repo}@{revision}"
    if public_mode() and source not in configured_datasets():
        raise UserError(_not_offered(source))
    key = _folder_key(source)
    for name, folder in NAMED.items():
        if key == str(folder):
            return name
    return key


def allowed() -> list[str]:
    """The sources a visitor may open in public mode, as configured (display form)."""
    return list(dict.fromkeys(["demo", *configured_datasets()]))


def _not_offered(source: str) -> str:
    shown = source if len(source) <= 80 else source[:77] + "..."
    return f"dataset {shown!r} is not offered on this server; choose one of: {', '.join(allowed())}"


def check_allowed(key: str, source: str) -> None:
    """In public mode, a canonical key must be one of the configured datasets' keys."""
    if not public_mode() or key in NAMED:
        return
    keys = set()
    for entry in configured_datasets():
        try:
            keys.add(_configured_key(entry))
        except UserError:
            continue
    if key not in keys:
        raise UserError(_not_offered(str(source).strip()))


def _configured_key(entry: str) -> str:
    if entry in NAMED:
        return entry
    if entry.startswith("hf:"):
        repo, revision = parse_hub_source(entry)
        return f"hf:{repo}@{revision}"
    return _folder_key(entry)


def display_name(key: str) -> str:
    """What messages call a dataset: in public mode a folder by its last name only, so that no
    message shows where the server keeps it."""
    if key in NAMED or key.startswith("hf:") or not public_mode():
        return key
    return Path(key).name


def resolve(key: str) -> Path:
    """Canonical key -> the folder in the release layout."""
    if key in NAMED:
        return NAMED[key]
    if key.startswith("hf:"):
        return hub_folder(key)
    return Path(key)


class Loaded:
    """Datasets loaded once per canonical key (one loader per key at a time), at most
    `limit` kept; the least recently used is dropped."""

    def __init__(self, limit: int):
        self.limit = limit
        self._items: OrderedDict[str, Benchmark] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> Benchmark:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            try:
                with self._lock:
                    if key in self._items:
                        return self._items[key]
                bench = _load(key)
                with self._lock:
                    self._items[key] = bench
                    while len(self._items) > self.limit:
                        self._items.popitem(last=False)
                return bench
            finally:  # also after a failure: one lock per bad source asked for would add up
                with self._lock:
                    self._key_locks.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _load(key: str) -> Benchmark:
    name = display_name(key)
    folder = resolve(key)
    max_docs, max_bytes = corpus_limits() if key not in NAMED else (None, None)  # bundled: known size
    try:
        return load_folder(folder, name, max_docs=max_docs, max_bytes=max_bytes)
    except DataError as e:
        if public_mode():  # name the file inside the dataset, not where the server keeps it
            raise DataError(e.path.replace(str(folder), name), e.message, e.line) from None
        raise
    except (OSError, RecursionError) as e:
        raise UserError(f"dataset {name!r} cannot be read ({type(e).__name__}: {getattr(e, 'strerror', '') or e})"
                        ) from None


LOADED = Loaded(loaded_limits()[0])


def open_source(source) -> tuple[str, Benchmark]:
    """(canonical key, benchmark) of a source a visitor gave, within the public-mode rules."""
    key = canonical(source)
    check_allowed(key, source)
    return key, LOADED.get(key)


def load_source(source) -> Benchmark:
    """Load (once per process, bounded) the benchmark a source names."""
    return open_source(source)[1]


def dataset_choices() -> list[str]:
    """What the dataset box offers: demo and the configured datasets."""
    return allowed()
