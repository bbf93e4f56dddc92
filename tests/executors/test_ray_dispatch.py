"""The Ray executor on a local Ray cluster in this process: chunk dispatch (input order, actor
deaths, bounded retries, errors passed on) and whole runs, whose corpus must equal a local run's
and whose rerun must send nothing to the cluster."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from corpus_writer import snapshot  # noqa: E402
from test_pipeline import config_for, repl_requests  # noqa: E402

from formalize.errors import SetupError  # noqa: E402
from formalize.runner import run_job  # noqa: E402

# Small actors: the three pools fit the two logical CPUs of the test cluster.
POOLS = {
    "translator": {"actors": 2, "num_cpus": 0.25, "chunk_size": 2},
    "lean": {"actors": 2, "num_cpus": 0.25, "chunk_size": 2},
    "critic": {"actors": 1, "num_cpus": 0.25, "chunk_size": 3},
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """One local Ray cluster for the module; shut down (no process left) at its end."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # the dispatch tests' actor classes live in this module, which workers cannot import
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20)
    try:
        yield
    finally:
        ray.shutdown()


class Worker:
    """A test actor: echoes chunks, sleeps to finish out of order, dies when told."""

    def ready(self) -> int:
        return os.getpid()

    def run(self, items: list[int], delay: float = 0.0, die_once: str = "") -> list[int]:
        if die_once and not os.path.exists(die_once):
            Path(die_once).write_text(str(os.getpid()))
            os._exit(1)  # the process dies mid-chunk, as on a lost node
        time.sleep(delay)
        return [10 * x for x in items]

    def always_die(self, items: list[int]) -> list[int]:
        os._exit(1)

    def refuse(self, items: list[int]) -> list[int]:
        raise SetupError("the REPL cannot run here")

    def held(self, items: list[int], started: str, release: str) -> list[int]:
        """Says it started (file ``started``), then waits for the file ``release``."""
        Path(started).write_text("x")
        deadline = time.monotonic() + 60
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.01)
        return [10 * x for x in items]


def workers(n: int, max_restarts: int = 1) -> list[Any]:
    remote = ray.remote(Worker).options(num_cpus=0.1, max_restarts=max_restarts, max_task_retries=0)
    return [remote.remote() for _ in range(n)]


def test_results_come_back_in_input_order(cluster: None) -> None:
    from formalize.executors.dispatch import Dispatcher, split

    dispatcher = Dispatcher("test", workers(3), "run", in_flight=2)
    chunks = split(list(range(20)), 3)
    # later chunks finish first: the first chunks sleep longest
    args = [(part, 0.02 * (len(chunks) - k)) for k, part in enumerate(chunks)]
    assert dispatcher.map(args) == [[10 * x for x in part] for part in chunks]
    assert dispatcher.stats.chunks == len(chunks) and dispatcher.stats.retried == 0


def test_a_dead_actors_chunk_is_retried_on_another(cluster: None, tmp_path: Path) -> None:
    from formalize.executors.dispatch import Dispatcher

    marker = tmp_path / "died"
    dispatcher = Dispatcher("test", workers(2), "run", in_flight=1, retries=2)
    chunks = [([1, 2], 0.0, ""), ([3, 4], 0.0, str(marker)), ([5], 0.0, "")]
    assert dispatcher.map(chunks) == [[10, 20], [30, 40], [50]]
    assert marker.exists(), "no actor died: the test would prove nothing"
    assert dispatcher.stats.actor_deaths == 1 and dispatcher.stats.retried == 1
    assert dispatcher.alive == 2  # Ray restarted it: it stays in the pool
    # the restarted actor takes work again
    assert dispatcher.map([([k], 0.0, "") for k in range(4)]) == [[10 * k] for k in range(4)]


def test_retries_are_bounded(cluster: None) -> None:
    from formalize.executors.dispatch import ChunkFailed, Dispatcher

    dispatcher = Dispatcher("test", workers(2, max_restarts=-1), "always_die", retries=1)
    with pytest.raises(ChunkFailed, match="failed 2 times"):
        dispatcher.map([([1],)])
    assert dispatcher.stats.chunks == 2


def test_a_pool_past_its_restarts_stops_the_run(cluster: None) -> None:
    from formalize.executors.dispatch import Dispatcher, PoolLost

    dispatcher = Dispatcher("test", workers(1, max_restarts=0), "always_die", retries=5)
    with pytest.raises(PoolLost, match="every test actor died"):
        dispatcher.map([([1],)])
    assert dispatcher.alive == 0


def test_an_error_of_the_actors_code_is_passed_on_not_retried(cluster: None) -> None:
    from formalize.executors.dispatch import Dispatcher

    dispatcher = Dispatcher("test", workers(1), "refuse", retries=3)
    with pytest.raises(SetupError, match="the REPL cannot run here"):
        dispatcher.map([([1],)])
    assert dispatcher.stats.chunks == 1 and dispatcher.stats.retried == 0


def test_cancel_pending_sends_no_more_chunks_and_keeps_the_ones_sent(
    cluster: None, tmp_path: Path
) -> None:
    import threading

    from formalize.executors.dispatch import CANCELLED, Dispatcher

    started, release = tmp_path / "started", tmp_path / "release"
    dispatcher = Dispatcher("test", workers(1), "held", in_flight=1)
    chunks = [([k], str(started), str(release)) for k in range(3)]
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(dispatcher.map(chunks)))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, "the first chunk never started"
            time.sleep(0.01)
        dispatcher.cancel_pending()  # one slot, taken: chunks 1 and 2 wait in the dispatcher
    finally:
        release.write_text("x")
        thread.join(60)
    assert out == [[[0], CANCELLED, CANCELLED]]
    assert dispatcher.stats.chunks == 1
    # a later map is not affected
    assert dispatcher.map([([5], str(started), str(release))]) == [[50]]


# ---------------------------------------------------------------- whole runs


def ray_config(tmp_path: Path, servers: Any, **kw: Any) -> Any:
    return config_for(tmp_path, servers, executor="ray", ray={**POOLS}, **kw)


def test_a_ray_run_gives_the_local_corpus_and_a_rerun_sends_nothing(
    cluster: None, tmp_path: Path, servers: Any
) -> None:
    t, c = servers
    (tmp_path / "local").mkdir()
    (tmp_path / "ray").mkdir()
    local = run_job(config_for(tmp_path / "local", servers))
    calls = len(t.completion_requests) + len(c.completion_requests)
    config = ray_config(tmp_path / "ray", servers)
    outcome = run_job(config)
    assert not outcome.stopped
    assert len(t.completion_requests) + len(c.completion_requests) > calls  # it ran on Ray
    assert repl_requests(tmp_path / "ray"), "the Lean actors checked nothing"
    assert snapshot(outcome.db) == snapshot(local.db)
    assert outcome.counters.accepted == local.counters.accepted == 2
    assert outcome.counters.model_calls > 0

    calls = (len(t.completion_requests), len(c.completion_requests))
    checks = len(repl_requests(tmp_path / "ray"))
    again = run_job(config)
    assert (len(t.completion_requests), len(c.completion_requests)) == calls
    assert len(repl_requests(tmp_path / "ray")) == checks
    assert again.counters.skipped == 4 and again.counters.model_calls == 0
    assert snapshot(outcome.db) == snapshot(local.db)


def test_an_actor_that_cannot_build_its_engine_stops_the_run_with_its_reason(
    cluster: None, tmp_path: Path, servers: Any
) -> None:
    from test_executors import closed_port

    dead = f"openai:kimina@http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(SetupError) as caught:
        run_job(ray_config(tmp_path, servers, translator=dead))
    text = str(caught.value)
    assert "the translator" in text and "actors could not start" in text
    assert "SetupError: no OpenAI-compatible server answers" in text
    assert "Traceback" not in text  # the actor's reason, not Ray's report around it
