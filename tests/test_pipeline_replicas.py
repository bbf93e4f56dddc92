"""`formalize run` with the translator on two replicas (``openai:MODEL@URL1,URL2``): one stops
mid-run and the run finishes on the other with the corpus a one-server run makes."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from corpus_writer import snapshot
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import FAKE_CLI, PROBLEMS, critic, translator, write_problems

from formalize.cli.main import main


def argv_for(tmp_path: Path, db: Path, translator_spec: str, critic_url: str) -> list[str]:
    return [
        "run",
        str(write_problems(tmp_path / "problems.jsonl", PROBLEMS)),
        "--translator",
        translator_spec,
        "--critic",
        f"openai:criticlean@{critic_url}",
        "--db",
        str(db),
        "--batch-size",
        "2",
        *FAKE_CLI,
        "--workers",
        "1",
        "--no-progress",
    ]


def run(tmp_path: Path, name: str, translator_spec: str, critic_url: str) -> Path:
    db = tmp_path / f"{name}.db"
    assert main(argv_for(tmp_path, db, translator_spec, critic_url)) == 0
    return db


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    return f"http://127.0.0.1:{port}/v1"


def test_a_replica_that_stops_mid_run_leaves_the_run_to_the_other(tmp_path: Path) -> None:
    answered = 0
    lock = threading.Lock()
    dying: ScriptedOpenAIServer | None = None

    def answers_three_then_stops(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        nonlocal answered
        with lock:  # called once per choice: count the requests by their first choice
            answered += params["index"] == 0
            last = answered > 3
        if last:  # the fourth request: the server goes down under it
            assert dying is not None
            threading.Thread(target=dying.stop).start()
            raise RuntimeError("replica going down")
        return translator(messages, params)

    with (
        ScriptedOpenAIServer(translator, model="kimina") as alone,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        expected = snapshot(run(tmp_path, "one", f"openai:kimina@{alone.base_url}", c.base_url))
    with (
        ScriptedOpenAIServer(translator, model="kimina") as one,
        ScriptedOpenAIServer(answers_three_then_stops, model="kimina") as two,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        dying = two
        spec = f"openai:kimina@{one.base_url},{two.base_url}?backoff=0.01&max_backoff=0.05"
        got = snapshot(run(tmp_path, "two", spec, c.base_url))
        assert len(two.completion_requests) >= 4, "the replica stopped before it was used"
        assert len(one.completion_requests) > 0
    assert got == expected
    assert len(expected[0]) == 2  # alpha and beta accepted, as in test_pipeline


def test_a_replica_down_at_start_is_a_warning_and_all_down_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead, other = dead_url(), dead_url()
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        run(tmp_path, "one-down", f"openai:kimina@{dead},{t.base_url}", c.base_url)
        err = capsys.readouterr().err
        assert f"{dead} failed" in err and "skipping it until it answers again" in err
        assert "accepted this run" in err
        db = tmp_path / "all-down.db"
        assert main(argv_for(tmp_path, db, f"openai:kimina@{dead},{other}", c.base_url)) == 2
    err = " ".join(capsys.readouterr().err.split())  # the list is wrapped to the terminal
    assert "cannot start" in err
    assert f"no server answers at {dead}" in err and f"no server answers at {other}" in err
