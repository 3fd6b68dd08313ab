"""TREC run files: `qid Q0 docid rank score tag`, one line per retrieved doc."""
from __future__ import annotations

from pathlib import Path

from demo.errors import DataError
from demo.metrics.ranking import Run, ranked


def write_run(run: Run, path: str | Path, tag: str, top: int | None = None) -> None:
    with Path(path).open("w", encoding="utf-8") as f:
        for qid in sorted(run):
            scores = run[qid]
            for rank, doc in enumerate(ranked(scores)[:top], 1):
                f.write(f"{qid} Q0 {doc} {rank} {scores[doc]!r} {tag}\n")


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "run file not found")
    run: dict[str, dict[str, float]] = {}
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                cols = raw.decode("utf-8").split()
            except UnicodeDecodeError:
                raise DataError(path, "not valid UTF-8", n) from None
            if not cols:
                continue
            if len(cols) != 6:
                raise DataError(path, f"expected 6 columns (qid Q0 docid rank score tag), got {len(cols)}", n)
            try:
                score = float(cols[4])
            except ValueError:
                raise DataError(path, f"score {cols[4]!r} is not a number", n) from None
            if cols[2] in run.setdefault(cols[0], {}):
                raise DataError(path, f"doc {cols[2]!r} listed twice for query {cols[0]!r}", n)
            run[cols[0]][cols[2]] = score
    return run
