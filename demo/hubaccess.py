"""Bounded hub access: a dead or stalled hub costs seconds, not minutes.

huggingface_hub answers an unreachable hub slowly on purpose: for a file not yet in the cache it
asks again with retries (5, backing off 1, 2, 4, 8, 8 s) and a 60 s timeout per try, per file, so
loading a sentence-transformers model from a dead hub took 72-82 s and `hf:kaist-ai/InstructIR`
24 s, and a hub that accepts connections but never answers would take many minutes. Those retries
have no setting. So before anything is fetched, one request (the repo's info at the pinned
revision, no retries, INSTRUCTIR_EXPLORER_HUB_TIMEOUT seconds, default 3) asks whether the hub
answers; if not, the load fails at once with one line saying why. A failed answer is remembered
for RECHECK_S seconds per endpoint, so the columns of one request do not each wait. When the hub
does answer, downloads run with the library's own retries, which help against a passing fault.

When the hub does not answer, files of a pinned revision (a commit hash) already in the Hugging
Face cache (a Space's preload_from_hub puts them there) are used from the cache: they never change.
The library's per-request timeouts are lowered too (settings.DEFAULTS: HF_HUB_ETAG_TIMEOUT,
HF_HUB_DOWNLOAD_TIMEOUT), which bounds the requests made once the hub is up.
"""
from __future__ import annotations

import os
import re
import threading

from cachetools import TTLCache

from demo.errors import UserError

RECHECK_S = 10.0
COMMIT = re.compile(r"[0-9a-f]{40}")
_failures: TTLCache = TTLCache(maxsize=16, ttl=RECHECK_S)  # endpoint -> why it did not answer, for RECHECK_S
_lock = threading.Lock()


class HubUnreachable(UserError):
    """The hub did not answer (or refused the repo); the message is one line."""


def timeout_s() -> float:
    try:
        value = float(os.environ.get("INSTRUCTIR_EXPLORER_HUB_TIMEOUT", "3"))
    except ValueError:
        value = 3.0
    return value if value > 0 else 3.0


def endpoint() -> str:
    from huggingface_hub import constants
    return constants.ENDPOINT


def cached_snapshot(repo: str, revision: str | None, repo_type: str = "model") -> str | None:
    """The cached folder of repo at a pinned commit (immutable), or None; never touches the network."""
    if not revision or not COMMIT.fullmatch(revision):
        return None
    from huggingface_hub import snapshot_download
    try:
        return snapshot_download(repo, revision=revision, repo_type=repo_type, local_files_only=True)
    except Exception:
        return None


def _reason(e: Exception, repo: str, revision: str | None, seconds: float) -> str:
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
    where = endpoint()
    kinds = {k.__name__ for k in type(e).__mro__}  # httpx's or huggingface_hub's httpx2's classes alike
    if "TimeoutException" in kinds or "TimeoutError" in kinds:
        return f"the Hugging Face hub ({where}) did not answer within {seconds:g} s"
    if kinds & {"ConnectError", "NetworkError", "TransportError", "OSError"}:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        return f"the Hugging Face hub ({where}) is unreachable ({detail})"
    if isinstance(e, GatedRepoError):
        return f"{repo} is gated on the hub: set HF_TOKEN to a token with access"
    if isinstance(e, RevisionNotFoundError):
        return f"{repo} has no revision {revision} on the hub"
    if isinstance(e, RepositoryNotFoundError):
        return f"{repo} is not on the hub (or is private)"
    if isinstance(e, HfHubHTTPError) and e.response is not None:
        return f"the Hugging Face hub answered HTTP {e.response.status_code} for {repo}"
    return f"the Hugging Face hub could not be asked about {repo}: {type(e).__name__}"


def check(repo: str, revision: str | None = None, repo_type: str = "model") -> None:
    """Raise HubUnreachable (one line) unless the hub answers for repo@revision within the timeout."""
    where = endpoint()
    with _lock:
        failed = _failures.get(where)
        if failed and failed.startswith("the Hugging Face hub ("):
            raise HubUnreachable(failed)
    from huggingface_hub import HfApi
    seconds = timeout_s()
    try:
        HfApi(endpoint=where).repo_info(repo, revision=revision, repo_type=repo_type, timeout=seconds)
    except Exception as e:
        reason = _reason(e, repo, revision, seconds)
        with _lock:
            _failures[where] = reason
        raise HubUnreachable(reason) from None
    with _lock:
        _failures.pop(where, None)


def resolve(repo: str, revision: str | None, repo_type: str = "model") -> str:
    """What to hand a loader: the repo id once the hub has answered; when it does not, the cached
    folder of a pinned revision (files of a commit never change); else HubUnreachable. Offline
    (HF_HUB_OFFLINE=1) the repo id, which the libraries resolve from the cache themselves."""
    from demo.settings import hub_offline
    if hub_offline():
        return repo
    try:
        check(repo, revision, repo_type)
        return repo
    except HubUnreachable as e:
        local = cached_snapshot(repo, revision, repo_type) if str(e).startswith("the Hugging Face hub (") else None
        if local is None:
            raise
        return local
