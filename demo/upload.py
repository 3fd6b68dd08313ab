"""Reading an uploaded or local text file in bounded memory (docs/architecture.md, "Bounds per
request"): line by line, gzipped or not, with a cap on the unpacked size.

    for n, line in lines(path, source, limit):   # n counts from 1; raises DataError past `limit`
        ...                                      # unpacked bytes, on binary data, on bad UTF-8

A caller that finds a bad line raises at once, so a bad file costs one line of memory, however
large. `read_text` is the whole-file form for the formats that need it (a JSON run), under the
same cap.
"""
from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from demo.errors import DataError
from demo.settings import MB, upload_limit

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 65536  # looked at for binary data before anything is decoded
LINE_BYTES = 1 * MB  # the longest line read as one; a longer one is an error, not a memory spike
DEFAULT_UNPACKED = 100 * MB  # uploads when no upload cap is set (researcher mode)
READ_ERRORS = (OSError, EOFError, zlib.error)


def unpacked_limit() -> int:
    """The most bytes an uploaded file may unpack to: the upload cap (public 100 MB), else 100 MB."""
    return upload_limit() or DEFAULT_UNPACKED


def _open(source_file: str | Path | bytes, source: str) -> BinaryIO:
    raw: BinaryIO
    try:
        raw = io.BytesIO(source_file) if isinstance(source_file, bytes) else open(source_file, "rb")
    except OSError as e:
        raise DataError(source, f"cannot read: {e.strerror}") from None
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw)  # closing it leaves `raw` open: see lines()
    raw.seek(0)
    return raw


def _raw(stream: BinaryIO) -> BinaryIO:
    return stream.fileobj if isinstance(stream, gzip.GzipFile) else stream  # type: ignore[return-value]


def _read(source_file: str | Path | bytes, source: str, n: int) -> bytes:
    """The first n bytes, gzip unpacked; the file is closed whatever happens."""
    stream = _open(source_file, source)
    try:
        return stream.read(n)
    except READ_ERRORS as e:
        raise DataError(source, f"not a readable gzip file ({e})") from None
    finally:
        raw = _raw(stream)
        stream.close()
        raw.close()


def _check_head(source_file: str | Path | bytes, source: str) -> None:
    """Binary data (a NUL in the first 64 KiB unpacked) is refused before any line is decoded."""
    head = _read(source_file, source, HEAD_BYTES)
    if b"\x00" in head:
        raise DataError(source, "binary data, not UTF-8 text")


def lines(source_file: str | Path | bytes, source: str, limit: int | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline) of a file or of bytes, gzipped or not."""
    limit = unpacked_limit() if limit is None else limit
    _check_head(source_file, source)
    stream = _open(source_file, source)
    total, n = 0, 0
    try:
        while True:
            try:
                line = stream.readline(LINE_BYTES + 1)
            except READ_ERRORS as e:
                raise DataError(source, f"not a readable gzip file ({e})") from None
            if not line:
                return
            n += 1
            total += len(line)
            if total > limit:
                raise DataError(source, f"unpacks to more than {limit // MB} MB (the limit)", n)
            if len(line) > LINE_BYTES and not line.endswith(b"\n"):
                raise DataError(source, f"a line longer than {LINE_BYTES // MB} MB", n)
            if b"\x00" in line:
                raise DataError(source, "binary data, not UTF-8 text", n)
            try:
                text = line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                raise DataError(source, "not UTF-8 text (a binary file?)", n) from None
            yield n, text.rstrip("\r\n")
    finally:
        raw = _raw(stream)
        stream.close()
        raw.close()


def read_text(source_file: str | Path | bytes, source: str, limit: int | None = None) -> str:
    """The whole text (gzip unpacked, at most `limit` bytes, UTF-8, byte-order mark dropped)."""
    limit = unpacked_limit() if limit is None else limit
    data = _read(source_file, source, limit + 1)
    if len(data) > limit:
        raise DataError(source, f"unpacks to more than {limit // MB} MB (the limit)")
    if b"\x00" in data[:65536]:
        raise DataError(source, "binary data, not UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(source, "not UTF-8 text (a binary file?)", data[:e.start].count(b"\n") + 1) from None


def first_char(source_file: str | Path | bytes, source: str, limit: int | None = None) -> str:
    """The first non-blank character of the text ('' for a blank file): tells JSON from lines."""
    for _, text in lines(source_file, source, limit):
        stripped = text.lstrip()
        if stripped:
            return stripped[0]
    return ""
