"""Install hints name the project's own distribution (``formalize`` on PyPI is another package)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from formalize.errors import SetupError
from formalize.install import DISTRIBUTION, install_hint
from formalize.models import load_engine

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def test_the_distribution_is_formalize_lean_and_the_command_formalize() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "formalize-lean"
    assert project["scripts"] == {"formalize": "formalize.cli.main:main"}
    for extra in project["optional-dependencies"].values():
        for requirement in extra:
            assert not requirement.startswith("formalize["), requirement


def test_hints_say_how_to_install_from_a_checkout_until_published() -> None:
    hint = install_hint("vllm")
    assert "`pip install -e '.[vllm]'` in a checkout" in hint and "formalize-lean[vllm]" in hint


@pytest.mark.parametrize(
    ("module", "spec", "extra"),
    [("openai", "openai:m@http://127.0.0.1:9/v1", "openai"), ("transformers", "hf:{}", "hf")],
)
def test_a_missing_engine_package_names_the_distribution(
    module: str, spec: str, extra: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import -> ImportError
    with pytest.raises(SetupError) as info:
        load_engine(spec.format(tmp_path))
    assert install_hint(extra) in str(info.value)


def test_no_file_tells_users_to_install_the_unrelated_pypi_package() -> None:
    files = [*REPO.glob("src/**/*.py"), *REPO.glob("docs/*.md"), REPO / "README.md"]
    files.append(REPO / "Makefile")
    wrong = re.compile(r"pip install[^\n]*\bformalize(\[|\s|'|$)")
    found = [f"{f}:{m.group(0)}" for f in files for m in wrong.finditer(f.read_text("utf-8"))]
    assert found == []
