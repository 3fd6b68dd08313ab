"""Load once, keep a bounded number: the one caching primitive of the process (docs/architecture.md,
"Caches and their bounds").

`Keep` is a thread-safe least-recently-used map bounded by count (each value counts 1) or by
bytes (`sizeof`), built on cachetools' LRUCache. `get_or_build` builds a missing value once
however many threads ask at the same time, and a slow build never blocks other keys. Datasets,
indexed corpora, loaded models, the rankings memo and whole-dataset tables all live in one.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Hashable

import numpy as np
from cachetools import LRUCache


def size_of(obj: Any) -> int:
    """Approximate bytes held by plain data: numpy arrays, strings, numbers, dicts, lists, tuples."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes + 112
    if hasattr(obj, "nbytes") and not isinstance(obj, (int, float)):
        return int(obj.nbytes)
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(size_of(k) + size_of(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sys.getsizeof(obj) + sum(size_of(v) for v in obj)
    return sys.getsizeof(obj)


class Keep:
    def __init__(self, maxsize: int, sizeof: Callable[[Any], int] | None = None):
        self._items = LRUCache(maxsize=max(int(maxsize), 1), getsizeof=sizeof)
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    @property
    def maxsize(self) -> int:
        return int(self._items.maxsize)

    @property
    def nbytes(self) -> int:
        """What the kept values weigh (their count when the bound is a count)."""
        return int(self._items.currsize)

    def get(self, key: Hashable, default=None):
        with self._lock:
            return self._items.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        """Keep value, evicting the least recently used; a value larger than the bound is not kept."""
        with self._lock:
            try:
                self._items[key] = value
            except ValueError:  # cachetools: "value too large"
                self._items.pop(key, None)

    def pop(self, key: Hashable, default=None):
        with self._lock:
            return self._items.pop(key, default)

    def get_or_build(self, key: Hashable, build: Callable[[], Any], waiting: Callable[[], None] | None = None):
        """The kept value, else build() once: others asking for the same key wait for that build
        (calling `waiting()` every quarter second, e.g. to relay its progress). A failed build keeps
        nothing, and the next caller tries again."""
        with self._lock:
            if key in self._items:
                return self._items[key]
            lock = self._building.setdefault(key, threading.Lock())
        while not lock.acquire(timeout=0.25):
            if waiting:
                waiting()
        try:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = build()
            self.put(key, value)
            return value
        finally:
            lock.release()
            with self._lock:  # one lock per key ever asked for would add up
                if self._building.get(key) is lock and not lock.locked():
                    del self._building[key]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
