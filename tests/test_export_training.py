"""``formalize corpus export --for critic-sft|critic-rl|translator-sft|translator-dpo``, checked
row by row on a store filled with known attempts, Lean signals and human labels
(``training_corpus``): label sources and their order of trust, annotator majorities and ties,
stale labels, reasons that agree with the label, balance, and a split by problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import training_corpus as tc
from critic_fakes import ScriptedEngine, greedy, json_answer

from formalize.cli.main import main
from formalize.corpus import Store
from formalize.critic import Critic, parse_verdict
from formalize.export_hub import data_digest, shard_digests
from formalize.export_training import (
    ExportSummary,
    TrainingExport,
    critic_answer,
    split_of,
    training_rows,
    translator_answer,
    write_training_export,
)
from formalize.records import Judgement, Problem
from formalize.translate import TranslationRequest, Translator

ALL_TRAIN = (1.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tc.build(tmp_path_factory.mktemp("training") / "corpus.db")


def rows_of(corpus: Path, kind: str, **options: Any) -> tuple[list[dict[str, Any]], ExportSummary]:
    summary = ExportSummary(kind)
    with Store(corpus) as store:
        splits = training_rows(store, TrainingExport(kind, shares=ALL_TRAIN, **options), summary)
    assert list(splits) == ["train"]
    return splits["train"], summary


def by_pair(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["problem_id"], tc.tag_of(r["lean"])): r for r in rows}


@pytest.mark.parametrize("critic_labels", [False, True])
def test_critic_rl_labels_every_pair_by_the_most_trusted_evidence(
    corpus: Path, critic_labels: bool
) -> None:
    rows, summary = rows_of(corpus, "critic-rl", include_critic_labels=critic_labels)
    got = {key: (r["label"], r["label_source"]) for key, r in by_pair(rows).items()}
    wanted = {
        key: value
        for key, value in tc.EXPECTED.items()
        if isinstance(value, tuple) and (critic_labels or value[1] != "critic")
    }
    assert got == wanted
    dropped = {"annotators_tied": 1, "lean_signals_conflict": 1}
    if not critic_labels:  # A2, G2, H1, H2, I1: critic verdicts only
        dropped["no_trusted_label"] = 5
    assert dict(summary.dropped) == dropped
    assert summary.stale_labels == 1  # the label on G1, which a rerun replaced by G2
    for row in rows:
        assert set(row) >= {"prompt", "label", "label_source", "label_detail", "problem_id"}
        assert [m["role"] for m in row["prompt"]] == ["user"]  # the prompt only, no answer
        assert row["critic_prompt"] == "critic_v1@1"


def test_human_labels_are_a_majority_of_annotators_with_their_error_type(corpus: Path) -> None:
    rows = by_pair(rows_of(corpus, "critic-rl")[0])
    overruled = rows[("overruled", "B1")]  # the critic accepted it; 2 of 3 annotators did not
    assert overruled["label"] == "unfaithful" and overruled["status"] == "accepted"
    assert (overruled["annotators"], overruled["agreement"]) == (3, pytest.approx(2 / 3))
    assert overruled["label_detail"] == "2 of 3 annotators"
    assert overruled["error_type"] == "missing_hypothesis"
    agree = rows[("agree", "A1")]  # two samples wrote A1: one pair, its first attempt named
    assert (agree["annotators"], agree["agreement"], agree["sample"]) == (2, 1.0, 0)
    assert sum(key[0] == "agree" for key in rows) == 1
    vacuous = rows[("vacuous", "D1")]
    assert vacuous["label_detail"] == "vacuous: vacuous probe failed"
    assert vacuous["annotators"] == 0 and vacuous["agreement"] is None


def test_critic_rl_prompts_are_what_the_pipelines_critic_sends(corpus: Path) -> None:
    rows = rows_of(corpus, "critic-rl", include_critic_labels=True)[0]
    engine = ScriptedEngine(lambda prompt, i: json_answer(True))
    critic = Critic(engine, params=greedy())
    with Store(corpus) as store:
        problems = {r["problem_id"]: store.problem(r["problem_id"]) for r in rows}
    critic.judge([(problems[r["problem_id"]], r["lean"]) for r in rows])
    assert engine.prompts == [r["prompt"][0]["content"] for r in rows]


def test_critic_sft_answers_in_the_criticlean_form_with_reasons_that_agree(corpus: Path) -> None:
    rows, summary = rows_of(corpus, "critic-sft")
    assert set(by_pair(rows)) == {("agree", "A1"), ("overruled", "B1"), ("vacuous", "D2")}
    # D1, E1 (Lean filtered them before any critic) and I2 (the critic said faithful, a human
    # did not) have no critic answer agreeing with their label
    assert summary.dropped["no_agreeing_critic_reasons"] == 3
    reasons = {
        ("agree", "A1"): "A1 matches.",
        ("overruled", "B1"): "B1 misses x > 0.",  # the one sample of three that objected
        ("vacuous", "D2"): "D2 ok.",
    }
    for key, row in by_pair(rows).items():
        prompt, answer = row["messages"][:-1], row["messages"][-1]
        assert [m["role"] for m in prompt] == ["user"] and answer["role"] == "assistant"
        parsed = parse_verdict(answer["content"])  # the critic's own parser reads the target
        assert parsed.judgement.value == row["label"]
        assert parsed.reasons == reasons[key]
        assert json.loads(answer["content"].removeprefix("```json").removesuffix("```")) == {
            "reasons": reasons[key],
            "is_assistant_correct": "Correct" if row["label"] == "faithful" else "Incorrect",
        }
        assert row["reasons_from"] == tc.CRITIC


def test_translator_sft_pairs_each_problem_with_its_accepted_statement(corpus: Path) -> None:
    rows, summary = rows_of(corpus, "translator-sft")
    got = {k: r["label_source"] for k, r in by_pair(rows).items()}
    # B1 was accepted, but the annotators' majority says unfaithful: left out
    assert got == {
        ("agree", "A1"): "human",
        ("vacuous", "D2"): "lean",
        ("criticonly", "H1"): "critic",
        ("humanreject", "I1"): "critic",
    }
    assert summary.dropped["accepted_labelled_unfaithful"] == 1
    assert summary.dropped["no_accepted_statement"] == 4  # tied, refuted, conflict, stale
    translator = Translator(ScriptedEngine(lambda p, i: ""), samples=1)
    for row in rows:
        problem = Problem(row["problem_id"], row["informal"])
        prompt = translator.conversation(TranslationRequest(problem))
        assert row["messages"][:-1] == prompt
        answer = row["messages"][-1]["content"]
        assert answer.startswith("```lean4\nimport Mathlib\n\ntheorem my_favorite_theorem (x")
        assert answer == translator_answer("import Mathlib", row["lean"])


@pytest.mark.parametrize("critic_labels", [False, True])
def test_translator_dpo_pairs_the_entry_with_unfaithful_statements(
    corpus: Path, critic_labels: bool
) -> None:
    rows, _ = rows_of(corpus, "translator-dpo", include_critic_labels=critic_labels)
    got = {
        (r["problem_id"], tc.tag_of(r["chosen_lean"]), tc.tag_of(r["lean"])): (
            r["chosen_label_source"],
            r["label_source"],
        )
        for r in rows
    }
    wanted = {
        ("vacuous", "D2", "D1"): ("lean", "lean"),
        ("humanreject", "I1", "I2"): ("critic", "human"),
    }
    if critic_labels:
        wanted[("agree", "A1", "A2")] = ("human", "critic")
        wanted[("criticonly", "H1", "H2")] = ("critic", "critic")
    assert got == wanted
    for row in rows:
        assert row["label"] == "unfaithful"
        (chosen,), (rejected,) = row["chosen"], row["rejected"]
        assert chosen["content"] == translator_answer("import Mathlib", row["chosen_lean"])
        assert rejected["content"] == translator_answer("import Mathlib", row["lean"])
        assert row["prompt"][-1]["content"].startswith("Please autoformalize the following")


def test_balance_downsamples_the_majority_label_with_a_seed(corpus: Path) -> None:
    full, _ = rows_of(corpus, "critic-rl")
    assert sorted(r["label"] for r in full).count("unfaithful") == 4  # and 2 faithful
    balanced, summary = rows_of(corpus, "critic-rl", balance=True, seed=3)
    assert [r["label"] for r in balanced].count("faithful") == 2
    assert [r["label"] for r in balanced].count("unfaithful") == 2
    assert summary.balanced_away["train"] == 2
    keys = [(r["problem_id"], r["lean"]) for r in balanced]
    assert set(keys) < {(r["problem_id"], r["lean"]) for r in full}
    assert keys == [
        (r["problem_id"], r["lean"]) for r in rows_of(corpus, "critic-rl", balance=True, seed=3)[0]
    ]


def test_no_problem_is_in_two_splits_and_the_folder_loads(tmp_path: Path) -> None:
    import datasets

    db = tc.many_problems(tmp_path / "many.db", 60)
    folder = tmp_path / "rl"
    shares = (0.6, 0.2, 0.2)
    with Store(db) as store:
        options = TrainingExport("critic-rl", include_critic_labels=True, shares=shares, seed=7)
        summary = write_training_export(store, folder, options)
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))
    assert set(loaded) == {"train", "validation", "test"}
    seen: dict[str, str] = {}
    for split, data in loaded.items():
        for row in data:
            assert seen.setdefault(row["problem_id"], split) == split
            assert split == split_of(row["problem_id"], 7, shares)
    assert len(seen) == 60 and sum(len(d) for d in loaded.values()) == 120 == summary.rows
    assert loaded["train"][0]["prompt"][0]["role"] == "user"
    manifest = json.loads((folder / "training.json").read_text())
    assert manifest["kind"] == "critic-rl"
    assert manifest["data_sha256"] == data_digest(shard_digests(folder))
    assert manifest["counts"]["train"] == dict(summary.splits["train"])
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n- config_name: default\n")
    for name in ("train", "validation", "test"):
        counts = summary.splits[name]
        line = (
            f"| {name} | {sum(counts.values())} | {counts['faithful']} | {counts['unfaithful']} |"
        )
        assert line in card
    assert "| critic/faithful | 60 |" in card and manifest["data_sha256"] in card


def test_a_problem_keeps_its_split_whatever_else_is_in_the_corpus() -> None:
    shares = (0.5, 0.25, 0.25)
    splits = {split_of(f"p{k}", 0, shares) for k in range(40)}
    assert splits == {"train", "validation", "test"}
    assert split_of("p1", 0, shares) == split_of("p1", 0, shares)
    assert [split_of(f"p{k}", 0, shares) for k in range(40)] != [
        split_of(f"p{k}", 1, shares) for k in range(40)
    ]


def test_targets_parse_back() -> None:
    for faithful in (True, False):
        sample = parse_verdict(critic_answer('He said "x ≥ 1"\nthen stopped.', faithful))
        assert sample.judgement is (Judgement.FAITHFUL if faithful else Judgement.UNFAITHFUL)
        assert sample.reasons == 'He said "x ≥ 1"\nthen stopped.'
    assert translator_answer("", "example : True := by sorry") == (
        "```lean4\nimport Mathlib\n\ntheorem my_favorite_theorem : True := by sorry\n```"
    )


def export(corpus: Path, *argv: str) -> int:
    return main(["corpus", "export", "--db", str(corpus), *argv])


def test_the_command_writes_the_folder_and_says_what_it_left_out(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sft"
    assert export(corpus, "--for", "critic-sft", "-o", str(out), "--split", "1,0,0") == 0
    err = capsys.readouterr().err
    assert "critic-sft: wrote 3 rows (train 3); left out: annotators_tied 1" in err
    assert (out / "data" / "train-00000-of-00001.parquet").is_file()
    assert json.loads((out / "training.json").read_text())["options"]["balance"] is False
    # exporting again replaces the export, with --force
    assert export(corpus, "--for", "critic-rl", "-o", str(out), "--split", "1,0,0") == 2
    assert export(corpus, "--for", "critic-rl", "-o", str(out), "--split", "1,0,0", "--force") == 0
    assert json.loads((out / "training.json").read_text())["kind"] == "critic-rl"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--for", "critic-sft", "-o", "d", "--include-rejected"], "drop --include-rejected"),
        (["--for", "critic-sft", "-o", "d.jsonl"], "--for writes a folder"),
        (["--for", "critic-sft", "-o", "-"], "--for writes a folder"),
        (["--for", "translator-sft", "-o", "d", "--balance"], "critic exports only"),
        (["--for", "critic-rl", "-o", "d", "--split", "0.5,0.5"], "give three shares"),
        (["--for", "critic-rl", "-o", "d", "--split", "0.5,0.4,0.4"], "must add up to 1"),
        (["--for", "critic-sft", "-o", "d", "--critic-template", "nope"], "unknown prompt"),
    ],
)
def test_bad_training_exports_are_refused(
    argv: list[str], message: str, corpus: Path, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert export(corpus, *argv) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_critic_verdicts_alone_are_not_training_labels_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tc.many_problems(tmp_path / "critic-only.db", 3)
    assert export(db, "--for", "critic-rl", "-o", str(tmp_path / "none")) == 2
    err = capsys.readouterr().err
    assert "no labelled rows (no_trusted_label: 6)" in err and "--include-critic-labels" in err
    argv = ("--for", "critic-rl", "-o", str(tmp_path / "some"), "--include-critic-labels")
    assert export(db, *argv) == 0


def test_push_to_hub_uploads_the_training_folder(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import HfApi

    uploaded: list[list[str]] = []

    def upload_folder(self: Any, **kw: Any) -> Any:
        folder = Path(kw["folder_path"])
        uploaded.append(
            sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        )
        return type("Info", (), {"commit_url": "https://hub/commit/2"})()

    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: None)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert export(corpus, "--for", "translator-dpo", "--push-to-hub", "me/dpo") == 0
    assert uploaded == [["README.md", "data/train-00000-of-00001.parquet", "training.json"]]
    assert "pushed translator-dpo to the hub dataset me/dpo" in capsys.readouterr().err
