"""No candidate can change another's result: file mode (many statements in one file) and the
REPL (every check from the header's environment).

File mode is checked against the fake ``lean --json``, which models Lean's scoping rules
(``scope_messages`` in fake_repl.py: scopes pushed and popped as Lean's ``elabEnd`` does, scoped
``open``/``set_option``/``variable``, global instances and notations) and reports any state a
statement can see that another statement made. Each test also shows that the same file built
without the gate's isolation leaks, so it can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lean_fakes import fake_config, log_path, requests

from formalize.lean import LeanChecker
from formalize.lean.filemode import FileBackend, build_file
from formalize.lean.pool import Job
from formalize.lean.statement import check_statement, split_header
from formalize.records import CheckStatus

INNOCENT = "theorem innocent (n : ℕ) : n + 0 = n := by sorry"
# Accepted by the gate, and each would change a later statement's result if it leaked out of
# its scope: opened namespaces, options, variables, scopes left open, instances, notations.
INSTANCE = "instance : Inhabited (Fin 3) := ⟨0⟩\ntheorem m4 : True := sorry"
NOTATION = 'notation "⧫" => (1 : ℕ)\ntheorem m5 : ⧫ = 1 := sorry'
APPEND = "theorem m6 (l : List ℕ) : l.append [] = l := sorry"  # `end` inside an identifier
MEDDLERS = [
    "open Real\nset_option maxHeartbeats 1\nvariable (x : ℕ)\ntheorem m1 : x = x := sorry",
    "namespace Leaky\nsection\nopen Nat\ntheorem m2 : True := sorry",
    "open Nat\nnamespace Leaky\ntheorem m2b : True := sorry",
    "noncomputable section\nuniverse u\ntheorem m3 : True := sorry",
    INSTANCE,
    NOTATION,
    APPEND,
    "attribute [local instance] Classical.propDecidable\ntheorem m7 : True := sorry",
]


def gated_jobs(statements: list[str]) -> list[Job]:
    """Jobs the way the checker makes them: the gate's text, closing lines and isolation."""
    jobs = []
    for text in statements:
        report = check_statement(text)
        assert report.ok, (text, report.reason)
        assert report.text is not None
        _, body = split_header(report.text)
        jobs.append(Job("import Mathlib", body, report.open_scopes, report.alone))
    return jobs


def test_no_statement_sees_another_statements_state(tmp_path: Path) -> None:
    statements = [INNOCENT]
    for meddler in MEDDLERS:
        statements += [meddler, INNOCENT.replace("innocent", f"innocent{len(statements)}")]
    config = fake_config(tmp_path, backend="file", file_chunk=64)
    results = FileBackend(config, toolchain="fake").run(gated_jobs(statements))
    leaks = [(s, r.errors()) for s, r in zip(statements, results, strict=True) if not r.ok]
    assert leaks == []


def test_the_same_file_without_the_gates_isolation_leaks(tmp_path: Path) -> None:
    """The control: with the gate's closing lines and lone files dropped, the fake sees leaks."""
    opener = "open Nat\nnamespace Leaky\ntheorem m : True := sorry"  # leaves `Leaky` open
    jobs = [Job(j.header, j.body, (), False) for j in gated_jobs([opener, INNOCENT])]
    config = fake_config(tmp_path, backend="file", file_chunk=64)
    results = FileBackend(config, toolchain="fake").run(jobs)
    assert not results[1].ok
    assert "state leaked from another statement" in results[1].errors()[0].text
    jobs = [Job(j.header, j.body, j.closing, False) for j in gated_jobs([INSTANCE, INNOCENT])]
    results = FileBackend(config, toolchain="fake").run(jobs)
    assert "instance" in results[1].errors()[0].text  # a global instance, not isolated


def test_global_effects_get_a_file_of_their_own(tmp_path: Path) -> None:
    jobs = gated_jobs([INSTANCE, NOTATION, APPEND, INNOCENT, INNOCENT + " "])
    assert [j.alone for j in jobs] == [True, True, True, False, False]
    config = fake_config(tmp_path, backend="file", file_chunk=64)
    runs: list[int] = []
    backend = FileBackend(config, toolchain="fake")
    original = backend._check

    def counting(header: str, chunk: list[Job]) -> list:  # type: ignore[type-arg]
        runs.append(len(chunk))
        return original(header, chunk)

    backend._check = counting  # type: ignore[method-assign]
    assert all(r.ok for r in backend.run(jobs))
    assert sorted(runs) == [1, 1, 1, 2]


def test_scopes_a_statement_leaves_open_are_closed_from_its_own_parse() -> None:
    (job,) = gated_jobs(["namespace A\nopen Real namespace_x\nsection S\n" + INNOCENT])
    assert job.closing == ("end S", "end A")
    generated = build_file("import Mathlib", [job.body], None, [job.closing])
    assert generated.text.rstrip().endswith("end S\nend A\nend FormalizeCheck0")


@pytest.mark.parametrize("meddler", MEDDLERS)
def test_the_repl_checks_every_statement_from_the_header_environment(
    tmp_path: Path, meddler: str
) -> None:
    config = fake_config(tmp_path, "--log", str(log_path(tmp_path)), workers=1)
    with LeanChecker(config) as checker:
        results = checker.check([meddler, INNOCENT, meddler + "\n", INNOCENT + "\n"])
    assert [r.status for r in results] == [CheckStatus.OK] * 4
    sent = requests(log_path(tmp_path))
    imports = [r for r in sent if "env" not in r]
    checks = [r for r in sent if "env" in r and "getModuleIdx?" not in r["cmd"]]
    header_envs = {0}  # the only environment the import made (the probe's comes after it)
    assert len(imports) == 1 and len(checks) == 4
    assert {r["env"] for r in checks} <= header_envs
