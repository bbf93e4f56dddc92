"""``formalize lean setup`` / ``doctor``: pins, files, steps, and what they say when things lack."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest
from lean_fakes import fake_config

from formalize.cli.main import main
from formalize.errors import SetupError
from formalize.lean.setup import (
    DEFAULT_VERSION,
    PINS,
    doctor,
    lakefile_text,
    manifest_matches,
    pin_for,
    setup_project,
)

TOOLS = {"lake": "/elan/bin/lake", "elan": "/elan/bin/elan", "git": "/usr/bin/git"}


def fake_which(*present: str):  # type: ignore[no-untyped-def]
    return lambda name: TOOLS[name] if name in present else None


def test_pins() -> None:
    assert DEFAULT_VERSION == "v4.15.0"
    assert pin_for("4.27.0") is PINS["v4.27.0"]
    assert PINS["v4.28.0"].repl == "v4.28.0-rc1"
    with pytest.raises(SetupError, match=r"unsupported Lean version 'v4\.9\.0'"):
        pin_for("v4.9.0")
    text = lakefile_text(PINS["v4.15.0"])
    assert 'rev = "v4.15.0"' in text and 'name = "REPL"' in text and 'name = "mathlib"' in text


def test_no_lake_stops_at_once_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SetupError) as info:
        setup_project(tmp_path / "p", which=fake_which(), runner=pytest.fail)  # type: ignore[arg-type]
    text = str(info.value)
    assert "`lake` is not on PATH (nor elan)" in text
    assert "elan-init.sh" in text and "formalize lean setup" in text and "kimina" in text
    with pytest.raises(SetupError, match="elan is at /elan/bin/elan: add its bin directory"):
        setup_project(tmp_path / "p", which=fake_which("elan"))
    with pytest.raises(SetupError, match="git is not on PATH"):
        setup_project(tmp_path / "p", which=fake_which("lake"))


def test_no_network_stops_before_any_step(tmp_path: Path) -> None:
    ran: list[Sequence[str]] = []
    with pytest.raises(SetupError, match=r"cannot reach github\.com .*refused"):
        setup_project(
            tmp_path / "p",
            which=fake_which("lake", "git"),
            runner=lambda argv, cwd: ran.append(argv) or 0,
            network_check=lambda: "connection refused",
            say=lambda _: None,
        )
    assert ran == []
    assert (tmp_path / "p" / "lean-toolchain").read_text() == "leanprover/lean4:v4.15.0\n"


def test_steps_and_a_failing_step(tmp_path: Path) -> None:
    project = tmp_path / "p"
    ran: list[tuple[str, ...]] = []

    def runner(argv: Sequence[str], cwd: Path) -> int:
        ran.append(tuple(argv[1:]))
        if argv[1:] == ("build", "repl"):
            binary = cwd / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"
            binary.parent.mkdir(parents=True)
            binary.write_text("")
        return 0

    binary = setup_project(
        project,
        "v4.27.0",
        which=fake_which("lake", "git"),
        runner=runner,
        network_check=lambda: None,
        say=lambda _: None,
    )
    assert ran == [("update",), ("exe", "cache", "get"), ("build", "repl")]
    assert binary.is_file()
    assert 'rev = "v4.27.0"' in (project / "lakefile.toml").read_text()
    manifest = {
        "packages": [
            {"name": "mathlib", "inputRev": "v4.27.0"},
            {"name": "REPL", "inputRev": "v4.27.0"},
        ]
    }
    (project / "lake-manifest.json").write_text(json.dumps(manifest))
    assert manifest_matches(project, PINS["v4.27.0"])
    ran.clear()
    with pytest.raises(SetupError, match=r"`/elan/bin/lake exe cache get` failed with exit code 1"):
        setup_project(
            project,
            "v4.27.0",
            which=fake_which("lake", "git"),
            runner=lambda argv, cwd: ran.append(tuple(argv[1:])) or 1,
            network_check=lambda: None,
            say=lambda _: None,
        )
    assert ran == [("exe", "cache", "get")]  # resolved already: no `lake update`


def test_cli_setup_fails_fast_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no elan, no lake: as on this project's machines
    attempts: list[object] = []  # fast means: nothing waited on the network (counted, not timed)

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    code = main(["lean", "setup", "--lean-project", str(tmp_path / "lean_project")])
    assert code == 2 and attempts == []
    assert "Lean is not installed" in capsys.readouterr().err


def test_doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = doctor(fake_config(tmp_path))
    assert report.ok, report.render()
    assert [r.status.value for r in report.results] == ["ok", "lean_error"]
    assert "test check" in report.render() and "all good" in report.render()
    broken = doctor(fake_config(tmp_path, "--fail-import"))
    assert not broken.ok and "does not import" in broken.render()
    assert main(["lean", "doctor", "--repl-cmd", "/nonexistent/repl"]) == 1
    assert "not ready" in capsys.readouterr().out
