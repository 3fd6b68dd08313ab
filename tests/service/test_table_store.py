"""Stored whole-dataset tables are checked like the vectors (docs/architecture.md, "Caches and their
bounds"): a flipped bit in a stored table is caught by its checksum and the table recomputed, with
one log line; the tables folder is bounded, least recently used evicted."""
from __future__ import annotations

import logging

from demo.service import Explorer, tables


def test_a_flipped_bit_in_a_stored_table_recomputes_it_with_one_log_line(tiny, caplog):
    src = str(tiny)
    first = Explorer()
    want = first.instance_records(src, "bm25", 10)
    store = first.tables._disk()
    (key,) = list(store._cache)
    raw = bytearray(store._cache.get(key))
    raw[len(raw) // 2] ^= 0x04  # one bit of the stored JSON: a digit or a letter changes
    store._cache.set(key, bytes(raw))
    caplog.set_level(logging.WARNING)
    again = Explorer().instance_records(src, "bm25", 10)  # a new process: nothing in memory
    assert again == want
    warnings = [r.getMessage() for r in caplog.records if "failed its check" in r.getMessage()]
    assert len(warnings) == 1 and key in warnings[0]
    assert Explorer().tables._disk().get_blob(key) is not None  # stored again, sound


def test_the_tables_folder_is_bounded(tiny, monkeypatch):
    monkeypatch.setattr(tables, "STORE_BYTES", 48 * 1024)
    ex = Explorer()
    for k in range(1, 41):  # 40 distinct (retriever, k) tables, as 40 /inspect calls with new ids would write
        ex.instance_records(str(tiny), "bm25", k)
    store = ex.tables._disk()
    assert store._cache.size_limit == 48 * 1024
    assert len(store) < 40 and store._cache.volume() <= 2 * 48 * 1024, (len(store), store._cache.volume())
