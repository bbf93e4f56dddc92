"""The statement gate on hostile and benign candidates, on real datasets, and the header split."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hostile_candidates import BENIGN, HOSTILE

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


def with_sorry(formal_statement: str) -> str:
    """A dataset's ``formal_statement`` (ending in ``:= by`` or ``:=``) with a sorry proof."""
    text = formal_statement.rstrip()
    return text + (" sorry" if text.endswith("by") else " by sorry")


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


def test_report_names_the_declaration() -> None:
    assert check_statement(T) == SafetyReport(True, None, "t", "theorem")
    assert check_statement("lemma foo.bar : True := sorry").name == "foo.bar"
    example = check_statement("example : True := by sorry")
    assert (example.ok, example.name, example.kind) == (True, None, "example")
    # known even when the candidate is refused
    refused = check_statement("#eval 1\ntheorem t : True := by sorry")
    assert (refused.ok, refused.name, refused.kind) == (False, "t", "theorem")


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


def test_allowed_options_can_be_widened_but_bounds_stay() -> None:
    extra = frozenset({"synthInstance.maxHeartbeats", "maxHeartbeats"})
    assert check_statement(
        f"set_option synthInstance.maxHeartbeats 20000 in\n{T}", allowed_options=extra
    ).ok
    zero = check_statement(
        f"set_option synthInstance.maxHeartbeats 0 in\n{T}", allowed_options=extra
    )
    assert not zero.ok and "from 1 to 400000" in (zero.reason or "")
    assert not check_statement(f"set_option pp.all true in\n{T}", allowed_options=extra).ok
    assert check_statement(f"set_option maxHeartbeats 400000 in\n{T}").ok
    assert check_statement(f"set_option maxHeartbeats 400_000 in\n{T}").ok
    assert not check_statement(f"set_option maxHeartbeats 400001 in\n{T}").ok
    assert check_statement(f"set_option autoImplicit false\n{T}").ok


def test_allowed_attributes_and_imports_and_length_are_configurable() -> None:
    simp = "@[simp] theorem t (n : ℕ) : n + 0 = n := by sorry"
    assert check_statement(simp).ok
    refused = check_statement(simp, allowed_attributes=frozenset())
    assert not refused.ok and "attribute `simp` at line 1" in (refused.reason or "")
    assert not check_statement("@[simp, norm_cast] " + T).ok
    assert not check_statement("@[simp high] " + T).ok
    assert check_statement("import Foo.Bar\n" + T, allowed_import_roots=frozenset({"Foo"})).ok
    long = T + " -- " + "x" * DEFAULT_MAX_LENGTH
    assert not check_statement(long).ok
    assert check_statement(long, max_length=2 * DEFAULT_MAX_LENGTH).ok


def test_deny_list_matches_tokens_not_text() -> None:
    # the same words inside comments, strings and longer identifiers are harmless
    assert check_statement('theorem t (h_def : "def") (cmd_run : ℕ) : True := by sorry').ok
    assert check_statement("theorem t : True := by sorry -- #eval run_cmd IO").ok
    assert check_statement("theorem t (IOx : ℕ) (hIO : IOx = 1) : True := by sorry").ok
    # ...and nothing hides behind escaping or dotting
    assert not check_statement("theorem t : Nat.«IO» = 1 := by sorry").ok
    assert not check_statement("theorem t : Foo.unsafeIO = 1 := by sorry").ok


def test_header_lines_of_real_datasets() -> None:
    rows = [json.loads(line) for line in shared_file("data", "translation", "minif2f.jsonl").open()]
    header = rows[0]["header"]
    # the dataset header turns the heartbeat limit off: the gate refuses it, with the reason
    report = check_statement(header + with_sorry(rows[0]["formal_statement"]))
    assert not report.ok and "maxHeartbeats 0 at line 4" in (report.reason or "")
    bounded = header.replace("maxHeartbeats 0", "maxHeartbeats 400000")
    failures = [
        (
            r["name"],
            check_statement(bounded + r["informal_prefix"] + with_sorry(r["formal_statement"])),
        )
        for r in rows
    ]
    assert [(n, r.reason) for n, r in failures if not r.ok] == []


def test_minif2f_statements_pass() -> None:
    path = shared_file("data", "translation", "minif2f.jsonl")
    rows = [json.loads(line) for line in path.open()]
    failures = []
    for row in rows:
        report = check_statement(with_sorry(row["formal_statement"]))
        if not report.ok:
            failures.append((row["name"], report.reason))
        else:
            assert report.name == row["name"]
    print(f"minif2f: {len(rows) - len(failures)}/{len(rows)} pass; failures: {failures}")
    assert len(failures) <= 0.02 * len(rows), failures


def test_proofnet_and_putnambench_fail_only_for_known_reasons() -> None:
    """Refusals there are extra declarations (``def``/``abbrev`` beside the theorem) or, once
    each in PutnamBench, a tactic inside a binder and an option outside the allow-list."""
    expected = ("forbidden command `def`", "forbidden command `abbrev`", "tactic block (`by`)")
    expected += ("set_option `synthInstance.maxSize`",)
    rows = [
        (r["name"], with_sorry(r["formal_statement"]))
        for r in map(json.loads, shared_file("data", "translation", "proofnet.jsonl").open())
    ]
    putnam = shared_file("data", "translation", "putnambench.jsonl")
    rows += [(r["name"], r["lean4_file"]) for r in map(json.loads, putnam.open())]
    failures = [(name, check_statement(text).reason) for name, text in rows]
    failures = [(name, reason) for name, reason in failures if reason is not None]
    print(f"proofnet+putnambench: {len(rows) - len(failures)}/{len(rows)} pass")
    unexpected = [(n, r) for n, r in failures if not (r or "").startswith(expected)]
    assert unexpected == []
    assert len(failures) < 0.4 * len(rows)


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
    ["|\n" * 9000, "∀ " * 9000, "∀ x : " * 3000, "{" * 5000 + "}" * 5000, "{x | " * 3000],
    ids=["bars", "foralls", "typed-foralls", "braces", "set-builders"],
)
def test_pathological_inputs_stay_fast(body: str) -> None:
    """The gate and the normal form stay (near) linear on adversarial text of the maximum size."""
    text = ("theorem t : " + body)[: DEFAULT_MAX_LENGTH - 20] + " := by sorry"
    start = time.perf_counter()
    check_statement(text)
    normalize_statement(text)
    assert time.perf_counter() - start < 5.0
