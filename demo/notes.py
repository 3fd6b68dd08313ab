"""Notes on instances: a tag from a short taxonomy and free text, per instance.

Kept per dataset in `<folder>/<dataset key>/annotations.jsonl` (folder: the user's choice,
default <cache>/annotations), one JSON object per line, appended on every save: the last line
of an instance wins, so a crash mid-write loses at most that one note and never the file.
In public mode nothing is written: the UI keeps notes in the session and the
user downloads them. Notes are plain dicts {"instance_id", "tag", "text", "updated"}.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from demo.csvsafe import safe_cell, unsafe_cell
from demo.errors import DataError, UserError
from demo.settings import cache_dir
from demo.upload import first_char, lines

log = logging.getLogger(__name__)

TAGS = ("instruction ignored", "over-literal match", "wrong persona", "judgement questionable", "other")
FIELDS = ("instance_id", "tag", "text", "updated")
MAX_TEXT = 4000
FILE = "annotations.jsonl"
_write_lock = threading.Lock()


def default_folder() -> Path:
    return cache_dir() / "annotations"


def dataset_key(dataset: str) -> str:
    """A folder name for a dataset source: readable, and distinct for distinct sources."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(dataset).strip()).strip("-.")[-60:] or "dataset"
    return f"{slug}-{hashlib.sha256(str(dataset).strip().encode()).hexdigest()[:8]}"


def notes_path(folder: str | Path | None, dataset: str) -> Path:
    return Path(folder or default_folder()).expanduser() / dataset_key(dataset) / FILE


def make_note(instance_id: str, tag: str, text: str) -> dict:
    tag, text = (tag or "").strip(), (text or "").strip()
    if tag and tag not in TAGS:
        raise UserError(f"unknown tag {tag!r}; tags: {', '.join(TAGS)}")
    if len(text) > MAX_TEXT:
        raise UserError(f"note too long: {len(text)} characters (limit {MAX_TEXT})")
    return {"instance_id": str(instance_id), "tag": tag, "text": text,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def is_empty(note: Mapping) -> bool:
    return not note.get("tag") and not note.get("text")


def apply(notes: Mapping[str, dict], note: dict) -> dict[str, dict]:
    """Notes with this one set (an empty note deletes), as a new dict (session state stays immutable)."""
    out = {k: v for k, v in notes.items() if k != note["instance_id"]}
    if not is_empty(note):
        out[note["instance_id"]] = note
    return out


# ---- the file -----------------------------------------------------------------------------------
def load(path: Path) -> dict[str, dict]:
    """The notes in an annotations file (absent file: none). A damaged line is skipped and logged:
    the other notes stay readable."""
    notes: dict[str, dict] = {}
    if not path.is_file():
        return notes
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            note = {f: str(row.get(f, "")) for f in FIELDS}
            if not note["instance_id"]:
                raise ValueError("no instance_id")
        except (ValueError, AttributeError) as e:
            log.warning("%s:%d: skipping a damaged note (%s)", path, n, e)
            continue
        notes = apply(notes, note)
    return notes


def save(path: Path, note: dict) -> None:
    """Append one note (an empty one records a deletion)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _write_lock, path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({k: note[k] for k in FIELDS}, ensure_ascii=False) + "\n")
            f.flush()
    except OSError as e:
        raise UserError(f"cannot save the note in {path}: {e.strerror}") from None


def save_all(path: Path, notes: Iterable[dict]) -> None:
    for note in notes:
        save(path, note)


# ---- export and import ------------------------------------------------------------------------
def to_csv(notes: Mapping[str, dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(FIELDS)
    for iid in sorted(notes):
        w.writerow([safe_cell(notes[iid][f]) for f in FIELDS])
    return buf.getvalue()


def to_jsonl(notes: Mapping[str, dict]) -> str:
    return "".join(json.dumps({f: notes[i][f] for f in FIELDS}, ensure_ascii=False) + "\n" for i in sorted(notes))


def parse(data: bytes | str | Path, source: str, instance_ids, limit: int | None = None) -> dict[str, dict]:
    """Notes from an uploaded CSV or JSONL file (bytes or a path; as to_csv / to_jsonl write
    them), checked: known instance ids, known tags. Read line by line (demo.upload), so a bad
    file stops at its first bad line having held one line; one DataError naming the file and
    line on any fault."""
    first = first_char(data, source, limit)
    if not first:
        raise DataError(source, "empty notes file")
    rows = _json_rows(data, source, limit) if first == "{" else _csv_rows(data, source, limit)
    known = set(instance_ids)
    notes: dict[str, dict] = {}
    for n, row in rows:
        if not isinstance(row, dict):
            raise DataError(source, "each line must be a JSON object", n)
        iid = str(row.get("instance_id") or "").strip()
        if iid not in known:
            raise DataError(source, f"unknown instance {iid!r}", n)
        text_value = unsafe_cell(str(row.get("text") or ""))
        try:
            note = make_note(iid, str(row.get("tag") or ""), text_value)
        except UserError as e:
            raise DataError(source, str(e), n) from None
        if row.get("updated"):
            note["updated"] = str(row["updated"])
        notes = apply(notes, note) if iid in notes else _add(notes, note)
    return notes


def _add(notes: dict[str, dict], note: dict) -> dict[str, dict]:
    """apply() for a new instance, in place (a file of 10,000 notes must not copy the dict per line)."""
    if not is_empty(note):
        notes[note["instance_id"]] = note
    return notes


def _json_rows(data, source: str, limit: int | None) -> Iterator[tuple[int, object]]:
    for n, line in lines(data, source, limit):
        if line.strip():
            try:
                yield n, json.loads(line)
            except RecursionError:
                raise DataError(source, "JSON nested far deeper than a note (one flat object per line)", n) from None
            except ValueError as e:
                raise DataError(source, f"malformed JSON line ({e})", n) from None


def _csv_rows(data, source: str, limit: int | None) -> Iterator[tuple[int, dict]]:
    numbered = lines(data, source, limit)
    line_no = [0]

    def texts():
        for n, text in numbered:
            line_no[0] = n
            yield text + "\n"
    reader = csv.DictReader(texts())
    try:
        if not reader.fieldnames or "instance_id" not in reader.fieldnames:
            raise DataError(source, "a notes CSV needs a header with instance_id, tag, text", 1)
        for row in reader:
            yield line_no[0], row
    except csv.Error as e:
        raise DataError(source, f"malformed CSV ({e})", line_no[0]) from None
