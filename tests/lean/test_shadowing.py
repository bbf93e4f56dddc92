"""Names a candidate could give another meaning (the last red team's gap of issue 21).

Inside ``namespace Foo``, Lean resolves ``Nat.Prime`` and ``Real`` to ``Foo.Nat.Prime`` and
``Foo.Real`` before the library's constants (``ResolveName.resolveGlobalName`` tries the
current namespace and its prefixes first: read in Lean's sources, not run here), so
``namespace Foo / def Nat.Prime (n : ℕ) : Prop := True / theorem t : Nat.Prime 4`` states
something else than it reads. The gate cannot know the library's names: it reports every
declaration that can shadow one (``SafetyReport.shadowing``), and file mode, whose wrapper
namespace would do the same to a dotted name at the top, checks those candidates alone at the
root, where Lean answers as the REPL does. ``open … renaming`` makes a name stand for another
constant: refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lean_fakes import fake_config

from formalize.lean import LeanChecker
from formalize.lean.filemode import FileBackend
from formalize.lean.pool import Job
from formalize.lean.statement import check_statement, split_header

SHADOWING = {
    "dotted in a namespace": "namespace Foo\ndef Nat.Prime (n : ℕ) : Prop := True\n"
    "theorem t : Nat.Prime 4 := sorry\nend Foo",
    "plain in a namespace": "namespace Foo\nabbrev Real := ℕ\ntheorem t : (2 : Real) = 2 := sorry",
    "function in a namespace": "namespace Foo\nnoncomputable def Real.sqrt (x : ℝ) : ℝ := 0\n"
    "theorem t : Real.sqrt 4 = 2 := sorry\nend Foo",
    "nested namespaces": "namespace A.B\ndef Prime (n : ℕ) : Prop := n = 2\n"
    "theorem t : Prime 2 := sorry\nend A.B",
    "namespace inside a section": "section\nnamespace Foo\nprivate def Prime (n : ℕ) : Prop :="
    " True\ntheorem t : Prime 4 := sorry\nend Foo\nend",
    "structure in a namespace": "namespace Foo\nstructure Real where\n  x : ℕ\n"
    "theorem t (r : Real) : r.x = r.x := sorry",
    "inductive in a namespace": "namespace Foo\ninductive Bool where\n  | yes\n  | no\n"
    "theorem t : Bool.yes ≠ Bool.no := sorry",
    "named instance in a namespace": "namespace Foo\ninstance Nat.instAdd : Add ℕ := ⟨Nat.mul⟩\n"
    "theorem t : 2 + 3 = 6 := sorry",
    "dotted at the top": "def Nat.Prime (n : ℕ) : Prop := True\ntheorem t : Nat.Prime 4 := sorry",
    "_root_ in a namespace": "namespace E\ndef _root_.Nat.foo (n : ℕ) : ℕ := n\n"
    "theorem t : Nat.foo 1 = 1 := sorry\nend E",
    "_root_ theorem": "theorem _root_.t : True := sorry",
    # elaborated inside `Nat` (`expandDeclNamespace?`): `succ` there is `Nat.succ` (red team)
    "a dotted theorem name": "theorem Nat.t (n : ℕ) (h : succ n = 0) : n = 5 := sorry",
    "a dotted theorem in a namespace": "namespace Foo\ntheorem Nat.Prime.t : True := sorry",
}
NOT_SHADOWING = {
    "plain at the top": "def f (n : ℕ) : ℕ := n\ntheorem t : f 4 = 4 := sorry",
    "answer at the top": "abbrev putnam_x_solution : ℕ := sorry\n"
    "theorem putnam_x : putnam_x_solution = 3 := sorry",
    "a section only": "section S\ndef g : ℕ := 2\ntheorem t : g = 2 := sorry\nend S",
}


@pytest.mark.parametrize("text", SHADOWING.values(), ids=SHADOWING.keys())
def test_declarations_that_can_shadow_a_library_name_are_reported(text: str) -> None:
    report = check_statement(text)
    assert report.ok, report.reason
    assert report.shadowing, text
    assert report.alone


def test_the_report_names_what_the_name_means_there() -> None:
    report = check_statement(SHADOWING["dotted in a namespace"])
    assert report.shadowing == (
        "`Nat.Prime` declared inside namespace `Foo` at line 2: there `Nat.Prime` means"
        " `Foo.Nat.Prime`, not a library constant of that name",
    )
    nested = check_statement(SHADOWING["nested namespaces"])
    assert "means `A.B.Prime`" in nested.shadowing[0]


@pytest.mark.parametrize("text", NOT_SHADOWING.values(), ids=NOT_SHADOWING.keys())
def test_other_declarations_are_not_reported(text: str) -> None:
    report = check_statement(text)
    assert report.ok, report.reason
    assert report.shadowing == ()


@pytest.mark.parametrize(
    "text",
    [
        "open Real renaming exp → sqrt\ntheorem t : sqrt 0 = 1 := sorry",
        "open Nat renaming pred -> succ\ntheorem t : succ 1 = 0 := sorry",
        "noncomputable def g : ℝ := open Real renaming exp → sqrt in sqrt 0\n"
        "theorem t : g = 1 := sorry",
        "open Real hiding pi renaming exp → sqrt\ntheorem t : sqrt 0 = 1 := sorry",
    ],
)
def test_open_renaming_is_refused(text: str) -> None:
    report = check_statement(text)
    assert not report.ok
    assert "renaming" in (report.reason or "")


@pytest.mark.parametrize(
    "text",
    [
        "open Real hiding pi\ntheorem t : sqrt 0 = 0 := sorry",
        "open Real (sqrt)\ntheorem t : sqrt 0 = 0 := sorry",
        "open scoped BigOperators in\ntheorem t : True := sorry",
    ],
)
def test_other_opens_pass(text: str) -> None:
    assert check_statement(text).ok


def _jobs(texts: list[str], *, alone: bool | None = None) -> list[Job]:
    jobs = []
    for text in texts:
        report = check_statement(text)
        assert report.ok and report.text is not None, report.reason
        _, body = split_header(report.text)
        flag = report.alone if alone is None else alone
        guard = report.guard_names or ()
        jobs.append(Job("import Mathlib", body, report.open_scopes, flag, guard=guard))
    return jobs


def test_file_mode_answers_as_the_repl_does(tmp_path: Path) -> None:
    """The fake's library declares ``Nat.Prime``: declaring it again is Lean's error in the
    REPL (the root) and in file mode (alone, at the root); with the wrapper namespace file mode
    would accept it (the control)."""
    texts = [SHADOWING["dotted in a namespace"], SHADOWING["dotted at the top"]]
    texts.append("theorem innocent (n : ℕ) : n + 0 = n := by sorry")
    with LeanChecker(fake_config(tmp_path / "repl")) as checker:
        repl = [r.ok for r in checker.check(texts)]
    assert repl == [True, False, True]
    config = fake_config(tmp_path / "file", backend="file", file_chunk=64)
    results = FileBackend(config, toolchain="fake").run(_jobs(texts))
    assert [r.ok for r in results] == repl
    assert "already been declared" in results[1].errors()[0].text
    wrapped = FileBackend(config, toolchain="fake").run(_jobs(texts, alone=False))
    assert [r.ok for r in wrapped] == [True, True, True]


@pytest.mark.parametrize(
    "text",
    [
        "def formalize_probe_vacuous_1 : ℕ := 0\ntheorem t (x : ℕ) (h : x < 0) : x = 1 := by sorry",
        "theorem formalize_probe_trivial_1 : 1 = 1 := by sorry",
        "def formalize_ref_f : ℕ := 0\ntheorem t : formalize_ref_f = 0 := by sorry",
        "open FormalizeCheck0\ntheorem t : True := by sorry",
        "universe formalize_u\ntheorem t (α : Type formalize_u) : True := by sorry",
        "namespace Foo\ndef «formalize_probe_x» : ℕ := 0\ntheorem t : True := by sorry",
    ],
)
def test_the_checkers_reserved_names_are_refused(text: str) -> None:
    """Declared first, a probe's name would make the probe "already declared", ill-formed, and
    the filter inconclusive: a candidate could dodge the Lean-verified filters."""
    report = check_statement(text)
    assert not report.ok
    assert "reserved" in (report.reason or "")


def test_reference_statements_may_use_reserved_names() -> None:
    text = "def formalize_ref_f : ℕ := 0\ntheorem t : formalize_ref_f = 0 := by sorry"
    assert check_statement(text, reserved_names=True).ok


def test_problem_ids_never_make_a_reserved_theorem_name() -> None:
    from formalize.translate import theorem_name

    assert theorem_name("probe_vacuous_1") == "formalize_problem_probe_vacuous_1"
    assert theorem_name("ref-2") == "formalize_problem_ref_2"
    assert theorem_name("mathd_algebra_478") == "formalize_mathd_algebra_478"


@pytest.mark.parametrize(
    "text",
    [
        "namespace E\nopen _root_.WeierstrassCurve\ntheorem t : True := sorry\nend E",
        "theorem t : _root_.Nat.Prime 2 := sorry",
    ],
)
def test_root_names_pass(text: str) -> None:
    assert check_statement(text).ok


@pytest.mark.parametrize(
    "text, reason",
    [
        ("namespace _root_.X\ntheorem t : True := sorry", "is no name"),
        ("theorem t : _root_ = 1 := sorry", "refers to `_root_`"),
        ("theorem t : Nat._root_.x = 1 := sorry", "refers to `_root_`"),
        ("theorem t : _root_.Lean.Elab.x = 1 := sorry", "refers to `Lean`"),
        ("def _root_.formalize_probe_x : ℕ := 1\ntheorem t : True := sorry", "reserved"),
    ],
)
def test_root_elsewhere_is_refused(text: str, reason: str) -> None:
    report = check_statement(text)
    assert not report.ok and reason in (report.reason or ""), report.reason


def test_root_declarations_in_one_file_do_not_meet(tmp_path: Path) -> None:
    """Two candidates declaring ``_root_.t``: each alone (else the second is "already
    declared" in file mode and not in the REPL)."""
    texts = [SHADOWING["_root_ theorem"], SHADOWING["_root_ theorem"] + "\n"]
    config = fake_config(tmp_path, backend="file", file_chunk=64)
    assert [r.ok for r in FileBackend(config, toolchain="fake").run(_jobs(texts))] == [True, True]
    together = FileBackend(config, toolchain="fake").run(_jobs(texts, alone=False))
    assert [r.ok for r in together] == [True, False]


ONE_LETTER = {
    "ASCII": 'local notation "F" => (5 : ℕ)\ntheorem t : F = 5 := sorry',
    "applied": 'local notation "R" => Nat.succ\ntheorem t : R 3 = 4 := sorry',
    "double-struck": 'notation "𝕋" => ℕ\ntheorem t (x : 𝕋) : x = x := sorry',
    "Greek": 'local notation "Φ" => (2 : ℝ)\ntheorem t : Φ = 2 := sorry',
    "subscript": 'local notation "G₂" => (2 : ℕ)\ntheorem t : G₂ = 2 := sorry',
    "longer names stay names": 'local notation "F" => (5 : ℕ)\n'
    "theorem t (F₁ Foo : ℕ) (h : F₁ = Foo) : F₁ + F = Foo + 5 := sorry",
}


@pytest.mark.parametrize("text", ONE_LETTER.values(), ids=ONE_LETTER.keys())
def test_one_letter_notation_atoms_pass_reported(text: str) -> None:
    """A one-letter first atom is like a definition of that letter (Lean keeps a longer name
    whole: a token wins only a tie); what it may hide is reported."""
    report = check_statement(text)
    assert report.ok, report.reason
    assert any(s.startswith("notation atom") for s in report.shadowing), report.shadowing


@pytest.mark.parametrize(
    "text, reason",
    [
        ('notation "True" => False\ntheorem t : True := sorry', "never a word"),
        ('notation "Fx" => 1\ntheorem t : Fx = 1 := sorry', "never a word"),
        ('infixl:65 "F" => Nat.add\ntheorem t : 1 F 2 = 3 := sorry', "atoms must be new symbols"),
        ('notation "⧫⧫" "F" => 1\ntheorem t : ⧫⧫ F = 1 := sorry', "atoms must be new symbols"),
        ('def F : ℕ := 1\nlocal notation "F" => (5 : ℕ)\ntheorem t : F = 5 := sorry', "read"),
        ('variable (F : ℕ)\nlocal notation "F" => 5\ntheorem t : F = 5 := sorry', "read"),
        ('section\nlocal notation "F" => 5\nend\ntheorem t : F = 5 := sorry', "read"),
        ('notation "F(" x ")" => x\ntheorem t : F(1) = 1 := sorry', "atoms must be new symbols"),
    ],
)
def test_other_letter_atoms_stay_refused(text: str, reason: str) -> None:
    report = check_statement(text)
    assert not report.ok
    assert reason in (report.reason or ""), report.reason


@pytest.mark.parametrize(
    "text",
    [
        # `é` is an identifier letter only since Lean v4.22, `ⱼ` a subscript only since v4.16:
        # as atoms they would make `éLean.Syntax` one name for the gate and `é` `Lean.Syntax`
        # for Lean v4.15, hiding `Lean` from the forbidden-name check (the red team's bypass)
        'notation "é" x => x\ndef tac : éLean.Syntax := éLean.Syntax.missing\n'
        "theorem t : True := sorry",
        'notation "Gⱼ" => 1\ntheorem t : Gⱼ = 1 := sorry',
        'notation "_" => 1\ntheorem t : True := sorry',
    ],
)
def test_name_atoms_are_letters_in_every_pinned_lean(text: str) -> None:
    assert not check_statement(text).ok


@pytest.mark.parametrize(
    "text",
    [
        # the probes write `(∀ (n : ℕ), …`: `),` would read as the atom there, breaking the
        # probe (inconclusive: the filter dodged); `((` likewise before a conclusion `(…`
        'local notation "⟦(" x ")," y "⟧" => x\ntheorem t (n : ℕ) : n + 1 = n := sorry',
        'local notation "((" x ")" ")" => x\ntheorem t (n : ℕ) (h : n = 1) : (n) = 2 := sorry',
        'local notation "[*" x "]" => x\ntheorem t : True := sorry',
        'local notation "⧫" x "]," => x\ntheorem t : True := sorry',
    ],
)
def test_atoms_that_glue_to_the_probes_text_are_refused(text: str) -> None:
    report = check_statement(text)
    assert not report.ok and "begins with the existing token" in (report.reason or "")


@pytest.mark.parametrize(
    "text",
    [
        'local notation "⌊⌊" n "⌋⌋" => n\ntheorem t : ⌊⌊1⌋⌋ = 1 := sorry',
        'local infixl:50 " <₂ " => fun (a b : ℕ) => a < b\ntheorem t : 1 <₂ 2 := sorry',
        'local notation "⧫" => (1 : ℕ)\ntheorem t (n : ℕ) (h : n = ⧫) : (n) = ⧫ := sorry',
    ],
)
def test_atoms_the_probes_never_write_pass(text: str) -> None:
    assert check_statement(text).ok


PLAIN_TOP = {
    "def": "def Prime (n : ℕ) : Prop := n = n\ntheorem t : Prime 4 := sorry",
    "private def": "private def Prime (n : ℕ) : Prop := n = n\ntheorem t : Prime 4 := sorry",
    "structure": "structure Real where\n  x : ℕ\ntheorem t (r : Real) : r.x = r.x := sorry",
    "theorem": "theorem Nat.succ : True := sorry",
}


@pytest.mark.parametrize("text", PLAIN_TOP.values(), ids=PLAIN_TOP.keys())
def test_file_mode_guards_names_declared_at_the_top(tmp_path: Path, text: str) -> None:
    """`def Prime` at the top: the REPL says "already declared" (the fake's library has
    `Prime`, `Real`, `Nat.succ`); inside file mode's wrapper it would be
    `FormalizeCheck0.Prime`, shadowing the library's, unless a guard asks first."""
    innocent = "theorem innocent (n : ℕ) : n + 0 = n := by sorry"
    texts = [text, innocent]
    with LeanChecker(fake_config(tmp_path / "repl")) as checker:
        repl = [r.ok for r in checker.check(texts)]
    assert repl == [False, True]
    config = fake_config(tmp_path / "file", backend="file", file_chunk=64)
    jobs = _jobs(texts)
    assert (jobs[0].guard and not jobs[0].alone) or "Nat.succ" in text
    results = FileBackend(config, toolchain="fake").run(jobs)
    assert [r.ok for r in results] == repl, results[0]
    unguarded = [dataclasses.replace(job, guard=(), alone=False) for job in jobs]
    assert [r.ok for r in FileBackend(config, toolchain="fake").run(unguarded)] == [True, True]


def test_a_candidate_entering_a_namespace_is_checked_at_the_root(tmp_path: Path) -> None:
    """Inside file mode's wrapper, `namespace Real` is `FormalizeCheck0.Real`: `sqrt` would be
    the candidate's own `def sqrt`, where the REPL reads `Real.sqrt` (red team)."""
    text = "def sqrt (x : ℝ) : ℝ := x\nnamespace Real\ntheorem t : sqrt 4 = 4 := sorry\nend Real"
    report = check_statement(text)
    assert report.ok and report.namespaced and report.alone
    assert not check_statement("def f : ℕ := 1\ntheorem t : f = 1 := sorry").alone


def test_a_dotted_theorem_is_probed_inside_its_namespace() -> None:
    """Restated at the root, `theorem Nat.t … (h : succ n = 0)` left `succ` unresolved in every
    probe (all filters inconclusive), and `theorem g.main : Prime 5` (with a `where` part
    `g.Prime`) was refuted about the library's `Prime`: each probe theorem is named in the
    statement's namespace now, and the reference filter does not compare it."""
    from formalize.filters import probe_texts

    text = SHADOWING["a dotted theorem name"]
    for name in ("vacuous", "refuted", "trivial"):
        (probe,) = probe_texts(name, text) or []
        assert f"theorem Nat.formalize_probe_{name}_1" in probe.body
    assert probe_texts("reference", text, reference=text) is None
