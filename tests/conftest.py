"""Shared fixtures and the `lean` tier's auto-skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def shared_path(*parts: str) -> Path:
    """A path under ../shared/, skipping the test (with the reason) where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/ is only beside the repo on project machines)")
    return path


def lean_toolchain_reason() -> str | None:
    """Why `lean` tests cannot run here, or None when a toolchain and built project exist."""
    if shutil.which("lake") is None:
        return (
            "no Lean toolchain: `lake` is not on PATH (install elan, then `formalize lean setup`)"
        )
    from formalize.lean.config import default_lean_project

    project = default_lean_project()
    if not (project / ".lake").exists():
        return f"the Lean project {project} is not built: run `formalize lean setup`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = lean_toolchain_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if item.get_closest_marker("lean") is not None:
            item.add_marker(marker)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data home (FORMALIZE_HOME) for the test."""
    monkeypatch.setenv("FORMALIZE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def servers() -> Iterator[tuple[Any, Any]]:
    """test_pipeline's scripted translator and critic as OpenAI-compatible servers."""
    from support.openai_server import ScriptedOpenAIServer
    from test_pipeline import critic, translator

    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        yield t, c
