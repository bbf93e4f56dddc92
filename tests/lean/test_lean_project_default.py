"""Where the Lean project is: the config, ``$FORMALIZE_LEAN_PROJECT`` or the data home, the same
from any directory; ``formalize lean setup`` builds it where the checks look."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from formalize.cli.main import main
from formalize.lean.config import LeanConfig, default_lean_project


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORMALIZE_LEAN_PROJECT", raising=False)


def projects_from(dirs: list[Path], monkeypatch: pytest.MonkeyPatch) -> set[Path]:
    found = set()
    for where in dirs:
        monkeypatch.chdir(where)
        found.add(LeanConfig().lean_project)
    return found


def test_default_is_in_the_data_home_from_any_directory(
    home: Path, no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    found = projects_from([tmp_path / "a", Path("/")], monkeypatch)
    assert found == {home / "lean_project"}


def test_the_environment_variable_wins_over_the_data_home(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORMALIZE_LEAN_PROJECT", str(tmp_path / "lp"))
    assert projects_from([tmp_path, Path("/")], monkeypatch) == {tmp_path / "lp"}


def test_an_explicit_project_wins(home: Path, tmp_path: Path) -> None:
    assert LeanConfig(lean_project=tmp_path / "mine").lean_project == tmp_path / "mine"
    assert LeanConfig.from_mapping({"lean_project": "x"}).lean_project == Path("x")


def test_setup_builds_where_the_checks_look(
    home: Path, no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []
    monkeypatch.setattr(
        "formalize.lean.setup.setup_project", lambda project, version: built.append(project)
    )
    monkeypatch.chdir(tmp_path)
    assert main(["lean", "setup"]) == 0
    assert built == [default_lean_project()] == [home / "lean_project"]
