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
    _register_index(group)


def cmd_setup(args: argparse.Namespace) -> int:
    """Run ``formalize lean setup``."""
    from formalize.errors import InputError
    from formalize.index.build import ensure_index
    from formalize.lean.config import default_lean_project
    from formalize.lean.setup import setup_project

    project = Path(args.lean_project) if args.lean_project else default_lean_project()
    setup_project(project, args.lean_version)
    _measure_truth(project)
    print("$ formalize lean index    # the declaration index retrieval and the name check use")
    try:
        print(ensure_index(project, say=print).render())
    except InputError as exc:  # Lean checks work without it: say so, do not fail the setup
        print(f"note: no declaration index ({exc}); retrieval and the name check stay off")
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


def _register_index(group: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``lean index`` and ``lean search``."""
    project_help = (
        "the Lake project (default: $FORMALIZE_LEAN_PROJECT, else <data home>/lean_project)"
    )
    index = group.add_parser(
        "index",
        help="build the declaration index of the project's dependencies (Mathlib, ...)",
        description="Read every declaration of the dependencies' sources (.lake/packages/*) "
        "into one SQLite file per dependency revision under the project; rebuilt only when "
        "lake-manifest.json pins another revision. No Lean needed.",
    )
    index.add_argument("--lean-project", metavar="DIR", help=project_help)
    index.add_argument(
        "--from-source",
        metavar="DIR",
        help="index this source tree instead (a Mathlib checkout, say)",
    )
    index.add_argument("--revision", help="with --from-source: the revision to record")
    index.add_argument("--out", metavar="FILE", help="with --from-source: where to write it")
    index.add_argument("--force", action="store_true", help="rebuild even when current")
    index.set_defaults(func=cmd_index)
    search = group.add_parser(
        "search",
        help="look declarations up in the index, by words or by name",
        description="Print the name, signature, module and docstring of the declarations "
        "matching QUERY (full-text, best first) or named --name.",
    )
    search.add_argument("query", nargs="?", help="words to search for")
    search.add_argument("--name", help="a declaration name (exact; else near names)")
    search.add_argument("-k", type=int, default=10, help="how many to print (default 10)")
    search.add_argument("--index", metavar="FILE", help="the index file (default: the project's)")
    search.add_argument("--lean-project", metavar="DIR", help=project_help)
    search.set_defaults(func=cmd_search)


def _project(args: argparse.Namespace) -> Path:
    from formalize.lean.config import default_lean_project

    return Path(args.lean_project) if args.lean_project else default_lean_project()


def cmd_index(args: argparse.Namespace) -> int:
    """Run ``formalize lean index``."""
    from formalize.errors import InputError
    from formalize.index.build import build_from_source, ensure_index

    project = _project(args)
    if args.from_source:
        out = Path(args.out) if args.out else None
        report = build_from_source(
            Path(args.from_source),
            project,
            revision=args.revision,
            out=out,
            force=args.force,
            say=print,
        )
    elif args.out or args.revision:
        raise InputError("--out and --revision go with --from-source")
    else:
        report = ensure_index(project, force=args.force, say=print)
    print(report.render())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Run ``formalize lean search``; exit code 1 when nothing is found."""
    from formalize.errors import InputError
    from formalize.index import DeclarationIndex, index_path

    if bool(args.query) == bool(args.name):
        raise InputError("give either QUERY or --name NAME")
    path = Path(args.index) if args.index else index_path(_project(args))
    if path is None:
        raise InputError(
            f"no declaration index for {_project(args)}: build it with `formalize lean index`"
        )
    with DeclarationIndex.open(path) as index:
        if args.name:
            found = index.get(args.name)
            if found is None:
                near = index.by_last_component(args.name.rsplit(".", 1)[-1], casefold=True)
                near += index.names_with_prefix(args.name + ".", limit=args.k)
                hint = f"; near: {', '.join(near[: args.k])}" if near else ""
                print(f"no declaration named {args.name}{hint}")
                return 1
            print(found.render())
            return 0
        results = index.search(args.query, args.k)
        for n, decl in enumerate(results):
            print(("\n" if n else "") + decl.render())
        if not results:
            print(f"nothing matches {args.query!r}")
        return 0 if results else 1
