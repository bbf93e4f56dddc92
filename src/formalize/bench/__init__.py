"""Critic benchmark: suites of labelled pairs, metrics comparable to the CriticLean paper,
reports, and the runner behind ``formalize bench critic``.

- ``suites``: suite definitions (``critic/benchmarks/*.toml``) and their loaders.
- ``metrics``: TPR, TNR, the paper's ACC, accuracy, precision, F1, bootstrap intervals,
  per-error-type detection and the vote-threshold curve.
- ``report``: ``results.json``, ``report.md``, the threshold plot, run comparison.
- ``run``: the resumable, batched run.
- ``judges``, ``calibrate``, ``calibrate_report``, ``bounds``: ``formalize bench calibrate``,
  the acceptance policy chosen on several runs for a false-accept budget (Clopper–Pearson
  bounds), written as ``policy.toml``.
"""

from formalize.bench.metrics import Confusion, Outcome, summarize
from formalize.bench.report import load_results
from formalize.bench.run import run_critic_bench
from formalize.bench.suites import (
    BenchItem,
    Suite,
    available_suites,
    load_suite,
    select_items,
)

__all__ = [
    "BenchItem",
    "Confusion",
    "Outcome",
    "Suite",
    "available_suites",
    "load_results",
    "load_suite",
    "run_critic_bench",
    "select_items",
    "summarize",
]
