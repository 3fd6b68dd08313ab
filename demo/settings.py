"""Process-wide settings from the environment. Importing demo sets the offline flags before
any Hugging Face library is imported (they read them at import time)."""
from __future__ import annotations

import os
from pathlib import Path

OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",  # set HF_HUB_OFFLINE=0 to let registry models download
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # torch's OpenMP threads spin while waiting; with 2 cores and concurrent users (or any other
    # load) that turned a 25 ms query encode into 500 ms (benchmarks/RESULTS-app.md). Passive
    # waiting gives the core away instead.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def apply_offline_defaults() -> None:
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if os.environ["HF_HUB_OFFLINE"] == "0":  # online on request: datasets follows the hub flag
        os.environ.setdefault("HF_DATASETS_OFFLINE", "0")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "1").lower() not in ("0", "false", "")


def cache_dir() -> Path:
    """Embedding cache folder: $INSTRUCTIR_EXPLORER_CACHE, else ~/.cache/instructir-explorer."""
    env = os.environ.get("INSTRUCTIR_EXPLORER_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instructir-explorer"
    return base
