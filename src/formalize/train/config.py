"""Settings of a ``formalize train``: plain, validated data from a TOML file and CLI flags.

A file (``--config train.toml``) holds the same keys as the flags, plus two tables passed
through to the libraries::

    method = "grpo"
    base = "Qwen/Qwen3-8B"
    lora = true
    max_steps = 300

    [trainer]          # any field of TRL's SFTConfig / GRPOConfig / DPOConfig
    learning_rate = 1e-6
    num_generations = 8
    max_completion_length = 4096
    report_to = "wandb"

    [peft]             # any field of PEFT's LoraConfig (with lora = true)
    r = 64

CLI flags win over the file, the file over the defaults; every bad key is reported at once.
The ``[trainer]`` and ``[peft]`` keys are checked against the library's own config classes
when the training starts (``formalize.train.recipes``), where those are imported.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import InputError
from formalize.settings import SettingIssue, describe, did_you_mean, render_issues, type_problem

ROLES = ("critic", "translator")
#: (role, method) -> the training export it trains on (``formalize corpus export --for``)
DATA_KINDS = {
    ("critic", "sft"): "critic-sft",
    ("critic", "grpo"): "critic-rl",
    ("translator", "sft"): "translator-sft",
    ("translator", "dpo"): "translator-dpo",
}
METHODS = ("sft", "grpo", "dpo")
DTYPES = ("auto", "float32", "bfloat16", "float16")
#: GRPO's reward weights: the verdict matches the label; the answer has a parseable verdict.
DEFAULT_REWARD_WEIGHTS = (1.0, 0.5)
#: LoRA defaults (PEFT's LoraConfig fields); ``[peft]`` overrides them.
DEFAULT_LORA = {
    "r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "target_modules": "all-linear",
}


@dataclass(frozen=True)
class TrainConfig:
    """One training, as plain data (recorded in the training card).

    ``role``: critic or translator; ``method``: sft, grpo (critic) or dpo (translator);
    ``data``: a training export folder; ``base``: the model to start from (a folder, or a hub
    id in the local cache); ``output``: where the checkpoint goes; ``max_steps``: stop after
    this many optimizer steps (else the trainer's epochs); ``lora``: train a LoRA adapter and
    merge it into the base when saving; ``dtype``: the weights' dtype while training
    (``auto``: float32 on a CPU, the checkpoint's own on a GPU); ``trainer``/``peft``: fields
    passed to the TRL config and to PEFT's LoraConfig.
    """

    role: str
    data: str
    base: str
    output: str
    method: str = "sft"
    max_steps: int | None = None
    lora: bool = False
    seed: int = 0
    dtype: str = "auto"
    trainer: dict[str, Any] = field(default_factory=dict)
    peft: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        issues = check_values(dataclasses.asdict(self))
        if issues:
            raise InputError(render_issues(issues, "the training settings"))

    @property
    def data_kind(self) -> str:
        """The training export this (role, method) trains on."""
        return DATA_KINDS[(self.role, self.method)]

    def lora_options(self) -> dict[str, Any]:
        """PEFT LoraConfig fields: the defaults, then ``[peft]``."""
        return {**DEFAULT_LORA, **self.peft}

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings, as recorded with the checkpoint."""
        return dataclasses.asdict(self)


def config_keys() -> list[str]:
    """Names accepted in a training config file."""
    return [f.name for f in dataclasses.fields(TrainConfig)]


def check_values(values: Mapping[str, Any]) -> list[SettingIssue]:
    """Every problem with the given settings."""
    hints = typing.get_type_hints(TrainConfig)
    issues: list[SettingIssue] = []
    typed: dict[str, Any] = {}
    for key, value in values.items():
        problem = type_problem(value, hints[key]) if key in hints else "unknown setting"
        if problem:
            issues.append(SettingIssue(key, problem))
        else:
            typed[key] = value
    for key in ("data", "base", "output"):
        if key in typed and not str(typed[key]).strip():
            issues.append(SettingIssue(key, "must not be empty"))
    role, method = typed.get("role"), typed.get("method")
    if role is not None and role not in ROLES:
        issues.append(SettingIssue("role", f"must be one of {', '.join(ROLES)} (got {role!r})"))
    elif method is not None and method not in METHODS:
        issues.append(SettingIssue("method", f"must be one of {', '.join(METHODS)}"))
    elif role is not None and method is not None and (role, method) not in DATA_KINDS:
        offered = ", ".join(m for r, m in DATA_KINDS if r == role)
        why = {
            ("critic", "dpo"): "critic data has labels, not preference pairs",
            ("translator", "grpo"): "a translator reward needs Lean in the loop, which "
            "formalize run provides: train on its accepted statements with sft or dpo",
        }.get((role, method), "")
        issues.append(
            SettingIssue(
                "method",
                f"a {role} trains with {offered}, not {method}" + (f" ({why})" if why else ""),
            )
        )
    if typed.get("max_steps") is not None and typed["max_steps"] < 1:
        issues.append(SettingIssue("max_steps", f"must be at least 1 (got {typed['max_steps']})"))
    if typed.get("dtype") is not None and typed["dtype"] not in DTYPES:
        issues.append(SettingIssue("dtype", f"must be one of {', '.join(DTYPES)}"))
    for table in ("trainer", "peft"):
        reserved = {"output_dir", "max_steps", "seed"} if table == "trainer" else {"task_type"}
        for key in reserved & set(typed.get(table) or {}):
            issues.append(
                SettingIssue(f"{table}.{key}", "set by formalize train (use its own setting)")
            )
    return issues


def resolve(
    file_values: Mapping[str, Any],
    cli_values: Mapping[str, Any],
    *,
    source: str = "the config file",
) -> TrainConfig:
    """Defaults, then the file, then the CLI flags that were given (not None); one
    ``InputError`` naming every bad setting."""
    known = set(config_keys())
    issues: list[SettingIssue] = []
    merged: dict[str, Any] = {}
    for key, value in file_values.items():
        if key not in known:
            hint = did_you_mean(key, known)
            issues.append(SettingIssue(key, f"unknown key in {source}{hint}"))
        elif key in ("trainer", "peft") and not isinstance(value, dict):
            issues.append(SettingIssue(key, f"expected a [{key}] table, got {describe(value)}"))
        else:
            merged[key] = value
    merged.update({k: v for k, v in cli_values.items() if v is not None})
    for required in ("role", "data", "base", "output"):
        if merged.get(required) is None:
            flag = "the role (critic|translator)" if required == "role" else f"--{required}"
            issues.append(SettingIssue(required, f"missing: give {flag}"))
    issues += [i for i in check_values(merged) if i.key not in {x.key for x in issues}]
    if issues:
        raise InputError(render_issues(issues, "the training settings"))
    return TrainConfig(**merged)


def load_file(path: str | Path) -> dict[str, Any]:
    """The settings in a training TOML file (keys may use ``-`` or ``_``). Relative ``data``
    and ``output`` paths, and a ``base`` starting with ``.``, are taken from the file's folder,
    so the same file means the same thing from any directory."""
    from formalize.config import load_toml

    values = load_toml(path)
    folder = Path(path).resolve().parent
    for key in ("data", "output", "base"):
        value = values.get(key)
        if not isinstance(value, str) or Path(value).expanduser().is_absolute():
            continue
        if key != "base" or value.startswith("."):
            values[key] = str((folder / value).resolve())
    return values
