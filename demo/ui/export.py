"""Exports of the current comparison: CSV, JSON and a TREC run of the rankings."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr

from demo.csvsafe import safe_cell
from demo.settings import export_ttl_seconds

EXPORT_ROOT = "instructir-explorer-exports"


def _cell(v):
    """None (not retrieved, no shift) as an empty cell."""
    return "" if v is None else v


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["instance_id", "retriever", "rank", "doc_id", "score", "shift", "original_rank", "is_target",
                "is_sibling", f"ndcg@{result['k']}", "target_rank", "original_target_rank", f"robustness@{result['k']}"])
    for rid, r in result["retrievers"].items():
        if "error" in r:
            continue
        for c in r["ranking"]:
            w.writerow([safe_cell(result["instance_id"]), safe_cell(rid), c["rank"], safe_cell(c["doc_id"]),
                        f"{c['score']:.6f}", _cell(c["shift"]), _cell(c["original_rank"]), int(c["is_target"]),
                        int(c["is_sibling"]), f"{r['ndcg']:.6f}", _cell(r["target_rank"]),
                        _cell(r["original_target_rank"]), f"{result['robustness'][rid]:.6f}"])
    return buf.getvalue()


def to_json(result: dict, instruction: str, dataset: str) -> str:
    return json.dumps({"dataset": dataset, "instruction": instruction, **result}, indent=2)


def file_part(rid: str) -> str:
    """A retriever id as part of a file name: `rrf(bm25,minilm)@query` -> `rrf-bm25-minilm-query`."""
    return re.sub(r"[^\w.]+", "-", rid).strip("-")


def to_trec(result: dict, retriever_id: str) -> str:
    """One retriever's ranking as a TREC run (a run file holds one system, tagged with its id)."""
    ranking = result["retrievers"][retriever_id].get("ranking", [])
    return "".join(f"{result['instance_id']} Q0 {c['doc_id']} {c['rank']} {c['score']!r} {retriever_id}\n"
                   for c in ranking)


def deep_link(dataset: str, instance_id: str, instruction: str, original: str, retrievers: list[str],
              k: int = 10, order: str | None = None, tab: str | None = None, grade: str | None = None) -> str:
    """Query string that restores the view; the instruction only when edited, and
    k, the query order, the tab and the grading target only when they differ from the defaults."""
    params = {"dataset": dataset, "instance": instance_id}
    if instruction != original:
        params["instruction"] = instruction
    params["retrievers"] = ",".join(retrievers)
    extra = {"k": k if k not in (None, 10) else None, "order": order, "tab": tab if tab != "explore" else None,
             "grade": grade}
    params.update({key: v for key, v in extra.items() if v})
    return "?" + urlencode(params)


def export_root() -> Path:
    return Path(tempfile.gettempdir()) / EXPORT_ROOT


def sweep_exports(now: float | None = None) -> int:
    """Delete export folders older than the time to live; returns how many went."""
    root, ttl = export_root(), export_ttl_seconds()
    now = time.time() if now is None else now
    gone = 0
    for folder in root.glob("export-*"):
        try:
            if now - folder.stat().st_mtime > ttl:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        except OSError:  # removed by another process meanwhile
            continue
    return gone


def write_exports(files: dict[str, str]) -> list[str]:
    """Write the files into a new folder under the export root (old folders are swept first, and
    by the periodic sweep, demo.sweeper). A full or read-only disk is one line, not a failure."""
    sweep_exports()
    try:
        root = export_root()
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=root))
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
    except OSError as e:
        raise gr.Error(f"cannot write the export files ({e.strerror or type(e).__name__}): the server's disk "
                       "is full or read-only; the view itself keeps working") from None
    return [str(folder / n) for n in files]
