"""The token table (package data built from Lean's and Mathlib's sources) and the lexer on it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from formalize.lean.chars import is_id_first, is_id_rest
from formalize.lean.lexer import COMMENT_KINDS, KEYWORD, SYMBOL, token_kind, tokenize
from formalize.lean.tokens import table_from_data, token_table

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    """scripts/lean_tokens.py, imported (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "lean_tokens", ROOT / "scripts" / "lean_tokens.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LEAN_TOKENS = _script()


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


def test_atoms_that_do_not_lead_their_tactic_syntax_are_in_the_table() -> None:
    """Mathlib's `tac says tacs` (`syntax … tactic " says" … : tactic`): Lean reserves an atom
    unless it comes first, so `says` is a keyword, whatever the category."""
    assert token_table().declared_as("says") == {"syntax:tactic"}
    assert [(t.kind, t.text) for t in tokenize("says")] == [(KEYWORD, "says")]
    assert token_table().is_token("`(stacksTagDB|")  # Mathlib's `declare_syntax_cat stacksTagDB`
    # LeanSearchClient's `syntax withPosition("#statesearch" …) : tactic` (v4.26 on)
    assert token_table().declared_as("#statesearch") == {"syntax:tactic"}


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
        'macro "m%" t:term : term => `($t "body string")\n'
        'syntax (name := says) tactic " says" (colGt tacticSeq)? : tactic\n',
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
    assert {"≺", "at", "mycmd", "m%", "mytac", "says"} <= tokens
    assert not tokens & {"x", "soft", "not", "body", "string"}
    assert set(data["scoped"]) == {"μ"}
    assert "t syntax:tactic^" in data["global"]["mytac"]  # first atom: non-reserved on packaging
    assert data["global"]["says"] == ["t syntax:tactic"]  # after a category: reserved


def _declared(text: str) -> dict[str, set[str]]:
    """token -> how the extractor says one Lean source declares it (``scope kind:category``)."""
    out: dict[str, set[str]] = {}
    for atom, scope, kind, category in LEAN_TOKENS.atoms(text):
        out.setdefault(atom.strip(), set()).add(f"{scope} {kind}:{category}")
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Mathlib/Tactic/Says.lean: a trailing tactic parser; its atom is reserved
        (
            'syntax (name := says) tactic " says" (colGt tacticSeq)? : tactic',
            {"says": {"global syntax:tactic"}},
        ),
        # the first item leads, after a precedence, named arguments, a doc comment, attributes
        (
            '/-- doc -/\n@[inherit_doc] syntax:lead (name := t) (priority := high) "mytac" " at "'
            " ident : tactic",
            {"mytac": {"global syntax:tactic^"}, "at": {"global syntax:tactic"}},
        ),
        # patterns that start with a category or parser: no atom leads
        ('syntax term:max " ⊕⊕ " term : tactic', {"⊕⊕": {"global syntax:tactic"}}),
        ('syntax:arg ident "ᵗᵗ" : term', {"ᵗᵗ": {"global syntax:term"}}),
        ('syntax num "ᵗʰ" : tactic', {"ᵗʰ": {"global syntax:tactic"}}),
        ('syntax ppSpace "pp_first" : tactic', {"pp_first": {"global syntax:tactic"}}),
        # a first item wrapped in a parser (`?`, `*`, `<|>`, `many(…)`, `sepBy(…)`)
        (
            'syntax ("only")? "baz" : tactic',
            {"only": {"global syntax:tactic"}, "baz": {"global syntax:tactic"}},
        ),
        ('syntax "opt"? term : tactic', {"opt": {"global syntax:tactic"}}),
        ('syntax ("rep" term)* : tactic', {"rep": {"global syntax:tactic"}}),
        (
            'syntax ("x1" <|> "y1") term : tactic',
            {"x1": {"global syntax:tactic"}, "y1": {"global syntax:tactic"}},
        ),
        ('syntax many("q1" term) : tactic', {"q1": {"global syntax:tactic"}}),
        ('syntax sepBy(term, " ;; ") : tactic', {";;": {"global syntax:tactic"}}),
        ('syntax withPosition("wp" term) : tactic', {"wp": {"global syntax:tactic"}}),
        # a plain group keeps its first atom first
        ('syntax ("grp" term) : tactic', {"grp": {"global syntax:tactic^"}}),
        # non-reserved atoms are no tokens, and the one after them does not lead
        ('syntax &"soft" " hard" : tactic', {"hard": {"global syntax:tactic"}}),
        # macros and elaborators: a named argument comes first, the category follows ` : `
        (
            'local macro:max x:term " <;;> " y:tactic : tactic => `(tactic| skip)',
            {"<;;>": {"local macro:tactic"}},
        ),
        (
            'scoped macro tk:"#mine " e:term : command => `(#check $e)',
            {"#mine": {"scoped macro:command^"}},
        ),
        # a pattern over several lines
        (
            'elab (name := useSyntax)\n    "use" (&" discharger")? ppSpace term : tactic =>'
            " pure ()",
            {"use": {"global elab:tactic^"}},
        ),
        # a command's first atom after a parser can still start it
        (
            'elab mods:declModifiers "my_def " n:ident : command => pure ()',
            {"my_def": {"global elab:command^"}},
        ),
        # what follows a macro's `=>` is read on: a declaration it makes declares atoms too
        (
            'macro "mk_inner" : command => `(syntax "inner" : term)',
            {"mk_inner": {"global macro:command^"}, "inner": {"global syntax:term^"}},
        ),
        # a syntax abbreviation has no category
        ('syntax myArg := term:max " ⊕⊗ " term', {"⊕⊗": {"global syntax:?"}}),
        # a syntax category brings its quotation token
        (
            "declare_syntax_cat Foo.myCat (behavior := both)",
            {"`(myCat|": {"global parser:quotation"}},
        ),
    ],
)
def test_extractor_reads_each_declaration_shape(source: str, expected: dict[str, set[str]]) -> None:
    assert _declared(source) == expected


def test_extractor_skips_non_reserved_atoms() -> None:
    text = (
        'syntax "mycmd" &"soft" : command\n'
        'syntax (name := f) "fs" (&" only")? (nonReservedSymbol "nr") : tactic\n'
        'def p := leading_parser "lp" >> checkColGt "a message" >> nonReservedSymbol "nr2"\n'
    )
    assert set(_declared(text)) == {"mycmd", "fs", "lp"}


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
