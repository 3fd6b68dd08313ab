"""No absolute server path in what the browser receives in public mode (docs/architecture.md,
"Bounds per request"): /config, the page and every API answer are grepped for the cache folder,
the repository, the home and the temporary folders."""
from __future__ import annotations

import json
import re
import tempfile
import urllib.request
from pathlib import Path

import gradio_client

from app_server import launched
from demo.service import Explorer

ROOT = Path(__file__).resolve().parents[2]


def server_paths(cache: Path) -> list[str]:
    return [str(cache), str(ROOT), str(Path.home()) + "/", tempfile.gettempdir() + "/instructir"]


def test_public_config_page_and_answers_carry_no_server_path(monkeypatch, tmp_path):
    cache = tmp_path / "server-cache-folder"
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_CACHE", str(cache))
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "1")
    with launched(Explorer(), warm=("bm25",)) as url:
        texts = {"config": urllib.request.urlopen(url + "config").read().decode(),
                 "page": urllib.request.urlopen(url).read().decode()}
        client = gradio_client.Client(url, verbose=False)
        answers = {
            "instance": client.predict("demo", "101_1", api_name="/instance"),
            "rank": client.predict("demo", "101_1", "Short. Answer.", ["bm25", "minilm"], 5, api_name="/rank"),
            "sweep": client.predict("demo", "101", ["bm25"], 5, api_name="/sweep"),
            "explain": client.predict("demo", "101_1", "Short. Answer.", "minilm", "p101", api_name="/explain"),
        }
        try:
            client.predict("/etc", "x", None, ["bm25"], 5, api_name="/rank")
        except Exception as e:  # refused in public mode: the message must not name a server path either
            answers["refused"] = str(e)
    texts.update({k: json.dumps(v) for k, v in answers.items()})
    assert "notes-folder" in texts["config"]  # the hidden notes folder is there, with no value
    for name, text in texts.items():
        for path in server_paths(cache):
            assert path not in text, f"{name} carries the server path {path}"
    assert not re.search(r'"value":\s*"/(root|home|tmp|srv|work)/', texts["config"])
