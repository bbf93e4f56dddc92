"""``-v/--verbose`` and ``--log-file``: before or after the command, on stderr and in a file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from formalize.cli.main import main


def run_missing(tmp_path: Path, *extra: str) -> int:
    """A run that stops in its preflight (no input): quick, and it logs its first step."""
    return main(["run", str(tmp_path / "none.jsonl"), "--repl-cmd", "/no/repl", *extra])


def test_quiet_by_default(tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_missing(tmp_path) == 2
    err = capsys.readouterr().err
    assert "error: formalize run cannot start" in err and "INFO" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_the_steps_to_stderr(
    where: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-v", "run", str(tmp_path / "x.jsonl")]) if where == "before" else None
    if code is None:
        code = run_missing(tmp_path, "--verbose")
    assert code == 2
    assert "INFO formalize.runner: preflight: settings, input" in capsys.readouterr().err


def test_a_log_file_gets_every_step_with_times(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "run.log"
    assert run_missing(tmp_path, "--log-file", str(log)) == 2
    assert "INFO" not in capsys.readouterr().err  # the file, not stderr
    text = log.read_text(encoding="utf-8")
    assert "INFO MainThread formalize.runner: preflight: settings, input" in text
    assert "DEBUG MainThread formalize: stopped" in text and "Traceback" in text
    assert not logging.getLogger("formalize").handlers  # nothing left behind after main()
