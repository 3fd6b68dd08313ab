"""Precomputed embeddings ("artifacts"): embed a dataset once on a big machine, serve it anywhere.

    python -m demo index --dataset SRC --retrievers minilm,... --export DIR

writes, per dense model, DIR/<model>/corpus.npy and queries.npy (float32, plain .npy: loaded
with allow_pickle=False, nothing in them can execute) with corpus.json / queries.json beside
them (the doc ids and, row by row, the sha256 of the exact input the model read: prompt and
text, the digest the embedding cache keys on), and DIR/manifest.json (model, hub id, revision,
dimension, row counts and the sha256 of every file).

INSTRUCTIR_EXPLORER_ARTIFACTS (a folder, or hf:<dataset repo>[@rev] fetched with
huggingface_hub) plus the bundled demo artifacts (assets/artifacts/demo) are consulted before
any model encodes: a vector is used only when model id, revision and dimension match the
loaded model and the input's digest is in the artifact, so a changed passage or another
revision is recomputed, never served a stale vector. A corrupt, truncated or mismatched
artifact is logged in one line and ignored.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from demo.cache import input_digest
from demo.data.records import Benchmark
from demo.data.variants import perturbations, split_variant
from demo.errors import UserError
from demo.retrievers.templates import MODES, EncodeInput, query_input
from huggingface_hub import snapshot_download
from demo.hubaccess import resolve
from demo.settings import hub_offline

log = logging.getLogger(__name__)
FORMAT = "instructir-explorer-artifacts/1"
BUNDLED = Path(__file__).resolve().parents[1] / "assets" / "artifacts" / "demo"
ENV = "INSTRUCTIR_EXPLORER_ARTIFACTS"


# ---- what a dataset asks a model to encode ------------------------------------------------------
def document_inputs(bench: Benchmark, template) -> list[EncodeInput]:
    return [template.document(d) for d in bench.docs.values()]


def query_inputs(bench: Benchmark, template, with_perturbations: bool = False) -> list[EncodeInput]:
    """The dataset's own query texts in every mode: instances and paraphrases (and, on request,
    every instance's perturbations, which the sweep encodes), deduplicated by digest."""
    pairs: list[tuple[str, str, bool]] = []
    for inst in bench.instances.values():
        pairs.append((inst.instruction, inst.query, False))
        pairs.extend((p.instruction, p.query, False) for p in bench.paraphrases.get(inst.instance_id, ()))
        if with_perturbations:
            pairs.extend(split_variant(v["text"], inst.query) for v in perturbations(bench, inst))
    seen: dict[str, EncodeInput] = {}
    for instruction, query, query_first in pairs:
        for mode in MODES:
            e = query_input(template, mode, instruction, query, query_first)
            if e.text.strip():
                seen.setdefault(input_digest(e.prompt, e.text), e)
    return list(seen.values())


def dataset_digest(docs: Sequence[EncodeInput], queries: Sequence[EncodeInput]) -> str:
    """One hash over every input of a dataset for a template: tells a stale export from a fresh one."""
    h = hashlib.sha256()
    for e in list(docs) + list(queries):
        h.update(input_digest(e.prompt, e.text).encode())
    return h.hexdigest()


# ---- export ---------------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export(bench: Benchmark, models: dict, folder: str | Path, dataset: str,
           with_perturbations: bool = False, progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Write the artifacts of `models` ({model id: (spec, DenseModel)}) for `bench` into `folder`.
    The folder is written complete under a temporary name and then moved into place."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    manifest = {"format": FORMAT, "dataset": dataset, "name": bench.name, "models": {}}
    for model_id, (spec, model) in models.items():
        encoder = model.encoder
        docs = document_inputs(bench, model.template)
        queries = query_inputs(bench, model.template, with_perturbations)
        report = (lambda what: (lambda d, t: progress(f"{what} {model_id}", d, t))) if progress else (lambda what: None)
        doc_vecs = encoder.encode(docs, report("embedding corpus for"))
        query_vecs = encoder.encode(queries, report("embedding queries for"))
        out = tmp / model_id
        out.mkdir()
        np.save(out / "corpus.npy", np.ascontiguousarray(doc_vecs, dtype=np.float32))
        np.save(out / "queries.npy", np.ascontiguousarray(query_vecs, dtype=np.float32))
        _write_json(out / "corpus.json", {"doc_ids": list(bench.docs), "sha256": [input_digest(e.prompt, e.text) for e in docs]})
        _write_json(out / "queries.json", {"sha256": [input_digest(e.prompt, e.text) for e in queries]})
        manifest["models"][model_id] = {
            "hub_id": spec.hub_id, "revision": encoder.revision, "dim": int(doc_vecs.shape[1]),
            "normalize": bool(encoder.normalize), "corpus_rows": len(docs), "query_rows": len(queries),
            "with_perturbations": with_perturbations, "dataset_sha256": dataset_digest(docs, queries),
            "files": {name: file_sha256(out / name) for name in ("corpus.npy", "queries.npy", "corpus.json", "queries.json")},
        }
    _write_json(tmp / "manifest.json", manifest)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


# ---- lookup -----------------------------------------------------------------------------------
@dataclass
class ModelArtifacts:
    """Vectors of one model by input digest, from one artifact folder."""
    source: str
    revision: str
    dim: int
    rows: dict[str, tuple[np.ndarray, int]]  # digest -> (matrix, row)

    def get(self, digest: str) -> np.ndarray | None:
        hit = self.rows.get(digest)
        return None if hit is None else hit[0][hit[1]]

    def __len__(self) -> int:
        return len(self.rows)


class ArtifactError(Exception):
    pass


def _read_model(folder: Path, model_id: str, meta: dict) -> ModelArtifacts:
    base = folder / model_id
    for name, digest in meta["files"].items():
        if not (base / name).is_file():
            raise ArtifactError(f"{name} is missing")
        if file_sha256(base / name) != digest:
            raise ArtifactError(f"{name} does not match its sha256 in manifest.json (corrupt or truncated)")
    rows: dict[str, tuple[np.ndarray, int]] = {}
    for part, count in (("corpus", meta["corpus_rows"]), ("queries", meta["query_rows"])):
        try:
            matrix = np.load(base / f"{part}.npy", allow_pickle=False)
            keys = json.loads((base / f"{part}.json").read_text(encoding="utf-8"))["sha256"]
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as e:
            raise ArtifactError(f"{part}: {type(e).__name__}: {e}") from None
        if matrix.dtype != np.float32 or matrix.ndim != 2 or matrix.shape != (count, meta["dim"]) or len(keys) != count:
            raise ArtifactError(f"{part}.npy has shape {matrix.shape} {matrix.dtype}, manifest says ({count}, {meta['dim']}) float32")
        if not np.isfinite(matrix).all():
            raise ArtifactError(f"{part}.npy holds non-finite values")
        for row, key in enumerate(keys):
            rows[key] = (matrix, row)
    return ModelArtifacts(str(folder), meta["revision"], int(meta["dim"]), rows)


@lru_cache(maxsize=32)
def _load_folder(folder: str) -> tuple[dict, dict[str, ModelArtifacts | str]]:
    """(manifest, {model id: artifacts or the reason they are unusable}) of one folder, read once."""
    path = Path(folder)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ArtifactError(f"unknown format {manifest.get('format')!r}")
        models = manifest["models"]
    except (OSError, ValueError, KeyError, ArtifactError) as e:
        log.warning("artifacts in %s ignored, embeddings are recomputed: manifest.json unreadable (%s)", folder, e)
        return {}, {}
    out: dict[str, ModelArtifacts | str] = {}
    for model_id, meta in models.items():
        try:
            out[model_id] = _read_model(path, model_id, meta)
        except (ArtifactError, KeyError, TypeError) as e:
            reason = f"{type(e).__name__}: {e}" if not isinstance(e, ArtifactError) else str(e)
            log.warning("artifacts for %s in %s ignored, embeddings are recomputed: %s", model_id, folder, reason)
            out[model_id] = reason
    return manifest, out


def resolve_source(source: str) -> Path:
    """A folder, or hf:<dataset repo>[@rev] fetched (or found in the HF cache, where a Space's
    preload_from_hub puts it) with huggingface_hub. Offline and not cached: UserError at once."""
    source = source.strip()
    if not source.startswith("hf:"):
        return Path(source).expanduser()
    repo, _, revision = source[3:].partition("@")
    try:
        found = resolve(repo, revision or None, "dataset")  # bounded when the hub is down
        if found != repo:  # the hub did not answer; the cached pinned revision serves
            return Path(found)
        return Path(snapshot_download(repo, repo_type="dataset", revision=revision or None,
                                      local_files_only=hub_offline()))
    except Exception as e:
        hint = " (offline and not in the Hugging Face cache; set HF_HUB_OFFLINE=0 to fetch it)" if hub_offline() else ""
        detail = f": {e}" if isinstance(e, UserError) else ""
        raise UserError(f"cannot fetch artifacts {source}: {type(e).__name__}{detail}{hint}") from None


@lru_cache(maxsize=4)
def configured_folders(env_value: str | None) -> tuple[str, ...]:
    folders = [str(BUNDLED)] if (BUNDLED / "manifest.json").is_file() else []
    for item in (env_value or "").split(","):
        if item.strip():
            try:
                folders.append(str(resolve_source(item)))
            except UserError as e:
                log.warning("%s: %s; embeddings are computed instead", ENV, e)
    return tuple(folders)


def lookup_for(model_id: str, revision: str, dim: int, folders: Iterable[str] | None = None) -> list[ModelArtifacts]:
    """The usable artifacts of this model (same revision and dimension), from every folder."""
    folders = configured_folders(os.environ.get(ENV)) if folders is None else folders
    found = []
    for folder in folders:
        _, models = _load_folder(str(folder))
        art = models.get(model_id)
        if not isinstance(art, ModelArtifacts):
            continue
        if art.revision != revision or art.dim != dim:
            log.warning("artifacts for %s in %s ignored: made with revision %s (dim %d), the model here is %s (dim %d)",
                        model_id, folder, art.revision, art.dim, revision, dim)
            continue
        found.append(art)
    return found


def stale_models(folder: str | Path, bench: Benchmark, templates: dict) -> list[str]:
    """Model ids whose artifacts in `folder` no longer match the dataset's texts (or are unusable)."""
    manifest, models = _load_folder.__wrapped__(str(folder))
    stale = []
    for model_id, meta in manifest.get("models", {}).items():
        template = templates[model_id]
        fresh = dataset_digest(document_inputs(bench, template),
                               query_inputs(bench, template, meta.get("with_perturbations", False)))
        if not isinstance(models.get(model_id), ModelArtifacts) or meta.get("dataset_sha256") != fresh:
            stale.append(model_id)
    return stale
