"""Model profiles: what a model needs around its prompts, as data keyed by model-name patterns.

A profile says which system prompt a model was trained with, whether to use the tokenizer's chat
template (and with which extra template arguments), how to render a conversation for a model
without one, and which reasoning section to strip from its answers. Engines look the profile up
by model name (``profile_for``) or take the one named in the spec (``?profile=NAME``), so no engine
carries model-specific ``if``s.

Sources for the two default models (checked with the project's search tool, July 2025 releases):

* ``AI-MO/Kimina-Autoformalizer-7B`` (also published as ``project-numina/Kimina-Autoformalizer-7B``;
  https://huggingface.co/AI-MO/Kimina-Autoformalizer-7B, Kimina-Prover Preview, arXiv 2504.11354):
  a Qwen2.5-7B fine-tune (``model_type: qwen2``) used through its Qwen chat template with the
  system prompt "You are an expert in mathematics and Lean 4." and the user prompt "Please
  autoformalize the following problem in Lean 4 with a header. Use the following theorem names:
  my_favorite_theorem.\\n\\n{problem}" (the user prompt belongs to ``formalize.translate``'s
  templates; the model card samples at temperature 0.6, top-p 0.95). No reasoning section.
* ``m-a-p/CriticLeanGPT-Qwen3-8B-RL`` (https://huggingface.co/m-a-p/CriticLeanGPT-Qwen3-8B-RL,
  CriticLean, arXiv 2507.06181, and the CriticLean repository README): Qwen3 trained with RL
  only on CriticLean_4K; it thinks in ``<think>...</think>`` before answering, so the
  section is stripped (kept as ``Completion.reasoning``). Released siblings: ``-Qwen3-14B-RL``,
  ``-Qwen3-32B-RL``; Qwen2.5 based ``-Qwen2.5-{7B,14B,32B}-Instruct-SFT-RL`` and
  ``-Qwen2.5-{7B,14B,32B}-RL`` (plus ``-SFT`` ablations in the paper). RL-trained Qwen2.5 critics
  may also emit a thinking section; stripping is a no-op when none is present.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from formalize.errors import InputError

Message = dict[str, str]


@dataclass(frozen=True)
class ModelProfile:
    """Prompt and answer conventions of a model family (pure data plus small helpers).

    ``patterns``: case-insensitive shell patterns matched against the model id and the last part
    of a local path. ``chat_template``: None uses the tokenizer's template when it has one, False
    always renders a plain prompt. ``template_kwargs`` go to ``apply_chat_template`` (and to an
    OpenAI-compatible server as ``chat_template_kwargs``). ``think``: the (open, close) tags of a
    reasoning section to strip from answers. ``source``: where these facts were checked.
    """

    name: str
    patterns: tuple[str, ...] = ()
    system_prompt: str | None = None
    chat_template: bool | None = None
    template_kwargs: dict[str, Any] = field(default_factory=dict)
    think: tuple[str, str] | None = None
    source: str = ""

    def matches(self, model: str) -> bool:
        """True when ``model`` (an id, a path or a served name) fits one of the patterns."""
        text = model.strip().rstrip("/").lower()
        candidates = {text, text.rsplit("/", 1)[-1]}
        return any(fnmatch.fnmatchcase(c, p.lower()) for c in candidates for p in self.patterns)

    def prepare(self, messages: Sequence[Message]) -> list[Message]:
        """The conversation to send: the profile's system prompt first unless one is given."""
        out = [dict(m) for m in messages]
        if self.system_prompt and not any(m["role"] == "system" for m in out):
            out.insert(0, {"role": "system", "content": self.system_prompt})
        return out

    def split_reasoning(self, text: str) -> tuple[str, str | None]:
        """(answer, reasoning): the text without its thinking section, and that section.

        Handles an opened-and-closed section, a section whose opening tag was already in the
        prompt (only the closing tag appears), and one cut off before its closing tag (then the
        answer is empty). Without ``think`` tags, or when none appear, the text is unchanged.
        """
        if self.think is None:
            return text, None
        open_tag, close_tag = self.think
        head = text.lstrip()
        if head.startswith(open_tag):
            body = head[len(open_tag) :]
            end = body.find(close_tag)
            if end < 0:
                return "", body.strip()
            return body[end + len(close_tag) :].lstrip(), body[:end].strip()
        end = text.find(close_tag)
        if end >= 0 and open_tag not in text[:end]:
            return text[end + len(close_tag) :].lstrip(), text[:end].strip()
        return text, None

    def render(self, messages: Sequence[Message], tokenizer: Any = None) -> tuple[str, bool]:
        """(prompt text, whether the tokenizer should add its special tokens) for a local model.

        Uses the tokenizer's chat template when there is one and the profile allows it (the
        template then owns the special tokens); otherwise ``render_plain``.
        """
        template = getattr(tokenizer, "chat_template", None) if tokenizer is not None else None
        if template and self.chat_template is not False:
            text = tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True, **self.template_kwargs
            )
            return str(text), False
        return render_plain(messages), True

    def fingerprint(self) -> dict[str, Any]:
        """The fields that change what a model is asked (part of cache keys)."""
        return {
            "name": self.name,
            "system_prompt": self.system_prompt,
            "chat_template": self.chat_template,
            "template_kwargs": self.template_kwargs,
        }


def render_plain(messages: Sequence[Message]) -> str:
    """A prompt for a model without a chat template.

    A lone user message (after an optional system message) is sent as it is, so a base model
    simply continues the text; longer conversations become ``User:``/``Assistant:`` turns ending
    with ``Assistant:``.
    """
    system = [m["content"] for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    parts = [s.strip() for s in system if s.strip()]
    if len(turns) == 1 and turns[0]["role"] == "user":
        parts.append(turns[0]["content"])
        return "\n\n".join(parts)
    for m in turns:
        parts.append(f"{m['role'].capitalize()}: {m['content']}")
    parts.append("Assistant:")
    return "\n\n".join(parts)


_THINK = ("<think>", "</think>")

# First match wins: specific models before families, families before the generic fallback.
_PROFILES: list[ModelProfile] = [
    ModelProfile(
        name="kimina-autoformalizer",
        patterns=("*kimina-autoformalizer*",),
        system_prompt="You are an expert in mathematics and Lean 4.",
        source="https://huggingface.co/AI-MO/Kimina-Autoformalizer-7B (model card usage)",
    ),
    ModelProfile(
        name="criticleangpt-qwen3",
        patterns=("*criticleangpt-qwen3*", "*criticlean*qwen3*"),
        template_kwargs={"enable_thinking": True},
        think=_THINK,
        source="https://huggingface.co/m-a-p/CriticLeanGPT-Qwen3-8B-RL; arXiv 2507.06181",
    ),
    ModelProfile(
        name="criticleangpt-qwen2.5",
        patterns=("*criticleangpt-qwen2.5*", "*criticlean*qwen2.5*"),
        think=_THINK,
        source="https://huggingface.co/m-a-p/CriticLeanGPT-Qwen2.5-7B-Instruct-SFT-RL",
    ),
    ModelProfile(
        name="qwen3",
        patterns=("*qwen3*",),
        think=_THINK,
        source="Qwen3 chat template: thinking in <think>...</think> unless enable_thinking=False",
    ),
    ModelProfile(
        name="reasoning",
        patterns=("*deepseek-r1*", "*qwq*", "*kimina-prover*"),
        think=_THINK,
        source="R1-style models open <think> in the template or the answer",
    ),
    ModelProfile(name="generic", patterns=("*",), source="no model-specific conventions"),
]


def profiles() -> list[ModelProfile]:
    """All registered profiles, in matching order."""
    return list(_PROFILES)


def register_profile(profile: ModelProfile, *, first: bool = True) -> None:
    """Add (or replace, by name) a profile; ``first`` puts it before the built-in ones."""
    _PROFILES[:] = [p for p in _PROFILES if p.name != profile.name]
    if first:
        _PROFILES.insert(0, profile)
    else:
        _PROFILES.insert(len(_PROFILES) - 1, profile)


def profile_for(model: str) -> ModelProfile:
    """The first profile whose patterns match ``model`` (the generic profile at worst)."""
    for profile in _PROFILES:
        if profile.matches(model):
            return profile
    return ModelProfile(name="generic")


def get_profile(name: str) -> ModelProfile:
    """The profile called ``name``; a typo gets a suggestion."""
    for profile in _PROFILES:
        if profile.name == name:
            return profile
    names = [p.name for p in _PROFILES]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InputError(f"unknown model profile {name!r}.{hint} Known profiles: {', '.join(names)}")


def with_overrides(profile: ModelProfile, **changes: Any) -> ModelProfile:
    """A copy of ``profile`` with some fields changed (e.g. another system prompt)."""
    return dataclasses.replace(profile, **changes)
