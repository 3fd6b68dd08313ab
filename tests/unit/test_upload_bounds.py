"""Uploads parsed in bounded memory (docs/architecture.md, "Bounds per request"): notes and TREC
runs read line by line and stopped at the first bad line, gzip capped near the upload cap, JSON
nested deeper than a run file one line (not RecursionError). Peaks are measured in a fresh
interpreter with tracemalloc."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo import notes
from demo.data.sources import open_source
from demo.errors import DataError
from demo.runs import load_upload
from demo.upload import lines

ROOT = Path(__file__).resolve().parents[2]
MB = 2**20


def peak_mb(code: str, env: dict | None = None) -> tuple[float, str]:
    """Run `code` (which defines RESULT) in a fresh interpreter; its tracemalloc peak in MB, RESULT."""
    script = ("import tracemalloc, sys; sys.path.insert(0, %r)\nimport demo\n"
              "tracemalloc.start()\n%s\nprint(tracemalloc.get_traced_memory()[1] / 2**20)\nprint(RESULT)") % (
        str(ROOT), code)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak, result = proc.stdout.strip().splitlines()[-2:]
    return float(peak), result


PARSE_NOTES = """
from demo import notes
from demo.errors import DataError
try:
    notes.parse(%r, "notes.jsonl", ["a_1"])
    RESULT = "parsed"
except DataError as e:
    RESULT = str(e)
"""


def test_a_10mb_bad_notes_file_stops_at_line_1_and_peaks_under_50mb(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b"{}\n" * (10 * MB // 3))
    peak, result = peak_mb(PARSE_NOTES % str(path))
    assert result == "notes.jsonl:1: unknown instance ''" and peak < 50, (peak, result)


def test_a_10mb_notes_file_bad_at_its_last_line_peaks_under_50mb(tmp_path):
    line = json.dumps({"instance_id": "a_1", "tag": "other", "text": "x" * 200}) + "\n"
    path = tmp_path / "notes.jsonl"
    with path.open("w") as f:
        for _ in range(10 * MB // len(line)):
            f.write(line)
        f.write("{not json\n")
    peak, result = peak_mb(PARSE_NOTES % str(path))
    assert "malformed JSON line" in result and peak < 50, (peak, result)


def test_a_trec_run_peaks_under_three_times_its_size(tmp_path):
    bench_ids = [json.loads(x)["_id"] for x in (ROOT / "assets/demo/queries.jsonl").read_text().splitlines()]
    doc_ids = [json.loads(x)["_id"] for x in (ROOT / "assets/demo/corpus.jsonl").read_text().splitlines()]
    path = tmp_path / "full.trec"
    with path.open("w") as f:
        for q in bench_ids:
            for r, d in enumerate(doc_ids, 1):
                f.write(f"{q} Q0 {d} {r} {1000 - r * 0.5!r} system-tag\n")
    size = path.stat().st_size / MB
    code = f"""
from demo.data.sources import open_source
from demo.runs import load_upload
_, bench = open_source("demo")
tracemalloc.stop(); tracemalloc.start()  # from here on: what the upload allocates
run = load_upload({str(path)!r}, bench, "full.trec")
RESULT = run.lines
"""
    peak, result = peak_mb(code)
    assert int(result) == len(bench_ids) * len(doc_ids)
    assert size > 2 and peak < 3 * size, (peak, size)


def test_gzip_is_capped_near_the_upload_cap(tmp_path, monkeypatch, tiny):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_MAX_UPLOAD_MB", "2")
    path = tmp_path / "bomb.trec.gz"
    path.write_bytes(gzip.compress(b"a_1 Q0 a_1 1 1.0 t\n" * (400 * MB // 19 // 100)))  # 4 MB unpacked
    with pytest.raises(DataError, match="unpacks to more than 2 MB"):
        load_upload(path, open_source(str(tiny))[1], "bomb.trec.gz")


def test_the_first_bad_trec_line_stops_the_read(tmp_path, tiny):
    path = tmp_path / "r.trec"
    path.write_text("a_1 Q0 a_1 1 1.0 t\nbroken line\n" + "a_1 Q0 a_2 2 0.5 t\n" * 100_000)
    read = []
    with pytest.raises(DataError, match=":2: expected 6 columns"):
        for n, text in lines(path, "r.trec"):
            read.append(n)
            if len(text.split()) != 6:
                raise DataError("r.trec", "expected 6 columns", n)
    assert read == [1, 2]
    with pytest.raises(DataError, match="r.trec:2: expected 6 columns"):
        load_upload(path, open_source(str(tiny))[1], "r.trec")


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_json_nested_100000_deep_is_one_line(tmp_path, tiny):
    path = tmp_path / "deep.json"
    path.write_text(nested(100_000))
    with pytest.raises(DataError) as e:
        load_upload(path, open_source(str(tiny))[1], "deep.json")
    assert "nested far deeper than a run file" in str(e.value) and "\n" not in str(e.value)
    notes_path = tmp_path / "deep.jsonl"
    notes_path.write_text(nested(100_000) + "\n")
    with pytest.raises(DataError, match="deep.jsonl:1: JSON nested far deeper"):
        notes.parse(notes_path, "deep.jsonl", ["a_1"])


def test_the_run_upload_handler_says_it_in_one_line(tmp_path, tiny):
    from types import SimpleNamespace
    from demo.service import Explorer
    from demo.ui.inspect_handlers import InspectCtx, on_run_upload
    path = tmp_path / "deep.json"
    path.write_text(nested(100_000))
    ui = SimpleNamespace(run_info="run_info")
    ctx = InspectCtx(Explorer(), True, SimpleNamespace(runs="runs", retrievers="retrievers"), None, None, ui)
    out = on_run_upload(ctx, str(path), str(tiny), {}, [])
    assert out["runs"] == {} and "nested far deeper" in out["run_info"] and "Error" != out["run_info"].strip()
