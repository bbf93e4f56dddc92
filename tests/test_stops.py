"""Stopping a real `formalize run` subprocess (scripted OpenAI-compatible models, the fake REPL
through the real pool): SIGTERM within the grace period, a grace period that runs out, a second
Ctrl-C; each time exit code, the run's status, the resume hint, a consistent store, and a rerun
that ends with the corpus of an uninterrupted run. Waits are on observable state (entries in the
store, a request the server holds, a line on stderr), never a fixed sleep.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from corpus_writer import count_entries
from corpus_writer import snapshot as corpus_of
from support.lines import Lines
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import (
    Gate,
    critic,
    many_problems,
    run_cli,
    slow_translator,
    write_problems,
)

from formalize.corpus import Store

MANY = 24
ACCEPTED = 2 * MANY // 3  # the alpha and beta cases are accepted


@dataclass
class Setting:
    """The servers (behind one gate) every test of this module runs against, the problems file
    and the corpus an uninterrupted run makes of it."""

    gate: Gate
    specs: tuple[str, str]
    problems: Path
    expected: Any = None


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    home = tmp_path_factory.mktemp("stops")
    problems = write_problems(home / "many.jsonl", many_problems(MANY))
    gate = Gate()
    gate.opened.set()
    with (
        ScriptedOpenAIServer(gate.translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        here = Setting(
            gate, (f"openai:kimina@{t.base_url}", f"openai:criticlean@{c.base_url}"), problems
        )
        try:
            code, err = Run(here, home / "reference.db").finish()
            assert code == 0, err
            here.expected = corpus_of(home / "reference.db")
            assert len(here.expected[0]) == ACCEPTED
            yield here
        finally:
            gate.opened.set()


@pytest.fixture
def gate(setting: Setting) -> Iterator[Gate]:
    """The gate, closed for the test (and opened after it)."""
    setting.gate.opened.clear()
    setting.gate.held.clear()
    try:
        yield setting.gate
    finally:
        setting.gate.opened.set()


class Run:
    """`formalize run` in a subprocess, its stderr read line by line as it comes."""

    def __init__(self, setting: Setting, db: Path, *extra: str) -> None:
        self.db = db
        self.proc = run_cli(setting.problems, db, setting.specs[0], setting.specs[1], *extra)
        assert self.proc.stderr is not None
        self.err = Lines(self.proc.stderr)

    def wait_for_line(self, pattern: str, timeout: float = 120) -> str:
        """The first line (from here on) matching ``pattern``; fails if the stream ends."""
        return self.err.wait_for(pattern, timeout)

    def wait_for_entries(self, entries: int, timeout: float = 120) -> None:
        """Wait until the store holds ``entries`` accepted entries, the run still going."""
        deadline = time.monotonic() + timeout
        while count_entries(self.db) < entries and time.monotonic() < deadline:
            assert self.proc.poll() is None, "the run ended before it could be stopped"
            time.sleep(0.01)
        got = count_entries(self.db)
        assert got >= entries, f"{got} entries after {timeout:g} s, waiting for {entries}"

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        """Exit code and the whole stderr."""
        code = self.proc.wait(timeout=timeout)
        return code, self.err.rest(timeout)


def resume(setting: Setting, db: Path) -> None:
    """Rerun the same command, the gate open, to its end."""
    setting.gate.opened.set()
    code, err = Run(setting, db).finish()
    assert code == 0, err
    assert "complete in" in err


def integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def test_sigterm_stops_within_the_grace_period_exits_143_and_a_rerun_resumes(
    tmp_path: Path, setting: Setting, gate: Gate
) -> None:

    db = tmp_path / "terminated.db"
    run = Run(setting, db)
    run.wait_for_entries(2)
    # the gate holds the run mid-round (it cannot have finished), until the SIGTERM is taken
    assert gate.held.wait(120), "the run never reached the gated problems"
    run.proc.send_signal(signal.SIGTERM)
    run.wait_for_line("SIGTERM: stopping")
    gate.opened.set()  # the work in flight now finishes, well within the grace period
    code, err = run.finish()
    assert code == 143, err
    assert "SIGTERM: stopping" in err
    assert "interrupted by SIGTERM after" in err
    assert "what finished is saved. To resume, rerun the same command" in err
    assert "grace period is" not in err  # nothing had to be cut short
    with Store(db) as store:
        (record,) = store.runs()
        assert record["status"] == "interrupted"
        assert record["counts"]["accepted"] == len(store.entries())
        pid = store._query_one("SELECT pid FROM runs")
    assert pid == (run.proc.pid,)
    assert len(corpus_of(db)[0]) < ACCEPTED

    resume(setting, db)
    assert corpus_of(db) == setting.expected
    with Store(db) as store:
        assert [r["status"] for r in store.runs()] == ["interrupted", "completed"]


def test_when_the_grace_period_runs_out_the_run_exits_anyway_and_loses_nothing(
    tmp_path: Path, setting: Setting, gate: Gate
) -> None:

    db = tmp_path / "cut.db"
    # a grace period of 6 s: the work in flight is aborted at 4.5 s and the process ended at 6 s;
    # the 1.5 s between them is the time the abort has to be taken and said on a loaded machine
    run = Run(setting, db, "--grace-period", "6")
    run.wait_for_entries(2)
    assert gate.held.wait(120), "the run never reached the gated problems"
    run.proc.send_signal(signal.SIGTERM)  # a translation hangs on the gate: it cannot finish
    code, err = run.finish()
    assert code == 143, err
    assert "the grace period is nearly over" in err
    assert integrity(db) == "ok"
    with Store(db) as store:
        assert store.runs()[0]["status"] == "interrupted"
    entries, _ = corpus_of(db)
    assert 2 <= len(entries) < ACCEPTED
    assert set(entries) <= set(setting.expected[0])

    resume(setting, db)
    assert corpus_of(db) == setting.expected


def test_a_second_ctrl_c_stops_now_with_exit_130_and_a_rerun_resumes(
    tmp_path: Path, setting: Setting, gate: Gate
) -> None:

    db = tmp_path / "aborted.db"
    run = Run(setting, db)
    run.wait_for_entries(2)
    assert gate.held.wait(120), "the run never reached the gated problems"
    run.proc.send_signal(signal.SIGINT)
    run.wait_for_line("stopping: nothing new starts")
    assert run.proc.poll() is None  # a translation hangs on the gate: the first stop waits
    run.proc.send_signal(signal.SIGINT)
    code, err = run.finish()
    assert code == 130, err
    assert "SIGINT again: stopping now" in err
    assert "interrupted by SIGINT after" in err
    assert "To resume, rerun the same command" in err
    assert integrity(db) == "ok"
    with Store(db) as store:
        assert store.runs()[0]["status"] == "interrupted"

    resume(setting, db)
    assert corpus_of(db) == setting.expected


def test_a_run_killed_with_sigkill_shows_as_interrupted_on_the_next_open(
    tmp_path: Path, setting: Setting, gate: Gate
) -> None:
    db = tmp_path / "killed.db"
    run = Run(setting, db)
    run.wait_for_entries(1)
    # the gate holds the run mid-round: it is certainly alive while another process looks
    assert gate.held.wait(120), "the run never reached the gated problems"
    with Store(db) as store:
        assert store.runs()[0]["status"] == "running"
    run.proc.kill()
    run.finish()
    with Store(db) as store:
        assert store.runs()[0]["status"] == "interrupted"


def test_a_stop_starts_nothing_new_and_records_only_chunks_judged_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_pipeline import config_for

    from formalize.pipeline import Pipeline
    from formalize.runner import run_job

    stopped = threading.Event()
    request_stop = Pipeline.request_stop

    def noted(self: Pipeline) -> None:
        request_stop(self)
        stopped.set()

    monkeypatch.setattr(Pipeline, "request_stop", noted)
    main = threading.main_thread().ident
    assert main is not None
    asked: list[tuple[int, bool]] = []  # (case, asked after the stop)

    def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        case = re.search(r"case (\d+) of", messages[-1]["content"])
        assert case is not None
        asked.append((int(case.group(1)), stopped.is_set()))
        repair = "did not compile" in messages[-1]["content"]
        if case.group(1) == "0" and repair and not stopped.is_set():
            # the second round of the first chunk's problems (cases 0, 1): its first round is
            # recorded, other chunks are somewhere in flight; Ctrl-C
            signal.pthread_kill(main, signal.SIGINT)
            assert stopped.wait(60)
        return slow_translator(messages, params)

    rows = many_problems(12)
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        config = config_for(
            tmp_path,
            (t, c),
            input=str(write_problems(tmp_path / "twelve.jsonl", rows)),
            batch_size=2,
            samples=2,
            max_in_flight=3,
        )
        outcome = run_job(config)
    assert outcome.stopped and (outcome.signal, outcome.exit_code) == ("SIGINT", 130)
    # after the stop, no translation began: the only requests are the chunk in flight's
    assert {case for case, late in asked if late} <= {0, 1}
    with Store(tmp_path / "corpus.db") as store:
        assert store.runs()[0]["status"] == "interrupted"
        attempts = store.attempts()
    rounds: dict[tuple[str, int], int] = {}
    for a in attempts:
        rounds[(a.problem_id, a.round)] = rounds.get((a.problem_id, a.round), 0) + 1
    assert {("alpha-0", 1), ("beta-1", 1)} <= set(rounds)  # judged before the stop: kept
    assert ("alpha-0", 2) not in rounds  # translating at the stop: not recorded
    assert set(rounds.values()) == {2}  # every round recorded is whole (2 samples)
    assert len(rounds) < 12  # and the stop came well before the end
