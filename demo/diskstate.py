"""Whether the cache folder can be written (docs/architecture.md, "Caches and their bounds").

Every writer to the cache (embeddings, tables, the WordNet copy) reports here when a write fails
for want of space or permission, and clears its report once a write succeeds again; the page
shows `line()` while any report stands, and the app works in memory meanwhile.

`disk_fault(error)` tells such a fault (full, read-only, no permission) from a damaged cache:
a damaged cache is rebuilt, a full or read-only disk never is (rebuilding would delete what is
still good, and cannot succeed).
"""
from __future__ import annotations

import errno
import logging
import sqlite3
import threading

log = logging.getLogger(__name__)
LINE = "cache not writable: working in memory"
DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}
SQLITE_DISK = ("disk is full", "readonly database", "read-only", "unable to open database", "disk i/o error")

_faults: dict[str, str] = {}
_lock = threading.Lock()


def disk_fault(error: BaseException) -> bool:
    """A full, read-only or forbidden disk (as opposed to a damaged file)."""
    if isinstance(error, OSError) and error.errno in DISK_ERRNOS:
        return True
    if isinstance(error, sqlite3.Error):
        text = str(error).lower()
        return any(s in text for s in SQLITE_DISK)
    return False


def report(where: str, error: BaseException) -> None:
    """`where` (embeddings, tables, wordnet, ...) could not write; said once in the log."""
    with _lock:
        first = where not in _faults
        _faults[where] = f"{type(error).__name__}"
    if first:
        log.warning("%s: %s (%s)", where, LINE, error)


def clear(where: str) -> None:
    with _lock:
        gone = _faults.pop(where, None)
    if gone is not None:
        log.warning("%s: the cache is writable again", where)


def faults() -> dict[str, str]:
    with _lock:
        return dict(_faults)


def line() -> str | None:
    """The one line the page shows while some cache write fails, else None."""
    with _lock:
        return f"{LINE} ({', '.join(sorted(_faults))})" if _faults else None
