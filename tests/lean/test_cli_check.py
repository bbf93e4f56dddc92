"""``formalize check``: input formats, bad lines, JSONL output in order, the stderr summary."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lean_fakes import SHARED_REPL, fake_cli_args

from formalize.cli.check import complete_statement, read_items
from formalize.cli.main import main


def test_translation_rows_get_their_sorry() -> None:
    assert complete_statement("theorem t : x = 26 := by\n") == "theorem t : x = 26 := by sorry"
    assert complete_statement("theorem t :\n  f a = f b :=") == "theorem t :\n  f a = f b := sorry"
    assert complete_statement("theorem t : P := by sorry") == "theorem t : P := by sorry"


def test_read_items_reports_bad_lines_and_reads_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    rows = [
        json.dumps({"id": "a", "lean": "theorem a : True := by sorry"}),
        "{not json",
        json.dumps(
            {"name": "b", "formal_statement": "theorem b : True := by", "header": "import X"}
        ),
        json.dumps(["a", "list"]),
        json.dumps({"id": "c"}),
        "",
        json.dumps({"lean": "theorem d : True := sorry"}),
    ]
    path.write_text("\n".join(rows) + "\n")
    items, issues = read_items(str(path))
    assert [(i.id, i.header) for i in items] == [("a", None), ("b", "import X"), ("7", None)]
    assert items[1].lean == "theorem b : True := by sorry"
    assert issues == [
        f"{path}:2: not JSON (Expecting property name enclosed in double quotes)",
        f"{path}:4: expected a JSON object",
        f"{path}:5: no statement (one of lean, formal_statement, lean4_code, lean4_file)",
    ]
    lean = tmp_path / "One.lean"
    lean.write_text("import Mathlib\ntheorem one : True := by sorry\n")
    assert [(i.id, i.lean) for i in read_items(str(lean))[0]] == [("One", lean.read_text())]
    stdin = io.StringIO("theorem s : True := by sorry")
    assert read_items("-", stdin)[0][0].lean == "theorem s : True := by sorry"


def run_check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    code = main(["check", *args, *fake_cli_args(), "--workers", "2"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_check_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    rows = [
        {"id": "ok", "lean": "theorem a : 1 = 1 := by sorry"},
        {"id": "bad", "lean": "theorem b :\n  undefined_ident = 1 := by sorry"},
        {"id": "evil", "lean": '#eval IO.Process.run {cmd := "rm"}'},
        {
            "id": "hdr",
            "formal_statement": "theorem c : 2 = 2 := by",
            "header": "import Aesop",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    code, out, err = run_check([str(path), "--no-progress"], capsys)
    assert code == 1  # one input line was skipped
    assert [r["id"] for r in out] == ["ok", "bad", "evil", "hdr"]
    assert [r["status"] for r in out] == ["ok", "lean_error", "rejected", "ok"]
    assert out[1]["messages"][0]["line"] == 2 and out[1]["messages"][0]["column"] == 2
    assert set(out[0]) >= {"id", "status", "messages", "elapsed_s"}
    assert f"{path}:5: not JSON" in err
    assert "status" in err and "total" in err and "rejected" in err
    results = tmp_path / "out.jsonl"
    code, out, _ = run_check([str(path), "--output", str(results)], capsys)
    assert out == [] and len(results.read_text().splitlines()) == 4


def test_check_translation_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    source = SHARED_REPL.parent / "data" / "translation" / "minif2f.jsonl"
    if not source.exists():
        pytest.skip(f"{source} is absent (../shared/ sits beside the repo on project machines)")
    path = tmp_path / "minif2f.jsonl"
    path.write_text("".join(source.read_text(encoding="utf-8").splitlines(True)[:12]))
    code, out, err = run_check([str(path), "--no-progress"], capsys)
    assert code == 0 and len(out) == 12
    # every row is accepted by the gate and checked (the fake REPL knows no Lean: all ok)
    assert {r["status"] for r in out} == {"ok"}
    assert "12 checked" in err
    assert "dropped set_option maxHeartbeats 0" in caplog.text


def test_missing_input_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent.jsonl"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rows_holding_line_separators_or_lone_carriage_returns_stay_whole(tmp_path: Path) -> None:
    """JSONL ends a row at `\\n` only: U+2028, U+2029, U+0085, a form feed or a lone CR
    inside a row (raw, not escaped: json.dumps with ensure_ascii=False) keep it one row."""
    path = tmp_path / "in.jsonl"
    rows = [
        {"id": f"r{k}", "lean": f"theorem t{k} : True :={sep} sorry"}
        for k, sep in enumerate(["\u2028", "\u2029", "\u0085", "\x0c", "\r", "\r\n"])
    ]
    path.write_bytes(
        b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8") for r in rows)
    )
    items, issues = read_items(str(path))
    assert issues == []
    assert [i.id for i in items] == [r["id"] for r in rows]
    assert [i.lean for i in items] == [r["lean"] for r in rows]


def test_check_survives_any_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Binary junk, NUL bytes, a huge line, deep nesting, invalid UTF-8 in one row: every row
    gets a line of output or a numbered skip message, and the command does not crash."""
    path = tmp_path / "junk.jsonl"
    deep = 's!"{' * 3000 + '}"' * 3000
    good = json.dumps({"id": "good", "lean": "theorem g : True := sorry"})
    lines = [
        good.encode(),
        b"\x00\x01\x02 garbage \xff\xfe",
        json.dumps({"id": "deep", "lean": f"theorem d : {deep} := sorry"}).encode(),
        json.dumps({"id": "huge", "lean": "theorem h : " + "(" * 200_000}).encode(),
        json.dumps({"id": "nul", "lean": "theorem n : True := sorry\x00"}).encode(),
        json.dumps({"id": "soup", "lean": "⟨⟩‹›«»`'\"#eval ∑'×'⊕'"}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    items, issues = read_items(str(path))
    assert [i.id for i in items] == ["good", "deep", "huge", "nul", "soup"]
    assert len(issues) == 1 and issues[0].startswith(f"{path}:2: not")
    code, out, err = run_check([str(path), "--no-progress"], capsys)
    assert [row["id"] for row in out] == ["good", "deep", "huge", "nul", "soup"]
    assert [row["status"] for row in out] == ["ok", "rejected", "rejected", "rejected", "rejected"]
    assert all(row["reason"] for row in out[1:])
    assert code == 1 and f"{path}:2: not UTF-8" in err


def test_a_directory_is_named_as_such(tmp_path: Path) -> None:
    from formalize.errors import InputError

    with pytest.raises(InputError, match="is a directory"):
        read_items(str(tmp_path))


def test_check_with_filters_prints_each_signal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    rows = [
        {"id": "vac", "lean": "theorem v (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x = 1 := by sorry"},
        {"id": "bad", "lean": "theorem b : undefined_ident := by sorry"},
        {
            "id": "ref",
            "lean": "theorem r (n : ℕ) : n + 0 = n := by sorry",
            "reference": "theorem r' (m : ℕ) : m = m + 0 := by sorry",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rules = json.dumps(
        [{"probe": "vacuous", "when": "h₁ : x < 0"}, {"probe": "equiv", "when": "."}]
    )
    args = [str(path), "--no-progress", "--filters", "default"]
    code = main(["check", *args, *fake_cli_args("--prove", rules), "--workers", "1"])
    out, err = capsys.readouterr()
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    # (vacuous, refuted, trivial, reference) of each row; "bad" did not compile: no filter ran
    signals = {r["id"]: tuple(s["outcome"] for s in r.get("signals", [])) for r in results}
    assert signals == {
        "vac": ("failed", "passed", "passed", "inconclusive"),
        "bad": (),
        "ref": ("passed", "passed", "passed", "passed"),
    }
    names = [s["name"] for s in results[0]["signals"]]
    assert names == ["vacuous", "refuted", "trivial", "reference"]
    assert "formalize_probe_vacuous" in results[0]["signals"][0]["evidence"]
    assert "filter" in err and "vacuous" in err
    # without --filters: no signals key; a bad name: a clear error before Lean starts
    assert main(["check", str(path), "--no-progress", *fake_cli_args()]) == 0
    assert all("signals" not in json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert main(["check", str(path), "--filters", "vacuos", *fake_cli_args()]) == 2
    assert "did you mean 'vacuous'" in capsys.readouterr().err
