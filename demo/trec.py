"""TREC run files: `qid Q0 docid rank score tag`, one line per retrieved doc."""
from __future__ import annotations

from pathlib import Path

from demo.errors import DataError
from demo.metrics.ranking import Run, ranked
from demo.runs import parse_run, read_bytes


def write_run(run: Run, path: str | Path, tag: str, top: int | None = None) -> None:
    with Path(path).open("w", encoding="utf-8") as f:
        for qid in sorted(run):
            scores = run[qid]
            for rank, doc in enumerate(ranked(scores)[:top], 1):
                f.write(f"{qid} Q0 {doc} {rank} {scores[doc]!r} {tag}\n")


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    """Any run file demo.runs reads (TREC or JSON, gzipped or not) as a plain run dict."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "run file not found")
    return parse_run(read_bytes(path.read_bytes(), str(path)), str(path))
