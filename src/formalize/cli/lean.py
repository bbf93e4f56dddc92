"""``formalize lean setup|doctor``: build the Lean project, and check that Lean checks work."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from formalize.cli.check import add_lean_options, lean_overrides

if TYPE_CHECKING:
    from formalize.lean.config import LeanConfig


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``lean`` command group."""
    from formalize.lean.setup import DEFAULT_VERSION, PINS

    parser = sub.add_parser(
        "lean",
        help="set up or diagnose the Lean project checks run in",
        description="Set up lean_project/ (pinned Lean, Mathlib, the REPL) or diagnose it.",
    )
    group = parser.add_subparsers(dest="lean_command", metavar="ACTION", required=True)
    choices = ", ".join(f"{v} ({p.why})" for v, p in PINS.items())
    setup = group.add_parser(
        "setup",
        help="write and build lean_project/ (needs elan and network)",
        description="Write lean-toolchain and lakefile.toml (Mathlib and the REPL pinned to the "
        "Lean version), fetch Mathlib's build cache and build the REPL. Stops at once, saying "
        f"what is missing, without elan/lake, git or network. Versions: {choices}.",
    )
    setup.add_argument(
        "--lean-version",
        default=DEFAULT_VERSION,
        metavar="VERSION",
        help=f"Lean version to pin ({', '.join(PINS)}; default {DEFAULT_VERSION})",
    )
    setup.add_argument(
        "--lean-project",
        metavar="DIR",
        help="where to build it (default: $FORMALIZE_LEAN_PROJECT, else <data home>/lean_project)",
    )
    setup.set_defaults(func=cmd_setup)

    doctor = group.add_parser(
        "doctor",
        help="report toolchain, Mathlib and REPL versions and run a test check",
        description="Report what is installed and built, then check a true and a wrong "
        "statement with the chosen backend, compare Lean's token table with the gate's and "
        "run the filters' self-test (a filter Lean proves wrong is switched off for that Lean "
        "revision). Exit code 0 when the two checks come out as expected.",
    )
    add_lean_options(doctor)
    doctor.add_argument("--header", metavar="TEXT", help="header to import (import Mathlib)")
    doctor.set_defaults(func=cmd_doctor)


def cmd_setup(args: argparse.Namespace) -> int:
    """Run ``formalize lean setup``."""
    from formalize.lean.config import default_lean_project
    from formalize.lean.setup import setup_project

    project = Path(args.lean_project) if args.lean_project else default_lean_project()
    setup_project(project, args.lean_version)
    _measure_truth(project)
    return 0


def _measure_truth(project: Path, config: LeanConfig | None = None) -> None:
    """After setup: ask the new Lean for its token table and run the filters' self-test
    (``config``: how to run it, default the project's REPL)."""
    from formalize.errors import FormalizeError
    from formalize.lean import LeanChecker, LeanConfig
    from formalize.truth import describe, measure_and_cache

    print("asking Lean for its token table and running the filters' self-test ...")
    config = config or LeanConfig().with_overrides(lean_project=project)
    try:
        with LeanChecker(config) as checker:
            truth, path = measure_and_cache(checker)
    except FormalizeError as exc:  # the project is built; the doctor says more
        print(f"could not ask Lean ({exc}); `formalize lean doctor` retries and says more")
        return
    print(describe(truth))
    print(f"cached in {path}" if path else "not cached (a check could not run, or no data home)")


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run ``formalize lean doctor``."""
    from formalize.errors import InputError
    from formalize.lean.config import LeanConfig
    from formalize.lean.setup import doctor

    overrides = lean_overrides(args)
    overrides["header"] = args.header
    try:
        config = LeanConfig().with_overrides(**overrides)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    from formalize.truth import doctor_rows

    report = doctor(config, more=doctor_rows)
    print(report.render())
    return 0 if report.ok else 1
