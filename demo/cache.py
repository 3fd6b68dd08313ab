"""On-disk embedding cache (diskcache), keyed by model, revision and a hash of the input.

Shared by processes and restarts, bounded in bytes (diskcache evicts the least recently
stored entries past the limit). A deleted, unreadable or corrupt cache is rebuilt empty and
the embeddings recomputed; a full, read-only or forbidden disk (demo.diskstate.disk_fault) is
never rebuilt, nothing on it is deleted: rows are kept in a small in-memory cache instead, the
page says so (demo.diskstate), and the disk is tried again every RETRY_SECONDS, so the cache
comes back when space does, without a restart. The cache is never a reason to fail.
Each stored vector carries a checksum, so a damaged row (e.g. zeroed at the right length)
is recomputed rather than served.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import diskcache
import numpy as np

from demo import diskstate
from demo.keep import Keep
from demo.settings import cache_dir, embedding_cache_limit

log = logging.getLogger(__name__)
FAULTS = (sqlite3.Error, OSError, ValueError, EOFError, diskcache.Timeout)
CHECKSUM_BYTES = 8
DEFAULT_SIZE_LIMIT = 2**30  # 1 GiB: about 500k query rows of MiniLM's size
MEMORY_FALLBACK_BYTES = 2**27  # 128 MiB when no disk cache can be opened
RETRY_SECONDS = 60.0  # how often a cache that fell back to memory tries the disk again


def input_digest(prompt: str, text: str) -> str:
    """sha256 of what a model reads (prompt and text): the key of its vector here and in artifacts."""
    # surrogatepass: a lone surrogate is still a distinct text; the key must not be the failure
    return hashlib.sha256(f"{prompt}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


def digest_key(model: str, revision: str, digest: str) -> str:
    return f"{model}@{revision}:{digest}"


def embedding_key(model: str, revision: str, prompt: str, text: str) -> str:
    return digest_key(model, revision, input_digest(prompt, text))


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=CHECKSUM_BYTES).digest()


def seal(payload: bytes) -> bytes:
    return payload + _checksum(payload)


def pack(vec) -> bytes:
    return seal(np.asarray(vec, dtype=np.float32).tobytes())


def checked(raw) -> bytes | None:
    """The payload of a stored row, or None when its checksum does not match (a damaged row)."""
    if not isinstance(raw, bytes) or len(raw) <= CHECKSUM_BYTES:
        return None
    payload, check = raw[:-CHECKSUM_BYTES], raw[-CHECKSUM_BYTES:]
    return payload if _checksum(payload) == check else None


def unpack(raw, dim: int | None) -> np.ndarray | None:
    """The vector stored in `raw`, or None when it is damaged or of another size."""
    payload = checked(raw)
    if payload is None or len(payload) % 4:
        return None
    vec = np.frombuffer(payload, dtype=np.float32)
    return vec if dim is None or vec.shape[0] == dim else None


class MemoryStore:
    """A bounded in-memory stand-in for diskcache (get/set/delete/len), for when no disk
    cache can be opened; least recently used rows go first past the byte limit."""

    def __init__(self, size_limit: int):
        self.size_limit = size_limit
        self._rows = Keep(size_limit, len)

    def get(self, key):
        return self._rows.get(key)

    def set(self, key, value: bytes) -> None:
        self._rows.put(key, value)

    def delete(self, key) -> None:
        self._rows.pop(key)

    def __len__(self) -> int:
        return len(self._rows)

    def close(self) -> None:
        pass


class EmbeddingCache:
    """A checksummed, size-bounded disk cache: vectors (get_many/set_many) and, for whole-dataset
    tables, opaque blobs (get_blob/set_blob) share its recovery rules."""

    def __init__(self, directory: str | Path, size_limit: int = DEFAULT_SIZE_LIMIT,
                 eviction: str = "least-recently-stored"):
        self.directory = Path(directory)
        self.size_limit, self.eviction = size_limit, eviction
        self._lock = threading.RLock()  # resets swap the store; no reader may see it half done
        self._cache: diskcache.Cache | MemoryStore | None = None
        self._memory: MemoryStore | None = None
        self.in_memory, self._retry_at = False, 0.0
        with self._lock:
            try:
                self._cache = self._open()
            except FAULTS as e:  # a corrupt database file fails already when opened
                self._reset(e)

    def _open(self) -> diskcache.Cache:
        return diskcache.Cache(str(self.directory), size_limit=self.size_limit, eviction_policy=self.eviction)

    @property
    def label(self) -> str:
        return self.directory.name or str(self.directory)

    def _reset(self, error: Exception) -> None:
        """Start an empty disk cache in place of a broken one; memory when that fails too. A full
        or read-only disk is not a broken cache: memory at once, and nothing deleted."""
        with self._lock:
            if self.in_memory:
                return
            if diskstate.disk_fault(error):
                self._use_memory(error)
                return
            log.warning("embedding cache at %s is unusable (%s); rebuilding it", self.directory, error)
            try:
                if self._cache is not None:
                    self._cache.close()
            except Exception:  # closing a broken cache may fail too; we discard it anyway
                pass
            for _ in range(3):  # a folder deleted again while we reopen it (under load) gets another try
                shutil.rmtree(self.directory, ignore_errors=True)
                try:
                    self._cache = self._open()
                    return
                except FAULTS as e:
                    error = e
                    if diskstate.disk_fault(e):
                        break
            self._use_memory(error)

    def _use_memory(self, error: Exception) -> None:
        if isinstance(self._cache, diskcache.Cache):
            try:
                self._cache.close()
            except Exception:  # a cache on a failing disk may not close cleanly; it is dropped anyway
                pass
        fault = diskstate.disk_fault(error)
        if self._memory is None:  # said once; later failures reuse the same store
            if not fault:  # a disk fault is said (once) by diskstate, and shown on the page
                log.warning("no disk cache at %s (%s): embeddings are kept in memory until it can be made",
                            self.directory, error)
            self._memory = MemoryStore(min(self.size_limit, MEMORY_FALLBACK_BYTES))
        if fault:
            diskstate.report(self.label, error)
        self.in_memory, self._cache, self._retry_at = True, self._memory, time.monotonic() + RETRY_SECONDS

    def _retry_disk(self) -> None:
        """Now and then, try the disk again (a folder made writable, a disk with space again)."""
        if time.monotonic() < self._retry_at:
            return
        try:
            self._cache = self._open()
            self.in_memory = False
            log.warning("embedding cache at %s is usable again", self.directory)
        except FAULTS:
            self._retry_at = time.monotonic() + RETRY_SECONDS

    def _ensure_present(self) -> None:
        """A cache folder deleted while open: sqlite would go on using the deleted file (reads
        from a ghost, writes lost), so start a new cache in its place."""
        if self.in_memory:
            self._retry_disk()
        elif not (self.directory / "cache.db").is_file():
            self._reset(FileNotFoundError("cache.db was deleted"))

    def get_many(self, keys: list[str], dim: int | None = None) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            try:
                self._ensure_present()
                cache = self._cache
                for key in keys:
                    raw = cache.get(key)
                    if raw is None:
                        continue
                    vec = unpack(raw, dim)
                    if vec is None:  # damaged or from another model shape: recompute this row only
                        log.warning("embedding cache row %s failed its check; recomputing it", key)
                        cache.delete(key)
                        continue
                    found[key] = vec
            except FAULTS as e:
                self._reset(e)
                return {}
        return found

    def set_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            try:
                self._ensure_present()
                cache = self._cache
                if isinstance(cache, MemoryStore):
                    for key, vec in items.items():
                        cache.set(key, pack(vec))
                    return
                with cache.transact():
                    for key, vec in items.items():
                        cache.set(key, pack(vec))
                diskstate.clear(self.label)
            except FAULTS as e:
                self._reset(e)
                if self.in_memory:  # what could not be written is kept in memory meanwhile
                    for key, vec in items.items():
                        self._cache.set(key, pack(vec))

    def __len__(self) -> int:
        with self._lock:
            try:
                return len(self._cache)
            except FAULTS:
                return 0

    def close(self) -> None:
        with self._lock:
            try:
                self._cache.close()
            except FAULTS:
                pass

    def get_blob(self, key: str) -> bytes | None:
        """A stored blob, None when absent or damaged (a damaged one is dropped with one log line)."""
        with self._lock:
            try:
                self._ensure_present()
                raw = self._cache.get(key)
                if raw is None:
                    return None
                payload = checked(raw)
                if payload is None:
                    log.warning("cache row %s failed its check; recomputing it", key)
                    self._cache.delete(key)
                return payload
            except FAULTS as e:
                self._reset(e)
                return None

    def set_blob(self, key: str, payload: bytes) -> None:
        with self._lock:
            try:
                self._ensure_present()
                self._cache.set(key, seal(payload))
                if not self.in_memory:
                    diskstate.clear(self.label)
            except FAULTS as e:
                self._reset(e)
                if self.in_memory:
                    self._cache.set(key, seal(payload))


def default_cache() -> EmbeddingCache:
    return EmbeddingCache(cache_dir() / "embeddings", embedding_cache_limit())
