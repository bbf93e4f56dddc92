"""Entry point of the ``formalize`` command: builds the parser from the command-group modules."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from formalize import __version__
from formalize.errors import FormalizeError

# Command-group modules, each exposing ``register(subparsers)``; a subcommand sets
# ``func(args) -> int`` with ``set_defaults``. Imported lazily so ``--help`` stays fast.
GROUPS = (
    "formalize.cli.run",
    "formalize.cli.check",
    "formalize.cli.lean",
    "formalize.cli.bench",
    "formalize.cli.corpus",
)

DESCRIPTION = """\
Turn natural-language mathematics into Lean 4 statements and keep only the faithful ones.

A translator model writes candidate statements, Lean checks that they compile, a critic model
judges whether they say what the problem says; accepted pairs land in a SQLite corpus.

common tasks:
  formalize run problems.jsonl --translator vllm:AI-MO/Kimina-Autoformalizer-7B \\
                               --critic vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL
  formalize check statements.jsonl          compile-check Lean statements
  formalize lean setup | doctor             build / diagnose the Lean project
  formalize bench critic --suite proofnet-dev --critic SPEC
  formalize corpus stats | export | path    inspect and export the corpus
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="formalize",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"formalize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # group not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except FormalizeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
