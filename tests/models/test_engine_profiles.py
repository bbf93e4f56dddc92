"""Model profiles: matching by name, system prompts, reasoning sections, plain prompts."""

from __future__ import annotations

from typing import Any

import pytest

from formalize.errors import InputError
from formalize.models import ModelProfile, get_profile, profile_for, register_profile
from formalize.models.profiles import _PROFILES, render_plain

QWEN3 = profile_for("qwen3")


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("AI-MO/Kimina-Autoformalizer-7B", "kimina-autoformalizer"),
        ("project-numina/Kimina-Autoformalizer-7B", "kimina-autoformalizer"),
        ("/data/models/Kimina-Autoformalizer-7B/", "kimina-autoformalizer"),
        ("m-a-p/CriticLeanGPT-Qwen3-8B-RL", "criticleangpt-qwen3"),
        ("m-a-p/CriticLeanGPT-Qwen3-32B-RL", "criticleangpt-qwen3"),
        ("m-a-p/CriticLeanGPT-Qwen2.5-7B-Instruct-SFT-RL", "criticleangpt-qwen2.5"),
        ("Qwen/Qwen3-8B", "qwen3"),
        ("HuggingFaceTB/SmolLM2-135M-Instruct", "generic"),
    ],
)
def test_profiles_match_released_model_names(model: str, name: str) -> None:
    assert profile_for(model).name == name


def test_translator_profile_carries_the_model_cards_system_prompt() -> None:
    profile = profile_for("AI-MO/Kimina-Autoformalizer-7B")
    messages = profile.prepare([{"role": "user", "content": "Prove 1 + 1 = 2."}])
    assert messages[0] == {
        "role": "system",
        "content": "You are an expert in mathematics and Lean 4.",
    }
    assert messages[1]["content"] == "Prove 1 + 1 = 2."
    own = [{"role": "system", "content": "Mine."}, {"role": "user", "content": "x"}]
    assert profile.prepare(own) == own


def test_critic_profile_strips_the_thinking_section() -> None:
    profile = profile_for("m-a-p/CriticLeanGPT-Qwen3-8B-RL")
    assert profile.think == ("<think>", "</think>")
    answer, reasoning = profile.split_reasoning("<think>\nCheck the domain.\n</think>\n\nCorrect.")
    assert (answer, reasoning) == ("Correct.", "Check the domain.")


@pytest.mark.parametrize(
    ("text", "answer", "reasoning"),
    [
        ("plain answer", "plain answer", None),
        ("<think>cut off before the end", "", "cut off before the end"),
        ("opened in the prompt</think>\nyes", "yes", "opened in the prompt"),
        ("  <think>a</think>b<think>c</think>d", "b<think>c</think>d", "a"),
        ("mentions <think> in passing", "mentions <think> in passing", None),
    ],
)
def test_split_reasoning_cases(text: str, answer: str, reasoning: str | None) -> None:
    assert QWEN3.split_reasoning(text) == (answer, reasoning)


def test_profiles_without_think_tags_keep_the_text() -> None:
    text = "<think>kept</think>answer"
    assert profile_for("some/model").split_reasoning(text) == (text, None)


def test_plain_rendering() -> None:
    assert render_plain([{"role": "user", "content": "def f("}]) == "def f("
    assert (
        render_plain([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
        == "S\n\nU"
    )
    chat = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    assert render_plain(chat) == "User: a\n\nAssistant: b\n\nUser: c\n\nAssistant:"


class _Tokenizer:
    chat_template = "{{ messages }}"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def apply_chat_template(self, messages: list[dict[str, str]], **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return "|".join(m["content"] for m in messages) + "<gen>"


def test_render_uses_the_chat_template_with_the_profiles_arguments() -> None:
    tokenizer = _Tokenizer()
    critic = profile_for("m-a-p/CriticLeanGPT-Qwen3-8B-RL")
    text, special = critic.render([{"role": "user", "content": "q"}], tokenizer)
    assert (text, special) == ("q<gen>", False)
    assert tokenizer.calls == [
        {"tokenize": False, "add_generation_prompt": True, "enable_thinking": True}
    ]
    plain = ModelProfile(name="plain", chat_template=False)
    assert plain.render([{"role": "user", "content": "q"}], tokenizer) == ("q", True)
    assert QWEN3.render([{"role": "user", "content": "q"}], None) == ("q", True)


def test_get_profile_suggests_on_a_typo() -> None:
    assert get_profile("qwen3") is QWEN3
    with pytest.raises(InputError, match="Did you mean 'kimina-autoformalizer'"):
        get_profile("kimina-autoformaliser")


def test_registered_profiles_match_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("formalize.models.profiles._PROFILES", list(_PROFILES))
    register_profile(ModelProfile(name="mine", patterns=("*kimina*",), system_prompt="Hi."))
    assert profile_for("AI-MO/Kimina-Autoformalizer-7B").name == "mine"
