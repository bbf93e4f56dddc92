"""Lean's truth at run time: the user's own Lean checks what the project wrote from sources.

Two things are asked of the Lean a run checks with, once per Lean project revision (toolchain
and Mathlib revision, :meth:`formalize.lean.project.ProjectVersions.stamp`) and header:

- its token table (:mod:`formalize.lean.leantokens`): tokens it has that the gate's table
  lacks are added to the gate of this process, so the gate reads as that Lean reads;
- the filters' self-test (:mod:`formalize.filters.selftest`): a filter whose verdict on a
  known case is wrong is switched off for that Lean (its signals ``inconclusive``).

The answers are cached in the data home (``lean-truth/<key>.json``; the Lean project itself
may be read-only), keyed by the revision, the header, the code's, the self-test's and the
filters' versions. ``formalize lean setup`` and ``doctor`` measure afresh; a run measures before its
first check when the revision is new and otherwise reads the cache. A Lean whose revision is
unknown (no ``lean-toolchain`` in the project), or a Lean other than the project's own (a
``--repl-cmd``, a custom ``lean_cmd``, the kimina backend), is not measured at run time; the
run says so, and ``formalize lean doctor`` measures it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from formalize.filters.base import Filter, FilterSettings
from formalize.filters.selftest import SELFTEST_VERSION, SelfTestReport, run_selftest, switch_off
from formalize.home import data_home
from formalize.lean.config import LeanConfig
from formalize.lean.leantokens import (
    TOKEN_TABLE_COMMAND,
    TokenDiff,
    TokenTableError,
    compare,
    read_reply,
)
from formalize.lean.project import read_versions
from formalize.lean.tokens import packaged_table, use_lean_tokens
from formalize.version import code_version

if TYPE_CHECKING:
    from formalize.lean import LeanChecker

log = logging.getLogger(__name__)
#: Checked first: that the header imports.
READY = "theorem formalize_truth_ready : True := by sorry"
Say = Callable[[str], None]


@dataclass(frozen=True)
class LeanTruth:
    """What one Lean said: its token table (or why it could not be read) and the self-test."""

    revision: str
    header: str
    lean_tokens: tuple[str, ...] | None
    token_error: str | None
    selftest: SelfTestReport
    measured_at: str = ""

    @property
    def diff(self) -> TokenDiff | None:
        """Lean's table against the gate's packaged one (None when it could not be read)."""
        return None if self.lean_tokens is None else compare(self.lean_tokens, packaged_table())

    def to_json(self) -> str:
        """The cache file's text."""
        return json.dumps(
            {
                "revision": self.revision,
                "header": self.header,
                "lean_tokens": self.lean_tokens,
                "token_error": self.token_error,
                "selftest": self.selftest.to_dict(),
                "measured_at": self.measured_at,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> LeanTruth:
        """The record from :meth:`to_json`'s text (``ValueError``/``KeyError`` when broken)."""
        data = json.loads(text)
        tokens = data["lean_tokens"]
        return cls(
            str(data["revision"]),
            str(data["header"]),
            None if tokens is None else tuple(str(t) for t in tokens),
            data.get("token_error"),
            SelfTestReport.from_dict(data["selftest"]),
            str(data.get("measured_at", "")),
        )

    def summary(self) -> dict[str, object]:
        """What a run's record keeps: the revision, the tokens added to the gate, the filters
        switched off and why."""
        diff = self.diff
        return {
            "revision": self.revision,
            "measured_at": self.measured_at,
            "tokens_added": list(diff.extra) if diff is not None else None,
            "token_error": self.token_error,
            "switched_off": self.selftest.switched_off,
        }

    def rows(self) -> list[tuple[str, str]]:
        """Lines for ``formalize lean doctor``'s table."""
        diff = self.diff
        tokens = f"unreadable: {self.token_error}" if diff is None else diff.summary()
        rows = [("lean tokens", tokens)]
        for name, verdict in self.selftest.verdicts.items():
            state = "agrees with Lean" if verdict.ok else f"SWITCHED OFF ({verdict.reason})"
            rows.append((f"self-test {name}", state))
        return rows


def revision_of(config: LeanConfig) -> str | None:
    """The revision (toolchain and Mathlib) of the Lean project whose own Lean the checks run;
    None when unknown, and whenever the checks run another Lean than the project names: a
    ``--repl-cmd``, a ``lean_cmd`` other than ``lake env lean``, the kimina backend's
    server (``formalize lean doctor`` still asks those, without caching the answers)."""
    if config.backend == "kimina" or (config.backend == "repl" and config.repl_cmd):
        return None
    if config.backend == "file" and tuple(config.lean_cmd) != LeanConfig().lean_cmd:
        return None
    return read_versions(config.lean_project).stamp()


def cache_path(revision: str, header: str, settings: FilterSettings) -> Path:
    """Where the answers of the Lean at ``revision`` under ``header`` are cached."""
    from formalize.filters import REGISTRY

    versions = sorted(
        (n, f"{c.base_version}+tactics.{settings.tactics_version}") for n, c in REGISTRY.items()
    )
    # the code version too: the gate's parse decides which probes exist (a fix to it must be
    # self-tested again on the same Lean)
    parts = [SELFTEST_VERSION, code_version(), revision, header, versions]
    key = json.dumps(parts, ensure_ascii=False)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return data_home() / "lean-truth" / f"{digest}.json"


def measure(
    checker: LeanChecker, settings: FilterSettings, revision: str | None = None
) -> tuple[LeanTruth, bool]:
    """Ask the checker's Lean for its token table and run the self-test; also whether the
    answers are facts about that Lean (False when a check could not run: not to be cached).
    ``SetupError`` when the header does not import."""
    header = checker.config.header
    # a header that does not import raises SetupError here, as at a run's first check,
    # rather than making every answer below a wrong one
    checker.check([READY])
    (result,) = checker.probe([(header, TOKEN_TABLE_COMMAND, False)])
    factual = not result.status.is_infrastructure
    tokens: tuple[str, ...] | None = None
    error = None
    try:
        tokens = tuple(read_reply(result))
    except TokenTableError as exc:
        error = str(exc)
    report = run_selftest(checker, header, settings)
    factual = factual and not any(v.unchecked for v in report.verdicts.values())
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rev = revision or revision_of(checker.config) or "unknown"
    return LeanTruth(rev, header, tokens, error, report, now), factual


def load(path: Path) -> LeanTruth | None:
    """The cached answers at ``path``, or None (absent or unreadable: measure again)."""
    try:
        return LeanTruth.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return None


def save(path: Path, truth: LeanTruth) -> bool:
    """Write the answers (atomically: a reader never sees half a file); False, logged, when
    the data home cannot be written (the answers then hold for this process only)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes sharing the data home
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(truth.to_json(), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot cache Lean's answers in %s: %s", path, exc)
        return False
    return True


def measure_and_cache(
    checker: LeanChecker, settings: FilterSettings | None = None
) -> tuple[LeanTruth, Path | None]:
    """Measure afresh (setup, doctor) and cache when the revision is known and the answers
    are facts; the gate of this process then uses the Lean's extra tokens."""
    settings = settings or FilterSettings()
    revision = revision_of(checker.config)
    truth, factual = measure(checker, settings, revision)
    path = None
    if revision is not None and factual:
        path = cache_path(revision, checker.config.header, settings)
        path = path if save(path, truth) else None
    install(truth)
    return truth, path


def install(truth: LeanTruth) -> None:
    """Make the gate of this process read the tokens this Lean has and its table lacks."""
    diff = truth.diff
    use_lean_tokens(diff.extra if diff is not None else (), f"lean {truth.revision}")


def prepare_run(
    checker: LeanChecker,
    filters: Sequence[Filter],
    settings: FilterSettings | None = None,
    say: Say | None = None,
) -> list[Filter]:
    """Before a run's first check: the Lean's answers (:func:`answers`) and ``filters`` with
    the ones its self-test found wrong switched off (:func:`apply`); said once, loudly."""
    return apply(answers(checker, settings, say), filters, say)


def answers(
    checker: LeanChecker, settings: FilterSettings | None = None, say: Say | None = None
) -> LeanTruth | None:
    """The answers of the checker's Lean (cached, or measured now when its revision is new),
    with its extra tokens added to the gate of this process; None when the revision is
    unknown (the gate then reads with its packaged table)."""
    settings = settings or FilterSettings()
    tell = say or _warn
    revision = revision_of(checker.config)
    if revision is None:
        use_lean_tokens(())
        tell(
            "Lean self-test: not run (the checks do not run a Lean project's own Lean at a "
            "known revision); `formalize lean doctor` runs it"
        )
        return None
    path = cache_path(revision, checker.config.header, settings)
    truth = load(path)
    if truth is None:
        tell(
            f"Lean self-test: new Lean revision {revision}: asking it for its token table and "
            "running the filters' self-test"
        )
        truth, factual = measure(checker, settings, revision)
        if factual:
            save(path, truth)
    install(truth)
    diff = truth.diff
    if diff is None:
        message = f"WARNING: could not read the token table of Lean {truth.revision}: "
        tell(message + str(truth.token_error))
    elif diff.extra:
        tell(f"Lean self-test: {len(diff.extra)} tokens of Lean {truth.revision} added to the gate")
    return truth


def apply(
    truth: LeanTruth | None, filters: Sequence[Filter], say: Say | None = None
) -> list[Filter]:
    """``filters`` with the ones ``truth``'s self-test found wrong switched off, each said
    once, loudly (unchanged without answers)."""
    if truth is None:
        return list(filters)
    off = truth.selftest.switched_off
    for f in filters:
        if f.name in off:
            message = (
                f"WARNING: filter {f.name} is SWITCHED OFF for Lean {truth.revision} (every "
                f"signal inconclusive): {off[f.name]}"
            )
            (say or _warn)(message)
    return switch_off(filters, truth.selftest)


def _warn(text: str) -> None:
    """Where the answers are told without a ``say``: the log."""
    log.log(logging.WARNING if text.startswith("WARNING") else logging.INFO, "%s", text)


def doctor_rows(checker: LeanChecker) -> list[tuple[str, str]]:
    """``formalize lean doctor``'s lines about the Lean's tokens and the self-test (measured
    afresh and cached), and where they are cached."""
    truth, path = measure_and_cache(checker)
    rows = truth.rows()
    why = "not cached (revision unknown, a check that could not run, or no data home)"
    rows.append(("lean truth cache", str(path) if path else why))
    return rows


def describe(truth: LeanTruth) -> str:
    """Setup's summary: one line per row."""
    return "\n".join(f"{k}: {v}" for k, v in truth.rows())


__all__ = [
    "LeanTruth",
    "answers",
    "apply",
    "cache_path",
    "describe",
    "doctor_rows",
    "install",
    "load",
    "measure",
    "measure_and_cache",
    "prepare_run",
    "revision_of",
    "save",
]
