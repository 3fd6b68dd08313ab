"""Uploaded runs per session, bounded and freed (docs/architecture.md, "Bounds per session").

A session's uploaded runs live in its `gr.State` (the bar's `runs`); this module keeps the
account: each run's bytes, by session, so that one session holds at most `per_session` bytes and
all sessions together at most `total`. A session's runs leave the account, and its state is
dropped, when the session ends (the page's unload event), when Gradio expires the state (its
`time_to_live`: idle past `session_ttl()` seconds since the last upload) or when the periodic
sweep finds it idle that long (`expire`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from demo.errors import UserError
from demo.runs import RunFile
from demo.settings import MB, session_limits


def run_bytes(run: RunFile) -> int:
    """What a parsed run holds: its arrays and its doc ids."""
    arrays = sum(d.nbytes + s.nbytes for d, s in run.queries.values())
    return arrays + sum(len(d) + 49 for d in run.doc_ids) + 120 * len(run.queries)


@dataclass
class _Held:
    bytes: int
    used: float


class UploadBudget:
    def __init__(self, per_session: int, total: int, ttl: float):
        self.per_session, self.total, self.ttl = per_session, total, ttl
        self._held: dict[str, dict[int, _Held]] = {}  # session -> id(run) -> bytes, last use
        self._lock = threading.Lock()

    def admit(self, session: str, run: RunFile, keep: dict | None = None) -> None:
        """Count `run` for `session` (replacing the runs no longer in `keep`, the session's runs
        after this upload); UserError when a bound would be passed."""
        size, now = run_bytes(run), time.monotonic()
        with self._lock:
            mine = self._held.setdefault(session, {})
            if keep is not None:  # a run replaced by one of the same name is no longer held
                alive = {id(r) for r in keep.values()}
                for key in [k for k in mine if k not in alive]:
                    del mine[key]
            used = sum(h.bytes for h in mine.values())
            if used + size > self.per_session:
                raise UserError(f"this session's runs would hold {(used + size) / MB:.0f} MB; the limit is "
                                f"{self.per_session // MB} MB per session (reload the page to start afresh)")
            if self._total() + size > self.total:
                raise UserError(f"the server holds {self.total // MB} MB of uploaded runs, its limit; "
                                "try again later")
            mine[id(run)] = _Held(size, now)
            for h in mine.values():
                h.used = now

    def _total(self) -> int:
        return sum(h.bytes for mine in self._held.values() for h in mine.values())

    def held(self, session: str | None = None) -> int:
        with self._lock:
            if session is None:
                return self._total()
            return sum(h.bytes for h in self._held.get(session, {}).values())

    def sessions(self) -> int:
        with self._lock:
            return sum(1 for mine in self._held.values() if mine)

    def release_session(self, session: str) -> None:
        with self._lock:
            self._held.pop(session, None)

    def release_runs(self, runs) -> None:
        """Gradio's delete_callback of the runs state: the runs in it leave the account."""
        gone = {id(r) for r in (runs or {}).values()}
        with self._lock:
            for mine in self._held.values():
                for key in [k for k in mine if k in gone]:
                    del mine[key]
            for session in [s for s, mine in self._held.items() if not mine]:
                del self._held[session]

    def expire(self, now: float | None = None) -> list[str]:
        """Sessions idle past the time to live leave the account; returns them."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [s for s, mine in self._held.items() if all(now - h.used > self.ttl for h in mine.values())]
            for s in idle:
                del self._held[s]
        return idle


_uploads: list[UploadBudget] = []


def uploads() -> UploadBudget:
    """The process's account (bounds from the environment: demo.settings.session_limits)."""
    if not _uploads:
        per_session, total, ttl = session_limits()
        _uploads.append(UploadBudget(per_session, total, ttl))
    return _uploads[0]
