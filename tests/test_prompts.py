"""The prompt-template registry: shipped templates, files, rendering, did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from formalize.errors import InputError
from formalize.prompts import Template, available_templates, load_template, parse_template


def test_critic_template_is_shipped_versioned_and_has_its_fields() -> None:
    assert "critic_v1" in available_templates()
    template = load_template("critic_v1")
    assert template.id == "critic_v1@1"
    assert template.fields == {"problem", "lean"}
    assert len(template.digest) == 12
    text = template.render(problem="Show that 1 + 1 = 2.", lean="theorem t : 1 + 1 = 2 := sorry")
    assert "Show that 1 + 1 = 2." in text
    assert "theorem t : 1 + 1 = 2 := sorry" in text
    assert '"is_assistant_correct"' in text  # the released CriticLean answer form
    assert "${" not in text


def test_values_with_dollars_and_braces_are_inserted_verbatim() -> None:
    template = parse_template("version: 3\n---\nProblem: ${problem}\nCost: $$5 {x}", "t")
    assert template.render(problem="Find $x$ with {x | x > 0}") == (
        "Problem: Find $x$ with {x | x > 0}\nCost: $5 {x}"
    )


def test_missing_value_is_an_input_error_naming_the_field() -> None:
    template = parse_template("version: 1\n---\n${a} and ${b}", "pair")
    with pytest.raises(InputError, match=r"pair@1 needs value.*b"):
        template.render(a="x")


def test_sections_become_chat_messages() -> None:
    source = (
        "version: 2\ndescription: two roles\n---\n=== system ===\nBe exact.\n=== user ===\n${q}\n"
    )
    template = parse_template(source, "chat")
    assert template.description == "two roles"
    assert template.messages(q="Why?") == [
        {"role": "system", "content": "Be exact."},
        {"role": "user", "content": "Why?"},
    ]


def test_body_without_markers_is_one_user_message() -> None:
    template = parse_template("version: 1\n---\nhello ${who}\n", "plain")
    assert template.messages(who="you") == [{"role": "user", "content": "hello you"}]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no header at all", "header"),
        ("description: x\n---\nbody", "version"),
        ("version 1\n---\nbody", "key: value"),
        ("version: 1\n---\nstray\n=== user ===\nx", "before the first"),
    ],
)
def test_malformed_template_files_are_rejected(source: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_template(source, "bad")


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(InputError, match="Did you mean 'critic_v1'"):
        load_template("critic_v2x")


def test_template_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "my_critic.txt"
    path.write_text("version: 7\n---\n${problem} || ${lean}\n", encoding="utf-8")
    template = load_template(str(path))
    assert template.id == "my_critic@7"
    assert template.render(problem="p", lean="l") == "p || l"
    with pytest.raises(InputError, match="does not exist"):
        load_template(str(tmp_path / "absent.txt"))


def test_templates_are_frozen_records() -> None:
    template = Template("x", "1", "body")
    with pytest.raises(AttributeError):
        template.version = "2"  # type: ignore[misc]
