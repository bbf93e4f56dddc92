"""Finding model weights on this machine, never on the network.

A model is a local folder (or a ``.gguf`` file) or a Hugging Face hub id that must already be in
the local hub cache (``HF_HOME``/``HF_HUB_CACHE``). A missing model is a ``SetupError`` that says
how to fetch it; nothing waits for a network that may not be there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formalize.errors import InputError, SetupError
from formalize.install import install_hint
from formalize.models.base import Unmet

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class WeightsMissing(SetupError):
    """Weights that are not on this machine: ``problem`` says which, ``fix`` how to get them."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class LocalModel:
    """Where a model's files are: ``folder`` (+ ``gguf_file`` inside it), and its revision."""

    folder: Path
    gguf_file: str | None = None
    revision: str | None = None
    hub_id: str | None = None

    @property
    def weights(self) -> Path:
        """The GGUF file, or the folder for a safetensors/bin checkpoint."""
        return self.folder / self.gguf_file if self.gguf_file else self.folder


def looks_like_path(ref: str) -> bool:
    """True when ``ref`` is meant as a filesystem path rather than a hub id."""
    return (
        ref.startswith(("/", ".", "~"))
        or ref.count("/") > 1
        or "\\" in ref
        or ref.endswith(".gguf")
        or Path(ref).expanduser().exists()
    )


def fetch_hint(hub_id: str, filename: str | None = None) -> str:
    """The command that downloads ``hub_id`` (or one file of it) into the hub cache."""
    target = f"{hub_id} {filename}" if filename else hub_id
    return (
        f"fetch it on a machine with network access: `hf download {target}` "
        f"(`huggingface-cli download {target}` with huggingface_hub < 1.0), "
        f"into the cache this run reads ({hub_cache_dir()}; set HF_HOME to use another), "
        "or pass a local folder path instead of the hub id"
    )


def hub_cache_dir() -> str:
    """The hub cache folder huggingface_hub would use."""
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers and vllm
        home = os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface"))
        return os.environ.get("HF_HUB_CACHE", os.path.join(home, "hub"))


def resolve_model(
    ref: str, *, gguf_file: str | None = None, revision: str | None = None
) -> LocalModel:
    """The local files of ``ref`` (a path or a hub id in the local cache), or a ``SetupError``."""
    ref = ref.strip()
    path = Path(ref).expanduser()
    if looks_like_path(ref):
        return _local(path, gguf_file)
    if not _HUB_ID.match(ref):
        raise InputError(f"model {ref!r} is neither an existing path nor a hub id like 'org/name'")
    return _cached(ref, gguf_file, revision)


def weights_unmet(model: str, options: Mapping[str, Any]) -> list[Unmet]:
    """What keeps the weights of ``model`` (with the spec's ``gguf_file`` and ``revision``)
    from being used on this machine, and how to get them; empty when they are here. Looks at
    the local folder or the hub cache only; loads nothing."""
    try:
        resolve_model(model, gguf_file=options.get("gguf_file"), revision=options.get("revision"))
    except WeightsMissing as exc:
        return [Unmet(exc.problem, exc.fix)]
    except (InputError, SetupError) as exc:
        return [Unmet(str(exc))]
    return []


def _local(path: Path, gguf_file: str | None) -> LocalModel:
    if not path.exists():
        raise SetupError(f"model path {str(path)!r} does not exist")
    if path.is_file():
        if not path.name.endswith(".gguf"):
            raise SetupError(
                f"model path {str(path)!r} is a file: give the model folder, or a .gguf file"
            )
        if gguf_file and gguf_file != path.name:
            raise InputError(f"gguf_file={gguf_file!r} disagrees with the file {str(path)!r}")
        return LocalModel(folder=path.parent, gguf_file=path.name)
    if gguf_file and not (path / gguf_file).is_file():
        found = sorted(p.name for p in path.glob("*.gguf"))
        raise SetupError(
            f"no {gguf_file!r} in {str(path)!r}"
            + (f" (GGUF files there: {', '.join(found)})" if found else "")
        )
    if not gguf_file and not (path / "config.json").is_file():
        found = sorted(p.name for p in path.glob("*.gguf"))
        if len(found) == 1:
            return LocalModel(folder=path, gguf_file=found[0])
        hint = f"; pick one with ?gguf_file= ({', '.join(found)})" if found else ""
        raise SetupError(f"{str(path)!r} holds no config.json: not a model folder{hint}")
    return LocalModel(folder=path, gguf_file=gguf_file)


def _cached(hub_id: str, gguf_file: str | None, revision: str | None) -> LocalModel:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:
        raise SetupError(
            f"model {hub_id!r} is a hub id but huggingface_hub is not installed "
            f"({install_hint('hf')}), or pass a local folder"
        ) from exc
    try:
        folder = Path(str(snapshot_download(hub_id, revision=revision, local_files_only=True)))
    except LocalEntryNotFoundError:
        at = f" at revision {revision!r}" if revision else ""
        raise WeightsMissing(
            f"model {hub_id!r}{at} is not in the local Hugging Face cache (nor a local folder)",
            fetch_hint(hub_id),
        ) from None
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot use the cached copy of {hub_id!r}: {exc}") from None
    if gguf_file and not (folder / gguf_file).is_file():
        raise WeightsMissing(
            f"{gguf_file!r} of {hub_id!r} is not in the local cache",
            fetch_hint(hub_id, gguf_file),
        )
    if not gguf_file and not (folder / "config.json").is_file():
        raise WeightsMissing(
            f"the cached copy of {hub_id!r} has no config.json (incomplete download?)",
            fetch_hint(hub_id),
        )
    commit = folder.name if _COMMIT.match(folder.name) else revision
    return LocalModel(folder=folder, gguf_file=gguf_file, revision=commit, hub_id=hub_id)
