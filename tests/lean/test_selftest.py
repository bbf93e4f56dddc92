"""Lean's truth at run time (``formalize.truth``): the token table asked of Lean and the
filters' self-test, through the real checker, driver and sandbox against the fake REPL, which
answers the token-table command with ``--lean-tokens``/``--extra-tokens`` and proves the
self-test's probes by the ``--prove`` rules below (what Lean proves of those statements, as
read from Mathlib's sources; the real-Lean case is in ``test_lean_real.py``)."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_lake import lake_project, lean_project
from lean_fakes import fake_config, requests, shared_dir

from formalize.filters import FilterItem, FilterSettings, build_filters
from formalize.filters.probes import parts
from formalize.filters.selftest import CASES, SwitchedOff
from formalize.lean import LeanChecker
from formalize.lean.leantokens import MARK, TOKEN_TABLE_COMMAND, TokenTableError, read_reply
from formalize.lean.setup import doctor
from formalize.lean.statement import check_statement
from formalize.lean.tokens import lean_tokens_in_use, packaged_table, use_lean_tokens
from formalize.records import CheckResult, CheckStatus, Message, Problem, Severity, SignalOutcome
from formalize.truth import cache_path, doctor_rows, load, prepare_run

# What Lean proves of the self-test's probes: the contradictory pair, the negation of
# 2 + 2 = 5, 2 + 2 = 4 itself, and the two equivalent pairs (renamed binders, and the
# universe-polymorphic one). Nothing else is proved.
TRUTH = [
    {"probe": "vacuous", "when": r"\(h₀ : x < 2\) \(h₁ : 3 < x\)"},
    {"probe": "refuted", "when": r"¬ \( \(2 : ℕ\) \+ 2 = 5 \)"},
    {"probe": "trivial", "when": r"\(2 : ℕ\) \+ 2 = 4"},
    {"probe": "equiv", "when": r"formalize_probe_candidate_\w+ : Prop :=\s+\(∀ \(x y : ℝ\)"},
    {
        "probe": "equiv",
        "when": r"formalize_probe_candidate_\w+ : Prop :=\s+\(∀ \{H : Type formalize_u\}",
    },
]
ALL = ("vacuous", "refuted", "trivial", "reference")
# Whether the gate's parse gives the `[MOD n]` case a probe yet (issue 19 item 5, fixed on
# the `filters` branch): without one, vacuous and refuted cannot give their known verdicts.
MOD_CASE = next(c for c in CASES if "MOD" in c.name)
MOD_BLIND = parts(check_statement(MOD_CASE.lean)) is None


@pytest.fixture(autouse=True)
def packaged_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends with the gate's packaged table alone (and its PATH, which
    ``lake_project`` changes)."""
    monkeypatch.setenv("PATH", os.environ["PATH"])
    use_lean_tokens(())
    yield
    use_lean_tokens(())


_LOGS = itertools.count()


def log_file(tmp_path: Path) -> str:
    """A new request log for each checker: the sandbox shows a file an argument names, when
    it exists, read-only."""
    return str(shared_dir(tmp_path) / f"requests-{next(_LOGS)}.jsonl")


def checker_for(
    tmp_path: Path, rules: list[dict[str, str]] = TRUTH, *flags: str, toolchain: str = ""
) -> LeanChecker:
    """A checker running the project's own (fake) Lean, at a known revision."""
    args = ("--log", log_file(tmp_path), "--prove", json.dumps(rules), *flags)
    project = lake_project(tmp_path, *args, toolchain=toolchain)
    return LeanChecker(fake_config(tmp_path, repl_cmd=None, lean_project=project))


def sent(tmp_path: Path) -> list[str]:
    """Every command sent with an environment (not the header's import), all checkers'."""
    logs = sorted(shared_dir(tmp_path).glob("requests-*.jsonl"))
    return [r.get("cmd", "") for log in logs for r in requests(log) if "env" in r]


def filters_of(checker: LeanChecker) -> list:
    return build_filters(ALL, checker, FilterSettings(probe_timeout_s=5.0))


def expected_off() -> set[str]:
    return {"vacuous", "refuted"} if MOD_BLIND else set()


# --------------------------------------------------------------------------- the self-test


def test_the_filters_agree_with_a_lean_that_proves_what_lean_proves(
    tmp_path: Path, home: Path
) -> None:
    notes: list[str] = []
    with checker_for(tmp_path) as checker:
        filters = prepare_run(checker, filters_of(checker), say=notes.append)
    off = {f.name for f in filters if isinstance(f, SwitchedOff)}
    assert off == expected_off()
    if MOD_BLIND:  # the blindness is named, with the case
        vacuous = next(f for f in filters if f.name == "vacuous")
        assert isinstance(vacuous, SwitchedOff) and "[MOD n] statement" in vacuous.reason
    # every self-test probe went to Lean: the renamed pair's equivalence, the false sum's
    # negation, the contradictory hypotheses
    probes = "\n".join(sent(tmp_path))
    assert "theorem formalize_probe_vacuous_1 (x : ℕ) (h₀ : x < 2) (h₁ : 3 < x)" in probes
    assert "¬ ( (2 : ℕ) + 2 = 5 )" in probes
    assert "formalize_probe_equiv_mp" in probes and "{H : Type formalize_u}" in probes


def test_a_filter_whose_verdict_is_wrong_is_switched_off_once_loudly(
    tmp_path: Path, home: Path
) -> None:
    # this Lean "proves" every negation: refuted would reject the true 2 + 2 = 4
    rules = [*TRUTH, {"probe": "refuted", "when": "."}]
    notes: list[str] = []
    with checker_for(tmp_path, rules) as checker:
        filters = prepare_run(checker, filters_of(checker), say=notes.append)
        refuted = next(f for f in filters if f.name == "refuted")
        assert isinstance(refuted, SwitchedOff)
        assert refuted.reason.startswith("self-test failed: ")
        assert "norm_num-trivial: expected passed, got failed" in refuted.reason
        # its signals are inconclusive, with the reason, and no probe runs
        before = len(sent(tmp_path))
        problem = Problem(id="p", informal="x")
        item = FilterItem.of(problem, "theorem t : (2 : ℕ) + 2 = 5 := by sorry", "import Mathlib")
        (signal,) = refuted.run([item])
        assert len(sent(tmp_path)) == before
    assert signal.outcome is SignalOutcome.INCONCLUSIVE and signal.reason == refuted.reason
    assert signal.version.endswith("+off")
    loud = [n for n in notes if "SWITCHED OFF" in n]
    assert len([n for n in loud if "filter refuted" in n]) == 1
    assert all(n.startswith("WARNING:") for n in loud)
    others = {f.name for f in filters if isinstance(f, SwitchedOff)} - {"refuted"}
    assert others == expected_off() - {"refuted"}


def test_answers_are_cached_per_revision(tmp_path: Path, home: Path) -> None:
    with checker_for(tmp_path) as checker:
        prepare_run(checker, filters_of(checker))
        path = cache_path(
            "leanprover/lean4:v4.15.0 mathlib@v4.15.0 (aaaaaaaaaaaa)",
            checker.config.header,
            FilterSettings(),
        )
    assert load(path) is not None
    first = len(sent(tmp_path))
    assert any("getTokenTable" in cmd for cmd in sent(tmp_path))
    # the same revision again: nothing is asked of Lean; the verdicts come from the cache
    rules = [*TRUTH, {"probe": "trivial", "when": "."}]
    with checker_for(tmp_path, rules) as checker:
        filters = prepare_run(checker, filters_of(checker))
    assert len(sent(tmp_path)) == first
    assert not any(f.name == "trivial" and isinstance(f, SwitchedOff) for f in filters)
    # a new toolchain is a new revision: asked again (and this Lean's trivial is wrong)
    with checker_for(tmp_path, rules, toolchain="leanprover/lean4:v4.26.0") as checker:
        filters = prepare_run(checker, filters_of(checker))
    assert len(sent(tmp_path)) > first
    assert any(f.name == "trivial" and isinstance(f, SwitchedOff) for f in filters)


def test_an_unknown_revision_is_not_measured_at_run_time(tmp_path: Path, home: Path) -> None:
    notes: list[str] = []
    flags = ("--log", log_file(tmp_path))
    with LeanChecker(fake_config(tmp_path, *flags)) as checker:  # no lean-toolchain
        filters = prepare_run(checker, filters_of(checker), say=notes.append)
    assert sent(tmp_path) == []
    assert not any(isinstance(f, SwitchedOff) for f in filters)
    assert any("not run" in n and "lean doctor" in n for n in notes)


# --------------------------------------------------------------------------- the token table


def lean_has(*extra: str, drop: tuple[str, ...] = ()) -> str:
    """``--lean-tokens``: the packaged table's global tokens, less ``drop``, plus ``extra``."""
    table = packaged_table()
    tokens = [t for t in table.tags if t not in table.scoped and t not in drop]
    return json.dumps([*tokens, *extra], ensure_ascii=False)


def test_tokens_lean_has_are_added_to_the_gate(tmp_path: Path, home: Path) -> None:
    statement = "theorem t (a b : ℕ) (h : a ⊞⊞ b) : a = b := by sorry"
    assert check_statement(statement).ok  # the packaged table: `⊞⊞` is two unknown symbols
    with checker_for(tmp_path, TRUTH, "--lean-tokens", lean_has("⊞⊞")) as checker:
        prepare_run(checker, [])
        assert lean_tokens_in_use() == {"⊞⊞"}
        (result,) = checker.check([statement])
    # the gate now reads `⊞⊞` as Lean does, as one token of unknown declaration: refused
    assert result.status is CheckStatus.REJECTED
    assert "`⊞⊞` is Lean syntax (unknown syntax)" in (result.reason or "")
    assert not any("⊞⊞" in cmd for cmd in sent(tmp_path))
    # a later run on the same revision reads the added tokens from the cache
    use_lean_tokens(())
    with checker_for(tmp_path) as checker:
        prepare_run(checker, [])
    assert lean_tokens_in_use() == {"⊞⊞"}


def test_doctor_reports_the_difference_both_ways(tmp_path: Path, home: Path) -> None:
    flags = ("--lean-tokens", lean_has("⊞⊞", "formalize_kw", drop=("∑'", "!![")))
    with checker_for(tmp_path, TRUTH, *flags) as checker:
        config = checker.config
    report = doctor(config, more=doctor_rows)
    rows = dict(report.rows)
    tokens = rows["lean tokens"]
    assert "2 not in the gate's table ('formalize_kw', '⊞⊞')" in tokens
    assert "2 global tokens this Lean lacks ('!![', \"∑'\")" in tokens
    assert f"{len(packaged_table().scoped)} scoped ones" in tokens
    for name in ALL:
        state = rows[f"self-test {name}"]
        assert state.startswith("SWITCHED OFF" if name in expected_off() else "agrees")
    assert rows["lean truth cache"].endswith(".json")
    assert lean_tokens_in_use() == {"⊞⊞", "formalize_kw"}


# --------------------------------------------------------------------------- reading the reply


def info(text: str) -> Message:
    return Message(Severity.INFO, 1, 0, text)


def test_read_reply() -> None:
    ok = CheckResult(CheckStatus.OK, messages=(info(f'{MARK} ["(", "theorem", "⊞⊞"]'),))
    assert read_reply(ok) == ["(", "theorem", "⊞⊞"]
    for bad, why in [
        (CheckResult(CheckStatus.OK, messages=(info(f"{MARK} [1, 2]"),)), "not a list of strings"),
        (CheckResult(CheckStatus.OK, messages=(info(f"{MARK} [oops"),)), "not JSON"),
        (CheckResult(CheckStatus.OK, messages=(info(f"{MARK} []"),)), "empty"),
        (CheckResult(CheckStatus.OK, messages=(info("something else"),)), "holds no table"),
        (CheckResult(CheckStatus.TIMEOUT, reason="60 s"), "timeout"),
    ]:
        with pytest.raises(TokenTableError, match=why):
            read_reply(bad)


def test_the_command_is_a_fixed_text_the_gate_would_refuse() -> None:
    # trusted text, sent as a probe: the gate refuses `#eval` in any statement
    assert "Lean.Parser.getTokenTable" in TOKEN_TABLE_COMMAND
    assert not check_statement(TOKEN_TABLE_COMMAND).ok


# --------------------------------------------------------------------------- formalize check


def test_check_command_asks_lean_first(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lean_fakes import PYTHON_HOME

    from formalize.cli.main import main

    path = tmp_path / "in.jsonl"
    rows = [
        {"id": "new", "lean": "theorem a (a b : ℕ) (h : a ⊞⊞ b) : a = b := by sorry"},
        {"id": "false", "lean": "theorem f : (2 : ℕ) + 2 = 5 := by sorry"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    rules = [*TRUTH, {"probe": "trivial", "when": "."}]  # a Lean whose trivial is wrong
    flags = ("--prove", json.dumps(rules), "--lean-tokens", lean_has("⊞⊞"))
    project = lake_project(tmp_path, *flags)
    args = ["check", str(path), "--lean-project", str(project), "--sandbox-path", PYTHON_HOME]
    code = main([*args, "--filters", "refuted,trivial"])
    out, err = capsys.readouterr()
    results = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert code == 0
    assert results["new"]["status"] == "rejected" and "⊞⊞" in results["new"]["reason"]
    signals = {s["name"]: s for s in results["false"]["signals"]}
    refuted = "inconclusive" if "refuted" in expected_off() else "failed"
    assert signals["refuted"]["outcome"] == refuted
    trivial = signals["trivial"]
    assert trivial["outcome"] == "inconclusive" and trivial["reason"].startswith("self-test")
    assert err.count("WARNING: filter trivial is SWITCHED OFF") == 1


# --------------------------------------------------------------------------- setup


def test_setup_asks_the_new_lean(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from formalize.cli import lean as lean_cli
    from formalize.cli.main import main

    measured: list[Path] = []
    with monkeypatch.context() as patch:
        patch.setattr("formalize.lean.setup.setup_project", lambda project, version: None)
        patch.setattr(lean_cli, "_measure_truth", lambda project: measured.append(project))
        assert main(["lean", "setup", "--lean-project", str(tmp_path / "p")]) == 0
    assert measured == [tmp_path / "p"]
    # what it prints, with the fake REPL as the new Lean
    with checker_for(tmp_path, TRUTH, "--extra-tokens", '["⊞⊞"]') as checker:
        config = checker.config
    lean_cli._measure_truth(config.lean_project, config)
    out = capsys.readouterr().out
    assert "1 not in the gate's table ('⊞⊞')" in out
    assert "self-test trivial: agrees with Lean" in out
    assert "cached in " in out and str(home) in out
    # and a Lean that cannot be asked does not undo the setup
    lean_cli._measure_truth(tmp_path / "p", fake_config(tmp_path, "--fail-import"))
    assert "could not ask Lean" in capsys.readouterr().out


def test_only_the_projects_own_lean_has_its_revision(tmp_path: Path) -> None:
    from formalize.lean import LeanConfig
    from formalize.truth import revision_of

    own = LeanConfig(lean_project=lean_project(tmp_path))
    assert revision_of(own) == "leanprover/lean4:v4.15.0 mathlib@v4.15.0 (aaaaaaaaaaaa)"
    assert revision_of(own.with_overrides(backend="file")) == revision_of(own)
    # another Lean than the project names: a --repl-cmd, a custom lean_cmd, a kimina server
    assert revision_of(own.with_overrides(repl_cmd=["my-repl"])) is None
    assert revision_of(own.with_overrides(backend="file", lean_cmd=["lean", "--json"])) is None
    kimina = own.with_overrides(backend="kimina", kimina_url="http://127.0.0.1:9")
    assert revision_of(kimina) is None
    assert revision_of(LeanConfig(lean_project=tmp_path / "nothing")) is None


def test_fake_answers_the_token_table_command_like_an_info_message(tmp_path: Path) -> None:
    """The fake's answer has the recorded shape of an info message (``def_eval``'s
    ``#check``: severity, pos, endPos at the command keyword, data), holding the table."""
    import subprocess

    from lean_fakes import fake_cmd

    requests_text = (
        json.dumps({"cmd": "import Mathlib"})
        + "\n\n"
        + json.dumps({"cmd": TOKEN_TABLE_COMMAND, "env": 0})
        + "\n\n"
    )
    done = subprocess.run(
        fake_cmd("--extra-tokens", '["⊞⊞"]'),
        input=requests_text,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    replies = [json.loads(r) for r in done.stdout.split("\n\n") if r.strip()]
    assert replies[0] == {"env": 0}
    (message,) = replies[1]["messages"]
    assert sorted(message) == ["data", "endPos", "pos", "severity"]
    assert message["severity"] == "info"
    assert message["pos"] == {"line": 1, "column": 0}
    assert message["endPos"] == {"line": 1, "column": 5}
    assert message["data"].startswith(MARK)
    assert "⊞⊞" in json.loads(message["data"][len(MARK) :])


def test_doctor_command_prints_the_answers(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lean_fakes import fake_cli_args

    from formalize.cli.main import main

    flags = ("--prove", json.dumps(TRUTH), "--extra-tokens", '["⊞⊞"]')
    project = lean_project(tmp_path)
    main(["lean", "doctor", *fake_cli_args(*flags), "--lean-project", str(project)])
    out = capsys.readouterr().out
    assert "lean tokens" in out and "('⊞⊞')" in out
    assert "self-test reference" in out and "lean truth cache" in out


def test_file_mode_asks_lean_too(tmp_path: Path, home: Path) -> None:
    from formalize.truth import measure_and_cache

    args = ("--prove", json.dumps(TRUTH), "--extra-tokens", '["⊞⊞"]')
    project = lake_project(tmp_path, *args)
    from formalize.lean import LeanConfig

    default = LeanConfig().lean_cmd  # `lake env lean --json`
    config = fake_config(tmp_path, backend="file", lean_cmd=default, lean_project=project)
    with LeanChecker(config) as checker:
        truth, path = measure_and_cache(checker)
    assert truth.token_error is None and truth.diff is not None
    assert truth.diff.extra == ("⊞⊞",)
    assert {n for n, v in truth.selftest.verdicts.items() if not v.ok} == expected_off()
    assert path is not None and load(path) == truth
