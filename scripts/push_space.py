"""Check the tree against the Hugging Face hub's rules for a Space, then upload it.

    python scripts/push_space.py --check            # checks only (exit 1 with one line per problem)
    HF_TOKEN=hf_... python scripts/push_space.py OWNER/NAME [--allow-dirty]
    make space SPACE=OWNER/NAME                     # the same

What is checked, before anything is sent:
- every tracked file that is binary (a NUL byte, or not UTF-8) or larger than 1 MB is covered by an
  LFS pattern of .gitattributes (`git check-attr filter` says `lfs`): the hub refuses binary files
  in plain git, and files over 10 MB outright;
- no file is over the hub's per-file limit (50 GB);
- README.md's front matter names everything a Space build reads (sdk, sdk_version equal to the
  Gradio pinned in requirements.txt and to the installed one, python_version, app_file,
  short_description of at most 60 characters, models, datasets, preload_from_hub);
- nothing tracked is a virtual environment, a cache or compiled Python;
- the working tree has no uncommitted changes (what is uploaded is what is committed), unless
  --allow-dirty.

The upload sends the tracked files only (git ls-files), with huggingface_hub's
HfApi.upload_folder(repo_type="space"), which stores the files that .gitattributes marks for LFS
through LFS/Xet; the Space is created first when it does not exist (create_repo, exist_ok).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LFS_SIZE = 1 * 2**20  # above this, a file goes through LFS even if it is text (the hub's hard line: 10 MB)
HUB_FILE_LIMIT = 50 * 10**9
FORBIDDEN_PARTS = {".venv", "venv", "__pycache__", ".pytest_cache", ".cache", ".models", "node_modules",
                   ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache"}
FORBIDDEN_SUFFIXES = (".pyc", ".pyo")
REQUIRED_KEYS = ("title", "sdk", "sdk_version", "python_version", "app_file", "short_description",
                 "models", "datasets", "preload_from_hub")
IGNORE_PATTERNS = [f"{p}/**" for p in sorted(FORBIDDEN_PARTS)] + ["*.pyc", ".git/**"]


def tracked_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [p for p in out.decode("utf-8").split("\0") if p and (root / p).is_file()]


def is_binary(path: Path) -> bool:
    """Binary as the hub sees it: a NUL byte, or bytes that are not UTF-8."""
    data = path.read_bytes()
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def lfs_filter(root: Path, paths: list[str]) -> dict[str, bool]:
    """Which paths .gitattributes sends through LFS (`git check-attr filter`)."""
    if not paths:
        return {}
    out = subprocess.run(["git", "check-attr", "-z", "filter", "--stdin"], cwd=root, capture_output=True,
                         check=True, input="\0".join(paths).encode("utf-8") + b"\0").stdout
    fields = out.decode("utf-8").split("\0")
    return {fields[i]: fields[i + 2] == "lfs" for i in range(0, len(fields) - 2, 3)}


def needs_lfs(root: Path, rel: str) -> str | None:
    """Why a tracked file must go through LFS, or None."""
    path = root / rel
    size = path.stat().st_size
    if size > LFS_SIZE:
        return f"{size / 2**20:.1f} MB"
    return "binary" if is_binary(path) else None


def lfs_problems(root: Path = ROOT, files: list[str] | None = None) -> list[str]:
    files = tracked_files(root) if files is None else files
    needing = {rel: why for rel in files if (why := needs_lfs(root, rel))}
    covered = lfs_filter(root, sorted(needing))
    return [f"{rel}: {why} but no LFS pattern in .gitattributes covers it" for rel, why in sorted(needing.items())
            if not covered.get(rel)]


def size_problems(root: Path = ROOT, files: list[str] | None = None) -> list[str]:
    files = tracked_files(root) if files is None else files
    return [f"{rel}: {(root / rel).stat().st_size:,} bytes, over the hub's per-file limit"
            for rel in files if (root / rel).stat().st_size > HUB_FILE_LIMIT]


def forbidden_problems(files: list[str]) -> list[str]:
    return [f"{rel}: a virtual environment, cache or compiled file is tracked" for rel in files
            if FORBIDDEN_PARTS.intersection(Path(rel).parts[:-1]) or rel.endswith(FORBIDDEN_SUFFIXES)]


def gradio_pin(root: Path = ROOT) -> str | None:
    for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\s*gradio\s*==\s*([\w.+-]+)\s*(#.*)?", line)
        if m:
            return m.group(1)
    return None


def front_matter(root: Path = ROOT) -> dict:
    from huggingface_hub.repocard import metadata_load  # the hub's own reader of the front matter
    return metadata_load(root / "README.md") or {}


def front_matter_problems(root: Path = ROOT, installed_gradio: str | None = None) -> list[str]:
    meta = front_matter(root)
    problems = [f"README.md front matter: {key} missing" for key in REQUIRED_KEYS if not meta.get(key)]
    if meta.get("sdk") not in (None, "gradio"):
        problems.append(f"README.md front matter: sdk is {meta['sdk']!r}, expected 'gradio'")
    pin = gradio_pin(root)
    version = str(meta.get("sdk_version", ""))
    if pin is None:
        problems.append("requirements.txt: gradio is not pinned exactly (gradio==X.Y.Z)")
    elif version and version != pin:
        problems.append(f"README.md front matter: sdk_version {version} but requirements.txt pins gradio=={pin}")
    if installed_gradio is None:
        try:
            import gradio
            installed_gradio = gradio.__version__
        except ImportError:
            installed_gradio = None
    if installed_gradio and version and version != installed_gradio:
        problems.append(f"README.md front matter: sdk_version {version} but the installed Gradio is {installed_gradio}")
    if meta.get("python_version") != "3.11":  # unquoted, YAML reads a float (3.10 becomes 3.1)
        problems.append("README.md front matter: python_version must be \"3.11\" (a quoted string)")
    if len(str(meta.get("short_description", ""))) > 60:
        problems.append("README.md front matter: short_description is over 60 characters")
    app_file = meta.get("app_file")
    if app_file and not (root / app_file).is_file():
        problems.append(f"README.md front matter: app_file {app_file} does not exist")
    return problems


def dirty(root: Path = ROOT) -> bool:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return bool(out.strip())


def check(root: Path = ROOT, allow_dirty: bool = False) -> list[str]:
    """Every problem that would make the hub refuse the push or the Space fail to build."""
    files = tracked_files(root)
    problems = lfs_problems(root, files) + size_problems(root, files) + forbidden_problems(files)
    problems += front_matter_problems(root)
    if not allow_dirty and dirty(root):
        problems.append("the working tree has uncommitted changes (commit them, or pass --allow-dirty)")
    return problems


def upload(space: str, token: str, root: Path = ROOT, api=None) -> str:
    """Create the Space if needed and upload the tracked files; returns the commit URL."""
    from huggingface_hub import HfApi
    api = api or HfApi(token=token)
    api.create_repo(space, repo_type="space", space_sdk="gradio", exist_ok=True, token=token)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip()
    info = api.upload_folder(folder_path=str(root), repo_id=space, repo_type="space", token=token,
                             allow_patterns=tracked_files(root), ignore_patterns=IGNORE_PATTERNS,
                             commit_message=f"InstructIR Explorer {head or 'working tree'}")
    return str(getattr(info, "commit_url", info))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("space", nargs="?", help="OWNER/NAME of the Space (upload); omit with --check")
    p.add_argument("--check", action="store_true", help="only check the tree")
    p.add_argument("--allow-dirty", action="store_true", help="upload uncommitted changes too")
    args = p.parse_args(argv)
    problems = check(ROOT, allow_dirty=args.allow_dirty or args.check)
    for line in problems:
        print(f"push_space: {line}", file=sys.stderr)
    if problems:
        return 1
    if args.check:
        print("push_space: the tree meets the hub's rules for a Space")
        return 0
    if not args.space or args.space.count("/") != 1:
        print("push_space: name the Space as OWNER/NAME (or pass --check)", file=sys.stderr)
        return 2
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        print("push_space: set HF_TOKEN to a write token of the Space's owner", file=sys.stderr)
        return 2
    try:
        print(f"push_space: uploaded: {upload(args.space, token)}")
    except Exception as e:  # network, permissions, hub refusal: one line
        print(f"push_space: upload failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
