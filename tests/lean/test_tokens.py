"""The token table (package data built from Lean's and Mathlib's sources) and the lexer on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from formalize.lean.chars import is_id_first, is_id_rest
from formalize.lean.lexer import COMMENT_KINDS, KEYWORD, SYMBOL, token_kind, tokenize
from formalize.lean.tokens import table_from_data, token_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_names_its_sources() -> None:
    table = token_table()
    assert any(s.startswith("lean4 core") for s in table.sources)
    for version in ("v4.15.0", "v4.26.0", "v4.27.0", "v4.28.0"):
        assert f"mathlib+deps@{version}" in table.sources
    assert len(table.tags) > 1000


@pytest.mark.parametrize(
    "token",
    # core (`×'` PProd, `⊕'` PSum, `Σ'` PSigma), Mathlib (`∘'`, `∑'`, `⁻¹'`, `''`), commands
    ["×'", "⊕'", "Σ'", "∘'", "∑'", "⁻¹'", "''", ":=", "#eval", "run_cmd", "include_str", "‹"],
)
def test_known_tokens_are_in_the_table(token: str) -> None:
    assert token_table().is_token(token)


@pytest.mark.parametrize(
    "word",
    # first atoms of tactic syntax are non-reserved (Lean/Elab/Syntax.lean): identifiers
    ["simp", "ring", "linarith", "choose", "trans", "rfl", "true", "false", "decide", "omega"],
)
def test_leading_words_of_tactics_are_not_tokens(word: str) -> None:
    assert not token_table().is_token(word)
    assert [t.kind for t in tokenize(word)] == ["ident"]


def test_file_local_notations_are_not_tokens_and_scoped_ones_are_marked() -> None:
    table = token_table()
    # `local notation "x" => …` in Mathlib/AlgebraicGeometry/EllipticCurve/Jacobian.lean
    assert not table.is_token("x")
    assert "ℝ≥0" in table.scoped and "μ" in table.scoped  # `open NNReal`, `open ArithmeticFunction`
    assert "ℝ" not in table.scoped


def test_every_symbol_token_lexes_as_one_token() -> None:
    """The lexer against the table: a symbol-led token, written alone, is one token (unless a
    longer token or a comment marker starts inside it, as Lean's longest match would have it)."""
    table = token_table()
    wrong = []
    for token in table.tags:
        if is_id_first(token[0]) or token[0].isdigit() or token[0] in "\"'`" or " " in token:
            continue
        if token.startswith(("--", "/-")):
            continue
        if token in table.scoped:
            continue
        toks = [t for t in tokenize(token) if t.kind not in COMMENT_KINDS]
        if [t.text for t in toks] != [token]:
            wrong.append((token, [t.text for t in toks]))
    assert wrong == []


def test_identifier_led_tokens_win_ties_like_lean() -> None:
    table = token_table()
    for word in ["fun", "theorem", "by", "at", "Type"]:
        assert word in table.keywords
        assert [(t.kind, t.text) for t in tokenize(word)] == [(KEYWORD, word)]
        assert [t.kind for t in tokenize(word + "x")] == ["ident"]
    assert token_kind("#eval") == KEYWORD and token_kind("⁻¹'") == SYMBOL


def test_a_table_from_plain_data() -> None:
    table = table_from_data(
        {"sources": ["x"], "global": {"∑'": ["notation:term"]}, "scoped": {"μ": ["notation:term"]}}
    )
    assert table.longest("a ∑' b", 2) == "∑'"
    assert table.all_at("∑' b", 0) == ("∑'",)
    assert "μ" in table.scoped and table.longest("μ", 0) is None  # read as an identifier


def test_extractor_reads_atoms_scopes_and_categories(tmp_path: Path) -> None:
    """scripts/lean_tokens.py on a small Lean tree: what it takes and what it leaves."""
    src = tmp_path / "Lib"
    (src / "Lib").mkdir(parents=True)
    (src / "Lib.lean").write_text("import Lib.A\n", encoding="utf-8")
    (src / "Lib" / "A.lean").write_text(
        '/-- doc "not an atom" -/\n'
        'notation:50 a " ≺ " b => f a b\n'
        'local notation "x" => 1\n'
        'scoped[Foo] notation "μ" => 2\n'
        'syntax (name := t) "mytac" " at " ident : tactic\n'
        'syntax "mycmd" &"soft" : command\n'
        'macro "m%" t:term : term => `($t "body string")\n',
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "lean_tokens.py"),
            "--label",
            "t",
            str(src),
            "--import-roots",
            "Lib",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    tokens = set(data["global"])
    assert {"≺", "at", "mycmd", "m%", "mytac"} <= tokens
    assert not tokens & {"x", "soft", "not", "body", "string"}
    assert set(data["scoped"]) == {"μ"}
    assert "t syntax:tactic^" in data["global"]["mytac"]  # first atom: non-reserved on packaging


def test_packaged_table_drops_leading_tactic_words(tmp_path: Path) -> None:
    lib = tmp_path / "lib.json"
    lib.write_text(
        json.dumps(
            {
                "sources": ["t"],
                "behaviours": {"tactic": "both"},
                "global": {"mytac": ["t syntax:tactic^"], "at": ["t syntax:tactic"]},
                "scoped": {},
            }
        ),
        encoding="utf-8",
    )
    core = tmp_path / "core.txt"
    core.write_text("fun\n", encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "lean_tokens.py"),
            "--package",
            str(core),
            str(lib),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert set(data["global"]) == {"fun", "at"}


def test_character_classes_follow_lean() -> None:
    assert is_id_first("α") and not is_id_first("λ") and not is_id_first("Π")
    assert is_id_rest("₁") and not is_id_first("₁")
    # Latin-1 letters are identifier letters since Lean v4.22, `ⱼ` a subscript since v4.16:
    # the gate reads them as Lean v4.26+ does, and checks what v4.15 reads after them too
    assert is_id_first("é") and not is_id_first("÷") and is_id_rest("ⱼ")
