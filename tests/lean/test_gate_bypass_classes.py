"""The bypass classes of issue 21's second red team, closed as classes (gatefix): for each,
the attacks that share its root cause are refused, and the legitimate form next to them is
still admitted (the public corpora use it). The red team's own examples are in
redteam_candidates.json (``bypass-gate-*``, ``bypass-gatefix-*``)."""

from __future__ import annotations

import pytest

from formalize.lean.statement import check_statement

EVIL = "def evil (n : ℕ) : Bool := n == 5\n"
T = "\ntheorem t : True := by sorry"


def _block(body: str, goal: str = "evil 5 = true") -> str:
    """A definition proved by the tactic block ``body`` (lines already indented)."""
    return EVIL + f"def p : {goal} := by\n{body}" + T


# (what, candidate, a fragment of the reason)
REFUSED = [
    # 1. tactics right of `=>` in a term tactic's arguments (Lean's `introMatch` and friends)
    ("intro alternatives", _block("  intro | _ => decide +native", "ℕ → evil 5 = true"), "`=>`"),
    ("have alternatives", _block("  have f : ℕ → ℕ\n    | _ => decide +native\n  rfl"), "`=>`"),
    ("in a (…) block", _block("  (intro | _ => decide +native)", "ℕ → evil 5 = true"), "`=>`"),
    ("after try", _block("  try intro | _ => decide +native", "ℕ → evil 5 = true"), "`=>`"),
    ("first after args", _block("  intro x <|> decide +native", "ℕ → evil 5 = true"), "`<|>`"),
    ("says", _block("  exact rfl says decide +native"), "`says`"),
    # 3. a keyword that continues a term, left of the block: the next line is a tactic
    *(
        (
            f"`{kw}` left of the block",
            _block(f"    have h : {ty} := {head}\n  {kw} {tail}\n    decide +native"),
            "`+`",
        )
        for kw, ty, head, tail in [
            ("then", "ℕ", "if True", "1 else 2"),
            ("else", "ℕ", "if True then 1", "2"),
            ("from", "True", "show True", "trivial"),
            ("by", "True", "show True", "trivial"),
            ("with", "ℕ", "match 1", "| _ => 2"),
        ]
    ),
    # 3'. a clause after a `let rec` inside a block (`letRecDecl` ends in Termination.suffix):
    # the block goes on after it, so the clause may not end it
    (
        "let rec … decreasing_by",
        _block(
            "  let rec f (n : ℕ) : ℕ := n\n  decreasing_by\n    all_goals decide\n  decide +native"
        ),
        "`+`",
    ),
    (
        "let rec … termination_by",
        _block(
            "  have : True := by\n    let rec f (n : ℕ) : ℕ := n\n    termination_by n\n"
            "    trivial\n  decide +native"
        ),
        "`+`",
    ),
    # 4'. configuration, which can hold tactics, after any term tactic
    ("convert (config := …)", _block("  convert (config := {}) rfl"), "configuration"),
    ("+opt after a term tactic", _block("  rcases +native h"), "configuration"),
    # 2. notation atoms the gate reads as structure (brackets, separators)
    ("a later atom closing", 'notation "⧫" x ")" => x' + T, "closes a bracket"),
    ("a first atom opening", 'notation "⧫(" x => x' + T, "never closes"),
    ("an infix atom opening", 'infixl:65 " ⧫( " => Nat.add' + T, "never closes"),
    ("mismatched kinds", 'notation "⧫(" x "]" => x' + T, "closes a bracket"),
    ("a later `;`", 'notation "⧫" x ";" => x' + T, "redefines an existing Lean token"),
    ("a later `=>`", 'notation "⧫" x "=>" y => x + y' + T, "redefines an existing Lean token"),
    # 5. a `sorry` placeholder used without its name
    ("@[simp] sorry", "@[simp] abbrev bad : (1 : ℕ) = 2 := sorry" + T, "given attributes"),
    ("sorry instance", "instance bad : Fact ((1 : ℕ) = 2) := sorry" + T, "an instance"),
    ("local sorry instance", "local instance : Fact ((1 : ℕ) = 2) := sorry" + T, "an instance"),
    # 6. `#` before a word a newer library could make a command
    ("#newsearch", "theorem t (s : Finset ℕ) : #newsearch = s.card := sorry", "#newsearch"),
    ("#ns", "theorem t (s : Finset ℕ) (ns : Finset ℕ) : #ns = s.card := sorry", "`#ns`"),
]

ADMITTED = [
    ("fun in exact", _block("  exact (fun _ => rfl) 0")),
    ("match in exact", _block("  exact match 1 with\n    | _ => rfl")),
    ("fun on the next line", _block("  refine fun n =>\n    ?_\n  decide", "ℕ → evil 5 = true")),
    (
        "a structure instance field after a block",
        "def q : ℕ × ℕ := { fst := by exact 1\n  snd := 2 }" + T,
    ),
    (
        "a term-mode have after a block",
        "def q : ℕ :=\n  have h : True := by\n    trivial\n  have g : True := trivial\n  3" + T,
    ),
    (
        "balanced notation atoms",
        'local notation "⌊⌊(" n ")" => n + 1\ntheorem t : ⌊⌊( 1 ) = 2 := sorry',
    ),
    ("a comma atom", 'notation "⟪⟪" x ", " y "⟫⟫" => x + y\ntheorem t : ⟪⟪ 1, 2 ⟫⟫ = 3 := sorry'),
    (
        "termination_by after a body",
        "def f (n : ℕ) : ℕ := if n = 0 then 0 else f (n - 1)\n"
        "termination_by n\ndecreasing_by omega" + T,
    ),
    ("a negation after change", "def p (x : ℤ) : -x = -x := by\n  change -x = -x\n  rfl" + T),
    (
        "cardinality",
        "theorem t (S : Finset ℕ) (A₁ : Finset ℕ) : #S = #A₁ ∧ #S.powerset = #S := sorry",
    ),
    ("an answer placeholder", "abbrev answer : ℕ := sorry\ntheorem t : answer = 3 := sorry"),
    # `says` is a keyword of the token table like `at`: inside a name it is no token
    ("says inside a name", "theorem t (hsays h_says : ℕ) : hsays = h_says := sorry"),
]


@pytest.mark.parametrize(("what", "text", "fragment"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused(what: str, text: str, fragment: str) -> None:
    report = check_statement(text)
    assert not report.ok, what
    assert fragment in (report.reason or ""), report.reason


@pytest.mark.parametrize(("what", "text"), ADMITTED, ids=[a[0] for a in ADMITTED])
def test_admitted(what: str, text: str) -> None:
    report = check_statement(text)
    assert report.ok, report.reason


def test_every_instance_is_reported() -> None:
    """A local instance changes what notation means in the statement: the judges are told."""
    report = check_statement("section\nlocal instance : Inhabited ℕ := ⟨0⟩" + T + "\nend")
    assert report.ok and any("local instance" in e for e in report.global_effects)
