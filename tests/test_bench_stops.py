"""``bench critic`` against a server critic saves every item as it is judged: a Ctrl-C mid-run
loses only the items in flight, and the rerun judges only the missing ones. A critic that gets
no answer for a whole batch's worth of items in a row stops the run (the engine is down)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import greedy, json_answer, lean_of
from support.openai_server import ScriptedOpenAIServer

from formalize.bench import load_suite, run_critic_bench
from formalize.bench.run import PREDICTIONS, read_predictions
from formalize.critic import Critic
from formalize.models import GenerationError, load_engine

REPO = Path(__file__).resolve().parents[1]
ITEMS = 12
HELD = {"q9", "q10", "q11"}  # answered only once the gate opens


def suite(tmp_path: Path) -> Path:
    rows = [
        {
            "id": f"q{i}",
            "informal": f"Problem {i}.",
            "lean": f"theorem q{i} : True := sorry",
            "label": i % 2 == 0,
        }
        for i in range(ITEMS)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class HeldCritic:
    """The scripted critic: Correct for even items; items in HELD wait for ``opened``."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.held = threading.Semaphore(0)
        self.asked: list[str] = []

    def __call__(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        name = lean_of(messages[-1]["content"]).split()[1]
        self.asked.append(name)
        if name in HELD and not self.opened.is_set():
            self.held.release()
            self.opened.wait(60)
        return json_answer(int(name[1:]) % 2 == 0, "compared")


def bench(server: ScriptedOpenAIServer, suite_path: Path, out: Path) -> dict[str, Any]:
    engine = load_engine(f"openai:critic@{server.base_url}?backoff=0.01&retries=1&concurrency=4")
    try:
        critic = Critic(engine, samples=1, rule="majority", params=greedy(1))
        return run_critic_bench(
            load_suite(str(suite_path)),
            critic,
            out,
            critic_spec="openai:critic",
            progress=False,
            bootstrap=50,
            batch_size=4,
        )
    finally:
        engine.close()


def test_ctrl_c_keeps_every_judged_item_and_the_rerun_judges_only_the_rest(
    tmp_path: Path,
) -> None:
    path, out = suite(tmp_path), tmp_path / "out"
    script = HeldCritic()
    main = threading.main_thread().ident
    assert main is not None

    def interrupt_when_held() -> None:
        for _ in HELD:  # every held item is in flight: all the others are judged
            assert script.held.acquire(timeout=60)
        deadline = time.monotonic() + 60
        while len(read_predictions(out / PREDICTIONS)) < ITEMS - len(HELD):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGINT)

    with ScriptedOpenAIServer(script, model="critic") as server:
        helper = threading.Thread(target=interrupt_when_held, daemon=True)
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            bench(server, path, out)
        script.opened.set()
        helper.join(60)
        saved = read_predictions(out / PREDICTIONS)
        assert sorted(saved) == sorted(f"q{i}" for i in range(ITEMS) if f"q{i}" not in HELD)

        script.asked.clear()
        results = bench(server, path, out)
    assert sorted(script.asked) == sorted(HELD)  # only the missing items
    assert results["judged_this_session"] == len(HELD)
    assert results["confusion"] == {"tp": ITEMS // 2, "fn": 0, "tn": ITEMS // 2, "fp": 0}


def test_a_critic_that_answers_nothing_stops_the_run_and_saves_no_failure(
    tmp_path: Path,
) -> None:
    def down(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        raise RuntimeError("upstream unavailable")

    path, out = suite(tmp_path), tmp_path / "out"
    with (
        ScriptedOpenAIServer(down, model="critic") as server,
        pytest.raises(GenerationError, match="no answer for 4 items in a row"),
    ):
        bench(server, path, out)
    assert read_predictions(out / PREDICTIONS) == {}


def test_sigterm_to_bench_critic_exits_143_with_every_judged_item_saved(
    tmp_path: Path, home: Path
) -> None:
    path, out = suite(tmp_path), tmp_path / "out"
    script = HeldCritic()
    with ScriptedOpenAIServer(script, model="critic") as server:
        spec = f"openai:critic@{server.base_url}?backoff=0.01&concurrency=4"
        argv = [
            sys.executable,
            "-m",
            "formalize.cli.main",
            "bench",
            "critic",
            "--suite",
            str(path),
            "--critic",
            spec,
            "--output",
            str(out),
            "--batch-size",
            "4",
            "--no-cache",
            "--no-progress",
            "--bootstrap",
            "50",
        ]
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, env=env, text=True)
        try:
            for _ in HELD:
                assert script.held.acquire(timeout=120)
            deadline = time.monotonic() + 120
            while len(read_predictions(out / PREDICTIONS)) < ITEMS - len(HELD):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=120)
        finally:
            script.opened.set()
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 143, err
        assert f"stopped with {ITEMS - len(HELD)} of {ITEMS} pairs judged" in err
        assert len(read_predictions(out / PREDICTIONS)) == ITEMS - len(HELD)
        script.asked.clear()
        rerun = subprocess.run(argv, stderr=subprocess.PIPE, env=env, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    assert sorted(script.asked) == sorted(HELD)
