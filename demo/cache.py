"""On-disk embedding cache (diskcache), keyed by model, revision and a hash of the input.

Shared by processes and restarts. A deleted, unreadable or corrupt cache is rebuilt empty
and the embeddings recomputed: the cache is never a reason to fail.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
from pathlib import Path

import diskcache
import numpy as np

log = logging.getLogger(__name__)
FAULTS = (sqlite3.Error, OSError, ValueError, EOFError)


def input_digest(prompt: str, text: str) -> str:
    """sha256 of what a model reads (prompt and text): the key of its vector here and in artifacts."""
    return hashlib.sha256(f"{prompt}\x00{text}".encode("utf-8")).hexdigest()


def digest_key(model: str, revision: str, digest: str) -> str:
    return f"{model}@{revision}:{digest}"


def embedding_key(model: str, revision: str, prompt: str, text: str) -> str:
    return digest_key(model, revision, input_digest(prompt, text))


class EmbeddingCache:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._cache: diskcache.Cache | None = None
        try:
            self._cache = self._open()
        except FAULTS as e:  # a corrupt database file fails already when opened
            self._reset(e)

    def _open(self) -> diskcache.Cache:
        return diskcache.Cache(str(self.directory), size_limit=2**34)

    def _reset(self, error: Exception) -> None:
        log.warning("embedding cache at %s is unusable (%s); rebuilding it", self.directory, error)
        try:
            if self._cache is not None:
                self._cache.close()
        except Exception:  # closing a broken cache may fail too; we discard it anyway
            pass
        shutil.rmtree(self.directory, ignore_errors=True)
        self._cache = self._open()

    def _ensure_present(self) -> None:
        """A cache folder deleted while open: sqlite would go on using the deleted file (reads
        from a ghost, writes lost), so start a new cache in its place."""
        if not (self.directory / "cache.db").is_file():
            self._reset(FileNotFoundError(f"{self.directory / 'cache.db'} was deleted"))

    def get_many(self, keys: list[str], dim: int | None = None) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        self._ensure_present()
        try:
            for key in keys:
                raw = self._cache.get(key)
                if raw is None:
                    continue
                vec = np.frombuffer(raw, dtype=np.float32)
                if dim is not None and vec.shape[0] != dim:
                    raise ValueError(f"entry of size {vec.shape[0]}, expected {dim}")
                found[key] = vec
        except FAULTS as e:
            self._reset(e)
            return {}
        return found

    def set_many(self, items: dict[str, np.ndarray]) -> None:
        self._ensure_present()
        try:
            with self._cache.transact():
                for key, vec in items.items():
                    self._cache.set(key, np.asarray(vec, dtype=np.float32).tobytes())
        except FAULTS as e:
            self._reset(e)

    def __len__(self) -> int:
        try:
            return len(self._cache)
        except FAULTS:
            return 0

    def close(self) -> None:
        self._cache.close()
