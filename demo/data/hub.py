"""Load a dataset from the Hugging Face hub with the `datasets` library, the way MTEB's
InstructIR loader does (configs `corpus`, `queries`, `qrels`; split `test` for qrels).

The rows are written once into the release layout under the cache folder and then loaded
by the folder loader, so hub data gets exactly the same checks and error messages.
"""
from __future__ import annotations

import json
from pathlib import Path

from demo.errors import UserError
from demo.settings import cache_dir, hub_offline, public_mode

INSTRUCTIR_REPO = "kaist-ai/InstructIR"
INSTRUCTIR_REVISION = "1615ed0ee07d6d33b0082362f008bfe62041a54b"  # the revision MTEB pins
PINNED = {INSTRUCTIR_REPO: INSTRUCTIR_REVISION}


def parse_hub_source(source: str) -> tuple[str, str]:
    """`hf:owner/name[@revision]` -> (repo, revision); the pinned revision by default."""
    repo, _, revision = source[len("hf:"):].partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise UserError(f"bad hub source {source!r}: expected hf:owner/name[@revision]")
    return repo, revision or PINNED.get(repo, "main")


def materialize(repo_or_path: str, revision: str | None, folder: Path) -> Path:
    """Fetch the three configs and write them to `folder` in the release layout."""
    import datasets
    from demo.hubaccess import HubUnreachable, check
    kwargs = {"revision": revision} if revision else {}
    if not hub_offline() and not Path(repo_or_path).exists():
        try:  # one bounded request first: the datasets library retries a dead hub for half a minute
            check(repo_or_path, revision, "dataset")
        except HubUnreachable as e:
            raise UserError(f"cannot load hf:{repo_or_path}@{revision}: {e}") from None
    try:
        corpus = _split(_load_config(datasets, repo_or_path, "corpus", kwargs), "corpus")
        queries = _split(_load_config(datasets, repo_or_path, "queries", kwargs), "queries")
        qrels = _split(_load_config(datasets, repo_or_path, "qrels", kwargs), "test")
    except Exception as e:
        hint = " (offline: set HF_HUB_OFFLINE=0 on a machine with network access)" if hub_offline() else ""
        detail = "" if public_mode() else f": {str(e).splitlines()[0] if str(e) else ''}"  # may name server paths
        raise UserError(f"cannot load hf:{repo_or_path}@{revision}: {type(e).__name__}{detail}{hint}") from None
    tmp = folder.with_name(folder.name + ".partial")
    (tmp / "qrels").mkdir(parents=True, exist_ok=True)
    _write_jsonl(tmp / "corpus.jsonl", corpus)
    _write_jsonl(tmp / "queries.jsonl", queries)
    with (tmp / "qrels" / "test.tsv").open("w", encoding="utf-8") as f:
        f.write("qid\tpid\tscore\n")
        for row in qrels:
            f.write(f"{row['query-id']}\t{row['corpus-id']}\t{int(row['score'])}\n")
    tmp.rename(folder)  # complete or absent, never half written
    return folder


def hub_folder(source: str) -> Path:
    repo, revision = parse_hub_source(source)
    folder = cache_dir() / "datasets" / f"{repo.replace('/', '__')}@{revision}"
    if folder.is_dir():
        return folder
    if hub_offline():
        raise UserError(f"cannot load {source}: offline (HF_HUB_OFFLINE=1) and not downloaded before; "
                        "set HF_HUB_OFFLINE=0 on a machine with network access")
    return materialize(repo, revision, folder)


def _load_config(datasets, repo_or_path: str, config: str, kwargs: dict):
    """load_dataset(repo, config). `datasets` picks one file format for all configs of a repo
    (from the first config's files), so a config stored in another format (qrels/test.tsv next
    to corpus.jsonl) is read with the packaged builder of its own files' extension."""
    from datasets.packaged_modules import _EXTENSION_TO_MODULE
    builder = datasets.load_dataset_builder(repo_or_path, config, **kwargs)
    files = {split: list(paths) for split, paths in (builder.config.data_files or {}).items()}
    suffixes = {Path(str(f)).suffix.lower() for paths in files.values() for f in paths}
    module = _EXTENSION_TO_MODULE.get(suffixes.pop()) if len(suffixes) == 1 else None
    if module is not None and module[0] != builder.name:
        return datasets.load_dataset(module[0], data_files=files, **module[1])
    return datasets.load_dataset(repo_or_path, config, **kwargs)


def _split(dataset_dict, name: str):
    if name in dataset_dict:
        return dataset_dict[name]
    return dataset_dict[next(iter(dataset_dict))]


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
