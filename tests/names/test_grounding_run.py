"""How a run finds its declaration index: bm25 and the name check by default where the Lean
project has one; without one, one notice saying how to build it (the default) or a preflight
problem (asked for explicitly); the settings and their flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_fixture import make_lean_project

from formalize.cli.main import build_parser
from formalize.cli.run import resolve_config
from formalize.config import RunConfig
from formalize.errors import InputError
from formalize.index.build import ensure_index
from formalize.lean import LeanConfig
from formalize.preflight import Preflight
from formalize.runner import _grounding, _open_index


def open_index(config: RunConfig, project: Path) -> tuple[object, Preflight, list[str]]:
    said: list[str] = []
    check = Preflight()
    index = _open_index(config, LeanConfig(lean_project=project), check, said.append)
    return index, check, said


def test_without_an_index_the_run_says_once_how_to_build_it(tmp_path: Path) -> None:
    project = make_lean_project(tmp_path)  # sources, but no index built
    index, check, said = open_index(RunConfig(), project)
    assert index is None and not check.missing
    assert len(said) == 1 and "formalize lean index" in said[0]


@pytest.mark.parametrize(
    ("settings", "what"),
    [({"retrieval": "bm25"}, "--retrieval bm25"), ({"names": "precheck"}, "--names precheck")],
)
def test_asked_for_explicitly_without_an_index_is_a_preflight_problem(
    tmp_path: Path, settings: dict[str, str], what: str
) -> None:
    index, check, said = open_index(RunConfig(**settings), make_lean_project(tmp_path))
    assert index is None and not said
    (missing,) = check.missing
    assert what in missing.problem and "formalize lean index" in missing.fix


def test_nothing_asked_nothing_said(tmp_path: Path) -> None:
    config = RunConfig(retrieval="none", names="off")
    index, check, said = open_index(config, make_lean_project(tmp_path))
    assert index is None and not check.missing and not said


def test_with_an_index_bm25_and_the_name_check_by_default(tmp_path: Path) -> None:
    project = make_lean_project(tmp_path)
    ensure_index(project)
    index, check, said = open_index(RunConfig(), project)
    assert index is not None and not check.missing and not said
    grounding, names = _grounding(RunConfig(), index)
    assert grounding is not None and grounding.retriever.name == "bm25"
    assert names is not None
    provenance = grounding.provenance()
    assert provenance["retriever"] == "bm25" and provenance["k"] == 8
    assert provenance["index_revision"] == index.revision  # type: ignore[attr-defined]
    grounding, names = _grounding(RunConfig(names="off", retrieval_k=3), index)
    assert names is None and grounding is not None and grounding.k == 3
    index.close()  # type: ignore[attr-defined]


def test_flags_and_config_keys(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["run", "x.jsonl", "--retrieval", "none", "--retrieval-k", "5", "--names", "precheck"]
    )
    config, issues = resolve_config(args)
    assert not issues
    assert (config.retrieval, config.retrieval_k, config.names) == ("none", 5, "precheck")
    toml = tmp_path / "run.toml"
    toml.write_text('retrieval = "embedding"\nretrieval-k = 12\nnames = "off"\n')
    config, issues = resolve_config(build_parser().parse_args(["run", "--config", str(toml)]))
    assert not issues
    assert (config.retrieval, config.retrieval_k, config.names) == ("embedding", 12, "off")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retrieval", "bm52", "did you mean"),
        ("names", "advice", "did you mean"),
        ("retrieval_k", 0, "at least 1"),
    ],
)
def test_bad_values_are_refused(key: str, value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        RunConfig(**{key: value})
