"""Temporary files cleaned on a timer (docs/architecture.md, "Caches and their bounds"): notes
downloads and export folders older than their time to live go without anyone exporting again."""
from __future__ import annotations

import os
import time
from pathlib import Path

from demo.sweeper import Sweeper


def make(folder: Path, age: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "notes.csv").write_text("x")
    os.utime(folder, (time.time() - age, time.time() - age))
    return folder


def test_the_sweep_removes_only_what_is_past_its_time_to_live(tmp_path):
    old_notes = make(tmp_path / "instructir-notes-old", 10)
    new_notes = make(tmp_path / "instructir-notes-new", 0)
    old_export = make(tmp_path / "exports" / "export-old", 10)
    other = make(tmp_path / "somebody-else", 10)
    chores = []
    sweeper = Sweeper([(tmp_path, "instructir-notes-*"), (tmp_path / "exports", "export-*")], ttl=5, interval=60,
                      also=[lambda: chores.append(1)])
    assert sweeper.sweep() == 2
    assert not old_notes.exists() and not old_export.exists() and new_notes.exists() and other.exists()
    assert chores == [1]


def test_the_timer_sweeps_with_a_short_ttl(tmp_path):
    folder = make(tmp_path / "instructir-notes-x", 0)
    sweeper = Sweeper([(tmp_path, "instructir-notes-*")], ttl=0.3, interval=0.1).start()
    try:
        deadline = time.time() + 5
        while folder.exists() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert not folder.exists()


def test_the_app_sweeps_notes_downloads_and_exports():
    from demo.ui.app import start_sweeper
    from demo.ui.export import export_root
    sweeper = start_sweeper()
    patterns = {(str(folder), pattern) for folder, pattern in sweeper.targets}
    assert (str(export_root()), "export-*") in patterns
    assert any(p == "instructir-notes-*" for _, p in patterns)
