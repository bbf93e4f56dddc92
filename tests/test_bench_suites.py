"""Benchmark suites: definition files, the four loaders, the registry, item selection."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, shared_path

from formalize.bench.suites import (
    BenchItem,
    available_suites,
    load_suite,
    parse_suite,
    select_items,
)
from formalize.errors import InputError


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


GENERIC = [
    {"id": "p1", "informal": "Show 1 = 1.", "lean": "theorem p1 : 1 = 1 := sorry", "label": True},
    {
        "id": "p2",
        "informal": "Show 1 < 2.",
        "lean": "theorem p2 : 2 < 1 := sorry",
        "label": False,
        "error_type": "wrong_relation",
        "header": "import Mathlib\nopen Nat",
    },
    {"informal": "Find x.", "lean": "theorem p3 : True := sorry", "label": "faithful", "answer": 3},
]


def test_generic_jsonl_file_as_a_suite(tmp_path: Path) -> None:
    suite = load_suite(str(write_jsonl(tmp_path / "pairs.jsonl", GENERIC)))
    assert suite.name == "pairs"
    assert suite.version.startswith("sha256:")
    items = suite.load()
    assert [i.id for i in items] == ["p1", "p2", "3"]  # no id: the row number
    assert [i.label for i in items] == [True, False, True]
    assert items[1].error_type == "wrong_relation"
    assert items[1].critic_lean() == "import Mathlib\nopen Nat\n\ntheorem p2 : 2 < 1 := sorry"
    assert items[2].answer == "3"
    assert items[2].problem().answer == "3"
    assert items[0].error_type is None


def test_suite_file_with_patterns_labels_and_filters(tmp_path: Path) -> None:
    rows = [
        {"src": "a", "n": 1, "nl": "P1", "code": "theorem x : True", "tag": "ok"},
        {"src": "a", "n": 2, "nl": "P2", "code": "theorem y : True", "tag": "bad_goal"},
        {"src": "b", "n": 1, "nl": "P3", "code": "theorem z : True", "tag": "ok"},
        {"src": "c", "n": 1, "nl": "P4", "code": "theorem w : True", "tag": "broken"},
    ]
    write_jsonl(tmp_path / "data.jsonl", rows)
    (tmp_path / "mine.toml").write_text(
        """
name = "mine"
version = "3"
loader = "jsonl"
path = "data.jsonl"
[fields]
id = "{src}-{n}"
informal = "nl"
lean = "code"
label = "tag"
error_type = "tag"
[labels]
positive = ["ok"]
[exclude]
src = ["c"]
""",
        encoding="utf-8",
    )
    suite = load_suite(str(tmp_path / "mine.toml"))
    assert (suite.name, suite.version) == ("mine", "3")
    assert suite.path == tmp_path / "data.jsonl"  # relative to the suite file's folder
    items = suite.load()
    assert [(i.id, i.label, i.error_type) for i in items] == [
        ("a-1", True, None),
        ("a-2", False, "bad_goal"),
        ("b-1", True, None),
    ]
    only_a = dataclasses.replace(parse_suite(tmp_path / "mine.toml"), where={"src": ("a",)})
    assert [i.id for i in only_a.load()] == ["a-1", "a-2"]


def test_suites_in_the_repository_resolve_paths_from_the_repository_root(tmp_path: Path) -> None:
    folder = tmp_path / "repo" / "critic" / "benchmarks"
    folder.mkdir(parents=True)
    write_jsonl(tmp_path / "repo" / "pairs.jsonl", GENERIC)
    (folder / "s.toml").write_text(
        'name = "s"\nversion = "1"\nloader = "jsonl"\npath = "pairs.jsonl"\n', encoding="utf-8"
    )
    assert len(parse_suite(folder / "s.toml").load()) == 3


def test_criticleanbench_parquet_shape(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "test-00000-of-00001.parquet"
    table = pa.table(
        {
            "id": [1, 2, 3],
            "refined_statement": ["Prove A.", "Prove B.", "Prove C."],
            "autoformalization": ["theorem a : A := by sorry", "theorem b : B", "theorem c : C"],
            "tag": ["compile_right_is_right", "compile_right_is_false", "compile_false"],
            "source": ["x", "y", "z"],
        }
    )
    pq.write_table(table, data)
    full = load_suite("criticleanbench").with_data(data).load()
    assert [(i.id, i.label, i.error_type) for i in full] == [
        ("1", True, None),
        ("2", False, "compile_right_is_false"),
        ("3", False, "compile_false"),
    ]
    assert full[0].informal == "Prove A."
    compiled = load_suite("criticleanbench-compiled").with_data(data).load()
    assert [i.id for i in compiled] == ["1", "2"]


def test_missing_criticleanbench_says_how_to_get_it(tmp_path: Path) -> None:
    suite = load_suite("criticleanbench").with_data(tmp_path / "absent.parquet")
    with pytest.raises(InputError, match=r"absent\.parquet not found") as info:
        suite.load()
    assert "hf download m-a-p/CriticLeanBench" in str(info.value)
    assert "--data PATH" in str(info.value)


FORMALALIGN = [
    {
        "input": "Statement in natural language:\nShow 2 + 2 = 4.\n"
        "Translate the statement in natural language to Lean:",
        "outputs": [
            {"response": "theorem t : 2 + 2 = 4 :=", "label": True},
            {"response": "theorem t : 2 + 2 = 5 :=", "label": False, "misalign_type": "constant"},
            {"response": "theorem t : 2 + 3 = 4 :=", "label": False, "misalign_type": "constant"},
            {"response": "theorem t : (2 : ℚ) = 4 :=", "label": False, "misalign_type": "type"},
        ],
    },
    {
        "input": "Statement in natural language:\nShow 0 < 1.\n"
        "Translate the statement in natural language to Lean:",
        "outputs": [
            {"response": "theorem u : 1 < 0 :=", "label": False, "misalign_type": "equality"},
            {"response": "theorem u : 0 < 1 :=", "label": True},
        ],
    },
]


def test_formalalign_shape(tmp_path: Path) -> None:
    path = tmp_path / "fa.json"
    path.write_text(json.dumps(FORMALALIGN), encoding="utf-8")
    (tmp_path / "fa.toml").write_text(
        'name = "fa"\nversion = "1"\nloader = "formalalign"\npath = "fa.json"\n', encoding="utf-8"
    )
    items = load_suite(str(tmp_path / "fa.toml")).load()
    assert [i.id for i in items] == ["0/0", "0/1", "0/2", "0/3", "1/0", "1/1"]
    assert items[0].informal == "Show 2 + 2 = 4."
    assert [i.label for i in items] == [True, False, False, False, False, True]
    assert [i.error_type for i in items] == [None, "constant", "constant", "type", "equality", None]

    (tmp_path / "fa1.toml").write_text(
        'name = "fa1"\nversion = "1"\nloader = "formalalign"\npath = "fa.json"\n'
        "[options]\nnegatives_per_problem = 1\nseed = 3\n",
        encoding="utf-8",
    )
    balanced = load_suite(str(tmp_path / "fa1.toml")).load()
    assert Counter(i.label for i in balanced) == {True: 2, False: 2}
    assert balanced == load_suite(str(tmp_path / "fa1.toml")).load()  # seeded


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"informal": "x", "lean": "y", "label": "maybe"}], "neither faithful nor unfaithful"),
        ([{"informal": "x", "label": True}], "no lean"),
        ([{"id": 1, "informal": "x", "lean": "y", "label": 1}] * 2, "repeats id"),
    ],
)
def test_bad_rows_are_input_errors(
    tmp_path: Path, rows: list[dict[str, object]], message: str
) -> None:
    suite = load_suite(str(write_jsonl(tmp_path / "bad.jsonl", rows)))
    with pytest.raises(InputError, match=message):
        suite.load()


def test_bad_suite_files(tmp_path: Path) -> None:
    cases = {
        "a.toml": ('name = "a"\nversion = "1"\nloader = "csv"\npath = "x"\n', "unknown loader"),
        "b.toml": ('name = "b"\nloader = "jsonl"\npath = "x"\n', "missing key"),
        "c.toml": ('name = "c"\nversion = "1"\nloader = "jsonl"\npath = "x"\ncolor = 1\n', "color"),
        "d.toml": (
            'name = "d"\nversion = "1"\nloader = "jsonl"\npath = "x"\n[fields]\nfoo = "x"\n',
            "foo",
        ),
        "e.toml": ("name = ", "TOML"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            load_suite(str(tmp_path / name))


def test_unknown_suite_names_suggest_close_ones() -> None:
    with pytest.raises(InputError, match="Did you mean 'proofnet-dev'"):
        load_suite("proofnet_dev")


def test_the_repository_defines_the_issue_suites() -> None:
    suites = available_suites()
    for name in ("proofnet-dev", "criticleanbench", "formalalign-minif2f-test"):
        assert suites[name].parent == REPO / "critic" / "benchmarks"


def test_proofnet_dev_suite_reads_the_shared_file() -> None:
    shared_path("data", "critic", "proofnet_faithfulness_dev.jsonl")
    items = load_suite("proofnet-dev").load()
    assert len(items) == 692
    assert sum(i.label for i in items) == 501
    assert Counter(i.error_type for i in items if not i.label)["missing_premise"] == 19
    assert all(i.error_type is None for i in items if i.label)
    assert "open Function" in items[0].critic_lean()


def test_select_items_keeps_the_ratio_and_the_order() -> None:
    items = [BenchItem(str(i), "x", "y", label=i % 4 == 0) for i in range(100)]  # 25 / 75
    chosen = select_items(items, 20, seed=1)
    assert len(chosen) == 20
    assert sum(i.label for i in chosen) == 5
    assert [int(i.id) for i in chosen] == sorted(int(i.id) for i in chosen)
    assert chosen == select_items(items, 20, seed=1)
    assert chosen != select_items(items, 20, seed=2)
    assert select_items(items, None, seed=1) == items
    assert select_items(items, 500, seed=1) == items
    with pytest.raises(InputError):
        select_items(items, 0, seed=1)
