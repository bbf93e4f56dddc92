"""``formalize train`` settings: flags over the file over the defaults, every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from formalize.errors import InputError
from formalize.train.config import DEFAULT_LORA, load_file, resolve

FLAGS = {"role": "critic", "data": "/d", "base": "org/base", "output": "/o"}


def test_flags_win_over_the_file_and_tables_pass_through(tmp_path: Path) -> None:
    toml = tmp_path / "train.toml"
    toml.write_text(
        'method = "grpo"\nmax_steps = 9\nlora = true\ndata = "exports/rl"\nbase = "./base"\n'
        "[trainer]\nnum_generations = 4\n[peft]\nr = 8\n",
        encoding="utf-8",
    )
    values = load_file(toml)
    assert values["data"] == str(tmp_path / "exports" / "rl")  # relative to the file
    assert values["base"] == str(tmp_path / "base")
    config = resolve(values, {**FLAGS, "max_steps": 3, "lora": None, "data": None})
    assert (config.method, config.max_steps, config.lora) == ("grpo", 3, True)
    assert config.data == str(tmp_path / "exports" / "rl") and config.base == "org/base"
    assert config.data_kind == "critic-rl"
    assert config.trainer == {"num_generations": 4}
    assert config.lora_options() == {**DEFAULT_LORA, "r": 8}
    assert resolve({"base": "Qwen/Qwen3-8B"}, {**FLAGS, "base": None}).base == "Qwen/Qwen3-8B"


@pytest.mark.parametrize(
    ("file", "flags", "messages"),
    [
        ({}, {"method": "dpo"}, ["a critic trains with sft, grpo, not dpo"]),
        ({}, {"role": "translator", "method": "grpo"}, ["Lean in the loop"]),
        ({"max_step": 3}, {}, ["max_step: unknown key", "did you mean 'max_steps'"]),
        ({"trainer": {"output_dir": "x", "seed": 1}}, {}, ["trainer.output_dir", "trainer.seed"]),
        ({"trainer": 3}, {}, ["expected a [trainer] table"]),
        ({"max_steps": 0, "lora": "yes"}, {}, ["max_steps: must be at least 1", "lora: expected"]),
        ({}, {"data": None, "output": None}, ["data: missing: give --data", "output: missing"]),
        ({"dtype": "int8"}, {}, ["dtype: must be one of auto"]),
    ],
)
def test_bad_settings_are_all_named(
    file: dict[str, object], flags: dict[str, object], messages: list[str]
) -> None:
    with pytest.raises(InputError) as info:
        resolve(file, {**FLAGS, **flags})
    for message in messages:
        assert message in str(info.value)
