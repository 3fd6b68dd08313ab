"""Temporary files removed on a timer (docs/architecture.md, "Caches and their bounds"): notes
downloads and export folders older than their time to live go, whether or not anyone downloads
or exports again.

    sweeper = Sweeper([(tempdir, "instructir-notes-*"), ...], ttl=3600, interval=300,
                      also=[sessions.expire])
    sweeper.start()     # a daemon thread: sweep(), then every `interval` seconds

`also` are other periodic chores (expiring idle sessions' uploads) run on the same timer.
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


@dataclass
class Sweeper:
    targets: list[tuple[Path, str]]  # (folder, glob pattern) of what may be swept
    ttl: float  # seconds since last modified
    interval: float  # seconds between sweeps
    also: list[Callable[[], object]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def sweep(self, now: float | None = None) -> int:
        """Remove what is older than the time to live; returns how many went."""
        now = time.time() if now is None else now
        gone = 0
        for folder, pattern in self.targets:
            for path in Path(folder).glob(pattern):
                try:
                    if now - path.stat().st_mtime <= self.ttl:
                        continue
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                    gone += 1
                except OSError:  # removed meanwhile, or not ours to remove: next time
                    continue
        for chore in self.also:
            try:
                chore()
            except Exception:  # noqa: BLE001 - a failing chore must not stop the timer
                log.exception("periodic chore %s failed", getattr(chore, "__name__", chore))
        return gone

    def start(self) -> "Sweeper":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="instructir-sweeper", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            self.sweep()
            if self._stop.wait(self.interval):
                return
