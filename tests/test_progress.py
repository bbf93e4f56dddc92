"""Progress that moves: per-stage counts within a round, model calls and tokens per second, an
ETA from measured rates; redrawn on a terminal, a plain line every N seconds in a log."""

from __future__ import annotations

import copy
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from test_pipeline import PROBLEMS

from formalize.corpus import Store
from formalize.critic import Critic
from formalize.lean import LeanChecker, LeanConfig
from formalize.models import GenerationParams, load_engine
from formalize.pipeline import Counters, Pipeline, RoundProgress
from formalize.progress import ProgressReporter, eta_seconds, status_line, work_left
from formalize.records import Problem
from formalize.translate import Translator

FAKE_REPL = Path(__file__).resolve().parent / "lean" / "fake_repl.py"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counters() -> Counters:
    c = Counters(problems=14, samples=4, model_calls=3, generated_tokens=500)
    c.rounds[1] = RoundProgress(
        problems=10, translated=10, candidates=40, checked=40, compiled=20, judged=20, finished=10
    )
    c.rounds[1].continued = 4
    c.rounds[2] = RoundProgress(problems=4, translated=4, candidates=16, checked=8, compiled=2)
    c.done, c.exhausted = 6, 0
    return c


def test_eta_comes_from_measured_work_and_the_rounds_still_expected() -> None:
    c = counters()
    # round 1 done (10 problem-rounds); round 2: translated 4, checked 8/16 -> (4 + 2 + 0) / 3
    # left: round 2's 4 - 2 = 2, plus its 4 unfinished problems going on to round 3 with the
    # measured share (4 + 1) / (10 + 2)
    assert work_left(c, rounds=3) == pytest.approx(2 + 4 * 5 / 12)
    assert eta_seconds(c, rounds=3, elapsed_s=120.0) == pytest.approx((2 + 4 * 5 / 12) / (12 / 120))
    assert eta_seconds(Counters(), rounds=3, elapsed_s=5.0) is None  # nothing measured yet


def test_the_line_shows_each_stage_against_what_is_expected_this_round() -> None:
    line = status_line(counters(), rounds=3, elapsed_s=100.0)
    assert "6/14 problems settled (6 accepted, 0 exhausted)" in line
    assert "round 2: translated 4/4, checked 8/16, judged 0/2" in line
    assert "round 1:" not in line  # finished rounds drop out
    assert "3 model calls, 5.0 tok/s" in line
    assert "1m40s elapsed, ETA 31s" in line  # (2 + 20/12) left at 12 per 100 s


def test_with_filters_the_critic_waits_only_for_what_they_passed() -> None:
    c = counters()
    c.filters = 3
    c.rounds[2] = RoundProgress(
        problems=4, translated=4, candidates=16, checked=16, compiled=10, filtered=10, unjudged=4
    )
    c.rounds[2].judged = 6
    line = status_line(c, rounds=3, elapsed_s=100.0)
    assert "round 2: translated 4/4, checked 16/16, filtered 10/10, judged 6/6" in line


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_in_a_log_a_plain_line_every_interval_and_no_carriage_returns() -> None:
    clock, stream = Clock(), Stream(tty=False)
    reporter = ProgressReporter(stream, rounds=3, interval=30.0, clock=clock)
    reporter.update(counters())
    reporter.tick()
    assert stream.getvalue() == ""  # updates alone print nothing in a log
    clock.now += 29.0
    reporter.tick()
    assert stream.getvalue() == ""
    clock.now += 1.0
    reporter.tick()
    reporter.tick()
    clock.now += 30.0
    reporter.tick()
    reporter.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("progress: 6/14 problems") for line in lines)
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_on_a_terminal_the_line_is_redrawn_in_place() -> None:
    clock, stream = Clock(), Stream(tty=True)
    reporter = ProgressReporter(stream, rounds=3, clock=clock)
    assert reporter.tty
    reporter.update(counters())
    clock.now += 1
    reporter.tick()
    text = stream.getvalue()
    assert text.count("\r") == 2 and "\n" not in text and text.endswith("\x1b[K")
    reporter.close()
    assert stream.getvalue().endswith("\n")


def test_stage_counts_move_within_a_chunk_and_engines_report_tokens(
    tmp_path: Path, servers: Any
) -> None:
    t, c = servers
    snapshots: list[Counters] = []
    problems = [Problem(row["id"], row["problem"]) for row in PROBLEMS]
    lean = LeanConfig(repl_cmd=(sys.executable, str(FAKE_REPL)), workers=1, toolchain="fake")
    with (
        Store(tmp_path / "c.db") as store,
        LeanChecker(lean, cache=store.cache) as checker,
        load_engine(f"openai:kimina@{t.base_url}") as te,
        load_engine(f"openai:criticlean@{c.base_url}") as ce,
    ):
        pipeline = Pipeline(
            Translator(te, samples=4, params=GenerationParams(temperature=0.7, max_tokens=256)),
            checker,
            Critic(ce),
            store,
            rounds=3,
            batch_size=4,
            check_slice=3,
            on_progress=lambda counters: snapshots.append(copy.deepcopy(counters)),
        )
        final = pipeline.run(problems, store.start_run({}, "test"))
    checked = [s.rounds[1].checked for s in snapshots if 1 in s.rounds]
    # one chunk of 4 problems x 4 candidates, checked 3 at a time (the hostile ones are refused
    # by the gate before Lean and counted at once)
    assert len(set(checked)) > 3 and checked == sorted(checked)
    assert final.rounds[1].checked == final.rounds[1].candidates == 16
    assert [final.rounds[r].problems for r in (1, 2, 3)] == [4, 4, 3]  # alpha done in 2
    assert final.rounds[1].judged == final.rounds[1].compiled
    assert final.model_calls >= 3 and final.generated_tokens > 0
    assert final.as_dict()["rounds"]["1"]["finished"] == 4


def test_a_run_logging_to_a_file_writes_plain_progress_lines(
    tmp_path: Path, servers: Any, home: Path
) -> None:
    import json
    import os
    import subprocess

    t, c = servers
    problems = tmp_path / "p.jsonl"
    problems.write_text("".join(json.dumps(r) + "\n" for r in PROBLEMS), encoding="utf-8")
    log = tmp_path / "run.log"
    argv = [
        sys.executable, "-m", "formalize.cli.main", "run", str(problems),
        "--translator", f"openai:kimina@{t.base_url}",
        "--critic", f"openai:criticlean@{c.base_url}",
        "--repl-cmd", f"{sys.executable} {FAKE_REPL}", "--workers", "1",
        "--progress-interval", "0.2",
    ]  # fmt: skip
    src = str(Path(__file__).resolve().parents[1] / "src")
    with log.open("w") as err:
        done = subprocess.run(
            argv, stderr=err, env={**os.environ, "PYTHONPATH": src}, timeout=300, check=False
        )
    text = log.read_text()
    assert done.returncode == 0, text
    assert "progress: 4/4 problems settled (2 accepted, 2 exhausted)" in text
    assert "\r" not in text and "\x1b[" not in text
