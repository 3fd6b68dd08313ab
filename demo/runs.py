"""Run files as retrievers: read TREC and JSON runs, check them against a dataset.

Formats, detected from the content (never from the name):
- TREC: `qid Q0 docid rank score tag`, whitespace-separated. The rank column is not trusted:
  docs are ordered by score with the tie rule of docs/architecture.md (trec_eval's).
- JSON: pytrec_eval's `{qid: {docid: score}}`, which older MTEB also writes with
  `save_predictions=True`; and MTEB 2's `{task}_predictions.json`:
  `{"mteb_model_meta": {...}, subset: {split: {qid: {docid: score}}}}`.
Either may be gzipped; a UTF-8 byte-order mark is accepted.

Every fault is one DataError naming the file (and the line for a malformed line); a file is
loaded whole or not at all. A run is kept compact (per query: doc indices and scores, rank
order) because a full InstructIR run at depth 1000 has ten million lines. A TREC file is read
line by line straight into that compact form (demo.upload: bounded unpacked size, stops at the
first bad line), so it costs about 16 bytes a line; a JSON run is parsed whole, under the same
size cap, and one nested deeper than Python's parser goes is one error, not a crash.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from demo.data.records import Benchmark
from demo.metrics.ranking import id_positions, order, ranked
from demo.errors import DataError, UserError
from demo.retrievers.ids import RUN_PREFIX
from demo.settings import MB
from demo.upload import first_char, lines, read_text, unpacked_limit

PREFIX = RUN_PREFIX
MAX_UNPACKED_BYTES = 2 * 1024 ** 3  # a local run file (CLI, runs folder); uploads stop at upload.unpacked_limit()
RUN_SUFFIXES = (".gz", ".trec", ".run", ".txt", ".tsv", ".json", ".res", ".tar")


def run_name(path: str | Path) -> str:
    """The file name without its run extensions: e5.trec.gz -> e5 (retriever id run:e5)."""
    name = Path(path).name
    while True:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or f".{ext.lower()}" not in RUN_SUFFIXES:
            return re.sub(r"[\s,]+", "_", name)  # a name is part of comma-separated retriever lists
        name = stem


@dataclass(frozen=True)
class RunFile:
    """A parsed run: per query id, doc indices (into doc_ids) and scores, in rank order."""
    name: str
    source: str  # the path or upload name, for messages
    doc_ids: tuple[str, ...]
    queries: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)
    digest: str = ""  # of the file's bytes: tells two uploads of one name apart

    @property
    def retriever_id(self) -> str:
        return PREFIX + self.name

    @property
    def lines(self) -> int:
        return sum(len(d) for d, _ in self.queries.values())

    def scores(self, qid: str) -> dict[str, float]:
        """{doc id: score} of one query (empty when the run does not cover it)."""
        found = self.queries.get(qid)
        if found is None:
            return {}
        docs, scores = found
        return {self.doc_ids[i]: s for i, s in zip(docs.tolist(), scores.tolist())}

    def as_run(self, qids=None) -> dict[str, dict[str, float]]:
        """Plain run dict, of the given query ids or all."""
        return {q: self.scores(q) for q in (self.queries if qids is None else qids) if q in self.queries}

    def coverage(self, bench: Benchmark) -> dict:
        instances = sum(1 for q in self.queries if q in bench.instances)
        paraphrase_ids = {p.instance_id for ps in bench.paraphrases.values() for p in ps}
        paraphrases = sum(1 for q in self.queries if q in paraphrase_ids)
        return {"instances": instances, "of_instances": len(bench.instances),
                "paraphrases": paraphrases, "of_paraphrases": len(paraphrase_ids)}

    def describe(self, bench: Benchmark) -> str:
        """e.g. `run:e5 covers 812 of 9,906 instances (and 30 of 49,530 paraphrases)`."""
        c = self.coverage(bench)
        text = f"{self.retriever_id} covers {c['instances']:,} of {c['of_instances']:,} instances"
        if c["paraphrases"]:
            text += f" and {c['paraphrases']:,} of {c['of_paraphrases']:,} paraphrases"
        return text


# ---- reading ---------------------------------------------------------------------------------
def read_bytes(data: bytes, source: str, limit: int = MAX_UNPACKED_BYTES) -> str:
    """Bytes of a run file (gzipped or not) -> text; binary garbage is an error."""
    text = read_text(data, source, limit)
    if not text.strip():
        raise DataError(source, "empty run file")
    return text


def parse_run(text: str, source: str) -> dict[str, dict[str, float]]:
    """Text of a TREC or JSON run -> {qid: {doc id: score}}; one DataError on any fault."""
    return _parse_json(text, source) if text.lstrip()[:1] == "{" else _parse_trec(text, source)


def _score(value, source: str, line: int | None, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DataError(source, f"score of {what} is not a number: {value!r}", line)
    try:
        score = float(value)
    except ValueError:
        raise DataError(source, f"score {value!r} of {what} is not a number", line) from None
    if not math.isfinite(score):
        raise DataError(source, f"score of {what} is {value} (scores must be finite numbers)", line)
    return score


def _trec_line(line: str, n: int, source: str) -> tuple[str, str, float] | None:
    """(query id, doc id, score) of one TREC line, None for a blank one; one DataError otherwise."""
    cols = line.split()
    if not cols:
        return None
    if len(cols) != 6:
        raise DataError(source, f"expected 6 columns (qid Q0 docid rank score tag), got {len(cols)}", n)
    qid, _, doc, _, score, _ = cols
    return qid, doc, _score(score, source, n, f"doc {doc!r}")


def _parse_trec(text: str, source: str) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        fields = _trec_line(line, n, source)
        if fields is None:
            continue
        qid, doc, value = fields
        docs = run.setdefault(qid, {})
        if doc in docs:
            raise DataError(source, f"doc {doc!r} listed twice for query {qid!r}", n)
        docs[doc] = value
    if not run:
        raise DataError(source, "empty run file")
    return run


def _no_duplicates(source: str):
    def hook(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise DataError(source, f"key {key!r} appears twice in one JSON object (a duplicate query or doc)")
            seen[key] = value
        return seen
    return hook


def _parse_json(text: str, source: str) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(source))
    except json.JSONDecodeError as e:
        raise DataError(source, f"malformed JSON: {e.msg}", e.lineno) from None
    except RecursionError:  # {"a": {"a": ...}} 100,000 deep: a run file is 2 (MTEB: 4) levels deep
        raise DataError(source, "JSON nested far deeper than a run file ({query: {doc: score}})") from None
    if isinstance(data, dict) and "mteb_model_meta" in data:  # MTEB 2: {subset: {split: run}}
        parts = [(sub, split, run) for sub, splits in data.items() if sub != "mteb_model_meta"
                 and isinstance(splits, dict) for split, run in splits.items()]
        if len(parts) != 1:
            raise DataError(source, f"an MTEB predictions file with {len(parts)} subset/split runs "
                                    f"({', '.join(f'{a}/{b}' for a, b, _ in parts) or 'none'}); expected one")
        data = parts[0][2]
    if not isinstance(data, dict):
        raise DataError(source, "a JSON run must be an object {query id: {doc id: score}}")
    if not data:
        raise DataError(source, "empty run file")
    run: dict[str, dict[str, float]] = {}
    for qid, docs in data.items():
        if not isinstance(docs, dict):
            raise DataError(source, f"query {qid!r}: expected {{doc id: score}}, got {type(docs).__name__}")
        run[qid] = {str(d): _score(s, source, None, f"doc {d!r} of query {qid!r}") for d, s in docs.items()}
    return run


# ---- fitting a run to a dataset ---------------------------------------------------------------
def _sample(ids, n: int = 3) -> str:
    ids = sorted(ids)
    return ", ".join(repr(i) for i in ids[:n]) + (", …" if len(ids) > n else "")


def _check_queries(run: Mapping, bench: Benchmark, source: str) -> None:
    known = set(bench.instances) | {p.instance_id for ps in bench.paraphrases.values() for p in ps}
    unknown = set(run) - known
    if unknown == set(run):
        raise DataError(source, f"a run for another dataset: none of its {len(run):,} query ids is an instance "
                                f"or paraphrase of {bench.name} (e.g. {_sample(unknown)})")
    if unknown:
        raise DataError(source, f"{len(unknown):,} query ids are not instances or paraphrases of {bench.name}, "
                                f"e.g. {_sample(unknown)}")


def fit(run: Mapping[str, Mapping[str, float]], bench: Benchmark, source: str, name: str | None = None,
        digest: str = "") -> RunFile:
    """Check a parsed run against the dataset (query ids: instances and paraphrases; doc ids:
    the corpus) and compact it. Partial coverage is fine; unknown ids are not."""
    _check_queries(run, bench, source)
    doc_index: dict[str, int] = {}
    queries = {}
    for qid, docs in run.items():
        order = ranked(docs)
        idx = np.fromiter((doc_index.setdefault(d, len(doc_index)) for d in order), dtype=np.int32, count=len(order))
        queries[qid] = (idx, np.fromiter((docs[d] for d in order), dtype=np.float64, count=len(order)))
    stray = [d for d in doc_index if d not in bench.docs]
    if stray:
        raise DataError(source, f"{len(stray):,} doc ids are not in the corpus of {bench.name}, e.g. {_sample(stray)}")
    return RunFile(name or run_name(source), source, tuple(doc_index), queries, digest)


def load_run(path: str | Path, bench: Benchmark, name: str | None = None) -> RunFile:
    """A local run file (the CLI's, the runs folder's), read as an upload is, up to 2 GiB unpacked."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "run file not found")
    return load_file(path, bench, str(path), name, MAX_UNPACKED_BYTES)


def load_bytes(data: bytes, bench: Benchmark, source: str, name: str | None = None) -> RunFile:
    return load_file(data, bench, source, name, MAX_UNPACKED_BYTES)


def load_upload(path: str | Path, bench: Benchmark, file_name: str) -> RunFile:
    """An uploaded run file: unpacked size capped near the upload cap (demo.upload). Messages name
    the file as uploaded (not where the server keeps it); the run's name is the file name without
    its run extensions, as for any run."""
    return load_file(path, bench, file_name, None, unpacked_limit())


def load_file(file: str | Path | bytes, bench: Benchmark, source: str, name: str | None, limit: int) -> RunFile:
    """A run from a path or bytes: TREC streamed into the compact form, JSON parsed whole."""
    digest = _digest(file, source)
    if first_char(file, source, limit) == "{":
        return fit(_parse_json(read_text(file, source, limit), source), bench, source, name, digest)
    doc_ids, queries = _trec_compact(file, source, limit)
    return fit_compact(doc_ids, queries, bench, source, name, digest)


def _digest(file: str | Path | bytes, source: str) -> str:
    if isinstance(file, bytes):
        return hashlib.sha256(file).hexdigest()[:16]
    h = hashlib.sha256()
    try:
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(MB), b""):
                h.update(block)
    except OSError as e:
        raise DataError(source, f"cannot read: {e.strerror}") from None
    return h.hexdigest()[:16]


Compact = dict[str, tuple[array, array, array]]  # qid -> (doc index, score, line number), file order


def _trec_compact(file: str | Path | bytes, source: str, limit: int) -> tuple[list[str], Compact]:
    """TREC lines -> doc ids and per query arrays; one DataError at the first bad line."""
    doc_index: dict[str, int] = {}
    queries: Compact = {}
    for n, line in lines(file, source, limit):
        fields = _trec_line(line, n, source)
        if fields is None:
            continue
        qid, doc, value = fields
        found = queries.get(qid)
        if found is None:
            found = queries[qid] = (array("i"), array("d"), array("q"))
        found[0].append(doc_index.setdefault(doc, len(doc_index)))
        found[1].append(value)
        found[2].append(n)
    if not queries:
        raise DataError(source, "empty run file")
    doc_ids = list(doc_index)
    for qid, (idx, _, line_no) in queries.items():  # a doc twice for one query: name the second line
        idx_np = np.frombuffer(idx, dtype=np.int32)
        if len(np.unique(idx_np)) != len(idx_np):
            seen: set[int] = set()
            for i, n in zip(idx, line_no):
                if i in seen:
                    raise DataError(source, f"doc {doc_ids[i]!r} listed twice for query {qid!r}", n)
                seen.add(i)
    return doc_ids, queries


def fit_compact(doc_ids: list[str], queries: Compact, bench: Benchmark, source: str, name: str | None = None,
                digest: str = "") -> RunFile:
    """fit() for a run read into arrays: the same checks, the same rank order (the tie rule's arrays)."""
    _check_queries(queries, bench, source)
    stray = [d for d in doc_ids if d not in bench.docs]
    if stray:
        raise DataError(source, f"{len(stray):,} doc ids are not in the corpus of {bench.name}, e.g. {_sample(stray)}")
    id_pos = id_positions(doc_ids) if doc_ids else np.zeros(0, dtype=np.int64)
    compact = {}
    for qid, (idx, values, _) in queries.items():
        idx_np = np.frombuffer(idx, dtype=np.int32)
        scores = np.frombuffer(values, dtype=np.float64)
        rank = order(scores, id_pos[idx_np])
        compact[qid] = (idx_np[rank].copy(), scores[rank].copy())
    return RunFile(name or run_name(source), source, tuple(doc_ids), compact, digest)


def run_files(folder: str | Path) -> list[Path]:
    """Candidate run files in a folder (not recursive), by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def check_unique(runs: Mapping[str, RunFile], new: RunFile) -> None:
    if new.name in runs and runs[new.name].source != new.source:
        raise UserError(f"two runs named {new.name!r}: {runs[new.name].source} and {new.source}; rename one")


def text_index(bench: Benchmark) -> dict[tuple[str, str], list[str]]:
    """(instruction, query) -> ids of the instances and paraphrases with that text: how a run
    column finds its ranking for the text in the editor."""
    index: dict[tuple[str, str], list[str]] = {}
    for inst in list(bench.instances.values()) + [p for ps in bench.paraphrases.values() for p in ps]:
        index.setdefault((inst.instruction.strip(), inst.query.strip()), []).append(inst.instance_id)
    return index
