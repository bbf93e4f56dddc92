"""Settings of a ``formalize run``: plain, validated data from a TOML file and CLI flags.

No I/O happens here beyond reading the TOML file the user names; building engines, the Lean
checker and the store is the caller's explicit step. CLI flags win over the file, the file over
the defaults.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import InputError

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
    critic: str = DEFAULT_CRITIC
    db: str | None = None
    samples: int = 4
    rounds: int = 3
    critic_samples: int = 1
    vote: str = "majority"
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
    progress: bool = True
    lean: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positive = ("samples", "rounds", "critic_samples", "translator_max_tokens", "batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1")
        if self.max_in_flight < 1:
            raise InputError("max-in-flight must be at least 1")
        if self.limit is not None and self.limit < 0:
            raise InputError("limit must be >= 0")
        if not 0.0 <= self.translator_temperature <= 2.0:
            raise InputError("translator-temperature must be in [0, 2]")

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings, as recorded with the run."""
        return dataclasses.asdict(self)


def config_keys() -> list[str]:
    """Names accepted in a config file (top level; ``[lean]`` is a table)."""
    return [f.name for f in dataclasses.fields(RunConfig)]


def load_toml(path: str | Path) -> dict[str, Any]:
    """The mapping in a TOML config file; keys may use ``-`` or ``_``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    return {k.replace("-", "_"): v for k, v in data.items()}


def resolve(file_values: dict[str, Any], cli_values: dict[str, Any]) -> RunConfig:
    """Defaults, then the file, then CLI flags that were given (not None)."""
    known = set(config_keys())
    for key in file_values:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"unknown config key {key!r}{hint}; known: {', '.join(sorted(known))}")
    merged: dict[str, Any] = dict(file_values)
    lean = dict(file_values.get("lean") or {})
    for key, value in cli_values.items():
        if value is None:
            continue
        if key == "lean":
            lean.update({k: v for k, v in value.items() if v is not None})
        elif key in known:
            merged[key] = value
    merged["lean"] = lean
    try:
        return RunConfig(**merged)
    except TypeError as exc:
        raise InputError(f"bad config value: {exc}") from exc
