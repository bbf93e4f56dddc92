"""Real Lean: true, wrong and Mathlib statements through each backend.

Marked ``lean``: they run wherever ``lake`` is on PATH and the Lean project is built
(``formalize lean setup``; the project is ``$FORMALIZE_LEAN_PROJECT``, which ``make`` sets to the
checkout's ``lean_project/``, else the data home's), and skip with the reason everywhere else.
The kimina backend runs when ``FORMALIZE_KIMINA_URL`` names a running kimina-lean-server.
"""

from __future__ import annotations

import os
import shutil

import pytest

from formalize.lean import LeanChecker, LeanConfig
from formalize.lean.config import default_lean_project
from formalize.lean.project import find_repl_binary
from formalize.records import CheckStatus

PROJECT = default_lean_project()
pytestmark = pytest.mark.lean

STATEMENTS = {
    "true": "theorem real_true : (2 : ℕ) + 2 = 4 := by sorry",
    "wrong": "theorem real_wrong : (2 : ℕ) + 2 = Nat.undefinedConstantXyz := by sorry",
    "mathlib": "theorem real_mathlib (x : ℝ) (hx : 0 ≤ x) : Real.sqrt (x ^ 2) = x := by sorry",
    "type": 'theorem real_type : (1 : ℕ) = "one" := by sorry',
    "own_header": (
        "import Mathlib\n\nopen Real in\ntheorem real_pi :\n"
        "    π > 3 ∧ Real.undefinedXyz := by sorry"
    ),
}
# Unknown names are dotted: with Lean's default autoImplicit an unknown atomic name in a
# signature becomes an implicit variable, and the statement compiles.
EXPECTED = {
    "true": CheckStatus.OK,
    "wrong": CheckStatus.LEAN_ERROR,
    "mathlib": CheckStatus.OK,
    "type": CheckStatus.LEAN_ERROR,
    "own_header": CheckStatus.LEAN_ERROR,
}


def backend_config(backend: str) -> LeanConfig:
    if shutil.which("lake") is None:
        pytest.skip(
            "no Lean toolchain: `lake` is not on PATH (install elan, then formalize lean setup)"
        )
    if backend == "kimina":
        url = os.environ.get("FORMALIZE_KIMINA_URL")
        if not url:
            pytest.skip("set FORMALIZE_KIMINA_URL to a running kimina-lean-server to test it")
        return LeanConfig(backend="kimina", kimina_url=url, workers=2, timeout_s=120)
    if find_repl_binary(PROJECT) is None or not (PROJECT / ".lake" / "packages").is_dir():
        pytest.skip(f"{PROJECT} is not built: run `formalize lean setup`")
    return LeanConfig(backend=backend, lean_project=PROJECT, workers=2, timeout_s=120)


@pytest.mark.parametrize("backend", ["repl", "file", "kimina"])
def test_real_statements(backend: str) -> None:
    with LeanChecker(backend_config(backend)) as checker:
        checker.preflight()
        results = dict(zip(STATEMENTS, checker.check(list(STATEMENTS.values())), strict=True))
    for name, status in EXPECTED.items():
        assert results[name].status is status, (name, results[name])
    assert any("sorry" in m.text for m in results["true"].messages)
    (err,) = [m for m in results["own_header"].errors() if "undefinedXyz" in m.text]
    lines = STATEMENTS["own_header"].split("\n")
    assert lines[err.line - 1][err.column :].startswith("Real.undefinedXyz")


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_header_that_does_not_import(backend: str) -> None:
    with LeanChecker(backend_config(backend)) as checker:
        (result,) = checker.check(
            ["theorem t : True := by sorry"], header="import Mathlib.NonexistentModuleXyz"
        )
    assert result.status is CheckStatus.LEAN_ERROR and "does not import" in str(result.reason)
