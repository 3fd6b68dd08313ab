"""Load a dataset folder in the InstructIR release layout (BEIR's), checking every row.

corpus.jsonl, queries.jsonl, qrels/test.tsv and optional paraphrases.jsonl.
Every problem raises one DataError naming the file and line; no row is dropped silently.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterator

from demo.data.records import Benchmark, Document, Instance, split_query_text
from demo.errors import DataError

CORPUS, QUERIES, QRELS, PARAPHRASES = "corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "paraphrases.jsonl"


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for non-blank lines, decoding each as strict UTF-8."""
    if not path.is_file():
        raise DataError(path, "file not found")
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise DataError(path, f"not valid UTF-8 (byte {e.start})", n) from None
            if n == 1:
                line = line.lstrip("\ufeff")
            if line.strip():
                yield n, line


def read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    seen: set[str] = set()
    for n, line in read_lines(path):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(path, f"malformed JSON ({e.msg})", n) from None
        except RecursionError:
            raise DataError(path, "JSON nested too deeply", n) from None
        if not isinstance(row, dict):
            raise DataError(path, "each line must be a JSON object", n)
        for key in required:
            if key not in row:
                raise DataError(path, f"missing key {key!r}", n)
        row["_id"] = str(row["_id"])
        if not row["_id"].strip():
            raise DataError(path, "empty _id", n)
        if row["_id"] in seen:
            raise DataError(path, f"duplicate id {row['_id']!r}", n)
        seen.add(row["_id"])
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise DataError(path, f"empty text for id {row['_id']!r}", n)
        yield n, row


def read_qrels(path: Path) -> Iterator[tuple[int, str, str, int]]:
    """(line, query id, doc id, grade) rows; a header line (non-numeric score) is skipped."""
    for n, line in read_lines(path):
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) == 4:  # TREC qrels: qid iter docid rel
            cols = [cols[0], cols[2], cols[3]]
        if len(cols) != 3:
            raise DataError(path, f"expected 3 tab-separated columns (qid, pid, score), got {len(cols)}", n)
        try:
            value = float(cols[2])
        except ValueError:
            if n == 1:  # header: qid pid score
                continue
            raise DataError(path, f"score {cols[2]!r} is not a number", n) from None
        if not math.isfinite(value):
            raise DataError(path, f"score {cols[2]!r} is not a finite number", n)
        grade = int(value)
        yield n, cols[0].strip(), cols[1].strip(), grade


def read_queries(path: Path) -> Iterator[tuple[int, str, str, str, dict]]:
    """(line, id, instruction, query, metadata) rows of a release-format query file."""
    for n, row in read_jsonl(path, ("_id", "text")):
        meta = row.get("metadata") or {}
        if not isinstance(meta, dict):
            raise DataError(path, "metadata must be an object", n)
        instruction, query = split_query_text(row["text"], meta.get("origin_query"))
        if not query:
            raise DataError(path, f"empty query for id {row['_id']!r}", n)
        yield n, row["_id"], instruction, query, meta


def load_folder(folder: str | Path, name: str | None = None, max_docs: int | None = None,
                max_bytes: int | None = None) -> Benchmark:
    """Load and check a dataset folder; a corpus over max_docs passages or max_bytes bytes is
    refused before it is read (or as soon as the count passes the limit)."""
    folder = Path(folder)
    if not any((folder / f).is_file() for f in (CORPUS, QUERIES, QRELS)):
        # the same words for a missing folder and any other folder: no probing which exist
        raise DataError(folder, f"dataset folder not found (no {CORPUS}, {QUERIES} or {QRELS} there)")
    if max_bytes is not None and (folder / CORPUS).is_file() and (folder / CORPUS).stat().st_size > max_bytes:
        raise DataError(folder / CORPUS, f"corpus too large: {(folder / CORPUS).stat().st_size / 2**20:.0f} MB "
                                         f"(this server's limit is {max_bytes / 2**20:.0f} MB)")
    docs = {}
    for n, row in read_jsonl(folder / CORPUS, ("_id", "text")):
        if max_docs is not None and len(docs) >= max_docs:
            raise DataError(folder / CORPUS, f"corpus too large: more than {max_docs:,} passages "
                                             f"(this server's limit)", n)
        docs[row["_id"]] = Document(row["_id"], row["text"].strip(), str(row.get("title") or "").strip())

    qrels: dict[str, dict[str, int]] = {}
    qrels_line: dict[str, int] = {}
    for n, qid, pid, grade in read_qrels(folder / QRELS):
        if pid not in docs:
            raise DataError(folder / QRELS, f"unknown doc id {pid!r}", n)
        qrels.setdefault(qid, {})[pid] = grade
        qrels_line.setdefault(qid, n)

    instances: dict[str, Instance] = {}
    groups: dict[str, list[str]] = {}
    group_of_key: dict[str, str] = {}
    for n, qid, instruction, query, meta in read_queries(folder / QUERIES):
        judged = qrels.get(qid, {})
        if not any(g > 0 for g in judged.values()):
            raise DataError(folder / QUERIES, f"instance {qid!r} has no relevant passage in {QRELS}", n)
        key = meta.get("origin_query") or query
        if key not in group_of_key:
            group_of_key[key] = _group_id(qid, groups)
        gid = group_of_key[key]
        groups.setdefault(gid, []).append(qid)
        instances[qid] = Instance(qid, gid, query, instruction, dict(judged), str(meta.get("persona") or ""))
    for qid, n in qrels_line.items():
        if qid not in instances:
            raise DataError(folder / QRELS, f"unknown query id {qid!r}", n)

    paraphrases: dict[str, list[Instance]] = {}
    if (folder / PARAPHRASES).exists():
        for n, pid, instruction, query, meta in read_queries(folder / PARAPHRASES):
            parent = instances.get(pid.rpartition(".")[0])
            if parent is None:
                raise DataError(folder / PARAPHRASES, f"id {pid!r} names no instance (expected <instance id>.<j>)", n)
            paraphrases.setdefault(parent.instance_id, []).append(
                Instance(pid, parent.query_id, query, instruction, parent.qrels, parent.persona))

    return Benchmark(
        name or folder.name, docs, instances,
        {g: tuple(ids) for g, ids in groups.items()},
        {k: tuple(v) for k, v in paraphrases.items()},
    )


def _group_id(instance_id: str, groups: dict) -> str:
    """Base query id: the instance id's prefix before '_', made unique if two queries share it."""
    base = instance_id.split("_")[0]
    gid, n = base, 1
    while gid in groups:
        n += 1
        gid = f"{base}~{n}"
    return gid
