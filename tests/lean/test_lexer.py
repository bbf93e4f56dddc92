"""The Lean 4 lexer: comments, literals, identifiers and numbers cut the way Lean cuts them."""

from __future__ import annotations

import pytest

from formalize.lean.lexer import (
    BLOCK_COMMENT,
    CHAR,
    DOC_COMMENT,
    IDENT,
    KEYWORD,
    LINE_COMMENT,
    MODULE_DOC,
    NAME,
    NUMBER,
    STRING,
    SYMBOL,
    LexError,
    Token,
    brackets,
    code_tokens,
    is_id_first,
    is_id_rest,
    tokenize,
)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def test_positions_are_one_based_lines_and_code_point_columns() -> None:
    toks = tokenize("theorem t :\n  ∀ x, x = x")
    assert toks[0] == Token(KEYWORD, "theorem", 1, 0)
    forall = toks[3]
    assert (forall.text, forall.line, forall.column, forall.offset) == ("∀", 2, 2, 14)
    # columns count code points, not bytes: `x` after `∀ ` is column 4
    assert (toks[4].text, toks[4].column) == ("x", 4)
    assert all(t.end == t.offset + len(t.text) for t in toks)


def test_offset_is_not_part_of_equality() -> None:
    assert Token(IDENT, "x", 1, 0, offset=5) == Token(IDENT, "x", 1, 0)


def test_line_comment_runs_to_end_of_line() -> None:
    assert kinds("a -- b #eval\nc") == [(IDENT, "a"), (LINE_COMMENT, "-- b #eval"), (IDENT, "c")]


def test_block_comments_nest() -> None:
    text = "/- a /- b -/ #eval c -/ d"
    assert kinds(text) == [(BLOCK_COMMENT, "/- a /- b -/ #eval c -/"), (IDENT, "d")]


def test_third_character_of_a_block_comment_is_skipped_like_lean() -> None:
    # Lean's `whitespace` starts the body after `/-x`, so `/-/-` opens one level only
    assert kinds("/-/- -/ e -/") == [
        (BLOCK_COMMENT, "/-/- -/"),
        (IDENT, "e"),
        (SYMBOL, "-"),
        (SYMBOL, "/"),
    ]


def test_doc_comment_and_module_doc_are_their_own_kinds() -> None:
    assert kinds("/-- doc /- nested -/ -/ theorem") == [
        (DOC_COMMENT, "/-- doc /- nested -/ -/"),
        (KEYWORD, "theorem"),
    ]
    assert kinds("/-! # Title -/")[0] == (MODULE_DOC, "/-! # Title -/")


def test_comment_bodies_ignore_quotes() -> None:
    assert kinds('/-- "-/ x') == [(DOC_COMMENT, '/-- "-/'), (IDENT, "x")]


@pytest.mark.parametrize(
    "text",
    ["/- never closed", "/- a /- b -/", "/-- doc", '"abc', "'a", "«abc", 'r#"abc"', 's!"{x'],
)
def test_unterminated_constructs_raise(text: str) -> None:
    with pytest.raises(LexError) as info:
        tokenize("theorem t\n" + text)
    assert info.value.line == 2


def test_strings_with_escapes() -> None:
    assert kinds(r'"a\"b" "\\" "\x41\u00e9\n"') == [
        (STRING, r'"a\"b"'),
        (STRING, r'"\\"'),
        (STRING, r'"\x41\u00e9\n"'),
    ]
    assert kinds('"line\nbreak"') == [(STRING, '"line\nbreak"')]
    assert kinds('"gap \\\n   here"') == [(STRING, '"gap \\\n   here"')]


@pytest.mark.parametrize("bad", [r'"\q"', r'"\x4"', r'"\u12"', '"two \\\n\n gaps"'])
def test_invalid_escapes_raise_like_lean(bad: str) -> None:
    with pytest.raises(LexError):
        tokenize(bad)


def test_char_literals_versus_primes() -> None:
    assert kinds("x' 'a' '\\n' f'' s") == [
        (IDENT, "x'"),
        (CHAR, "'a'"),
        (CHAR, "'\\n'"),
        (IDENT, "f''"),
        (IDENT, "s"),
    ]
    assert kinds("f '' s") == [(IDENT, "f"), (SYMBOL, "''"), (IDENT, "s")]
    assert kinds("f ⁻¹' s") == [(IDENT, "f"), (SYMBOL, "⁻¹'"), (IDENT, "s")]
    assert kinds("∑' i")[0] == (SYMBOL, "∑'")
    assert kinds("'\"'") == [(CHAR, "'\"'")]


def test_guillemet_and_dotted_identifiers() -> None:
    assert kinds("Nat.succ_le «my name».x h.«a b»") == [
        (IDENT, "Nat.succ_le"),
        (IDENT, "«my name».x"),
        (IDENT, "h.«a b»"),
    ]
    assert kinds("«theorem»") == [(IDENT, "«theorem»")]  # escaped words are never keywords


def test_unicode_identifier_rules_follow_lean() -> None:
    assert kinds("α₁ h₀ ℝ 𝓝 x!") == [
        (IDENT, "α₁"),
        (IDENT, "h₀"),
        (KEYWORD, "ℝ"),
        (IDENT, "𝓝"),
        (IDENT, "x!"),
    ]
    assert kinds("λ x") == [(SYMBOL, "λ"), (IDENT, "x")]
    assert not is_id_first("е")  # Lean's isAlpha is ASCII-only: no Cyrillic
    # since v4.22 Latin-1 and Latin Extended-A letters, since v4.16 `ⱼ` (issue 21)
    assert is_id_first("é") and is_id_first("ő") and not is_id_first("×")
    assert kinds("xⱼ") == [(IDENT, "xⱼ")] and not is_id_first("ⱼ")
    assert is_id_rest("₃") and not is_id_first("₃")
    assert kinds("sᶜ")[1] == (SYMBOL, "ᶜ")


def test_numbers() -> None:
    assert kinds("0x1F 0b101 0o17 1_000 2.5 1e10 3.0e-2") == [
        (NUMBER, t) for t in ["0x1F", "0b101", "0o17", "1_000", "2.5", "1e10", "3.0e-2"]
    ]
    assert kinds("1run_cmd") == [(NUMBER, "1"), (KEYWORD, "run_cmd")]
    with pytest.raises(LexError):
        tokenize("2e")
    with pytest.raises(LexError):
        tokenize("1_")


def test_field_indices_are_digits_only() -> None:
    assert kinds("h.2.le x.1") == [
        (IDENT, "h"),
        (SYMBOL, "."),
        (NUMBER, "2"),
        (SYMBOL, "."),
        (IDENT, "le"),
        (IDENT, "x"),
        (SYMBOL, "."),
        (NUMBER, "1"),
    ]


def test_raw_strings() -> None:
    assert kinds('r"a\\b" r#"say "hi""# x') == [
        (STRING, 'r"a\\b"'),
        (STRING, 'r#"say "hi""#'),
        (IDENT, "x"),
    ]
    assert kinds("r x") == [(IDENT, "r"), (IDENT, "x")]


def test_interpolated_strings_are_strings_the_gate_refuses() -> None:
    # `s!` is a token; what follows is one string token (the gate refuses every string), and
    # no nesting of `{` or quotes can make the lexer recurse
    assert kinds('s!"a{x}b"') == [(KEYWORD, "s!"), (STRING, '"a{x}b"')]
    nested = 's!"{' * 2000 + "x" + '}"' * 2000
    assert all(t.kind in (KEYWORD, STRING, IDENT, SYMBOL) for t in tokenize(nested))


def test_hash_commands_name_literals_and_keywords() -> None:
    assert kinds("#eval #check! #[1]") == [
        (KEYWORD, "#eval"),
        (KEYWORD, "#check"),  # `#check!` is no token: Lean reads `#check` then `!`
        (SYMBOL, "!"),
        (SYMBOL, "#["),
        (NUMBER, "1"),
        (SYMBOL, "]"),
    ]
    assert kinds("`Nat.succ")[0] == (NAME, "`Nat.succ")
    assert kinds("by_cases by")[0] == (IDENT, "by_cases")
    assert kinds("by_cases by")[1] == (KEYWORD, "by")


def test_multi_character_symbols_are_the_longest_token_of_the_table() -> None:
    assert [t for _, t in kinds("a := b <-- c ∃! x")] == ["a", ":=", "b", "<-", "-", "c", "∃!", "x"]
    assert kinds("x --- y") == [(IDENT, "x"), (LINE_COMMENT, "--- y")]
    # tokens ending in a prime are one token to Lean: what follows is no character literal
    for token in ["×'", "⊕'", "Σ'", "∘'", "∑'", "⁻¹'", "''"]:
        assert kinds(f"a {token}'b' c")[1] == (SYMBOL, token), token
    # an identifier-led token wins over the identifier when at least as long (`mkIdResult`)
    assert kinds("Type* Typex ℝ ℝx")[:4] == [
        (KEYWORD, "Type*"),
        (IDENT, "Typex"),
        (KEYWORD, "ℝ"),  # Mathlib's `notation "ℝ" => Real`
        (IDENT, "ℝx"),
    ]
    # a scoped token led by a letter (`ℝ≥0`, active after `open NNReal`) is read as Lean
    # reads it without the namespace open: the gate's every-offset check covers both readings
    assert [t for _, t in kinds("ℝ≥0")] == ["ℝ", "≥", "0"]
    assert kinds("fun funny")[0][0] == KEYWORD and kinds("fun funny")[1] == (IDENT, "funny")


def test_code_tokens_drops_comments() -> None:
    toks = tokenize("/-- d -/ theorem -- c\nt /- b -/")
    assert [t.text for t in code_tokens(toks)] == ["theorem", "t"]


def test_lex_error_names_the_position() -> None:
    with pytest.raises(LexError) as info:
        tokenize("theorem t :\n  x = /- oops")
    assert (info.value.line, info.value.column) == (2, 6)
    assert "unterminated comment" in str(info.value) and "line 2" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(", (0, 1)),
        ("![", (0, 1)),
        ("[MOD", (0, 1)),
        ("[ZMOD", (0, 1)),
        ("[PMOD", (0, 1)),
        ("[SMOD", (0, 1)),
        ("]→L[", (1, 1)),
        ("]]", (2, 0)),
        (")", (1, 0)),
    ],
)
def test_brackets_of_a_token(text: str, expected: tuple[int, int]) -> None:
    (tok,) = [t for t in tokenize(text) if t.text == text]
    assert brackets(tok) == expected


def test_modular_notation_brackets_balance() -> None:
    """`[MOD n]` opens one bracket that its `]` closes (issue 19: it counted as none, so the
    `]` cut binder groups wrongly and every probe of such a statement was blind)."""
    depth = 0
    for tok in tokenize("a ≡ b [ZMOD n] ∧ c ≡ d [MOD (n + 1)] ∧ x ≡ y [PMOD p] ∧ u ≡ v [SMOD q]"):
        closes, opens = brackets(tok)
        depth -= closes
        assert depth >= 0
        depth += opens
    assert depth == 0
