"""The corpus as a Hugging Face datasets folder, and its upload to the hub.

    DIR/README.md                      the dataset card (YAML header: configs and splits)
    DIR/data/train-00000-of-00001.parquet      accepted pairs
    DIR/data/rejected-00000-of-00001.parquet   every other attempt (--include-rejected)
    DIR/runs.json                      each run's config, counts and provenance

``datasets.load_dataset(DIR)`` loads it; ``push_to_hub`` uploads the folder with
``huggingface_hub`` (the token comes from ``$HF_TOKEN`` or ``hf auth login``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from formalize.corpus import Store
from formalize.errors import InputError, SetupError
from formalize.export import (
    COLUMNS,
    METADATA_KEY,
    iter_rejected,
    iter_rows,
    parquet_schema,
    write_parquet,
)
from formalize.install import install_hint
from formalize.redact import redact_fields, redact_hosts

CARD = "README.md"
RUNS = "runs.json"
SPLITS = {"train": "accepted pairs", "rejected": "every attempt that was not accepted"}
TAGS = ("lean4", "mathlib", "autoformalization", "formal-mathematics")
_MARK = "<!-- written by formalize corpus export -->"
T = TypeVar("T")


# Columns that name models and servers: their hosts are left out of a datasets folder.
PROVENANCE_COLUMNS = ("translator", "critic", "provenance")


def write_dataset_folder(
    store: Store, folder: Path, include_rejected: bool = False, critic_raw: bool = False
) -> int:
    """Write the datasets folder (replacing an earlier export there); returns the row count.

    A datasets folder is what ``--push-to-hub`` publishes, so model servers' hosts are left
    out of it (``formalize.redact``): in the provenance columns, the card and ``runs.json``."""

    def public(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        return (redact_fields(row, PROVENANCE_COLUMNS) for row in rows)

    def fill(tmp: Path) -> int:
        schema = parquet_schema(store, critic_raw)
        metadata = redact_hosts(json.loads(schema.metadata[METADATA_KEY.encode()]))
        schema = schema.with_metadata(
            {METADATA_KEY: json.dumps(metadata, ensure_ascii=False, default=str)}
        )
        rows = public(iter_rows(store, False, critic_raw))
        counts = {"train": write_parquet(rows, shard_path(tmp, "train"), schema)}
        if include_rejected:
            counts["rejected"] = write_parquet(
                public(iter_rejected(store, critic_raw)), shard_path(tmp, "rejected"), schema
            )
        (tmp / RUNS).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", "utf-8")
        (tmp / CARD).write_text(dataset_card(metadata, counts, critic_raw), "utf-8")
        return sum(counts.values())

    return write_folder(folder, fill)


def write_folder(folder: Path, fill: Callable[[Path], T]) -> T:
    """Build a datasets folder with ``fill(scratch)`` (its shards under ``data/``, its card) in
    a scratch folder beside ``folder``, then rename it into place, replacing an earlier export
    there; a non-empty folder that holds no export is refused. Returns what ``fill`` returns."""
    if folder.exists() and any(folder.iterdir()) and not _is_export(folder):
        raise InputError(
            f"{folder} is not empty and holds no earlier export; give a new or empty folder"
        )
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    try:
        result = fill(tmp)
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def shard_path(folder: Path, split: str) -> Path:
    """The parquet shard of ``split`` in a datasets folder (one shard per split)."""
    return folder / "data" / f"{split}-00000-of-00001.parquet"


def shard_digests(folder: Path) -> dict[str, str]:
    """sha256 of every parquet shard of a datasets folder, by path inside the folder."""
    digests = {}
    for path in sorted((folder / "data").glob("*.parquet")):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digests[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return digests


def data_digest(digests: dict[str, str]) -> str:
    """One hash for a datasets folder's data: sha256 over its shards' paths and hashes."""
    text = "".join(f"{name}\0{sha}\n" for name, sha in sorted(digests.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_export(folder: Path) -> bool:
    card = folder / CARD
    return card.is_file() and _MARK in card.read_text(encoding="utf-8", errors="replace")


def card_header(splits: Iterable[str], tags: Iterable[str]) -> list[str]:
    """The YAML header of a dataset card (the configs ``load_dataset`` reads, one parquet
    shard pattern per split; the tags) and the mark that says formalize wrote the folder."""
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name in splits:
        lines += [f"  - split: {name}", f"    path: data/{name}-*.parquet"]
    return [*lines, "tags:", *(f"- {tag}" for tag in tags), "---", _MARK]


def dataset_card(metadata: dict[str, Any], counts: dict[str, int], critic_raw: bool) -> str:
    """The README.md of the folder: YAML configs for ``load_dataset``, then what is in it."""
    runs = metadata.get("runs") or []
    models: Counter[tuple[str, str]] = Counter()
    for run in runs:
        prov = run.get("provenance") or {}
        if prov.get("translator") or prov.get("critic"):
            models[(str(prov.get("translator")), str(prov.get("critic")))] += 1
    lines = [
        *card_header(counts, TAGS),
        "",
        "# Autoformalized Lean 4 statements",
        "",
        "Natural-language problems paired with Lean 4 theorem statements (proofs `sorry`), "
        "written by a translator model, compiled by Lean against Mathlib, and judged faithful "
        "to the problem by a critic model, with the critic's reasons. Produced with "
        f"formalize ({metadata.get('exported_by')}), exported {metadata.get('exported_at')}.",
        "",
        "## Splits",
        "",
        "| split | rows | what |",
        "| --- | ---: | --- |",
        *(f"| {name} | {n} | {SPLITS[name]} |" for name, n in counts.items()),
        "",
        "```python",
        "from datasets import load_dataset",
        'corpus = load_dataset("PATH_OR_REPO")',
        "```",
        "",
        "## Models",
        "",
        "| translator | critic | runs |",
        "| --- | --- | ---: |",
        *(f"| `{t}` | `{c}` | {n} |" for (t, c), n in models.most_common()),
        "",
        "## Columns",
        "",
        ", ".join(f"`{name}`" for name in COLUMNS)
        + (", `critic_answers` (every critic answer, thinking included)" if critic_raw else "")
        + ". `status` says how an attempt ended (`accepted`, `lean_error`, `unfaithful`, "
        "`duplicate` with `duplicate_of` naming the entry, ...); `provenance` holds the models "
        "and their parameters, prompt versions, Lean toolchain and code version of each row. "
        f"`{RUNS}` (and the parquet files' metadata) hold each run's config and counts.",
        "",
        "A statement that compiles and that the critic accepts can still be wrong: the critic "
        "is a model. Check what matters to you.",
        "",
    ]
    return "\n".join(lines)


def push_to_hub(folder: Path, repo: str, *, private: bool = False) -> str:
    """Upload the datasets folder to the hub dataset ``repo`` (created if missing); returns the
    URL of the commit."""
    try:
        from huggingface_hub import HfApi
    except ImportError as exc:
        raise SetupError(f"--push-to-hub needs huggingface_hub: {install_hint('hub')}") from exc
    api = HfApi()
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo,
            repo_type="dataset",
            folder_path=str(folder),
            commit_message="formalize corpus export",
        )
    except Exception as exc:  # huggingface_hub's HTTP, auth and offline errors share no base
        raise SetupError(
            f"pushing {folder} to the hub dataset {repo!r} failed: {exc}. Log in with "
            "`hf auth login` (or set HF_TOKEN), check the repo name, and unset HF_HUB_OFFLINE"
        ) from exc
    return str(getattr(info, "commit_url", info))
