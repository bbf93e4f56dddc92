"""Exit codes: documented in each command's help, and skipped input lines reported the same way
(and with the same code) by ``run`` and ``check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from support.openai_server import ScriptedOpenAIServer

from formalize.cli.common import EXIT_CODES
from formalize.cli.main import main

REPO = Path(__file__).resolve().parents[1]
FAKE_REPL = f"{sys.executable} {REPO / 'tests' / 'lean' / 'fake_repl.py'}"


@pytest.mark.parametrize("command", [["run"], ["check"], ["bench", "critic"]])
def test_help_documents_the_exit_codes(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert EXIT_CODES in out
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"\n  {code}" in out


def answer(messages: list[dict[str, str]], params: dict[str, object]) -> str:
    if "Correct" in messages[-1]["content"] or "faithful" in messages[-1]["content"]:
        return '{"reasons": "ok", "is_assistant_correct": "Correct"}'
    return "```lean4\nimport Mathlib\ntheorem t : 1 = 1 := by sorry\n```"


def test_run_and_check_report_skipped_lines_alike(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"id": "a", "problem": "Show 1 = 1."}) + "\n{oops\n")
    statements = tmp_path / "s.jsonl"
    statements.write_text(
        json.dumps({"id": "a", "lean": "theorem t : 1 = 1 := by sorry"}) + "\n{oops\n"
    )
    with ScriptedOpenAIServer(answer, model="m") as server:
        spec = f"openai:m@{server.base_url}"
        argv = ["run", str(problems), "--translator", spec, "--critic", spec, "--no-progress"]
        run_code = main([*argv, "--repl-cmd", FAKE_REPL, "--workers", "1", "--samples", "1"])
    run_err = capsys.readouterr().err
    check_code = main(["check", str(statements), "--no-progress", "--repl-cmd", FAKE_REPL])
    check_err = capsys.readouterr().err
    assert run_code == check_code == 1
    assert f"skipped: {problems}:2: " in run_err
    assert f"skipped: {statements}:2: " in check_err
    assert "1 input line skipped" in run_err and "1 input line skipped" in check_err
    # and without skipped lines, both exit 0
    problems.write_text(json.dumps({"id": "a", "problem": "Show 1 = 1."}) + "\n")
    statements.write_text(json.dumps({"id": "a", "lean": "theorem t : 1 = 1 := by sorry"}) + "\n")
    assert main(["check", str(statements), "--no-progress", "--repl-cmd", FAKE_REPL]) == 0
