"""Process-wide settings from the environment. Importing demo sets the offline flags before
any Hugging Face library is imported (they read them at import time)."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # torch's OpenMP threads spin while waiting; with 2 cores and concurrent users (or any other
    # load) that turned a 25 ms query encode into 500 ms (benchmarks/RESULTS-app.md). Passive
    # waiting gives the core away instead.
    "OMP_WAIT_POLICY": "PASSIVE",
    # huggingface_hub's per-request timeouts (its defaults: 10 s each); demo.hubaccess bounds the rest
    "HF_HUB_ETAG_TIMEOUT": "5",
    "HF_HUB_DOWNLOAD_TIMEOUT": "10",
}
FALSE_VALUES = ("0", "false", "no", "off", "")


def on_space() -> bool:
    """Running as a Hugging Face Space (the platform sets SPACE_ID)."""
    return bool(os.environ.get("SPACE_ID"))


def apply_offline_defaults() -> None:
    """Offline on a laptop (a talk must not hang on a dead network), online on a Space (where hub
    models and hf:kaist-ai/InstructIR are the point). HF_HUB_OFFLINE overrides either way, and
    `datasets` follows it unless HF_DATASETS_OFFLINE is set too: `datasets` reads its own flag
    first, so leaving it at 1 would keep hf: datasets offline whatever HF_HUB_OFFLINE says."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("HF_HUB_OFFLINE", "0" if on_space() else "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1" if hub_offline() else "0")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "1").strip().lower() not in FALSE_VALUES


def cache_dir() -> Path:
    """Embedding cache folder: $INSTRUCTIR_EXPLORER_CACHE, else ~/.cache/instructir-explorer."""
    env = os.environ.get("INSTRUCTIR_EXPLORER_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instructir-explorer"
    return base


def memory_budget_bytes() -> int:
    """Byte budget of the service's memos and tables (INSTRUCTIR_EXPLORER_MEMORY_MB, default 256)."""
    raw = os.environ.get("INSTRUCTIR_EXPLORER_MEMORY_MB", "256")
    try:
        mb = float(raw)
    except ValueError:
        mb = 256.0
    return max(int(mb * 2**20), 2**20)


DEFAULT_DATASETS = ("hf:kaist-ai/InstructIR",)


def configured_datasets() -> list[str]:
    """Datasets offered next to `demo` (INSTRUCTIR_EXPLORER_DATASETS, a comma list; by default the
    real benchmark, which loads when the hub is reachable, e.g. on a Space)."""
    raw = os.environ.get("INSTRUCTIR_EXPLORER_DATASETS")
    items = DEFAULT_DATASETS if raw is None else raw.split(",")
    return list(dict.fromkeys(s.strip() for s in items if s.strip() and s.strip() != "demo"))


def runs_dir() -> Path | None:
    """Folder of run files shown as retrievers: $INSTRUCTIR_EXPLORER_RUNS, else
    `runs/` in the working directory when it exists."""
    env = os.environ.get("INSTRUCTIR_EXPLORER_RUNS")
    if env:
        return Path(env)
    return Path("runs") if Path("runs").is_dir() else None


# ---- public hosting ----------------------------------------------------------------------------
MB = 2**20


def public_mode() -> bool:
    """On a Space (SPACE_ID set) or with INSTRUCTIR_EXPLORER_PUBLIC=1: visitors may open only
    the bundled and configured datasets, and every size limit below is on."""
    flag = os.environ.get("INSTRUCTIR_EXPLORER_PUBLIC", "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or bool(os.environ.get("SPACE_ID"))


def _megabytes(name: str, default: float | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = default
    return None if value is None or value <= 0 else int(value * MB)


def _count(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = default
    return None if value is None or value <= 0 else value


def corpus_limits() -> tuple[int | None, int | None]:
    """(most passages, most corpus.jsonl bytes) a dataset may have; None is no limit. In public
    mode 50,000 passages and 100 MB (InstructIR has 16k passages, 10 MB), so no visitor request
    can start hours of indexing; elsewhere no limit unless set."""
    public = public_mode()
    return (_count("INSTRUCTIR_EXPLORER_MAX_DOCS", 50_000 if public else None),
            _megabytes("INSTRUCTIR_EXPLORER_MAX_CORPUS_MB", 100 if public else None))


def upload_limit() -> int | None:
    """Largest upload in bytes (INSTRUCTIR_EXPLORER_MAX_UPLOAD_MB; public default 100 MB)."""
    return _megabytes("INSTRUCTIR_EXPLORER_MAX_UPLOAD_MB", 100 if public_mode() else None)


def embedding_cache_limit() -> int:
    """Byte limit of the disk cache of embeddings (INSTRUCTIR_EXPLORER_CACHE_MB, default 1 GiB)."""
    return _megabytes("INSTRUCTIR_EXPLORER_CACHE_MB", 1024) or 1024 * MB


def export_ttl_seconds() -> int:
    """How long exported files are kept (INSTRUCTIR_EXPLORER_EXPORT_TTL, seconds; default an hour)."""
    return _count("INSTRUCTIR_EXPLORER_EXPORT_TTL", 3600) or 3600


def loaded_limits() -> tuple[int, int]:
    """(datasets, indexed (dataset, model) pairs) kept loaded at once; least recently used go first."""
    return (_count("INSTRUCTIR_EXPLORER_MAX_DATASETS", 4) or 4,
            _count("INSTRUCTIR_EXPLORER_MAX_INDEXES", 8) or 8)


def session_limits() -> tuple[int, int, int]:
    """(bytes of uploaded runs one session may hold, bytes all sessions may hold, seconds a session
    may idle before its runs are freed): INSTRUCTIR_EXPLORER_SESSION_RUNS_MB (default 64),
    INSTRUCTIR_EXPLORER_RUNS_MB (default 512) and INSTRUCTIR_EXPLORER_SESSION_TTL (default 1800)."""
    return (_megabytes("INSTRUCTIR_EXPLORER_SESSION_RUNS_MB", 64) or 64 * MB,
            _megabytes("INSTRUCTIR_EXPLORER_RUNS_MB", 512) or 512 * MB,
            _count("INSTRUCTIR_EXPLORER_SESSION_TTL", 1800) or 1800)


def temp_ttl_seconds() -> int:
    """How long notes downloads and exports are kept before the periodic sweep removes them:
    INSTRUCTIR_EXPLORER_EXPORT_TTL (seconds, default an hour)."""
    return export_ttl_seconds()
