"""Dataset sources: `demo` (bundled), a folder in the release layout, or `hf:owner/name[@rev]`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from demo.data.records import Benchmark
from demo.data.release import load_folder

ASSETS = Path(__file__).resolve().parents[2] / "assets"
NAMED = {"demo": ASSETS / "demo"}


def resolve(source: str) -> tuple[Path, str]:
    """Source string -> (folder in the release layout, display name)."""
    source = source.strip()
    if source in NAMED:
        return NAMED[source], source
    if source.startswith("hf:"):
        from demo.data.hub import hub_folder
        return hub_folder(source), source
    return Path(source).expanduser(), source


@lru_cache(maxsize=8)
def load_source(source: str) -> Benchmark:
    """Load (once per process) the benchmark a source names."""
    folder, name = resolve(source)
    return load_folder(folder, name)
