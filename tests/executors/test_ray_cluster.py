"""A real multi-process Ray cluster (``ray start --head``) and ``formalize run --executor ray
--ray-address`` as a subprocess: one Lean actor's process is killed mid-run, Ray restarts it,
its chunk goes to another actor, and the run ends with the corpus a local run gives."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from corpus_writer import snapshot
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import (
    FAKE_REPL,
    PYTHON,
    REPO,
    config_for,
    critic,
    many_problems,
    repl_log,
    slow_translator,
    write_problems,
)

from formalize.runner import run_job

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

PROBLEMS = 12
LATENCY_MS = 80  # per Lean check, so that the Lean stage lasts long enough to kill an actor


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = list(procs)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            out.extend(proc.children(recursive=True))
    return out


def processes_mentioning(text: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(text in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def end(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=10)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=10)


TOKEN = secrets.token_hex(16)


def cluster_env() -> dict[str, str]:
    """What the head and the driver share: no usage stats, one authentication token."""
    return {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}


@pytest.fixture
def head() -> Iterator[str]:
    """``ray start --head`` with its own temp dir; its processes (found by that dir, with
    their children) are ended at teardown, so no other Ray on the machine is touched."""
    temp = tempfile.mkdtemp(prefix="/tmp/fz-ray-")  # short: Ray's socket paths live under it
    port = free_port()
    ray_bin = str(Path(sys.executable).with_name("ray"))
    env = dict(os.environ, **cluster_env())
    argv = [ray_bin, "start", "--head", "--num-cpus=2", f"--port={port}", f"--temp-dir={temp}"]
    argv += [
        "--include-dashboard=false",
        "--object-store-memory=200000000",
        "--disable-usage-stats",
    ]
    started = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"127.0.0.1:{port}"
    finally:
        end(tree(processes_mentioning(temp)))
        shutil.rmtree(temp, ignore_errors=True)
    assert not processes_mentioning(temp)


def lean_actor_pids(log: Path) -> set[int]:
    """The Lean actors' processes: the ``ray::`` ancestors of the fake REPLs writing ``log``."""
    pids = set()
    for repl in processes_mentioning(str(log)):
        try:
            proc: psutil.Process | None = repl
            while proc is not None and not (proc.cmdline() or [""])[0].startswith("ray::"):
                proc = proc.parent()
            if proc is not None and "LeanActor" in proc.cmdline()[0]:
                pids.add(proc.pid)
        except psutil.NoSuchProcess:
            continue
    return pids


def write_toml(path: Path, log: Path) -> Path:
    pools = {
        "translator": {"actors": 1, "num_cpus": 0.25, "chunk_size": 2},
        "lean": {"actors": 2, "num_cpus": 0.25, "chunk_size": 2},
        "critic": {"actors": 1, "num_cpus": 0.25, "chunk_size": 4},
    }
    lines = ['executor = "ray"', "samples = 2", "batch_size = 3", "progress = false", "[lean]"]
    # `--log=PATH`, one argument: the sandbox shows an existing file named as an argument
    # read-only, and a restarted actor's REPL starts when the log exists
    repl = [PYTHON, str(FAKE_REPL), f"--log={log}", "--latency-ms", str(LATENCY_MS)]
    lines += [
        f"repl_cmd = {json.dumps(repl)}",
        f"sandbox_paths = {json.dumps([sys.base_prefix])}",
        f"sandbox_writable = {json.dumps([str(log.parent)])}",
        "workers = 1",
        "timeout_s = 30.0",
        'toolchain = "fake-repl v4.15.0"',
        "[ray]",
        "chunk_retries = 3",
        "max_restarts = 2",
    ]
    for pool, values in pools.items():
        lines.append(f"[ray.{pool}]")
        lines += [f"{k} = {v}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_killed_lean_actor_costs_nothing_the_corpus_is_a_local_runs(
    tmp_path: Path, head: str
) -> None:
    rows = many_problems(PROBLEMS)
    with (
        ScriptedOpenAIServer(slow_translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        (tmp_path / "local").mkdir()
        local = run_job(
            config_for(
                tmp_path / "local",
                (t, c),
                input=str(write_problems(tmp_path / "local" / "p.jsonl", rows)),
                samples=2,
                batch_size=3,
            )
        )
        expected = snapshot(local.db)
        assert len(expected[0]) == 2 * PROBLEMS // 3

        log = repl_log(tmp_path)
        db = tmp_path / "ray.db"
        argv = [
            sys.executable, "-m", "formalize.cli.main", "run",
            str(write_problems(tmp_path / "p.jsonl", rows)),
            "--config", str(write_toml(tmp_path / "run.toml", log)),
            "--translator", f"openai:kimina@{t.base_url}",
            "--critic", f"openai:criticlean@{c.base_url}",
            "--ray-address", head, "--db", str(db),
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"), **cluster_env())
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            # both Lean actors up and checking, with most of the run still ahead
            deadline = time.monotonic() + 180
            pids: set[int] = set()
            while time.monotonic() < deadline and proc.poll() is None:
                pids = lean_actor_pids(log)
                checks = len(log.read_text().splitlines()) if log.exists() else 0
                if len(pids) == 2 and checks >= 4:
                    break
                time.sleep(0.05)
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert len(pids) == 2, "the two Lean actors never both ran a REPL"
            victim = min(pids)
            os.kill(victim, signal.SIGKILL)
            _, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Lean actor" in text and "died" in text, text  # the fault was met, not missed
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == "zombie"
    assert snapshot(db) == expected
