"""`python app.py` as a Space starts it (SYSTEM=spaces, SPACE_ID set): Gradio's Spaces reloader finds
the launched Blocks under the name `demo` in __main__ (not the project's `demo` package), and the
start prints no warning and no traceback, with and without the `spaces` package."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_SPACES = {
    "spaces/__init__.py": ("def GPU(fn=None, **kwargs):\n    return fn if fn is not None else (lambda f: f)\n"
                           "def gradio_auto_wrap(fn):\n    return fn\n"),
    "spaces/reloading/__init__.py": (
        "STARTED = []\n"
        "def start_reload_server(prerun, postrun, stop_event, port=7887):\n"
        "    print('fake spaces reload server started', flush=True)\n"
        "    stop_event.wait()\n"),
    "spaces-0.51.3.dist-info/METADATA": "Metadata-Version: 2.1\nName: spaces\nVersion: 0.51.3\n",
    "spaces-0.51.3.dist-info/RECORD": "",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_like_a_space(tmp_path: Path, with_spaces: bool) -> str:
    """Start app.py as a Space would, wait for the page, then stop it; returns everything it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_WATCH", "PYTEST"))}
    port = free_port()
    env.update(SYSTEM="spaces", SPACE_ID="me/instructir-explorer", GRADIO_SERVER_PORT=str(port),
               HF_HUB_OFFLINE="1", INSTRUCTIR_EXPLORER_CACHE=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    if with_spaces:
        site = tmp_path / "site"
        for rel, text in FAKE_SPACES.items():
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / rel).write_text(text)
        env["PYTHONPATH"] = str(site)
    log = tmp_path / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    assert proc.poll() is None, log.read_text()
                    time.sleep(0.3)
            else:
                pytest.fail("the app did not serve its page within 120 s:\n" + log.read_text())
            time.sleep(3)  # the reloader's thread and the warm-up run right after launch
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log.read_text()


@pytest.mark.parametrize("with_spaces", [False, True], ids=["without-spaces", "with-spaces"])
def test_space_start_is_clean(tmp_path, with_spaces):
    out = start_like_a_space(tmp_path, with_spaces)
    assert "Running on local URL" in out
    for bad in ("GRADIO_HOT_RELOAD", "Traceback", "Warning", "warning", "Error", "not found in __main__"):
        assert bad not in out, out
    if with_spaces:  # the watcher really started, on the Blocks named demo
        assert "fake spaces reload server started" in out, out


def test_importing_app_builds_nothing_and_binds_no_package_as_demo():
    code = ("import app, types; assert app.demo is None; "
            "assert not any(isinstance(v, types.ModuleType) and v.__name__ == 'demo' for v in vars(app).values())")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_gradio_still_has_the_hook_app_py_quiets(monkeypatch):
    """quiet_spaces_reloader replaces gradio.http_server.watchfn_spaces (only with SYSTEM=spaces and
    no `spaces` package); if a Gradio upgrade renames it, this fails instead of the start."""
    import importlib.util as iu

    import gradio.http_server
    import app
    assert callable(gradio.http_server.watchfn_spaces)
    original = gradio.http_server.watchfn_spaces
    monkeypatch.setattr(gradio.http_server, "watchfn_spaces", original)
    monkeypatch.delenv("SYSTEM", raising=False)
    assert app.quiet_spaces_reloader() is False
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setattr(iu, "find_spec", lambda name, *a: None if name == "spaces" else object())
    assert app.quiet_spaces_reloader() is True
    assert gradio.http_server.watchfn_spaces is not original
