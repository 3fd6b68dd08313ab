"""A thread-safe LRU map bounded by bytes, not by entries: the service's memos and tables use it
so that memory stays flat however many instances a session visits."""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np


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


class ByteLRU:
    def __init__(self, budget: int, sizer: Callable[[Any], int] = size_of):
        self.budget, self._size_of = budget, sizer
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0

    def get(self, key: Hashable, default=None):
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return default
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Store value (evicting the least recently used); one larger than the budget is not kept."""
        size = self._size_of(value) + size_of(key)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if size > self.budget:
                return
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.budget:
                _, (_, freed) = self._items.popitem(last=False)
                self.nbytes -= freed

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0
