"""Notes: tags and text per instance, kept in annotations.jsonl, exported and
imported as CSV/JSONL, surviving a restart (a second process)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from demo import notes
from demo.errors import DataError, UserError
from helpers import ROOT

IDS = ["101_1", "101_2", "102_3"]


def test_save_load_round_trip_last_write_wins_and_empty_deletes(tmp_path):
    path = notes.notes_path(tmp_path, "demo")
    assert notes.load(path) == {}
    notes.save(path, notes.make_note("101_1", "wrong persona", "ranks the office tea first"))
    notes.save(path, notes.make_note("101_2", "other", "judgement looks fine"))
    notes.save(path, notes.make_note("101_1", "instruction ignored", "same top doc for every user"))
    notes.save(path, notes.make_note("101_2", "", ""))  # cleared
    got = notes.load(path)
    assert list(got) == ["101_1"]
    assert (got["101_1"]["tag"], got["101_1"]["text"]) == ("instruction ignored", "same top doc for every user")
    assert path.name == "annotations.jsonl" and path.parent.parent == tmp_path


def test_notes_survive_a_restart_in_another_process(tmp_path):
    code = ("from demo import notes; p = notes.notes_path({folder!r}, 'demo'); "
            "notes.save(p, notes.make_note('102_3', 'over-literal match', 'matched the word kettle'))")
    subprocess.run([sys.executable, "-c", code.format(folder=str(tmp_path))], cwd=ROOT, check=True)
    got = notes.load(notes.notes_path(tmp_path, "demo"))
    assert got["102_3"]["tag"] == "over-literal match"


def test_a_damaged_line_costs_only_that_note(tmp_path):
    path = notes.notes_path(tmp_path, "demo")
    notes.save(path, notes.make_note("101_1", "other", "kept"))
    with path.open("a") as f:
        f.write('{"instance_id": "101_2", "tag": "oth')  # a crash mid-write
    assert list(notes.load(path)) == ["101_1"]


def test_datasets_get_separate_files():
    assert notes.notes_path("/x", "demo") != notes.notes_path("/x", "hf:kaist-ai/InstructIR")
    assert notes.notes_path("/x", "/data/a b") != notes.notes_path("/x", "/data/a-b")


def test_bad_tags_and_long_text_are_refused():
    with pytest.raises(UserError, match="unknown tag"):
        notes.make_note("101_1", "made up", "")
    with pytest.raises(UserError, match="too long"):
        notes.make_note("101_1", "other", "x" * (notes.MAX_TEXT + 1))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_gives_the_same_notes(fmt):
    held = {}
    for iid, tag, text in [("101_1", "wrong persona", 'a "quoted", comma'), ("102_3", "", "=HYPERLINK(x)"),
                           ("101_2", "other", "line one\nline two")]:
        held = notes.apply(held, notes.make_note(iid, tag, text))
    data = (notes.to_csv(held) if fmt == "csv" else notes.to_jsonl(held)).encode()
    if fmt == "csv":
        assert b"'=HYPERLINK" in data  # neutralised against formula injection
    back = notes.parse(data, f"notes.{fmt}", IDS)
    assert {i: (n["tag"], n["text"], n["updated"]) for i, n in back.items()} == \
           {i: (n["tag"], n["text"], n["updated"]) for i, n in held.items()}


@pytest.mark.parametrize("data, fragment", [
    (b"instance_id,tag,text\n999_9,other,x\n", "notes.csv:2: unknown instance '999_9'"),
    (b"instance_id,tag,text\n101_1,bogus,x\n", "notes.csv:2: unknown tag 'bogus'"),
    (b"id,text\n101_1,x\n", "needs a header"),
    (b'{"instance_id": "101_1", "tag": "other"}\n{oops\n', "notes.csv:2: malformed JSON"),
    (b"", "empty notes file"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
])
def test_bad_imports_are_one_clear_line(data, fragment):
    with pytest.raises(DataError) as e:
        notes.parse(data, "notes.csv", IDS)
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_saved_file_is_jsonl_with_the_fields(tmp_path):
    path = notes.notes_path(tmp_path, "demo")
    notes.save(path, notes.make_note("101_1", "other", "ü and <b>"))
    row = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(row) == {"instance_id", "tag", "text", "updated"} and row["text"] == "ü and <b>"
