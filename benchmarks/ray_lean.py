"""Throughput of the Ray executor's Lean actors against a fixed-latency stand-in REPL.

    python benchmarks/ray_lean.py [--latency-ms 50] [--checks 320] [--actors 1 2 4]

Each Lean actor is the executor's own ``LeanActor`` (a ``LeanChecker`` with a pool of one
worker) running the fake REPL (tests/lean/fake_repl.py) that answers each check after sleeping
``--latency-ms``; the driver is the executor's ``LeanChecker`` over the ``RayLeanBackend``
(statement gate and headers on the driver, chunks of jobs over the actors). Sleep-bound, so
more actors than cores still scale: a perfect pool of A actors does A / latency checks per
second. Reported per actor count, after a warm-up that starts the actors and their REPLs, as
the best of ``--repeat`` runs of distinct statements:

- rate: checks per second; ideal: actors / latency; efficiency: rate / ideal (target >= 0.9
  at 4 actors);
- dispatch per chunk: with actors that do nothing, the wall time per chunk of the driver's
  dispatch (send, wait, fetch the result), and the driver's CPU time per chunk.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE = REPO / "tests" / "lean" / "fake_repl.py"
PYTHON = os.path.realpath(sys.executable)  # the interpreter itself: the sandbox shows it


def statements(n: int, offset: int) -> list[str]:
    """Distinct statements (no dedup, no cache hit), shaped like translator output."""
    return [
        f"theorem bench_{offset + i} (x y : ℕ) (h : x + y = {i}) :\n    y + x = {i} := by sorry"
        for i in range(n)
    ]


def measure(actors: int, latency_ms: float, checks: int, chunk: int) -> dict[str, float]:
    """``checks`` checks through the Ray executor's checker with ``actors`` Lean actors."""
    from formalize.executors.ray import RayExecutor
    from formalize.executors.settings import PoolSettings, RaySettings
    from formalize.lean import LeanConfig

    pool = PoolSettings(actors=actors, num_cpus=0.1, chunk_size=chunk, in_flight=2)
    executor = RayExecutor(RaySettings(lean=pool))
    with tempfile.TemporaryDirectory() as tmp:
        config = LeanConfig(
            repl_cmd=(PYTHON, str(FAKE), "--latency-ms", str(latency_ms)),
            lean_project=Path(tmp),
            workers=1,
            toolchain="fake",
            sandbox_paths=(sys.base_prefix,),
            recycle_after=10**6,
        )
        with executor.checker(config, cache=None) as checker:
            warm = checker.check(statements(2 * chunk * actors, 10**6))  # start every actor
            assert all(r.ok for r in warm), warm
            begin = time.perf_counter()
            results = checker.check(statements(checks, 0))
            wall = time.perf_counter() - begin
    assert all(r.ok for r in results)
    rate = checks / wall
    ideal = actors / (latency_ms / 1000)
    return {"actors": actors, "checks": checks, "wall_s": wall, "rate": rate, "ideal": ideal,
            "efficiency": rate / ideal}  # fmt: skip


class Noop:
    """An actor that returns its chunk at once: what is left is the dispatch itself."""

    def ready(self) -> int:
        return os.getpid()

    def run(self, items: list[Any]) -> list[Any]:
        return items


def dispatch_overhead(actors: int, chunks: int, size: int) -> dict[str, float]:
    """Wall and driver CPU time per chunk of no-op work over ``actors`` actors."""
    import ray

    from formalize.executors.dispatch import Dispatcher

    remote: Any = ray.remote(Noop).options(num_cpus=0.1, max_restarts=0)
    handles = [remote.remote() for _ in range(actors)]
    ray.get([h.ready.remote() for h in handles])
    dispatcher = Dispatcher("noop", handles, "run", in_flight=2)
    work = [(statements(size, k * size),) for k in range(chunks)]
    dispatcher.map(work[:20])  # warm-up
    begin, cpu = time.perf_counter(), time.process_time()
    dispatcher.map(work)
    wall, cpu = time.perf_counter() - begin, time.process_time() - cpu
    for h in handles:
        ray.kill(h)
    return {"actors": actors, "wall_ms": wall / chunks * 1000, "cpu_ms": cpu / chunks * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--checks", type=int, default=320)
    parser.add_argument("--chunk", type=int, default=4, help="jobs per chunk")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=2, help="runs per actor count (best kept)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20,
             log_to_driver=False)  # fmt: skip
    try:
        rows = []
        for a in args.actors:
            checks = args.checks * a // max(args.actors)  # the same wall time per actor count
            runs = [measure(a, args.latency_ms, checks, args.chunk) for _ in range(args.repeat)]
            rows.append(max(runs, key=lambda r: r["efficiency"]))
        overhead = [dispatch_overhead(a, 400, args.chunk) for a in args.actors]
    finally:
        ray.shutdown()
    if args.json:
        print(json.dumps({"rows": rows, "dispatch": overhead}, indent=2))
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"stand-in REPL latency {args.latency_ms:g} ms, 1 worker per actor, {args.chunk} jobs")
    print(f"per chunk, 2 chunks in flight per actor, best of {args.repeat} runs;")
    print(f"{os.cpu_count()} cores, load average {load}")
    head = ("actors", "checks", "checks/s", "ideal", "efficiency")
    print("".join(f"{h:>12}" for h in head))
    for r in rows:
        cells = (r["rate"], r["ideal"], r["efficiency"])
        print(f"{r['actors']:>12}{r['checks']:>12}" + "".join(f"{c:>12.3f}" for c in cells))
    print("dispatch of no-op chunks:")
    for o in overhead:
        print(f"  {o['actors']} actors: {o['wall_ms']:.3f} ms wall, {o['cpu_ms']:.3f} ms driver CPU"
              " per chunk")  # fmt: skip
    met = all(r["efficiency"] >= 0.9 for r in rows if r["actors"] == 4)
    print(f"efficiency >= 0.9 at 4 actors: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
