"""Before a run does any work: every requirement checked, everything missing listed at once.

A run needs its settings to make sense, a readable input, each engine's package, a GPU where
the engine needs one, the weights on this machine (or a server that answers), and Lean (or the
chosen Lean backend). ``Preflight`` collects what is missing, each item with how to get it, and
``raise_if_missing`` stops with one ``PreflightError`` listing them all. Nothing here loads a
model or starts a Lean process.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from formalize.errors import FormalizeError, SetupError

# Said under a list that names a missing machine part (Lean, a GPU, weights, a server).
DEMO_CPU_HINT = (
    "To see the pipeline work on this machine without them: `make demo-cpu` in a checkout (tiny "
    "packaged models and a stand-in Lean; a plumbing demo whose output is not a corpus)."
)


@dataclass(frozen=True)
class Missing:
    """One thing a run needs that is not there: what it is for, the problem, how to fix it."""

    what: str
    problem: str
    fix: str = ""


class PreflightError(SetupError):
    """A run cannot start; ``missing`` lists every reason, each with its fix."""

    def __init__(self, missing: Sequence[Missing]) -> None:
        self.missing = list(missing)
        super().__init__(render(self.missing))


def render(missing: Sequence[Missing], width: int = 100) -> str:
    """The numbered list a user reads: each problem and, indented under it, its fix."""
    count = "1 problem" if len(missing) == 1 else f"{len(missing)} problems"
    lines = [f"formalize run cannot start: {count}, found before loading any model:"]
    for n, item in enumerate(missing, start=1):
        first = f"{n:>2}. {item.what}: {item.problem}"
        lines.append(_fill(first, width, "", "    "))
        if item.fix:
            lines.append(_fill(f"fix: {item.fix}", width, "    ", "         "))
    if any(not m.what.startswith(("setting", "input")) for m in missing):
        lines.append(_fill(DEMO_CPU_HINT, width, "", ""))
    return "\n".join(lines)


def _fill(text: str, width: int, first: str, rest: str) -> str:
    # paths, URLs and commands stay whole so that they can be copied
    return textwrap.fill(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


@dataclass
class Preflight:
    """What a run's checks found missing so far."""

    missing: list[Missing] = field(default_factory=list)

    def add(self, what: str, problem: str, fix: str = "") -> None:
        """Record one missing thing."""
        self.missing.append(Missing(what, problem, fix))

    def engines(self, specs: Iterable[tuple[str, str]]) -> None:
        """Check each ``(role, spec)``; a spec used for two roles is checked once."""
        roles: dict[str, list[str]] = {}
        for role, spec in specs:
            roles.setdefault(spec, []).append(role)
        for spec, names in roles.items():
            self.missing.extend(engine_missing(spec, " and ".join(names)))

    def lean(self, checker: Any) -> None:
        """Whatever the Lean backend says it lacks (``LeanChecker.preflight``)."""
        try:
            checker.preflight()
        except FormalizeError as exc:
            self.add(f"Lean ({checker.config.backend} backend)", str(exc))

    def raise_if_missing(self) -> None:
        """Stop with one ``PreflightError`` when anything is missing."""
        if self.missing:
            raise PreflightError(_merged(self.missing))


def engine_missing(spec: str, role: str) -> list[Missing]:
    """What the engine ``spec`` needs and lacks here: a valid spec, its package, a GPU,
    weights or a server; checked without building the engine."""
    from formalize.models.profiles import get_profile
    from formalize.models.spec import COMMON_OPTIONS, engine_class, parse_options, parse_spec

    what = f"{role} {spec}"
    try:
        parsed = parse_spec(spec)
        cls = engine_class(parsed.engine)
        options = parse_options(parsed, {**COMMON_OPTIONS, **cls.OPTIONS})
        if options["profile"]:
            get_profile(options["profile"])
    except FormalizeError as exc:
        return [Missing(what, str(exc))]
    except ImportError as exc:  # a registered engine whose module cannot be imported
        return [Missing(what, f"the {spec.split(':', 1)[0]} engine cannot be imported ({exc})")]
    return [Missing(what, u.problem, u.fix) for u in cls.requirements(parsed, options)]


def _merged(missing: Sequence[Missing]) -> list[Missing]:
    """Identical problems of two roles (vLLM missing for translator and critic) said once."""
    out: list[Missing] = []
    for item in missing:
        twin = next((m for m in out if (m.problem, m.fix) == (item.problem, item.fix)), None)
        if twin is None:
            out.append(item)
        else:
            out[out.index(twin)] = Missing(f"{twin.what}; {item.what}", item.problem, item.fix)
    return out
