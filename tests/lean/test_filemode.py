"""File mode: the generated file, mapping messages back, and the backend with a fake ``lean``."""

from __future__ import annotations

from pathlib import Path

from lean_fakes import fake_config

from formalize.lean import LeanChecker
from formalize.lean.filemode import (
    FileBackend,
    build_file,
    distribute,
    open_scopes,
    parse_json_lines,
)
from formalize.lean.pool import Job
from formalize.records import CheckStatus, Message, Severity


def test_generated_file_and_line_ranges() -> None:
    bodies = ["theorem t : 1 = 1 := by\n  sorry", "namespace Foo\ntheorem t : True := sorry"]
    gen = build_file("import Mathlib\nopen Real", bodies, "#eval 0")
    lines = gen.text.split("\n")
    assert gen.header_last == 3
    first, second = gen.spans
    assert lines[first.body - 1] == "theorem t : 1 = 1 := by" and first.lines == 2
    assert lines[second.body - 1] == "namespace Foo"
    assert lines[second.last - 2 : second.last] == ["end Foo", "end FormalizeCheck1"]
    assert "namespace FormalizeCheck0" in lines and "namespace FormalizeCheck1" in lines


def test_open_scopes() -> None:
    assert open_scopes("namespace A\nsection\nnoncomputable section B\nend B") == ["end", "end A"]
    assert open_scopes("open Real in\ntheorem t : True := sorry") == []


def test_distribute_maps_lines_back() -> None:
    gen = build_file(
        "import Mathlib", ["theorem a : X := sorry", "theorem b :\n  Y := sorry"], None
    )
    a, b = gen.spans
    msgs = [
        Message(Severity.ERROR, 1, 0, "header trouble"),
        Message(Severity.ERROR, b.body + 1, 2, "in b", b.body + 1, 3),
        Message(Severity.WARNING, a.body, 8, "declaration uses 'sorry'"),
        Message(Severity.ERROR, b.last, 0, "at the wrapper's end"),
    ]
    header, per = distribute(msgs, gen)
    assert [m.text for m in header] == ["header trouble"]
    assert [(m.line, m.column) for m in per[0]] == [(1, 8)]
    assert [(m.line, m.end_line, m.text) for m in per[1]] == [
        (2, 2, "in b"),
        (2, None, "at the wrapper's end"),  # clamped to the statement's last line
    ]


def test_parse_json_lines_skips_lake_noise() -> None:
    out = (
        "✔ [2/3] Built Foo\n"
        '{"severity":"information","pos":{"line":3,"column":0},"endPos":null,"data":"x : Nat",'
        '"fileName":"F.lean","caption":"","keepFullRange":false,"isSilent":false}\n'
        "not json {\n"
    )
    (m,) = parse_json_lines(out)
    assert (m.severity, m.line, m.end_line, m.text) == (Severity.INFO, 3, None, "x : Nat")


def test_backend_statuses_positions_and_bisection(tmp_path: Path) -> None:
    config = fake_config(tmp_path, backend="file", file_chunk=4)
    backend = FileBackend(config, toolchain="fake-lean")
    bodies = [
        "theorem a : 1 = 1 := by sorry",
        "theorem b :\n  undefined_ident = 1 := by sorry",
        "theorem c : fake_die = 1 := sorry",
        "namespace Foo\ntheorem d : True := sorry",
        "theorem e : fake_error = 1 := sorry",
    ]
    jobs = [Job("import Mathlib", b) for b in bodies]
    jobs.append(Job("import Aesop.NonexistentX", bodies[0]))
    results = backend.run(jobs)
    assert [r.status for r in results] == [
        CheckStatus.OK,
        CheckStatus.LEAN_ERROR,
        CheckStatus.CRASHED,  # found by splitting the crashed file down to one statement
        CheckStatus.OK,
        CheckStatus.LEAN_ERROR,
        CheckStatus.LEAN_ERROR,  # its header does not import
    ]
    assert "exited with code 134" in str(results[2].reason)
    assert [(m.line, m.column) for m in results[1].errors()] == [(2, 2)]
    assert [(m.line, m.column) for m in results[4].errors()] == [(1, 12)]
    assert results[5].messages[0].text.startswith("header: ")
    assert all(r.toolchain == "fake-lean" for r in results)


def test_a_hanging_file_times_out(tmp_path: Path) -> None:
    config = fake_config(tmp_path, backend="file", timeout_s=0.5, import_timeout_s=1.0)
    (result,) = FileBackend(config).run([Job("import Mathlib", "theorem h : fake_hang := sorry")])
    assert result.status is CheckStatus.TIMEOUT and "1.5 s" in str(result.reason)


def test_checker_with_file_backend(tmp_path: Path) -> None:
    config = fake_config(tmp_path, backend="file")
    with LeanChecker(config) as checker:
        checker.preflight()
        results = checker.check(
            ["import Mathlib\n\ntheorem a :\n  undefined_ident := by sorry", "#eval 1"]
        )
    assert [r.status for r in results] == [CheckStatus.LEAN_ERROR, CheckStatus.REJECTED]
    assert results[0].errors()[0].line == 4


def test_through_the_checker_the_header_options_are_every_statements(tmp_path: Path) -> None:
    """The checker appends ``autoImplicit false`` to every header: file-wide options, which no
    statement may be told leaked from another."""

    with LeanChecker(fake_config(tmp_path, backend="file")) as checker:
        results = checker.check(["theorem a : 1 = 1 := by sorry", "theorem b : 2 = 2 := by sorry"])
    assert [r.status for r in results] == [CheckStatus.OK, CheckStatus.OK], results
