"""Throughput of the Lean pool against the fake REPL at a fixed per-check latency.

    python benchmarks/lean_pool.py [--latency-ms 20] [--checks 300] [--workers 1 2]

The fake REPL (tests/lean/fake_repl.py) answers each check after sleeping ``--latency-ms``,
so a perfect pool of W workers does W / latency checks per second (the latency-bound ideal).
The whole public path is timed: ``LeanChecker.check`` (statement gate, header handling,
dedup) over pooled worker processes speaking the real protocol through the real driver.
Reported per worker count, after a warm-up that starts the workers and imports the header,
as the best of ``--repeat`` runs (the machine's load average is printed: other processes on
a 2-core machine show up as overhead):

- rate: checks per second; ideal: workers / latency; efficiency: rate / ideal;
- overhead: per check, the wall time a worker spends beyond the latency
  (wall * workers / checks - latency): the driver, the gate, the pipes, and waiting for a
  CPU, so an upper bound on the driver's cost that other load on the machine inflates;
- driver CPU: the CPU time of this process (gate, pool, driver threads) per check, which
  other load does not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKE = REPO / "tests" / "lean" / "fake_repl.py"
# The fake REPL runs in the Lean sandbox where bwrap works: the interpreter itself (a venv's
# `python` is a symlink into a venv the sandbox does not show) and its installation, read-only.
PYTHON = os.path.realpath(sys.executable)


def statements(n: int, offset: int) -> list[str]:
    """Distinct statements (no dedup), shaped like translator output."""
    return [
        f"theorem bench_{offset + i} (x y : ℕ) (h : x + y = {i}) :\n    y + x = {i} := by sorry"
        for i in range(n)
    ]


def measure(workers: int, latency_ms: float, checks: int) -> dict[str, float]:
    """Run ``checks`` checks through a fresh checker with ``workers`` workers."""
    from formalize.lean import LeanChecker, LeanConfig

    with tempfile.TemporaryDirectory() as tmp:
        config = LeanConfig(
            repl_cmd=(PYTHON, str(FAKE), "--latency-ms", str(latency_ms)),
            lean_project=Path(tmp),
            workers=workers,
            toolchain="fake",
            sandbox_paths=(sys.base_prefix,),
            recycle_after=10**6,
        )
        with LeanChecker(config) as checker:
            warm = checker.check(statements(4 * workers, 10**6))  # start + import every worker
            assert all(r.ok for r in warm), warm
            begin, cpu = time.perf_counter(), time.process_time()
            results = checker.check(statements(checks, 0))
            wall, cpu = time.perf_counter() - begin, time.process_time() - cpu
    assert all(r.ok for r in results)
    latency = latency_ms / 1000
    rate = checks / wall
    ideal = workers / latency if latency > 0 else float("inf")
    return {
        "workers": workers,
        "checks": checks,
        "wall_s": wall,
        "rate": rate,
        "ideal": ideal,
        "efficiency": rate / ideal,
        "overhead_ms": (wall * workers / checks - latency) * 1000,
        "driver_cpu_ms": cpu / checks * 1000,
    }


def gate_cost_ms(n: int = 300) -> float:
    """The statement gate alone, per statement (part of the overhead above)."""
    from formalize.lean.statement import check_statement

    items = statements(n, 0)
    begin = time.perf_counter()
    for text in items:
        check_statement(text)
    return (time.perf_counter() - begin) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per worker count (best kept)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = []
    for w in args.workers:
        runs = [measure(w, args.latency_ms, args.checks) for _ in range(args.repeat)]
        rows.append(min(runs, key=lambda r: r["wall_s"]))
    gate = gate_cost_ms()
    if args.json:
        print(json.dumps({"rows": rows, "gate_ms": gate}, indent=2))
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"fake REPL latency {args.latency_ms:g} ms, {args.checks} checks per run, best of")
    print(f"{args.repeat} runs; {os.cpu_count()} cores, load average {load}")
    head = ("workers", "checks/s", "ideal", "efficiency", "overhead ms", "driver CPU ms")
    print("".join(f"{h:>14}" for h in head))
    for r in rows:
        cells = (r["rate"], r["ideal"], r["efficiency"], r["overhead_ms"], r["driver_cpu_ms"])
        print(f"{r['workers']:>14}" + "".join(f"{c:>14.3f}" for c in cells))
    print(f"statement gate alone: {gate:.3f} ms/statement (part of the driver CPU)")
    eff = all(r["efficiency"] >= 0.9 for r in rows if r["workers"] == 2)
    wall = all(r["overhead_ms"] < 2.0 for r in rows)
    cpu = all(r["driver_cpu_ms"] < 2.0 for r in rows)
    print(f"efficiency >= 0.9 at 2 workers: {'met' if eff else 'MISSED'}")
    verdicts = f"wall {'met' if wall else 'MISSED'}, CPU {'met' if cpu else 'MISSED'}"
    print(f"overhead < 2 ms per check: {verdicts}")


if __name__ == "__main__":
    main()
