"""Encoders turn EncodeInputs into vectors. A CachedEncoder wraps any encoder with the disk cache."""
from __future__ import annotations

from itertools import groupby
from typing import Callable, Protocol, Sequence

import numpy as np

from demo.cache import EmbeddingCache, digest_key, input_digest
from demo.devices import on_gpu
from demo.retrievers.templates import EncodeInput

Progress = Callable[[int, int], None]  # (done, total)


class Encoder(Protocol):
    name: str
    revision: str
    normalize: bool

    def encode(self, inputs: Sequence[EncodeInput], progress: Progress | None = None) -> np.ndarray: ...


POOL_MIN_TEXTS = 2048  # below this, starting one process per device costs more than it saves


def _model_encode(model, texts: list[str], **kwargs) -> np.ndarray:
    return model.encode(texts, **kwargs)


class SentenceTransformerEncoder:
    """A sentence-transformers model. Inputs sharing a prompt are encoded in one call
    (INSTRUCTOR gives each query its own prompt). With `pool_devices` (several), large encodes
    (a corpus) go through sentence-transformers' multi-process pool, one process per device."""

    def __init__(self, model, name: str, revision: str, normalize: bool, batch_size: int = 32,
                 pool_devices: list[str] | None = None):
        self.model, self.name, self.revision, self.normalize = model, name, revision, normalize
        self.batch_size, self.pool_devices = batch_size, pool_devices
        self.dim = (model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else model.get_sentence_embedding_dimension())
        self._encode = on_gpu(_model_encode)  # under spaces.GPU on a ZeroGPU Space

    def encode(self, inputs: Sequence[EncodeInput], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        order = sorted(range(len(inputs)), key=lambda i: inputs[i].prompt)
        pooled = self.pool_devices and len(inputs) >= POOL_MIN_TEXTS
        step = max(POOL_MIN_TEXTS * len(self.pool_devices), 16384) if pooled else 256
        extra = {"device": list(self.pool_devices)} if pooled else {}
        done = 0
        for prompt, group in groupby(order, key=lambda i: inputs[i].prompt):
            idx = list(group)
            for start in range(0, len(idx), step):  # chunks, so progress moves on long runs
                chunk = idx[start:start + step]
                out[chunk] = self._encode(
                    self.model, [inputs[i].text for i in chunk], prompt=prompt or None, batch_size=self.batch_size,
                    normalize_embeddings=self.normalize, convert_to_numpy=True, show_progress_bar=False, **extra)
                done += len(chunk)
                if progress:
                    progress(done, len(inputs))
        return out


class CachedEncoder:
    """Looks every input up in precomputed artifacts (demo.artifacts), then in the disk cache,
    and encodes only the misses, in one batch."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache, artifacts: Sequence = ()):
        self.encoder, self.cache, self.artifacts = encoder, cache, list(artifacts)
        self.name, self.revision, self.normalize = encoder.name, encoder.revision, encoder.normalize
        self.dim = encoder.dim
        self.encoded_count = 0  # inputs actually sent to the model (for tests and benchmarks)
        self.artifact_hits = 0  # inputs served by artifacts

    def _from_artifacts(self, digests: list[str], out: np.ndarray) -> set[int]:
        served = set()
        for art in self.artifacts:
            for i, digest in enumerate(digests):
                if i not in served:
                    vec = art.get(digest)
                    if vec is not None:
                        out[i] = vec
                        served.add(i)
        self.artifact_hits += len(served)
        return served

    def encode(self, inputs: Sequence[EncodeInput], progress: Progress | None = None) -> np.ndarray:
        digests = [input_digest(i.prompt, i.text) for i in inputs]
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        served = self._from_artifacts(digests, out) if self.artifacts else set()
        keys = {i: digest_key(self.name, self.revision, d) for i, d in enumerate(digests) if i not in served}
        found = self.cache.get_many(list(keys.values()), self.dim) if keys else {}
        missing = [i for i, k in keys.items() if k not in found]
        for i, k in keys.items():
            if k in found:
                out[i] = found[k]
        if missing:
            new = self.encoder.encode([inputs[i] for i in missing], progress)
            out[missing] = new
            self.encoded_count += len(missing)
            self.cache.set_many({keys[i]: new[j] for j, i in enumerate(missing)})
        elif progress:
            progress(len(inputs), len(inputs))
        return out
