"""Settings of a ``formalize run``: plain, validated data from a TOML file and CLI flags.

No I/O happens here beyond reading the TOML file the user names; building engines, the Lean
checker and the store is the caller's explicit step. CLI flags win over the file, the file over
the defaults. Every value is checked against its field's type and range, and every problem is
reported at once, each with its key.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import InputError
from formalize.settings import SettingIssue, describe, did_you_mean, render_issues, type_problem
from formalize.stopping import DEFAULT_GRACE_S

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The released models users want (names checked against their model cards):
DEFAULT_TRANSLATOR = "vllm:AI-MO/Kimina-Autoformalizer-7B"
DEFAULT_CRITIC = "vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL"


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs to know, as plain data (recorded with the run)."""

    input: str | None = None
    translator: str = DEFAULT_TRANSLATOR
    critic: str | list[str] = DEFAULT_CRITIC  # several: a panel of critics (see `combine`)
    db: str | None = None
    samples: int = 4
    rounds: int = 3
    critic_samples: int = 1
    vote: str = "majority"
    # judges with their own settings ([[judges]] tables: name, kind, spec, samples, vote,
    # weight, comparer), replacing `critic`; `formalize bench calibrate` writes them
    judges: list[dict[str, Any]] | None = None
    combine: str = "all"  # how the judges' decisions combine: all | any | majority | weighted:T
    limit: int | None = None
    id_field: str | None = None
    text_field: str | None = None
    answer_field: str | None = None
    translator_temperature: float = 0.7
    translator_max_tokens: int = 1024
    critic_temperature: float | None = None  # None: greedy for 1 sample, sampling for more
    critic_max_tokens: int | None = None  # None: the critic's default (long, for reasoning)
    seed: int = 0
    batch_size: int = 32
    max_in_flight: int = 3
    retry_exhausted: bool = False
    # Lean-verified filters (formalize.filters): None runs the defaults (plus `reference` when
    # the problems carry reference statements); "none" runs none; else names, comma-separated
    filters: str | list[str] | None = None
    reject_trivial: bool = False  # a statement automation proves outright is rejected
    require_reference: bool = False  # accept only statements proved equivalent to the reference
    judge_all: bool = False  # ask the critic about filter-rejected statements too (research)
    # wall-clock backstop of each filter probe (Lean's heartbeats bound each alternative first)
    probe_timeout_s: float = 60.0
    # Mathlib grounding (issue 22; docs/retrieval.md): the declarations retrieved for each
    # problem in the translator's prompt (None: bm25 where the Lean project has an index);
    # the name check between the gate and Lean: advise | precheck | off
    retrieval: str | None = None
    retrieval_k: int = 8
    names: str = "advise"
    progress: bool = True
    progress_interval: float = 30.0
    # after SIGTERM, the seconds until the process is gone (work in flight gets all but a few)
    grace_period_s: float = DEFAULT_GRACE_S
    lean: dict[str, Any] = field(default_factory=dict)
    # where the heavy stages run: local (this process) or ray (actor pools; docs/cluster.md)
    executor: str = "local"
    ray_address: str | None = None  # None: a local Ray cluster for the run; auto; HOST:PORT
    ray: dict[str, Any] = field(default_factory=dict)  # the [ray] table (pools, faults)

    def __post_init__(self) -> None:
        issues = check_values(dataclasses.asdict(self))
        if issues:
            raise InputError(render_issues(issues, "the run settings"))

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings, as recorded with the run."""
        return dataclasses.asdict(self)


# Fields that must be at least 1 when given.
_POSITIVE = (
    "samples",
    "rounds",
    "critic_samples",
    "translator_max_tokens",
    "critic_max_tokens",
    "batch_size",
    "max_in_flight",
    "retrieval_k",
)
RETRIEVERS = ("bm25", "embedding", "none")
NAME_MODES = ("advise", "precheck", "off")


def config_keys() -> list[str]:
    """Names accepted in a config file (top level; ``[lean]`` is a table)."""
    return [f.name for f in dataclasses.fields(RunConfig)]


def field_default(name: str) -> Any:
    """The default value of a ``RunConfig`` field (for help texts)."""
    spec = RunConfig.__dataclass_fields__[name]
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def check_values(values: Mapping[str, Any]) -> list[SettingIssue]:
    """Every problem with the given settings: wrong types first, then out-of-range values."""
    hints = typing.get_type_hints(RunConfig)
    issues: list[SettingIssue] = []
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            continue
        problem = type_problem(value, hints[key])
        if problem:
            issues.append(SettingIssue(key, problem))
        else:
            typed[key] = value
    for key in _POSITIVE:
        value = typed.get(key)
        if value is not None and value < 1:
            issues.append(SettingIssue(key, f"must be at least 1 (got {value})"))
    if typed.get("limit") is not None and typed["limit"] < 0:
        issues.append(SettingIssue("limit", f"must be >= 0 (got {typed['limit']})"))
    for key in ("translator_temperature", "critic_temperature"):
        value = typed.get(key)
        if value is not None and not 0.0 <= value <= 2.0:
            issues.append(SettingIssue(key, f"must be in [0, 2] (got {value})"))
    for key in ("progress_interval", "probe_timeout_s", "grace_period_s"):
        if typed.get(key) is not None and not typed[key] > 0:
            issues.append(SettingIssue(key, "must be > 0 seconds"))
    if "combine" in typed:
        from formalize.judges import Combine

        try:
            Combine.parse(typed["combine"])
        except ValueError as exc:
            issues.append(SettingIssue("combine", str(exc)))
    if typed.get("judges") is not None or isinstance(typed.get("critic"), list):
        from formalize.judges import parse_judges

        try:
            parse_judges(
                typed.get("judges"),
                typed.get("critic", DEFAULT_CRITIC),
                samples=int(typed.get("critic_samples") or 1),
                vote=str(typed.get("vote", "majority")),
            )
        except ValueError as exc:
            issues.append(SettingIssue("judges", str(exc)))
    if typed.get("filters") is not None:
        from formalize.filters import filter_names

        try:
            filter_names(typed["filters"], has_reference=False)
        except InputError as exc:
            issues.append(SettingIssue("filters", str(exc)))
    if typed.get("retrieval") is not None and typed["retrieval"] not in RETRIEVERS:
        hint = did_you_mean(typed["retrieval"], RETRIEVERS)
        issues.append(SettingIssue("retrieval", f"must be one of {', '.join(RETRIEVERS)}{hint}"))
    if "names" in typed and typed["names"] not in NAME_MODES:
        hint = did_you_mean(typed["names"], NAME_MODES)
        issues.append(SettingIssue("names", f"must be one of {', '.join(NAME_MODES)}{hint}"))
    if "executor" in typed:
        from formalize.executors import check_executor

        if problem := check_executor(typed["executor"]):
            issues.append(SettingIssue("executor", problem))
    if typed.get("ray"):
        from formalize.executors.settings import RaySettings

        try:
            RaySettings.from_mapping(typed["ray"])
        except ValueError as exc:
            issues.append(SettingIssue("ray", str(exc)))
    if "vote" in typed:
        from formalize.critic import VoteRule

        try:
            VoteRule.parse(typed["vote"])
        except ValueError as exc:
            issues.append(SettingIssue("vote", str(exc)))
    return issues


def load_toml(path: str | Path) -> dict[str, Any]:
    """The mapping in a TOML config file; keys may use ``-`` or ``_``.

    A relative ``lean_project`` in the ``[lean]`` table is taken relative to the file, so the
    same file means the same project from any directory.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"config file {path} is a directory; give a .toml file")
    if not path.is_file():
        raise InputError(f"config file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    values = {k.replace("-", "_"): v for k, v in data.items()}
    lean = values.get("lean")
    if isinstance(lean, dict):
        lean = {k.replace("-", "_"): v for k, v in lean.items()}
        project = lean.get("lean_project")
        if isinstance(project, str) and not Path(project).expanduser().is_absolute():
            lean["lean_project"] = str((path.parent / project).resolve())
        values["lean"] = lean
    return values


def resolve(
    file_values: dict[str, Any], cli_values: dict[str, Any], *, source: str = "the config file"
) -> RunConfig:
    """Defaults, then the file, then CLI flags that were given (not None).

    Raises one ``InputError`` naming every bad setting.
    """
    config, issues = resolve_leniently(file_values, cli_values, source=source)
    if issues:
        raise InputError(render_issues(issues, "the run settings"))
    return config


def resolve_leniently(
    file_values: dict[str, Any], cli_values: dict[str, Any], *, source: str = "the config file"
) -> tuple[RunConfig, list[SettingIssue]]:
    """Like ``resolve``, but returns the problems instead of raising: each bad setting is
    reported (with where it came from) and left at its default, so that the rest of a
    preflight can still run and list everything else that is missing."""
    known = set(config_keys())
    issues: list[SettingIssue] = []
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in file_values.items():
        if key not in known:
            hint = did_you_mean(key, known)
            issues.append(SettingIssue(key, f"unknown key in {source}{hint}"))
            continue
        merged[key], origin[key] = value, f"in {source}"
    tables: dict[str, dict[str, Any]] = {}
    for name in _TABLES:
        table = merged.pop(name, {})
        if not isinstance(table, dict):
            issues.append(SettingIssue(name, f"expected a [{name}] table, got {describe(table)}"))
            table = {}
        tables[name] = table
    for key, value in cli_values.items():
        if value is None:
            continue
        if key in _TABLES:
            _merge_flags(tables[key], value)
        elif key in known:
            merged[key], origin[key] = value, f"from --{key.replace('_', '-')}"
    merged.update(tables)
    bad: set[str] = set()
    for issue in check_values(merged):
        bad.add(issue.key)
        issues.append(SettingIssue(issue.key, f"{issue.message} ({origin.get(issue.key, '')})"))
    return RunConfig(**{k: v for k, v in merged.items() if k not in bad}), issues


# Settings given as tables ([lean], [ray]); flags change single keys in them.
_TABLES = ("lean", "ray")


def _merge_flags(table: dict[str, Any], flags: dict[str, Any]) -> None:
    """Flags' values (None: not given) into a table; a sub-table value merges key by key."""
    for key, value in flags.items():
        if value is None:
            continue
        if isinstance(value, dict):
            given = {k: v for k, v in value.items() if v is not None}
            if given:
                old = table.get(key)
                table[key] = {**old, **given} if isinstance(old, dict) else given
        else:
            table[key] = value
