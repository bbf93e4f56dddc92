"""Candidates the statement gate must refuse, and ones it must let through.

``HOSTILE`` rows are (what the candidate tries, candidate, a fragment the gate's reason must
contain: it names what was found and where). ``BENIGN`` rows are (what it shows, candidate).
The benign statements marked miniF2F/ProofNet are copied from DeepSeek-Prover-V1.5's datasets
(MIT licence), with their proof set to ``sorry``.
"""

from __future__ import annotations

T = "theorem t (n : ℕ) : n + 0 = n := by sorry"

HOSTILE: list[tuple[str, str, str]] = [
    # --- commands that run code -------------------------------------------------------------
    (
        "#eval before the theorem",
        '#eval IO.println "hi"\n' + T,
        "forbidden command `#eval` at line 1",
    ),
    ("#eval after the theorem", T + "\n#eval (1 : Nat)", "forbidden command `#eval` at line 2"),
    ("#exit to stop checking early", T + "\n#exit", "forbidden command `#exit` at line 2"),
    (
        "#print axioms probing",
        "#print axioms Nat.add\n" + T,
        "forbidden command `#print` at line 1",
    ),
    ("#check / #reduce look harmless", "#reduce (2 : Nat)\n" + T, "forbidden command `#reduce`"),
    ("#eval! variant", "#eval! 1\n" + T, "forbidden command `#eval!` at line 1"),
    ("run_cmd runs CommandElabM", 'run_cmd Lean.logInfo "x"\n' + T, "forbidden command `run_cmd`"),
    ("run_elab", "run_elab pure ()\n" + T, "forbidden command `run_elab` at line 1"),
    ("run_meta", "run_meta pure ()\n" + T, "forbidden command `run_meta` at line 1"),
    (
        "test_extern compiles and evaluates a term",
        "theorem t : True := by sorry\ntest_extern Nat.add 1 2",
        "forbidden command `test_extern` at line 2",
    ),
    (
        "unknown command keyword ending the type early",
        "theorem t : True count_heartbeats in\n#check 1 := by sorry",
        "forbidden command `count_heartbeats` at line 1",
    ),
    # --- metaprogramming definitions ----------------------------------------------------------
    (
        "macro defines syntax",
        'macro "foo" : term => pure (Lean.mkNatLit 1)\n' + T,
        "forbidden command `macro`",
    ),
    ("macro_rules", "macro_rules | _ => pure default\n" + T, "forbidden command `macro_rules`"),
    (
        "syntax + elab",
        'syntax "foo" : term\nelab "foo" : term => pure default\n' + T,
        "`syntax` at line 1",
    ),
    ("elab_rules", "elab_rules : term | _ => pure default\n" + T, "forbidden command `elab_rules`"),
    (
        "notation rebinding a symbol",
        'notation "ℕ" => Int\n' + T,
        "forbidden command `notation` at line 1",
    ),
    (
        "infixl redefining +",
        'infixl:65 " + " => HSub.hSub\n' + T,
        "forbidden command `infixl` at line 1",
    ),
    (
        "prefix / postfix",
        'postfix:max "!!" => Nat.succ\n' + T,
        "forbidden command `postfix` at line 1",
    ),
    (
        "initialize runs at load",
        'initialize IO.println "x"\n' + T,
        "forbidden command `initialize`",
    ),
    (
        "builtin_initialize",
        "builtin_initialize pure ()\n" + T,
        "forbidden command `builtin_initialize`",
    ),
    # --- extra declarations and kernel bypasses -----------------------------------------------
    (
        "axiom to prove anything later",
        "axiom cheat : False\n" + T,
        "forbidden command `axiom` at line 1",
    ),
    ("opaque", "opaque secret : Nat\n" + T, "forbidden command `opaque` at line 1"),
    ("helper def", "def helper : ℕ := 1\n" + T, "forbidden command `def` at line 1"),
    ("instance", "instance : Inhabited ℕ := ⟨0⟩\n" + T, "forbidden command `instance` at line 1"),
    ("abbrev", "abbrev N := ℕ\n" + T, "forbidden command `abbrev` at line 1"),
    ("inductive", "inductive Foo | a\n" + T, "forbidden command `inductive` at line 1"),
    ("unsafe def", "unsafe def f : Nat := 1\n" + T, "forbidden modifier `unsafe` at line 1"),
    (
        "unsafe term",
        "theorem t : (unsafe (1 : Nat)) = 1 := by sorry",
        "forbidden modifier `unsafe`",
    ),
    (
        "@[implemented_by] swaps in other code",
        "@[implemented_by id] theorem t : True := by sorry",
        "forbidden name `implemented_by` at line 1",
    ),
    (
        '@[extern "c"]',
        '@[extern "c_fn"] theorem t : True := by sorry',
        "forbidden name `extern` at line 1",
    ),
    (
        "@[init] runs code at import",
        "@[init] theorem t : True := by sorry",
        "attribute `init` at line 1",
    ),
    (
        "@[csimp] replaces code",
        "@[csimp] theorem t : True := by sorry",
        "attribute `csimp` at line 1",
    ),
    (
        "attribute command",
        "attribute [simp] Nat.add_comm\n" + T,
        "forbidden command `attribute` at line 1",
    ),
    (
        "Lean.ofReduceBool kernel bypass",
        "theorem t : Lean.ofReduceBool true = true := by sorry",
        "`Lean.ofReduceBool` at line 1",
    ),
    (
        "native_decide proof",
        "theorem t : 2 + 2 = 4 := by native_decide",
        "forbidden tactic `native_decide` at line 1",
    ),
    (
        "run_tac in the proof",
        "theorem t : True := by run_tac pure ()",
        "forbidden tactic `run_tac` at line 1",
    ),
    (
        "by_elab",
        "theorem t : (by_elab pure default) = 1 := by sorry",
        "forbidden tactic `by_elab` at line 1",
    ),
    (
        "sorryAx in the type",
        "theorem t : sorryAx Prop := by sorry",
        "forbidden name `sorryAx` at line 1",
    ),
    # --- IO and the meta API ------------------------------------------------------------------
    (
        "IO reference",
        'theorem t : IO.println "x" = IO.println "x" := by sorry',
        "forbidden name `IO.println` at line 1",
    ),
    (
        "unsafeIO",
        "theorem t : (unsafeIO (pure 1)).isOk := by sorry",
        "forbidden name `unsafeIO` at line 1",
    ),
    (
        "unsafeBaseIO",
        "theorem t : unsafeBaseIO (pure 1) = 1 := by sorry",
        "forbidden name `unsafeBaseIO`",
    ),
    (
        "System.FilePath",
        'theorem t : (System.FilePath.mk "/") = "/" := by sorry',
        "forbidden name `System.FilePath.mk`",
    ),
    (
        "Lean.Elab via open",
        "open Lean Elab in\ntheorem t : True := by sorry",
        "forbidden name `Lean` at line 1",
    ),
    ("Meta via namespace", "namespace Lean.Meta\n" + T, "forbidden name `Lean.Meta` at line 1"),
    (
        "«IO» escaped name part",
        "theorem t : «IO».println = «IO».println := by sorry",
        "forbidden name `«IO».println`",
    ),
    ("«run_cmd» escaped keyword", "«run_cmd» 1\n" + T, "forbidden name `«run_cmd»` at line 1"),
    (
        "«#eval» escaped",
        "theorem t : «#eval» = 1 := by sorry",
        "forbidden name `«#eval»` at line 1",
    ),
    # --- imports ------------------------------------------------------------------------------
    (
        "import in the middle",
        T + "\nimport Mathlib",
        "`import` at line 2: imports are only allowed at the top",
    ),
    ("import of Lean internals", "import Lean.Elab.Command\n" + T, "`Lean.Elab.Command` at line 1"),
    ("import of an unknown root", "import Evil\n" + T, "import of `Evil` at line 1 is not allowed"),
    ("import with an escaped name", "import «Mathlib»\n" + T, "malformed `import` at line 1"),
    # --- options ------------------------------------------------------------------------------
    (
        "maxHeartbeats 0 disables the limit",
        "set_option maxHeartbeats 0\n" + T,
        "maxHeartbeats 0 at line 1",
    ),
    ("maxHeartbeats 0 ... in", "set_option maxHeartbeats 0 in\n" + T, "maxHeartbeats 0 at line 1"),
    (
        "maxHeartbeats too large",
        "set_option maxHeartbeats 4000000 in\n" + T,
        "maxHeartbeats 4000000 at line 1",
    ),
    (
        "maxRecDepth huge",
        "set_option maxRecDepth 100000000\n" + T,
        "maxRecDepth 100000000 at line 1",
    ),
    (
        "skip the kernel",
        "set_option debug.skipKernelTC true\n" + T,
        "`debug.skipKernelTC` at line 1 is not allowed",
    ),
    (
        "term-level set_option inside the type",
        "theorem t : (set_option maxHeartbeats 0 in 1 = 1) := by sorry",
        "maxHeartbeats 0 at line 1",
    ),
    ("option value as a string", 'set_option pp.all "true"\n' + T, 'pp.all "true" at line 1'),
    # --- sorry and tactics in the statement ---------------------------------------------------
    (
        "sorry in the type",
        "theorem t : (sorry : Prop) := by sorry",
        "`sorry` in the statement at line 1",
    ),
    (
        "admit in a binder",
        "theorem t (h : admit) : True := by sorry",
        "`admit` in the statement at line 1",
    ),
    (
        "tactic block in the type",
        "theorem t : (by exact True) := by sorry",
        "tactic block (`by`) in the statement at line 1",
    ),
    (
        "native_decide in an auto-param",
        "theorem t (h : 2 + 2 = 4 := by native_decide) : True := by sorry",
        "forbidden tactic `native_decide` at line 1",
    ),
    (
        "tactic in variable",
        "variable (h : 1 = 1 := by rfl)\n" + T,
        "tactic block (`by`) in the statement at line 1",
    ),
    (
        "proof is not sorry",
        "theorem t : 1 = 1 := by rfl",
        "the proof must be `sorry` or `by sorry`; found `rfl`",
    ),
    (
        "extra tactic after sorry",
        "theorem t : True := by\n  sorry\n  trivial",
        "unexpected `trivial` at line 3",
    ),
    ("no proof at all", "theorem t : True", "has no `:=`"),
    (
        "equation compiler",
        "theorem t : ℕ → True\n  | 0 => trivial\n  | _ => trivial",
        "`|` at line 2: equation-compiler forms",
    ),
    ("where clause", "theorem t : True := by sorry where x := 1", "unexpected `where` at line 1"),
    # --- structure ----------------------------------------------------------------------------
    (
        "two theorems",
        T + "\ntheorem u : True := by sorry",
        "several declarations: another `theorem` at line 2",
    ),
    (
        "two examples",
        "example : True := sorry\nexample : True := sorry",
        "another `example` at line 2",
    ),
    (
        "open ... in before a command",
        "open Nat in\nnamespace Foo\n" + T,
        "found `namespace` at line 2",
    ),
    ("open ... in at the very end", T + "\nopen Nat in", "unexpected `open` at line 2"),
    ("doc comment on nothing", "/-- doc -/\nopen Nat\n" + T, "found `open` at line 2"),
    ("empty candidate", "", "empty candidate"),
    ("blank candidate", "  \n\n ", "empty candidate"),
    ("only comments", "-- theorem t : True := by sorry", "no theorem, lemma or example"),
    ("oversized candidate", T + "\n" + "-- padding\n" * 2000, "the limit is 20000"),
    # --- hiding code in comments, strings, names ----------------------------------------------
    (
        "unterminated comment swallows the rest",
        T + "\n/- #eval evil\ntheorem u : True := by sorry",
        "unterminated comment (opened here) at line 2",
    ),
    (
        "/-/ does not nest: Lean closes at the first -/",
        "/-/- -/ #eval evil -/\n" + T,
        "forbidden command `#eval` at line 1",
    ),
    (
        "string inside a doc comment does not protect -/",
        '/-- doc "-/ #eval evil --"\n' + T,
        "forbidden command `#eval` at line 1",
    ),
    (
        "escaped backslash ends the string",
        'theorem t : "\\\\" = "" := by sorry\n#eval evil --"',
        "forbidden command `#eval` at line 2",
    ),
    (
        "invalid escape desyncs Lean's recovery",
        'theorem t : "\\q #eval x" = "" := by sorry',
        "invalid escape sequence",
    ),
    ("unterminated string", 'theorem t : "abc = "abc" := by sorry', "unterminated string literal"),
    (
        "char literal holding a quote",
        "theorem t : '\"' = '\"' := by sorry\n#eval x --\"",
        "forbidden command `#eval` at line 2",
    ),
    (
        "unterminated character literal",
        "theorem t : 'a = 'a := by sorry",
        "missing end of character literal",
    ),
    ("unterminated «name»", "theorem «t : True := by sorry", "unterminated identifier escape"),
    (
        "interpolated string runs code",
        'theorem t : s!"{IO.println 1}" = "" := by sorry',
        "interpolated string at line 1",
    ),
    (
        "string with braces",
        'theorem t : "{x}".length = 3 := by sorry',
        "string literal containing `{` at line 1",
    ),
    ("raw string", 'theorem t : r#"x"# = "x" := by sorry', "raw string literal at line 1"),
    (
        "syntax quotation",
        "theorem t : (`(1) = `(1)) := by sorry",
        "quotation or name literal at line 1",
    ),
    ("-/ outside a comment", T + " -/ #eval x", "forbidden command `#eval` at line 1"),
    (
        "comment glued to an operator",
        "theorem t : 1 ≤-- 2\n  = 2 := by sorry",
        "comment marker `--` glued to `≤`",
    ),
    # --- unicode tricks -----------------------------------------------------------------------
    (
        "Cyrillic s in sorry",
        "theorem t : True := by \u0455orry",
        "U+0455 CYRILLIC SMALL LETTER DZE) at line 1",
    ),
    ("Cyrillic e in #eval", "#\u0435val 1\n" + T, "U+0435 CYRILLIC SMALL LETTER IE) at line 1"),
    ("zero-width space splits a keyword", "#ev\u200bal 1\n" + T, "U+200B"),
    ("bidi override (Trojan Source)", T + " -- \u202e }", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("non-breaking space", "theorem t :\u00a0True := by sorry", "U+00A0"),
    ("tab outside literals", "theorem t :\tTrue := by sorry", "tab at line 1"),
    ("isolated carriage return", "theorem t : True := by sorry\r#eval 1", "U+000D at line 1"),
    ("NUL byte", "theorem t : True := by sorry\x00", "U+0000"),
]

BENIGN: list[tuple[str, str]] = [
    (
        "miniF2F mathd_algebra_478",
        "theorem mathd_algebra_478 (b h v : ℝ) (h₀ : 0 < b ∧ 0 < h ∧ 0 < v)\n"
        "    (h₁ : v = 1 / 3 * (b * h))\n"
        "    (h₂ : b = 30) (h₃ : h = 13 / 2) : v = 65 := by sorry",
    ),
    (
        "miniF2F amc12a_2019_p21 (big operators, Complex)",
        "theorem amc12a_2019_p21 (z : ℂ) (h₀ : z = (1 + Complex.I) / Real.sqrt 2) :\n"
        "  ((∑ k : ℤ in Finset.Icc 1 12, z ^ k ^ 2) * (∑ k : ℤ in Finset.Icc 1 12, 1 / z ^ k ^ 2))"
        " = 36 := by\n  sorry",
    ),
    (
        "miniF2F with its header (maxHeartbeats bounded) and NL doc comment",
        "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
        "open BigOperators Real Nat Topology Rat\n\n"
        "/-- Integers $x$ and $y$ with $x>y>0$ satisfy $x+y+xy=80$. What is $x$? -/\n"
        "theorem amc12a_2015_p10 (x y : ℤ) (h₀ : 0 < y) (h₁ : y < x) (h₂ : x + y + x * y = 80) :"
        " x = 26 := by sorry",
    ),
    (
        "ProofNet exercise_4_2a (image notation f '' s, term-mode sorry)",
        "theorem exercise_4_2a\n  {α : Type} [MetricSpace α]\n  {β : Type} [MetricSpace β]\n"
        "  (f : α → β)\n  (h₁ : Continuous f)\n"
        "  : ∀ (x : Set α), f '' (closure x) ⊆ closure (f '' x) :=\nsorry",
    ),
    (
        "ProofNet exercise_1_16a (line comment inside binders)",
        "theorem exercise_1_16a\n  (n : ℕ)\n  (d r : ℝ)\n"
        "  (x y z : EuclideanSpace ℝ (Fin n)) -- R^n\n  (h₁ : n ≥ 3)\n"
        "  : Set.Infinite {z : EuclideanSpace ℝ (Fin n) | ‖z - x‖ = r ∧ ‖z - y‖ = r} := by sorry",
    ),
    (
        "ProofNet exercise_2017_b3 (tsum ∑', λ)",
        "theorem exercise_2017_b3 (f : ℝ → ℝ) (c : ℕ → ℝ)\n"
        "  (hf : f = λ x => (∑' (i : ℕ), (c i) * x^i))\n  (hc : ∀ n, c n = 0 ∨ c n = 1)\n"
        "  (hf1 : f (2/3) = 3/2) :\n  Irrational (f (1/2)) := by sorry",
    ),
    (
        "preimage ⁻¹' and primes",
        "theorem t' (f : ℕ → ℕ) (s : Set ℕ) (x' : ℕ) : f ⁻¹' s = f ⁻¹' s := by sorry",
    ),
    ("example", "example : (2 : ℕ) + 2 = 4 := by sorry"),
    ("lemma with := sorry", "lemma foo.bar {G : Type*} [Group G] (a : G) : a * 1 = a := sorry"),
    (
        "comments mentioning #eval and run_cmd",
        "-- #eval evil\n/- run_cmd evil -/\n" + T + " -- #exit",
    ),
    (
        "nested comments hide #eval from Lean too",
        "/- outer /- inner -/ #eval still_comment -/\n" + T,
    ),
    ("a string holding a command word", 'theorem t : "run_cmd".length = 7 := by sorry'),
    ("char literal", "theorem t : 'a'.toNat = 97 := by sorry"),
    ("guillemet theorem name", "theorem «my theorem» : True := by sorry"),
    ("@[simp] attribute", "@[simp] theorem t (n : ℕ) : n + 0 = n := by sorry"),
    ("open ... in", "open Real in\ntheorem t : Real.pi > 3 := by sorry"),
    ("set_option ... in", "set_option maxRecDepth 2000 in\nset_option pp.all true in\n" + T),
    (
        "namespace/section/variable/universe",
        "universe u\nnamespace Foo\nsection\nvariable {α : Type u} (x : α)\n"
        "theorem t : x = x := by sorry\nend\nend Foo",
    ),
    (
        "noncomputable section + open scoped",
        "noncomputable section\nopen scoped BigOperators\n" + T,
    ),
    ("module doc", "/-! # A problem -/\n" + T),
    ("let in the type", "theorem t : let x := 1; x + x = 2 := by sorry"),
    ("default argument", "theorem t (n : ℕ := 3) : n = n := by sorry"),
    ("absolute value bars at a line start", "theorem t (x : ℝ) :\n    |x| ≥ 0 := by sorry"),
    ("private theorem", "private theorem t : True := by sorry"),
]
