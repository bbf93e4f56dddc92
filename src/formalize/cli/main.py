"""Entry point of the ``formalize`` command: builds the parser from the command-group modules."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

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
    "formalize.cli.review",
    "formalize.cli.train",
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
  formalize lean index; lean search "prime"  index Mathlib's declarations; look them up
  formalize bench critic --suite proofnet-dev --critic SPEC
  formalize corpus stats | export | path    inspect and export the corpus
  formalize review [sample|export|report]   label attempts in a local web app; precision
  formalize corpus export --for critic-sft -o DIR; formalize train critic --data DIR ...

exit codes (every command; each command's --help says which it uses):
  0    done
  1    done, but some input lines were skipped (each reported with FILE:LINE), or a
       `lean doctor` test check came out wrong
  2    nothing done: bad usage, settings or input, or something missing (listed)
  3    `bench calibrate`: no policy meets the goal (none is written)
  130  interrupted (Ctrl-C); what finished is saved, rerun the same command to resume
  141  stdout's reader went away (`formalize corpus export -o - | head`)
  143  stopped by SIGTERM (Slurm, Kubernetes, preemption); as for 130
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="formalize",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"formalize {__version__}")
    add_logging_options(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # group not built yet
                continue
            raise
        module.register(sub)
    for command in _leaf_parsers(parser):  # `formalize run ... -v` as well as `formalize -v run`
        add_logging_options(command, argparse.SUPPRESS)
    parser.set_defaults(verbose=0, log_file=None)
    return parser


def add_logging_options(parser: argparse.ArgumentParser, default: object) -> None:
    """``-v/--verbose`` and ``--log-file PATH``."""
    group = parser.add_argument_group("logging")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="log to stderr what formalize does: -v for steps, -vv for details",
    )
    group.add_argument(
        "--log-file",
        type=Path,
        default=default,
        metavar="PATH",
        help="append a detailed log (every step, with times and threads) to PATH",
    )


def _leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                children = list(_leaf_parsers(sub))
                yield from children or [sub]


@contextlib.contextmanager
def logging_to(verbose: int, log_file: Path | None) -> Iterator[None]:
    """Route the ``formalize`` loggers to stderr (by ``verbose``) and to ``log_file``."""
    logger = logging.getLogger("formalize")
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    console.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG))
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers.append(console)
    if log_file is not None:
        log_file.expanduser().parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file.expanduser(), encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
        )
        handlers.append(to_file)
    previous = logger.level
    logger.setLevel(min(h.level for h in handlers))
    for handler in handlers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from formalize.stopping import EXIT_INTERRUPTED, exit_soon, sigterm_as_interrupt

    # SIGTERM stops every command as Ctrl-C does (exit 143); `run` has its own, gentler stop
    with logging_to(args.verbose, args.log_file), sigterm_as_interrupt():
        try:
            code = int(func(args) or 0)
            sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
            return code
        except BrokenPipeError:
            return _reader_went_away()
        except KeyboardInterrupt as exc:
            code = int(getattr(exc, "exit_code", EXIT_INTERRUPTED))
            print(
                "terminated (SIGTERM)" if code != EXIT_INTERRUPTED else "interrupted",
                file=sys.stderr,
            )
            if argv is None:  # the command itself, not a call from Python: no thread at work
                exit_soon(code)  # (a model call, a Lean check) may hold the exit
            return code
        except FormalizeError as exc:
            logging.getLogger("formalize").debug("stopped", exc_info=True)
            print(f"error: {exc}", file=sys.stderr)
            return 2


def _reader_went_away() -> int:
    """stdout's reader closed it (``formalize corpus export -o - | head``): no traceback, and
    no second error when Python flushes stdout at exit; 141 as for a process killed by SIGPIPE."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 141


if __name__ == "__main__":
    sys.exit(main())
