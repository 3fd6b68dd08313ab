"""Public mode (docs/architecture.md; issue 9) through the API of an app launched in public mode, as an
anonymous visitor would probe it: only the offered datasets open, nothing tells which server
paths exist, errors name no server path, corpus and upload caps say so."""
from __future__ import annotations

from pathlib import Path

import pytest

from app_server import launched, new_explorer
from helpers import TINY, write_release

gradio_client = pytest.importorskip("gradio_client")
AppError = gradio_client.exceptions.AppError


def app_error(client, *args, api_name: str) -> str:
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    return str(info.value)


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """A launched app in public mode, offering demo and one configured folder."""
    root = tmp_path_factory.mktemp("public")
    offered = write_release(root / "srv" / "offered")
    other = write_release(root / "srv" / "elsewhere")  # a valid dataset the host did not offer
    big = write_release(root / "srv" / "big", corpus=TINY["corpus"] + [(f"x_{i + 10}", f"filler passage {i}")
                                                                      for i in range(40)])
    broken = write_release(root / "srv" / "broken")
    (broken / "corpus.jsonl").write_text('{"_id": "a_1", "text": \n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSTRUCTIR_EXPLORER_PUBLIC", "1")
        mp.setenv("INSTRUCTIR_EXPLORER_DATASETS", f"{offered},{big},{broken},hf:kaist-ai/InstructIR")
        mp.setenv("INSTRUCTIR_EXPLORER_MAX_DOCS", "20")
        mp.setenv("INSTRUCTIR_EXPLORER_MAX_UPLOAD_MB", "1")
        with launched(new_explorer(), warm=("bm25",)) as url:
            yield gradio_client.Client(url, verbose=False), url, {"offered": offered, "other": other,
                                                                 "big": big, "broken": broken, "root": root}


def test_public_mode_opens_the_offered_datasets(public):
    client, _, paths = public
    assert client.predict("demo", next(iter(new_explorer().benchmark("demo").instances)),
                          api_name="/instance")["targets"]
    assert client.predict(str(paths["offered"]), "a_1", api_name="/instance")["targets"] == ["a_1"]


@pytest.mark.parametrize("name", ["other", "/root/.ssh", "/nonexistent", "/etc", "hf:someone/else",
                                  "hf:kaist-ai/InstructIR@main", "~root", "/proc/1/cwd"])
def test_public_mode_refuses_everything_else_without_touching_the_disk(public, name):
    client, _, paths = public
    source = str(paths["other"]) if name == "other" else name
    message = app_error(client, source, "a_1", api_name="/instance")
    assert "not offered on this server" in message and "demo" in message
    assert "not found" not in message and "corpus.jsonl" not in message  # says nothing of what exists
    # the same refusal whatever the path is: nothing tells existing folders from missing ones
    assert message.replace(repr(source), "X") == \
        app_error(client, "/no/such/place", "a_1", api_name="/instance").replace(repr("/no/such/place"), "X")


def test_public_errors_name_no_server_path(public):
    client, _, paths = public
    message = app_error(client, str(paths["broken"]), "a_1", api_name="/instance")
    assert "malformed JSON" in message and "corpus.jsonl:1" in message
    assert str(paths["root"]) not in message


def test_public_corpus_cap_has_a_clear_message(public):
    client, _, paths = public
    message = app_error(client, str(paths["big"]), "a_1", api_name="/instance")
    assert "corpus too large" in message and "20" in message and str(paths["root"]) not in message


def test_public_uploads_have_a_size_limit(public):
    import httpx
    _, url, _ = public
    small = httpx.post(url + "gradio_api/upload", files={"files": ("ok.txt", b"x" * 1000)}, timeout=30)
    assert small.status_code == 200, small.text
    big = httpx.post(url + "gradio_api/upload", files={"files": ("big.txt", b"x" * (2 * 2**20))}, timeout=30)
    assert big.status_code == 413, (big.status_code, big.text[:200])


