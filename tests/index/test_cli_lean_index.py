"""``formalize lean index`` and ``formalize lean search``."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_fixture import FIXTURE, make_lean_project

from formalize.cli.main import main
from formalize.index import index_path


def test_index_then_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_lean_project(tmp_path)
    assert main(["lean", "index", "--lean-project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "indexed" in out and "4 unreadable spans skipped" in out
    assert index_path(project) is not None
    assert main(["lean", "index", "--lean-project", str(project)]) == 0
    assert "index current" in capsys.readouterr().out

    code = main(["lean", "search", "square root of a real", "--lean-project", str(project)])
    out = capsys.readouterr().out
    assert code == 0
    first = out.split("\n\n")[0]
    assert first.startswith("def Real.sqrt (x : ℝ) : ℝ")
    assert "Mathlib.Analysis.SpecialFunctions.Sqrt:9" in first
    assert "The square root of a real number." in first

    code = main(["lean", "search", "--name", "Int.mod_mod_of_dvd", "--lean-project", str(project)])
    out = capsys.readouterr().out
    assert code == 0 and "deprecated: use Int.emod_emod_of_dvd" in out

    code = main(["lean", "search", "--name", "Nat.prime", "--lean-project", str(project)])
    out = capsys.readouterr().out
    assert code == 1 and "near: Nat.Prime" in out

    code = main(["lean", "search", "zzzyzzy", "-k", "3", "--lean-project", str(project)])
    assert code == 1 and "nothing matches" in capsys.readouterr().out


def test_index_from_source_and_search_by_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "mathlib.sqlite"
    args = ["lean", "index", "--from-source", str(FIXTURE), "--out", str(out_file)]
    assert main([*args, "--revision", "v4.15.0", "--lean-project", str(tmp_path / "p")]) == 0
    assert out_file.is_file()
    capsys.readouterr()
    assert main(["lean", "search", "p-adic valuation", "-k", "1", "--index", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def padicValNat (p : ℕ) (n : ℕ) : ℕ") and "\n\n" not in out


def test_errors_are_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = str(tmp_path / "empty")
    assert main(["lean", "index", "--lean-project", project]) == 2
    assert "lake-manifest.json" in capsys.readouterr().err
    assert main(["lean", "search", "prime", "--lean-project", project]) == 2
    assert "formalize lean index" in capsys.readouterr().err
    assert main(["lean", "search", "--lean-project", project]) == 2
    assert main(["lean", "index", "--out", "x", "--lean-project", project]) == 2


def test_setup_ends_by_building_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import formalize.lean.setup as setup

    project = make_lean_project(tmp_path)
    monkeypatch.setattr(setup, "setup_project", lambda project, version: project / "repl")
    assert main(["lean", "setup", "--lean-project", str(project)]) == 0
    assert "indexed" in capsys.readouterr().out
    assert index_path(project) is not None
    bare = tmp_path / "bare"  # no manifest: setup still succeeds, with a note
    assert main(["lean", "setup", "--lean-project", str(bare)]) == 0
    assert "note: no declaration index" in capsys.readouterr().out
