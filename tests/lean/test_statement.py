"""The statement gate on hostile and benign candidates, on real datasets, and the header split."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from gate_work import SCANNERS, assert_linear, gate_steps, nested_braces, repeat, scanner_modules
from hostile_candidates import BENIGN, HOSTILE

from formalize.cli.check import complete_statement
from formalize.lean.headers import prepare_header
from formalize.lean.statement import (
    DEFAULT_MAX_LENGTH,
    LexError,
    SafetyReport,
    body_line_offset,
    check_statement,
    normalize_statement,
    split_header,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
T = "theorem t (n : ℕ) : n + 0 = n := by sorry"


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/ is only beside the repo on project machines)")
    return path


def test_corpus_sizes() -> None:
    assert len(HOSTILE) >= 40 and len(BENIGN) >= 15


@pytest.mark.parametrize(("what", "candidate", "fragment"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_candidates_are_rejected_with_what_and_where(
    what: str, candidate: str, fragment: str
) -> None:
    report = check_statement(candidate)
    assert not report.ok, what
    assert report.reason is not None and fragment in report.reason, report.reason


@pytest.mark.parametrize(("what", "candidate"), BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_candidates_pass(what: str, candidate: str) -> None:
    report = check_statement(candidate)
    assert report.ok, report.reason
    assert report.reason is None


def test_report_names_the_declaration_and_gives_the_text_to_send() -> None:
    report = check_statement(T)
    assert report == SafetyReport(True, None, "t", "theorem")
    assert report.text == T
    assert check_statement("lemma foo.bar : True := sorry").name == "foo.bar"
    example = check_statement("example : True := by sorry")
    assert (example.ok, example.name, example.kind) == (True, None, "example")
    # known even when the candidate is refused
    refused = check_statement("#eval 1\ntheorem t : True := by sorry")
    assert (refused.ok, refused.name, refused.kind) == (False, "t", "theorem")


def test_lean_receives_the_text_the_gate_judged() -> None:
    """Comments (doc comments too) are blanked to spaces, lines and columns kept; CRLF is LF;
    the dropped `@[ext]` of a structure is gone; nothing else changes."""
    text = "/-- doc -/\r\ntheorem t -- note #eval\r\n  : True := /- x -/ sorry"
    report = check_statement(text)
    assert report.ok and report.text is not None
    blank = " " * len("-- note #eval")
    assert report.text == f"{' ' * 10}\ntheorem t {blank}\n  : True := {' ' * 7} sorry"
    assert len(report.text.split("\n")) == 3
    ext = check_statement("@[ext] structure S where\n  a : ℕ\n" + T)
    assert ext.text is not None and ext.text.startswith("       structure S")


def test_report_lists_declarations_scopes_signature_and_global_effects() -> None:
    text = (
        "namespace P\nabbrev ans : ℕ := 3\ninstance : Inhabited (Fin 2) := ⟨0⟩\n"
        "theorem p (x : ℕ) {y : ℕ} [h : Fact (x = y)] (hx : x = ans) : x + y = 6 := sorry"
    )
    report = check_statement(text)
    assert report.ok, report.reason
    assert [(d.kind, d.name, d.main) for d in report.declarations] == [
        ("abbrev", "ans", False),
        ("instance", None, False),
        ("theorem", "p", True),
    ]
    assert report.open_scopes == ("end P",)
    assert report.signature is not None
    assert report.signature.binders == (
        "(x : ℕ)",
        "{y : ℕ}",
        "[h : Fact (x = y)]",
        "(hx : x = ans)",
    )
    assert report.signature.conclusion == "x + y = 6"
    assert report.global_effects == ("instance at line 3",)
    assert check_statement(T).global_effects == ()


def test_command_words_inside_identifiers() -> None:
    """Read from inside an identifier after a parse error, a declaration keyword is harmless
    (`hdef`), so is `open` (`IsClopen`); scope and global commands make the candidate one to
    check alone (`append` holds `end`); code-running ones are refused (`xset_option`)."""
    ok = "theorem t (hdef : True) (X : Set ℝ) (h : IsClopen X) : True := sorry"
    assert check_statement(ok).ok
    report = check_statement("theorem t (l : List ℕ) : l.append [] = l := sorry")
    assert report.ok and report.global_effects == ("`end` inside an identifier at line 1",)
    for bad in ["(xset_option : ℕ) : True", "(h : True) : hmacro"]:
        reason = check_statement(f"theorem t {bad} := sorry").reason
        assert "inside an identifier" in (reason or ""), bad
    # a single dot makes Lean read a raw identifier: `x.end` is no keyword there
    assert check_statement("theorem t (x : ℕ × ℕ) : x.fst.succ = x.1.succ := sorry").ok


def test_report_invariant() -> None:
    with pytest.raises(ValueError):
        SafetyReport(True, "why", None, None)
    with pytest.raises(ValueError):
        SafetyReport(False, None, None, None)


def test_proof_forms() -> None:
    for proof in ["sorry", "by sorry", "by\n  sorry", "by\n\n    sorry -- later", "\n  sorry"]:
        assert check_statement(f"theorem t : True := {proof}").ok, proof
    for proof in ["by simp", "by sorry; simp", "(sorry)", "by exact sorry", "", "sorry sorry"]:
        assert not check_statement(f"theorem t : True := {proof}").ok, proof


def test_options_are_allow_listed_and_bounded() -> None:
    assert check_statement(f"set_option synthInstance.maxHeartbeats 20000 in\n{T}").ok
    zero = check_statement(f"set_option synthInstance.maxHeartbeats 0 in\n{T}")
    assert not zero.ok and "from 1 to 400000" in (zero.reason or "")
    assert check_statement(f"set_option maxHeartbeats 400000 in\n{T}").ok
    assert check_statement(f"set_option maxHeartbeats 400_000 in\n{T}").ok
    assert not check_statement(f"set_option maxHeartbeats 400001 in\n{T}").ok
    narrow = check_statement(f"set_option maxRecDepth 10 in\n{T}", allowed_options=frozenset())
    assert not narrow.ok and "maxRecDepth" in (narrow.reason or "")
    widened = frozenset({"pp.all", "autoImplicit"})
    assert check_statement(f"set_option pp.all true in\n{T}", allowed_options=widened).ok
    # whatever the allow-list says, a statement cannot turn auto-bound implicits on
    auto = check_statement(f"set_option autoImplicit true in\n{T}", allowed_options=widened)
    assert not auto.ok and "the checker sets it" in (auto.reason or "")


def test_imports_and_length_are_configurable() -> None:
    assert check_statement("import Foo.Bar\n" + T, allowed_import_roots=frozenset({"Foo"})).ok
    long = T + " -- " + "x" * DEFAULT_MAX_LENGTH
    assert not check_statement(long).ok
    assert check_statement(long, max_length=2 * DEFAULT_MAX_LENGTH).ok


def test_deny_list_matches_tokens_not_text() -> None:
    # the same words inside comments and longer identifiers are harmless
    assert check_statement("theorem t (h_def : True) (cmd_run : ℕ) : True := by sorry").ok
    assert check_statement("theorem t : True := by sorry -- #eval run_cmd IO").ok
    assert check_statement("theorem t (IOx : ℕ) (hIO : IOx = 1) : True := by sorry").ok
    # ...and nothing hides behind escaping or dotting
    assert not check_statement("theorem t : Nat.«IO» = 1 := by sorry").ok
    assert not check_statement("theorem t : Foo.unsafeIO = 1 := by sorry").ok


# --------------------------------------------------------------------------- benchmark files

#: Every reference statement the gate refuses in the four shared translation files, with why
#: (listed in docs/security.md).
REMAINING = {
    "Imo1994P5": "axioms are not allowed",
    "Usa2023P4": "the proof must be `sorry` or `by sorry`",
    "Usa2023P5": "the proof must be `sorry` or `by sorry`",
    "Russia1998P42": "redefines an existing Lean token",
    "Imo2010P3": "reads as `ℤ > 0` without the notation",
    "exercise_2_4": "binder default value",
    "exercise_4_11": "binder default value",
}


def reference_rows(name: str) -> list[tuple[str, str, str | None]]:
    """(name, statement, header) of a shared translation file, the statement with a sorry
    proof where the file stops at `:= by` (what `formalize check` does with such rows)."""
    rows = []
    for line in shared_file("data", "translation", f"{name}.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if "lean4_file" in row:
            rows.append((row["name"], row["lean4_file"], None))
        else:
            rows.append((row["name"], complete_statement(row["formal_statement"]), row["header"]))
    return rows


@pytest.mark.parametrize("name", ["minif2f", "proofnet", "putnambench", "mobench"])
def test_reference_statements_refused_at_most_two_percent(name: str) -> None:
    rows = reference_rows(name)
    refused = []
    for row_name, statement, header in rows:
        report = check_statement(statement)
        reason = report.reason
        if report.ok and header:
            reason = prepare_header(header, check_statement).rejection
        if reason is not None:
            refused.append((row_name, reason))
    print(f"{name}: {len(refused)}/{len(rows)} refused")
    assert len(refused) <= 0.02 * len(rows), refused
    for row_name, reason in refused:
        assert row_name in REMAINING and REMAINING[row_name] in reason, (row_name, reason)


def test_minif2f_names_and_headers() -> None:
    for row_name, statement, header in reference_rows("minif2f"):
        report = check_statement(statement)
        assert report.ok and report.name == row_name
        assert header is not None
        prepared = prepare_header(header, check_statement)
        assert prepared.rejection is None
        assert prepared.dropped in ((), ("set_option maxHeartbeats 0",))


# --------------------------------------------------------------------------- split_header


def test_split_header_normalises_imports() -> None:
    text = (
        "import Mathlib\nimport  Aesop  -- tactics\nimport Mathlib\n\n"
        + "theorem t : True := by sorry\n"
    )
    header, body = split_header(text)
    assert header == "import Mathlib\nimport Aesop"
    assert body == "\ntheorem t : True := by sorry\n"
    assert body_line_offset(text) == 3


def test_split_header_is_not_fooled_by_comments() -> None:
    text = (
        "/- import Evil -/\n-- import Evil2\nimport /- c -/ Mathlib /- x\n import Fake -/\n"
        "/-\nimport Nope\n-/\ntheorem t : True := by sorry"
    )
    header, body = split_header(text)
    assert header == "import Mathlib"
    assert body.startswith("/-\nimport Nope\n-/\ntheorem t")
    offset = body_line_offset(text)
    assert text.split("\n")[offset:] == body.split("\n")


def test_split_header_without_imports_and_with_code_on_the_import_line() -> None:
    assert split_header(T) == ("", T)
    assert body_line_offset(T) == 0
    text = "import Mathlib theorem t : True := by sorry"
    header, body = split_header(text)
    assert header == "import Mathlib"
    assert body == " " * len("import Mathlib ") + "theorem t : True := by sorry"
    assert body_line_offset(text) == 0


def test_split_header_stops_at_the_first_non_import() -> None:
    text = "import Mathlib\nopen Real\nimport Aesop\ntheorem t : True := by sorry"
    header, body = split_header(text)
    assert header == "import Mathlib"
    assert body == "open Real\nimport Aesop\ntheorem t : True := by sorry"
    assert not check_statement(text).ok


def test_split_header_positions_map_back() -> None:
    text = "import Mathlib\n\nimport Aesop\n\n\ntheorem t (x : ℕ) :\n  x = x := by sorry"
    _, body = split_header(text)
    offset = body_line_offset(text)
    body_lines, text_lines = body.split("\n"), text.split("\n")
    for k, line in enumerate(body_lines):
        assert text_lines[offset + k] == line


def test_split_header_raises_on_text_lean_cannot_lex() -> None:
    with pytest.raises(LexError):
        split_header("import Mathlib\n/- unterminated")


@pytest.mark.parametrize(
    "body",
    [repeat("|\n"), repeat("∀ "), repeat("∀ x : "), nested_braces, repeat("{x | ")],
    ids=["bars", "foralls", "typed-foralls", "braces", "set-builders"],
)
def test_pathological_inputs_stay_linear(
    body: Callable[[int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate and the normal form stay (near) linear on adversarial text up to the maximum
    size: twice the text, at most GROWTH times the steps (counted, not timed; see gate_work)."""

    def work(size: int) -> int:
        text = ("theorem t : " + body(size))[: size - 20] + " := by sorry"
        return gate_steps(monkeypatch, lambda: (check_statement(text), normalize_statement(text)))

    assert_linear(work, DEFAULT_MAX_LENGTH)


def test_the_work_measure_counts_every_scanner() -> None:
    assert scanner_modules() == {module.__name__ for module in SCANNERS}
