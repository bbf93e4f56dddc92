"""``LeanChecker`` end to end with the real gate, pool and driver, and the fake REPL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lean_fakes import fake_config, log_path, requests

from formalize.cache import MemoryCache
from formalize.errors import InputError, SetupError
from formalize.lean import LeanChecker, LeanConfig
from formalize.records import CheckStatus

MINIF2F_HEADER = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\n"
    "open BigOperators Real Nat Topology Rat\n\n"
)


def checker_for(tmp_path: Path, *flags: str, cache: MemoryCache | None = None, **kw: object):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = log_path(tmp_path)
    config = fake_config(tmp_path, "--log", str(log), *flags, **kw)  # type: ignore[arg-type]
    return LeanChecker(config, cache=cache), log


def test_gate_dedup_order_and_positions(tmp_path: Path) -> None:
    statements = [
        "theorem a : 1 = 1 := by sorry",
        "#eval IO.println 1",  # rejected: never reaches Lean
        "theorem a : 1 = 1 := by sorry",  # a duplicate: checked once
        # its own imports: positions stay relative to this text, not to the body
        "import Mathlib\n\n/-- doc -/\ntheorem b (x : ℕ) :\n    x = undefined_ident := by sorry",
        "theorem c : (2 : ℕ) = 2 := by\n  sorry",
    ]
    checker, log = checker_for(tmp_path)
    with checker:
        results = checker.check(statements)
    assert [r.status for r in results] == [
        CheckStatus.OK,
        CheckStatus.REJECTED,
        CheckStatus.OK,
        CheckStatus.LEAN_ERROR,
        CheckStatus.OK,
    ]
    assert "#eval" in str(results[1].reason)
    sent = [r["cmd"] for r in requests(log) if "env" in r and "getModuleIdx?" not in r["cmd"]]
    assert sum("theorem a" in s for s in sent) == 1
    assert not any("IO.println" in s for s in sent)
    err = results[3].errors()[0]
    lines = statements[3].split("\n")
    assert (err.line, err.column) == (5, 8) and lines[err.line - 1][err.column :].startswith(
        "undefined_ident"
    )
    warning = results[3].messages[-1]
    assert warning.line == 4 and lines[3][warning.column :].startswith("b ")
    assert all(r.toolchain == "fake-lean" for r in results)


def test_cache_replays_verdicts_but_not_failures(tmp_path: Path) -> None:
    cache = MemoryCache()
    statements = ["theorem a : 1 = 1 := by sorry", "theorem h : fake_hang = 1 := sorry"]
    first, _ = checker_for(tmp_path / "1", cache=cache, timeout_s=0.5)
    with first:
        before = first.check(statements)
    assert [r.status for r in before] == [CheckStatus.OK, CheckStatus.TIMEOUT]
    assert len(cache) == 1  # the timeout says nothing about the statement
    second, log = checker_for(tmp_path / "2", cache=cache, timeout_s=0.5)
    with second:
        after = second.check(statements[:1] * 3)
    assert [r.status for r in after] == [CheckStatus.OK] * 3
    assert after[0].messages == before[0].messages
    assert requests(log) == []  # no process was even started


def test_headers_dropped_lines_and_routing(tmp_path: Path) -> None:
    checker, log = checker_for(tmp_path)
    with checker:
        plain = checker.check(["theorem a : 1 = 1 := by sorry"], header=MINIF2F_HEADER)
        mixed = checker.check(
            ["theorem b : 2 = 2 := by sorry", "import Aesop\ntheorem c : 3 = 3 := by sorry"]
        )
    assert plain[0].ok and all(r.ok for r in mixed)
    imports = [r["cmd"] for r in requests(log) if "env" not in r]
    off = "\nset_option autoImplicit false\nset_option relaxedAutoImplicit false"
    assert "import Mathlib\nimport Aesop\nopen BigOperators Real Nat Topology Rat" + off in imports
    assert not any("maxHeartbeats" in i for i in imports)  # dropped, with a warning
    assert "import Aesop" + off in imports and "import Mathlib" + off in imports


def test_a_bad_header_is_rejected_before_lean(tmp_path: Path) -> None:
    checker, log = checker_for(tmp_path)
    with checker:
        (result,) = checker.check(["theorem a : True := by sorry"], header="import Mathlib\n#exit")
    assert result.status is CheckStatus.REJECTED and str(result.reason).startswith("header:")
    assert requests(log) == []
    # (a definition by allow-listed tactics is admitted since issue 21: this one is not)
    configured, _ = checker_for(tmp_path / "c", header="import Mathlib\ndef x := by decide +native")
    with configured, pytest.raises(InputError, match="configured Lean header is not allowed"):
        configured.check(["theorem a : True := by sorry"])


def test_header_that_does_not_import(tmp_path: Path) -> None:
    checker, _ = checker_for(tmp_path)
    with checker:
        # a header from the candidate (not the configured one): the statements fail
        (bad,) = checker.check(
            ["theorem a : True := by sorry"], header="import Mathlib.NonexistentFoo"
        )
        assert bad.status is CheckStatus.LEAN_ERROR and "does not import" in str(bad.reason)
        (own,) = checker.check(["import Mathlib.NonexistentBar\ntheorem a : True := by sorry"])
        assert own.status is CheckStatus.LEAN_ERROR
    broken, _ = checker_for(tmp_path / "b", "--fail-import")
    with broken, pytest.raises(SetupError, match="configured header 'import Mathlib' does not"):
        broken.check(["theorem a : True := by sorry"])  # the configured header: setup problem


def test_preflight_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no lake anywhere
    config = LeanConfig(lean_project=tmp_path / "lean_project", workers=1)
    with pytest.raises(SetupError, match=r"`lake` is not on PATH.*elan"):
        LeanChecker(config).preflight()
    missing = LeanConfig(repl_cmd=["/nowhere/repl"], lean_project=tmp_path, workers=1)
    with pytest.raises(SetupError, match="/nowhere/repl"):
        LeanChecker(missing).preflight()


def test_importing_formalize_lean_loads_nothing_heavy() -> None:
    code = (
        "import sys, formalize.lean as L; assert L.LeanConfig; "
        "print(sorted(m for m in sys.modules if m.startswith('formalize.lean')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "formalize.lean.pool" not in out.stdout and "formalize.lean.checker" not in out.stdout


def test_a_cancelled_check_caches_what_ran_and_raises(tmp_path: Path) -> None:
    import threading
    import time

    from lean_fakes import read_log

    from formalize.lean.pool import ChecksCancelled

    cache = MemoryCache()
    statements = [f"theorem t{i} : {i} = {i} := by sorry" for i in range(2)]
    statements += ["theorem h : fake_hang = 1 := sorry"]
    statements += [f"theorem u{i} : {i} = {i} := by sorry" for i in range(5)]
    checker, log = checker_for(tmp_path, cache=cache, workers=1, timeout_s=60.0)
    raised: list[BaseException] = []

    def check() -> None:
        try:
            checker.check(statements)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=check)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any("fake_hang" in e["request"] for e in read_log(log)):
            assert time.monotonic() < deadline, "the hanging check never started"
            time.sleep(0.01)
        checker.cancel_pending()
    finally:
        checker.close()  # kills the hanging REPL
        thread.join(60)
    assert len(raised) == 1 and isinstance(raised[0], ChecksCancelled)
    assert len(cache) == 2  # the two checks that ran; nothing for the rest
    again, log2 = checker_for(tmp_path / "again", cache=cache)
    with again:
        assert all(r.ok for r in again.check(statements[:2]))
    assert requests(log2) == []  # replayed from the cache
