"""The newest edit wins. Edits of the text (typing, a variant, the reset) skip Gradio's queue
(one HTTP request, no join and no event stream: about half the round trip,
benchmarks/RESULTS-browser.md), so two of one page can overlap and finish out of order. The page
numbers each one (EDIT_SEQ_JS); an edit that a newer one of its page has overtaken computes
nothing, or sends nothing if it was already computing, so an older text never replaces a newer
one on screen (docs/architecture.md, "Per-session state")."""
from __future__ import annotations

import threading
from typing import Callable

import gradio as gr
from cachetools import TTLCache

from demo.budget import EVENTS_AT_ONCE

# In the page: an edit's first input (a hidden number) becomes the page's next number.
EDIT_SEQ_JS = "(seq, ...rest) => [(window.__ixEditSeq = (window.__ixEditSeq || 0) + 1), ...rest]"


def number(seq) -> int:
    """The page's number as an int; anything else (none, text, inf, nan) counts as 0, the oldest."""
    try:
        return int(float(seq))
    except (TypeError, ValueError, OverflowError):
        return 0


class Latest:
    """The newest request number seen per page (Gradio's session hash); pages idle for `ttl`
    seconds are forgotten, and at most `pages` are kept. At most `at_once` requests compute at
    once, as many as the queue would run (the queue does not bound unqueued events)."""

    def __init__(self, at_once: int = EVENTS_AT_ONCE, pages: int = 10_000, ttl: float = 3600.0):
        self._newest: TTLCache = TTLCache(maxsize=pages, ttl=ttl)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(at_once)

    def run(self, request, seq, compute: Callable[[], dict]) -> dict:
        """compute()'s updates, or none (gr.skip(): every output keeps its value) when a newer
        request of the same page has arrived before it starts, while it waits for a slot, or while
        it computes."""
        page, seq = getattr(request, "session_hash", None) or "no-session", number(seq)
        self.arrive(page, seq)
        if not self.is_newest(page, seq):
            return gr.skip()
        with self._slots:
            if not self.is_newest(page, seq):
                return gr.skip()
            out = compute()
        return out if self.is_newest(page, seq) else gr.skip()

    def arrive(self, page: str, seq: int) -> None:
        with self._lock:
            if seq > self._newest.get(page, -1):
                self._newest[page] = seq

    def is_newest(self, page: str, seq: int) -> bool:
        with self._lock:
            return seq >= self._newest.get(page, -1)
