"""Choosing an executor, its settings, and the errors a user meets before any Ray actor starts:
no Ray imported by the local path, Ray not installed, a cluster that does not answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_pipeline import config_for

from formalize.config import RunConfig
from formalize.errors import InputError
from formalize.executors import build_executor
from formalize.executors.settings import PoolSettings, RaySettings
from formalize.preflight import PreflightError
from formalize.runner import run_job

SRC = Path(__file__).resolve().parents[2] / "src"


def python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_nothing_imports_ray_unless_the_ray_executor_is_used() -> None:
    modules = [
        "formalize.cli.main",
        "formalize.runner",
        "formalize.pipeline",
        "formalize.executors",
        "formalize.executors.local",
        "formalize.executors.settings",
        "formalize.executors.actors",
    ]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "from formalize.executors import build_executor\n"
        "build_executor('local')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))))"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    # and the check can fail: the ray executor's module does import it
    done = python("import sys, formalize.executors.ray; print('ray' in sys.modules)")
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


def test_ray_not_installed_says_how_to_get_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['ray'] = None  # as if not installed\n"
        "from formalize.executors import build_executor\n"
        "try:\n"
        "    build_executor('ray')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SetupError the ray executor needs the ray package")
    assert "[ray]" in done.stdout and "--executor local" in done.stdout


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def test_an_unreachable_cluster_is_a_preflight_problem_with_what_to_do(
    tmp_path: Path, servers: Any
) -> None:
    pytest.importorskip("ray")
    address = f"127.0.0.1:{closed_port()}"
    config = config_for(tmp_path, servers, executor="ray", ray_address=address)
    with pytest.raises(PreflightError) as caught:
        run_job(config)
    text = str(caught.value)
    assert f"Ray cluster: no Ray cluster answers at '{address}'" in text
    assert "ray start --head" in text and "docs/cluster.md" in text
    t, c = servers
    assert not t.completion_requests and not c.completion_requests
    import ray

    assert not ray.is_initialized()  # no local Ray started behind the user's back


def test_an_address_with_the_local_executor_is_refused(tmp_path: Path, servers: Any) -> None:
    config = config_for(tmp_path, servers, ray_address="auto")
    with pytest.raises(PreflightError, match="add --executor ray"):
        run_job(config)


def test_the_default_executor_is_local_and_needs_no_ray() -> None:
    assert RunConfig().executor == "local" and RunConfig().ray_address is None
    assert build_executor("local").name == "local"
    with pytest.raises(InputError, match="did you mean 'ray'"):
        build_executor("rya")


def test_ray_settings_are_checked_with_every_problem_named() -> None:
    settings = RaySettings.from_mapping(
        {
            "max-restarts": 5,
            "lean": {"actors": 4, "num_cpus": 2, "memory_mb": 24000, "resources": {"lean": 1}},
            "translator": {"num_gpus": 1},
        },
        address="auto",
    )
    assert settings.address == "auto" and settings.max_restarts == 5
    assert settings.lean == PoolSettings(4, 2, None, 24000, {"lean": 1.0})
    assert settings.translator.num_gpus == 1 and settings.critic == PoolSettings()
    with pytest.raises(ValueError) as caught:
        RaySettings.from_mapping(
            {"max_restart": 1, "lean": {"actors": 0, "memory": 3}, "critic": {"num_gpus": "one"}}
        )
    text = str(caught.value)
    assert "unknown Ray setting 'max_restart' (did you mean 'max_restarts'?)" in text
    assert "unknown setting 'memory' in [ray.lean] (did you mean 'memory_mb'?)" in text
    assert "[ray.critic] num_gpus: expected a number" in text
    with pytest.raises(ValueError, match=r"\[ray.lean\] actors must be at least 1"):
        RaySettings.from_mapping({"lean": {"actors": 0}})


def test_a_bad_ray_table_is_a_setting_problem() -> None:
    with pytest.raises(InputError, match="ray: unknown Ray setting 'lean_actors'"):
        RunConfig(executor="ray", ray={"lean_actors": 2})
    with pytest.raises(InputError, match="unknown executor 'cluster'"):
        RunConfig(executor="cluster")


def test_actor_flags_merge_into_the_files_ray_table(tmp_path: Path) -> None:
    from formalize.cli.main import build_parser
    from formalize.cli.run import resolve_config

    toml = tmp_path / "run.toml"
    toml.write_text(
        'executor = "ray"\n[ray]\nchunk_retries = 1\n[ray.lean]\nnum_cpus = 2\nactors = 1\n'
    )
    argv = ["run", "p.jsonl", "--config", str(toml), "--lean-actors", "3", "--ray-address", "auto"]
    args = build_parser().parse_args(argv)
    config, issues = resolve_config(args)
    assert not issues
    assert config.executor == "ray" and config.ray_address == "auto"
    assert config.ray == {"chunk_retries": 1, "lean": {"num_cpus": 2, "actors": 3}}


def test_the_ray_executors_engine_check_leaves_devices_to_the_actors() -> None:
    pytest.importorskip("ray")
    from formalize.preflight import Preflight

    executor = build_executor("ray")
    check = Preflight()
    # vLLM needs a GPU this machine lacks; the actors' nodes may have one
    executor.check_engines(check, [("translator", "vllm:some/model"), ("critic", "nope:x")])
    assert [m.what for m in check.missing] == ["critic nope:x"]


def test_without_an_address_the_run_starts_a_local_ray_and_stops_it(
    tmp_path: Path, servers: Any
) -> None:
    ray = pytest.importorskip("ray")
    from test_ray_dispatch import POOLS

    assert not ray.is_initialized()
    settings = {**POOLS, "num_cpus": 2, "object_store_mb": 200}
    outcome = run_job(config_for(tmp_path, servers, executor="ray", ray=settings))
    assert outcome.counters.accepted == 2
    assert not ray.is_initialized()  # stopped at the end of the run


def test_a_lean_actor_runs_a_fixed_number_of_workers() -> None:
    """The workers per Lean actor are fixed before the actors start: an explicit ``workers``
    wins, then the actor's ``num_cpus``, then the driver's cores but one (a local pool's
    sizing by free memory does not apply to an actor, which shares its node)."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from formalize.executors.ray import actor_workers
    from formalize.lean.config import LeanConfig, default_workers

    assert actor_workers(LeanConfig(workers=3), PoolSettings(num_cpus=8)) == 3
    assert actor_workers(LeanConfig(), PoolSettings(num_cpus=6)) == 6
    assert actor_workers(LeanConfig(), PoolSettings(num_cpus=0.5)) == 1
    assert actor_workers(LeanConfig(), PoolSettings()) == default_workers()
