"""The newest typing refresh wins. Typing refreshes skip Gradio's queue (one HTTP request, no
join and no event stream: about half the round trip, benchmarks/RESULTS-browser.md), so two of
one page can overlap and finish out of order. The page numbers each one (TYPED_SEQ_JS); a
refresh that a newer one of its page has overtaken computes nothing, or sends nothing if it was
already computing, so an older text never replaces a newer one on screen (docs/architecture.md,
"Per-session state")."""
from __future__ import annotations

import threading

from cachetools import TTLCache

# In the page: the typing refresh's first input (a hidden number) becomes the page's next number.
TYPED_SEQ_JS = "(seq, ...rest) => [(window.__ixTypedSeq = (window.__ixTypedSeq || 0) + 1), ...rest]"


class Latest:
    """The newest request number seen per page (Gradio's session hash); pages idle for `ttl`
    seconds are forgotten, and at most `pages` are kept."""

    def __init__(self, pages: int = 10_000, ttl: float = 3600.0):
        self._newest: TTLCache = TTLCache(maxsize=pages, ttl=ttl)
        self._lock = threading.Lock()

    def arrive(self, page: str, seq: int) -> None:
        with self._lock:
            if seq > self._newest.get(page, -1):
                self._newest[page] = seq

    def is_newest(self, page: str, seq: int) -> bool:
        with self._lock:
            return seq >= self._newest.get(page, -1)
