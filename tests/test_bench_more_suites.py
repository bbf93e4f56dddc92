"""ReForm's ConsistencyCheck and ProofNetVerif, read by path from fixture files written in
their documented schemas; the download hint when a file is missing; the Lean-version warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO
from critic_fakes import ScriptedEngine, greedy, json_answer

from formalize.bench import load_suite, run_critic_bench
from formalize.bench.suites import parse_suite
from formalize.critic import Critic
from formalize.errors import InputError

HEADER = "import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen BigOperators Real"

# ConsistencyCheck rows in the schema of its dataset card and the ReForm README
# (github.com/Chen-GX/ReForm, "Data Format"): name, split, goal, header, informal_statement,
# formal_statement, human_check ("true" | "false"), human_reason. The statements are made up;
# the repeated (split, name) is real: ProofNet has two exercise_3_3 in its valid split.
CONSISTENCY_ROWS = [
    {
        "name": "mathd_algebra_478",
        "split": "test",
        "goal": "b h v : ℝ\n⊢ v = 65",
        "header": HEADER,
        "informal_statement": "The volume of a cone is V = Bh/3 ... Show that it is 65.",
        "formal_statement": "theorem mathd_algebra_478 (b h v : ℝ) (h₀ : v = 1 / 3 * (b * h))"
        " (h₁ : b = 30) (h₂ : h = 13 / 2) : v = 65 := by",
        "human_check": "true",
        "human_reason": "",
    },
    {
        "name": "exercise_3_3",
        "split": "valid",
        "goal": "⊢ True",
        "header": HEADER,
        "informal_statement": "Prove that the sequence converges.",
        "formal_statement": "theorem exercise_3_3 : True := by",
        "human_check": "false",
        "human_reason": "The limit is not stated.",
    },
    {
        "name": "exercise_3_3",
        "split": "valid",
        "goal": "⊢ True",
        "header": HEADER,
        "informal_statement": "Show that G is abelian.",
        "formal_statement": "theorem exercise_3_3 : True := by",
        "human_check": "true",
        "human_reason": "",
    },
]

# ProofNetVerif rows in the schema of its dataset card (huggingface.co/datasets/PAug/
# ProofNetVerif, dataset_info): id, nl_statement, lean4_src_header, lean4_formalization,
# lean4_prediction, correct (bool); several predictions per problem id.
VERIF_ROWS = {
    "id": ["Rudin|exercise_1_1a", "Rudin|exercise_1_1a", "Axler|exercise_1_2"],
    "nl_statement": ["If r is rational and x irrational, r + x is irrational."] * 2
    + ["Show that (-1 + sqrt 3 i) / 2 is a cube root of 1."],
    "lean4_src_header": ["import Mathlib\n\nopen Topology Filter Real Complex"] * 3,
    "lean4_formalization": [
        "theorem exercise_1_1a (x : ℝ) (y : ℚ) (hy : y ≠ 0) : Irrational x → Irrational (x + y) :=",
        "theorem exercise_1_1a (x : ℝ) (y : ℚ) (hy : y ≠ 0) : Irrational x → Irrational (x + y) :=",
        "theorem exercise_1_2 : (⟨-1/2, √3/2⟩ : ℂ) ^ 3 = -1 :=",
    ],
    "lean4_prediction": [
        "theorem exercise_1_1a (x : ℝ) (r : ℚ) : Irrational x → Irrational (r + x) :=",
        "theorem exercise_1_1a (x : ℝ) (r : ℚ) : Irrational (r + x) :=",
        "theorem exercise_1_2 : ((-1 + Real.sqrt 3 * Complex.I) / 2) ^ 3 = 1 :=",
    ],
    "correct": [True, False, True],
}


def test_consistencycheck_by_path(tmp_path: Path) -> None:
    data = tmp_path / "consistency_check.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in CONSISTENCY_ROWS), encoding="utf-8")
    suite = load_suite("consistencycheck").with_data(data)
    assert suite.lean_version == "v4.9.0"
    items = suite.load()
    assert [i.id for i in items] == [
        "test/mathd_algebra_478",
        "valid/exercise_3_3",
        "valid/exercise_3_3#2",  # a repeated name is numbered, not refused
    ]
    assert [i.label for i in items] == [True, False, True]
    assert items[1].informal == "Prove that the sequence converges."
    assert items[0].critic_lean() == f"{HEADER}\n\n{CONSISTENCY_ROWS[0]['formal_statement']}"
    assert items[1].error_type is None  # human_reason is free text, not an error type


def test_proofnetverif_by_path_is_the_reference_free_task(tmp_path: Path) -> None:
    data = tmp_path / "valid-00000-of-00001.parquet"
    pq.write_table(pa.table(VERIF_ROWS), data)
    for split in ("valid", "test"):
        suite = load_suite(f"proofnetverif-{split}").with_data(data)
        assert suite.lean_version == "v4.8.0"
        items = suite.load()
        assert [i.id for i in items] == [
            "Rudin|exercise_1_1a",
            "Rudin|exercise_1_1a#2",
            "Axler|exercise_1_2",
        ]
        assert [i.label for i in items] == [True, False, True]
        assert items[1].lean == VERIF_ROWS["lean4_prediction"][1]  # not the reference
        assert items[1].header == "import Mathlib\n\nopen Topology Filter Real Complex"


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("consistencycheck", "hf download GuoxinChen/ConsistencyCheck --repo-type dataset"),
        ("proofnetverif-valid", "hf download PAug/ProofNetVerif --repo-type dataset"),
        ("proofnetverif-test", "hf download PAug/ProofNetVerif --repo-type dataset"),
    ],
)
def test_a_missing_file_prints_the_download_command(
    tmp_path: Path, name: str, command: str
) -> None:
    # A copy of the definition outside the repository reads its data beside itself: absent.
    copy = tmp_path / f"{name}.toml"
    shutil.copy(REPO / "critic" / "benchmarks" / f"{name}.toml", copy)
    with pytest.raises(InputError, match="not found") as caught:
        parse_suite(copy).load()
    assert command in str(caught.value)
    assert "--data PATH" in str(caught.value)


def test_a_glob_path_names_its_one_file(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    pq.write_table(pa.table(VERIF_ROWS), tmp_path / "d" / "valid-00000-of-00001.parquet")
    definition = tmp_path / "s.toml"
    definition.write_text(
        'name = "s"\nversion = "1"\nloader = "parquet"\npath = "d/valid-*.parquet"\n'
        '[fields]\ninformal = "nl_statement"\nlean = "lean4_prediction"\nlabel = "correct"\n'
        '[options]\nrepeated_ids = "number"\n',
        encoding="utf-8",
    )
    assert parse_suite(definition).path.name == "valid-00000-of-00001.parquet"
    assert len(parse_suite(definition).load()) == 3
    pq.write_table(pa.table(VERIF_ROWS), tmp_path / "d" / "valid-00001-of-00002.parquet")
    with pytest.raises(InputError, match="matches several files"):
        parse_suite(definition)


def bench_with_project_lean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toolchain: str
) -> dict[str, object]:
    project = tmp_path / "lean_project"
    project.mkdir()
    (project / "lean-toolchain").write_text(toolchain + "\n", encoding="utf-8")
    monkeypatch.setenv("FORMALIZE_LEAN_PROJECT", str(project))
    data = tmp_path / "consistency_check.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in CONSISTENCY_ROWS), encoding="utf-8")
    suite = load_suite("consistencycheck").with_data(data)
    critic = Critic(ScriptedEngine(lambda p, i: json_answer(True)), params=greedy())
    return run_critic_bench(
        suite, critic, tmp_path / "out", critic_spec="scripted:x", progress=False, bootstrap=0
    )


def test_a_run_notes_what_a_different_suite_lean_means_for_its_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = bench_with_project_lean(tmp_path, monkeypatch, "leanprover/lean4:v4.15.0")
    err = capsys.readouterr().err
    assert "note: suite consistencycheck was written for Lean v4.9.0" in err
    assert "this project's Lean is v4.15.0" in err
    assert "bench critic runs no Lean" in err and "warning" not in err
    assert results["lean"] == {
        "suite": "v4.9.0",
        "project": "v4.15.0",
        "project_source": str(tmp_path / "lean_project" / "lean-toolchain"),
        "differs": True,
    }
    assert results["suite"]["lean_version"] == "v4.9.0"  # type: ignore[index]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    line = "- Lean: the suite's statements were written for v4.9.0; this project's is v4.15.0"
    assert f"{line} (they differ: no Lean runs in a critic benchmark" in report


def test_no_note_when_the_versions_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = bench_with_project_lean(tmp_path, monkeypatch, "leanprover/lean4:v4.9.0")
    err = capsys.readouterr().err
    assert "warning" not in err and "note: suite" not in err
    assert results["lean"]["differs"] is False  # type: ignore[index]
