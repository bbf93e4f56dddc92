"""Candidates the statement gate must refuse, and ones it must let through, by class.

``HOSTILE`` rows are (what the candidate tries, candidate, a fragment the gate's reason must
contain: it names what was found and where). ``BENIGN`` rows are (what it shows, candidate).
The classes follow the untrusted-Lean issue: code-running commands and metaprogramming,
kernel bypasses and IO, lexer desync, term-level code execution and file access, one
candidate changing another's verdict, and the gate's own robustness. The benign statements
marked miniF2F/ProofNet/PutnamBench/MOBench are shaped after those datasets' conventions.
"""

from __future__ import annotations

T = "theorem t (n : ℕ) : n + 0 = n := by sorry"

HOSTILE: list[tuple[str, str, str]] = [
    # --- commands that run or print code ------------------------------------------------------
    ("#eval before the theorem", '#eval IO.println "hi"\n' + T, "unexpected `#eval` at line 1"),
    ("#eval after the theorem", T + "\n#eval (1 : Nat)", "unexpected `#eval` at line 2"),
    ("#exit to stop checking early", T + "\n#exit", "unexpected `#exit` at line 2"),
    ("#print axioms probing", "#print axioms Nat.add\n" + T, "unexpected `#print` at line 1"),
    ("#reduce looks harmless", "#reduce (2 : Nat)\n" + T, "unexpected `#reduce` at line 1"),
    ("#eval! variant", "#eval! 1\n" + T, "unexpected `#eval!` at line 1"),
    ("run_cmd", 'run_cmd Lean.logInfo "x"\n' + T, "unexpected `run_cmd` at line 1"),
    ("run_elab", "run_elab pure ()\n" + T, "unexpected `run_elab` at line 1"),
    ("run_meta", "run_meta pure ()\n" + T, "unexpected `run_meta` at line 1"),
    ("test_extern", T + "\ntest_extern Nat.add 1 2", "unexpected `test_extern` at line 2"),
    (
        "a command keyword ending the type early",
        "theorem t : True count_heartbeats in\n#check 1 := by sorry",
        "`theorem` at line 1 has no `:=`",
    ),
    # issue 21: `#` alone is Mathlib's cardinality notation (`#foo x` is admitted); a `#`
    # command token is refused wherever Lean reads one, also glued to a name
    ("a # command inside a term", "theorem t (x : ℕ) : #print x = 0 := sorry", "no `:=`"),
    ("a # command glued to a name", "theorem t (x : ℕ) : #evalx = 0 := sorry", "no `:=`"),
    ("a # command in a binder", "theorem t (h : #eval 1) : True := sorry", "a `#` command"),
    # --- metaprogramming: new syntax, elaborators, code at load time ----------------------------
    (
        "macro",
        'macro "foo" : term => pure (Lean.mkNatLit 1)\n' + T,
        "unexpected `macro` at line 1",
    ),
    ("macro_rules", "macro_rules | _ => pure default\n" + T, "unexpected `macro_rules` at line 1"),
    ("syntax + elab", 'syntax "foo" : term\nelab "foo" : term => pure default\n' + T, "`syntax`"),
    ("elab_rules", "elab_rules : term | _ => pure default\n" + T, "unexpected `elab_rules`"),
    ("notation rebinding ℕ", 'notation "ℕ" => Int\n' + T, 'atom `"ℕ"` at line 1 redefines'),
    ("infixl redefining +", 'infixl:65 " + " => HSub.hSub\n' + T, 'atom `" + "` at line 1'),
    (
        "notation atom hiding a comment marker",
        'notation "⧫--" => 1\n' + T,
        "atoms must be new symbols",
    ),
    ("notation atom that is a word", 'notation "foo" => 1\n' + T, "atoms must be new symbols"),
    ("notation with a tactic body", 'notation "⧫" => by simp\n' + T, "tactic block (`by`)"),
    ("initialize", 'initialize IO.println "x"\n' + T, "unexpected `initialize` at line 1"),
    ("builtin_initialize", "builtin_initialize pure ()\n" + T, "unexpected `builtin_initialize`"),
    (
        "binder_predicate after a deliberate parse break",
        'theorem t : True := by sorry )\nbinder_predicate x " > " y:term => `($x > $y)',
        "unexpected `)` at line 1 after the theorem",
    ),
    (
        "declare_syntax_cat",
        "declare_syntax_cat foo\n" + T,
        "unexpected `declare_syntax_cat` at line 1",
    ),
    # --- declarations and kernel bypasses -------------------------------------------------------
    ("axiom", "axiom cheat : False\n" + T, "axioms are not allowed"),
    ("opaque", "opaque secret : Nat\n" + T, "`opaque` declarations are not allowed (line 1)"),
    ("unsafe def", "unsafe def f : Nat := 1\n" + T, "`unsafe` declarations are not allowed"),
    ("unsafe term", "theorem t : (unsafe (1 : Nat)) = 1 := by sorry", "`unsafe` here could start"),
    # issue 21: `partial def` is admitted (an opaque constant); `partial` elsewhere is not
    ("partial instance", "partial instance : Inhabited ℕ := ⟨0⟩\n" + T, "must introduce"),
    ("mutual block", "mutual\ndef a := 1\nend\n" + T, "`mutual` blocks are not allowed"),
    ("@[implemented_by]", "@[implemented_by id] theorem t : True := sorry", "`implemented_by`"),
    ('@[extern "c"]', '@[extern "c_fn"] theorem t : True := sorry', "attribute `extern` at line 1"),
    ("@[init]", "@[init] theorem t : True := by sorry", "attribute `init` at line 1"),
    ("@[csimp]", "@[csimp] theorem t : True := by sorry", "attribute `csimp` at line 1"),
    # issue 21: `@[simp]`, `@[reducible]`, `@[inline]`, `@[inherit_doc]`, ... are admitted;
    # attributes that register candidate code with Lean or Mathlib stay refused
    ("@[csimp] def", "@[csimp] def f := 1\n" + T, "attribute `csimp` at line 1"),
    ("@[norm_num] extension", "@[norm_num f _] def e := 1\n" + T, "attribute `norm_num`"),
    ("attribute with a term", "@[simp (config := {})] def f := 1\n" + T, "unexpected `(`"),
    ("@[inline] on a notation", '@[inline] notation "⋄" => 1\n' + T, "only `@[inherit_doc]`"),
    ("@[instance] def", "@[instance] def f : Inhabited ℕ := ⟨0⟩\n" + T, "`instance` at line 1"),
    ("attribute command", "attribute [simp] Nat.add_comm\n" + T, "the `attribute` command"),
    (
        "attribute [instance] (global)",
        "attribute [instance] Classical.propDecidable\n" + T,
        "the `attribute` command at line 1 is not allowed",
    ),
    (
        "Lean.ofReduceBool",
        "theorem t : Lean.ofReduceBool true = true := sorry",
        "`Lean.ofReduceBool`",
    ),
    ("native_decide proof", "theorem t : 2 + 2 = 4 := by native_decide", "found `native_decide`"),
    ("run_tac proof", "theorem t : True := by run_tac pure ()", "found `run_tac` at line 1"),
    ("by_elab", "theorem t : (by_elab pure default) = 1 := by sorry", "`by_elab` runs code"),
    ("sorryAx in the type", "theorem t : sorryAx Prop := by sorry", "forbidden name `sorryAx`"),
    ("deriving an arbitrary class", "inductive C | a\nderiving ToJson\n" + T, "deriving `ToJson`"),
    (
        "deriving instance command",
        "inductive C | a\nderiving instance Repr for C\n" + T,
        "`deriving`",
    ),
    # --- IO and the meta API --------------------------------------------------------------------
    ("IO", 'theorem t : IO.println "x" = IO.println "x" := sorry', "forbidden name `IO.println`"),
    ("IO name", "theorem t : IO.Process.exit = IO.Process.exit := sorry", "forbidden name `IO."),
    ("unsafeIO", "theorem t : (unsafeIO (pure 1)).isOk := by sorry", "forbidden name `unsafeIO`"),
    ("System.FilePath", "theorem t (p : System.FilePath) : p = p := sorry", "`System.FilePath`"),
    (
        "Lean.Elab via open",
        "open Lean Elab in\ntheorem t : True := by sorry",
        "forbidden name `Lean`",
    ),
    ("Meta namespace", "namespace Lean.Meta\n" + T, "forbidden name `Lean.Meta` at line 1"),
    # issue 21: plain `«…»` names are admitted (`namespace Arxiv.«2501.03234»`), read through
    ("«IO» escaped", "theorem t : «IO».println = «IO».println := sorry", "refers to `IO`"),
    ("«…» holding code", "theorem t : «#eval 1» = 1 := sorry", "escaped identifier"),
    ("«…» holding a command word", "theorem t : Nat.«end» = 1 := sorry", "`end`"),
    ("«run_cmd» escaped", "«run_cmd» 1\n" + T, "unexpected `«run_cmd»` at line 1"),
    # `theorem _root_.Nat.foo` is admitted now, reported as shadowing (test_shadowing.py)
    ("_root_ as a namespace", "namespace _root_.Nat\n" + T, "`_root_` is no name"),
    ("_root_ inside a name", "theorem t : Nat._root_.foo = 1 := sorry", "refers to `_root_`"),
    # --- imports ----------------------------------------------------------------------------------
    ("import in the middle", T + "\nimport Mathlib", "unexpected `import` at line 2"),
    ("import of Lean internals", "import Lean.Elab.Command\n" + T, "`Lean.Elab.Command`"),
    ("import of an unknown root", "import Evil\n" + T, "import of `Evil` at line 1 is not"),
    ("import with an escaped name", "import «Mathlib»\n" + T, "malformed `import` at line 1"),
    # --- options ----------------------------------------------------------------------------------
    ("maxHeartbeats 0", "set_option maxHeartbeats 0\n" + T, "maxHeartbeats 0 at line 1"),
    ("maxHeartbeats 0 ... in", "set_option maxHeartbeats 0 in\n" + T, "maxHeartbeats 0 at line 1"),
    ("maxHeartbeats too large", "set_option maxHeartbeats 4000000 in\n" + T, "from 1 to 400000"),
    ("maxRecDepth huge", "set_option maxRecDepth 100000000\n" + T, "maxRecDepth 100000000"),
    ("skip the kernel", "set_option debug.skipKernelTC true\n" + T, "`debug.skipKernelTC` at"),
    (
        "term-level set_option",
        "theorem t : (set_option maxHeartbeats 0 in 1 = 1) := by sorry",
        "`set_option` here could start a command",
    ),
    ("pp option", "set_option pp.all true in\n" + T, "set_option `pp.all` at line 1"),
    # --- sorry, tactics, proofs -------------------------------------------------------------------
    ("sorry in the type", "theorem t : (sorry : Prop) := by sorry", "`sorry` in the statement at"),
    ("tactic block in the type", "theorem t : (by exact True) := sorry", "tactic block (`by`)"),
    ("auto-param", "theorem t (h : 2 + 2 = 4 := by decide) : True := sorry", "binder default"),
    ("tactic in variable", "variable (h : 1 = 1 := by rfl)\n" + T, "binder default value"),
    ("default argument", "theorem t (n : ℕ := 3) : n = n := by sorry", "binder default value"),
    ("default in ∀", "theorem t : ∀ (n : ℕ := 3), n = n := by sorry", "binder default value"),
    ("proof is not sorry", "theorem t : 1 = 1 := by rfl", "found `rfl`"),
    (
        "extra tactic after sorry",
        "theorem t : True := by\n  sorry\n  trivial",
        "unexpected `trivial`",
    ),
    ("no proof at all", "theorem t : True", "has no `:=`"),
    (
        "equation compiler",
        "theorem t : ℕ → True\n  | 0 => trivial\n  | _ => trivial",
        "`|` at line 2",
    ),
    ("where clause", "theorem t : True := by sorry where x := 1", "unexpected `where` at line 1"),
    # --- term-level code execution and file access --------------------------------------------
    ("include_str", 'theorem t : include_str "/etc/passwd" = "" := sorry', "string literal"),
    (
        "include_str without a string",
        "theorem t (x : String) : include_str x = x := sorry",
        "`include_str` runs code",
    ),
    (
        "eval% runs its argument",
        "theorem t : eval% (2 + 2) = 4 := sorry",
        "`eval%` is a Lean keyword",
    ),
    (  # issue 21: `decreasing_by` is a tactic block like any other, under the allow-list
        "decreasing_by running a tactic off the list",
        "def f : ℕ → ℕ\n  | 0 => 0\n  | n+1 => f n\ndecreasing_by all_goals plausible\n" + T,
        "tactic `plausible`",
    ),
    (  # issue 21: `termination_by` takes a term; `termination_by?` prints and stays refused
        "termination_by?",
        "def f (n : ℕ) : ℕ := f n\ntermination_by?\n" + T,
        "termination_by?",
    ),
    ("‹›", "theorem t (h : 1 = 1) : ‹1 = 1› = h := sorry", "`‹` runs a tactic"),
    (
        "mod_cast",
        "theorem t (n : ℕ) : (mod_cast n : ℤ) = n := sorry",
        "`mod_cast` is a Lean keyword",
    ),
    ("show_term", "theorem t : show_term (exact 1) = 1 := sorry", "`show_term`"),
    # issue 21: `type_of% e` only elaborates `e` (admitted); other `%` elaborators stay refused
    ("eval% glued to a name", "theorem t : xeval% 1 = 1 := sorry", "`eval%`"),
    ("Mathlib's % elaborators", "theorem t : (finset% {1}) = {1} := sorry", "`finset%`"),
    (
        "side proof with a tactic off the list",
        "abbrev x : {n : ℕ // n < 3} := ⟨1, by exact?⟩\n" + T,
        "tactic `exact?`",
    ),
    (
        "side proof with native_decide",
        "abbrev x : {n : ℕ // n < 3} := ⟨1, by native_decide⟩\n" + T,
        "tactic `native_decide` at line 1 is not allowed",
    ),
    (
        "side proof with configuration",
        "abbrev x : {n : ℕ // n < 3} := ⟨1, by decide +kernel⟩\n" + T,
        "in a side proof",
    ),
    (
        "side proof with a term argument",
        "abbrev x : {n : ℕ // n < 3} := ⟨1, by simp (config := {})⟩\n" + T,
        "in a side proof",
    ),
    (  # issue 21: a definition's `:= by …` is admitted, under the allow-list
        "definition by tactics off the list",
        "abbrev x : ℕ := by exact?\n" + T,
        "exact?",
    ),
    (
        "plausible as a side proof",
        "abbrev x : {n : ℕ // n < 3} := ⟨1, by plausible⟩\n" + T,
        "tactic `plausible`",
    ),
    # --- lexer desync -------------------------------------------------------------------------
    # `×'` etc. are one token to Lean: what the old gate took for a character literal
    # (`'#eval 1'`) is code, which the gate now sees
    ("×' then a seeming char literal", "theorem t : ℕ ×'#eval 1' ℕ := sorry", "character literal"),
    ("⊕' then code", "theorem t : ℕ ⊕'#eval 1 := sorry", "`theorem` at line 1 has no `:=`"),
    ("Σ' then code", "theorem t : Σ'#exit, True := sorry", "`theorem` at line 1 has no `:=`"),
    ("∘' then code", "theorem t (f g : ℕ → ℕ) : f ∘'#eval' g = f := sorry", "character literal"),
    ("×' then code, in a binder", "theorem t (h : ℕ ×'#eval 1) : True := sorry", "a `#` command"),
    (
        "a char literal",
        "theorem t : 'a'.toNat = 97 := by sorry",
        "character literal `'a'` at line 1",
    ),
    ("a string", 'theorem t : "run_cmd".length = 7 := by sorry', "string literal at line 1"),
    (
        "module doc between theorem parts",
        "theorem t : True /-! #eval 1 -/ := sorry\n#exit",
        "unexpected `#exit` at line 2",
    ),
    (
        "unterminated comment",
        T + "\n/- #eval evil\ntheorem u : True := sorry",
        "unterminated comment",
    ),
    ("/-/ does not nest", "/-/- -/ #eval evil -/\n" + T, "unexpected `#eval` at line 1"),
    ("quote in a doc comment", '/-- doc "-/ #eval evil --"\n' + T, "unexpected `#eval` at line 1"),
    (
        "escaped backslash",
        'theorem t : "\\\\" = "" := by sorry\n#eval evil --"',
        "`#eval` at line 2",
    ),
    ("invalid escape", 'theorem t : "\\q #eval x" = "" := by sorry', "invalid escape sequence"),
    ("unterminated string", 'theorem t : "abc = "abc" := by sorry', "unterminated string literal"),
    (
        "char holding a quote",
        "theorem t : '\"' = '\"' := by sorry\n#eval x --\"",
        "`#eval` at line 2",
    ),
    ("unterminated char", "theorem t : 'a = 'a := by sorry", "missing end of character literal"),
    ("unterminated «name»", "theorem «t : True := by sorry", "unterminated identifier escape"),
    ("interpolated string", 'theorem t : s!"{IO.println 1}" = "" := by sorry', "string literal"),
    ("raw string", 'theorem t : r#"x"# = "x" := by sorry', "string literal at line 1"),
    ("quotation", "theorem t : (`(1) = `(1)) := by sorry", "quotations and name literals"),
    ("name literal", "theorem t : (`Nat.add).isAtomic := by sorry", "name literal or quotation"),
    ("-/ outside a comment", T + " -/ #eval x", "after the theorem"),
    # issue 21: `é` and `ⱼ` are identifier characters at Lean v4.26+ (admitted); what Lean
    # v4.15, where they are not, reads right after them is checked as a fresh word
    ("a keyword after a Latin-1 letter", "theorem t (x : ℕ) : xésorry = 1 := sorry", "`sorry`"),
    ("a command after ⱼ", "theorem t (x : ℕ) : xⱼend = 1 := sorry", "`end`"),
    (
        "Cyrillic s in sorry",
        "theorem t : True := by \u0455orry",
        "U+0455 CYRILLIC SMALL LETTER DZE",
    ),
    ("Cyrillic e in #eval", "#\u0435val 1\n" + T, "U+0435"),
    ("zero-width space", "#ev\u200bal 1\n" + T, "U+200B"),
    ("bidi override (Trojan Source)", T + " -- \u202e }", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("non-breaking space", "theorem t :\u00a0True := by sorry", "U+00A0"),
    ("tab outside comments", "theorem t :\tTrue := by sorry", "tab at line 1"),
    ("isolated carriage return", "theorem t : True := by sorry\r#eval 1", "carriage return U+000D"),
    ("line separator U+2028", "theorem t : True :=\u2028 sorry", "U+2028"),
    ("NUL byte", "theorem t : True := by sorry\x00", "U+0000"),
    # --- one candidate changing another's verdict ----------------------------------------------
    (
        "a leading end",
        "end\nset_option maxHeartbeats 1\n" + T,
        "`end` at line 1 without a matching",
    ),
    ("end FormalizeCheck0", "end FormalizeCheck0\n" + T, "without a matching `namespace`"),
    ("mismatched end", "namespace A\n" + T + "\nend B", "`end B` at line 3: expected `end A`"),
    ("end inside a term", "theorem t : True end := sorry", "has no `:=`"),
    (
        "set_option inside a name",
        "theorem t (xset_option : ℕ) : True := sorry",
        "`set_option` inside",
    ),
    ("autoImplicit on", "set_option autoImplicit true\n" + T, "the checker sets it"),
    (
        "relaxedAutoImplicit ... in",
        "set_option relaxedAutoImplicit true in\n" + T,
        "the checker sets",
    ),
    # issue 21: `set_option autoImplicit false` (the checker's own value) is admitted
    (
        "relaxedAutoImplicit true",
        "set_option relaxedAutoImplicit true\n" + T,
        "set_option `relaxedAutoImplicit`",
    ),
    (
        "namespace on a line with open",
        "open Real namespace X\n" + T + "\nend X",
        "must start a line",
    ),
    ("end after a declaration on one line", "namespace X\n" + T + " end X", "must start a line"),
    ("scoped notation", 'scoped[Real] notation "⊞" => 1\n' + T, "unexpected `scoped` at line 1"),
    ("local instance attribute on a global", "attribute [instance] Nat.add\n" + T, "`attribute`"),
    ("export", "export Nat (add)\n" + T, "unexpected `export` at line 1"),
    ("two theorems", T + "\ntheorem u : True := by sorry", "another `theorem` at line 2"),
    ("two examples", "example : True := sorry\nexample : True := sorry", "another `example`"),
    ("open ... in before a command", "open Nat in\nnamespace Foo\n" + T, "found `namespace`"),
    ("open ... in at the very end", T + "\nopen Nat in", "unexpected `open` at line 2"),
    ("declaration after the theorem", T + "\ndef f := 1", "after the theorem"),
    # --- notation atoms read where Lean does not have them (red team, 2026-12-02) -------------
    (
        "local atoms retokenizing a side proof before they exist",
        "def evil (n : ℕ) : Bool := n == 5\n"
        "def f : {n : ℕ // n = 1 ∧ evil 5 = true} :=\n"
        "  ⟨1, by simp [(Nat.add_zero ·)] ; decide +native ; simp [(· + 0), (· + 0)]⟩\n"
        'section\nlocal notation "·)]" => 1\nlocal notation "(·" => 1\nend\n' + T,
        "is read where Lean does not have it",
    ),
    (
        "an atom used before its notation command",
        'theorem t : ⋆⋆ = 1 := sorry\nnotation "⋆⋆" => (1 : ℕ)',
        "is read where Lean does not have it",
    ),
    (
        "a local atom used after the end of its section",
        'section\nlocal notation "⋆⋆" => (1 : ℕ)\nend\ntheorem t : ⋆⋆ = 1 := sorry',
        "is read where Lean does not have it",
    ),
    # --- auto-params spelt out: Lean evaluates the tactic constant (red team, 2026-12-02) -----
    (
        "autoParam in a binder",
        "def tac := 0\ndef g (_h : autoParam (1 = 1) tac) : ℕ := 1\ntheorem t : g = 1 := sorry",
        "forbidden name `autoParam`",
    ),
    (
        "autoParam in a structure field",
        "def tac := 0\nstructure S where\n  h : autoParam (1 = 1) tac\n" + T,
        "forbidden name `autoParam`",
    ),
    (
        "optParam spelt out",
        "def g (n : optParam ℕ 3) : ℕ := n\ntheorem t : g = 3 := sorry",
        "forbidden name `optParam`",
    ),
    # --- the gate's own limits ----------------------------------------------------------------
    ("empty candidate", "", "empty candidate"),
    ("blank candidate", "  \n\n ", "empty candidate"),
    ("only comments", "-- theorem t : True := by sorry", "no theorem, lemma or example"),
    ("oversized candidate", T + "\n" + "-- padding\n" * 2000, "the limit is 20000"),
    (
        "deeply nested interpolation",
        'theorem t : s!"{' * 600 + "x" + '}"' * 600 + " := sorry",
        "string literal",
    ),
    ("unclosed brackets", "theorem t : " + "(" * 3000 + " := sorry", "`sorry` in the statement"),
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
        "miniF2F with its header and NL doc comment",
        "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
        "open BigOperators Real Nat Topology Rat\n\n"
        "/-- Integers $x$ and $y$ with $x>y>0$ satisfy $x+y+xy=80$. What is $x$? -/\n"
        "theorem amc12a_2015_p10 (x y : ℤ) (h₀ : 0 < y) (h₁ : y < x) (h₂ : x + y + x * y = 80) :"
        " x = 26 := by sorry",
    ),
    (
        "ProofNet exercise_4_2a (f '' s, term-mode sorry)",
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
        "ProofNet data-valued statement (a def whose body is sorry)",
        "def exercise_2_1_21 (G : Type*) [Group G] [Fintype G]\n  (hG : Fintype.card G = 5) :\n"
        "  CommGroup G := sorry",
    ),
    (
        "ProofNet ⟪u, v⟫_ℂ (a closing bracket token with a tail)",
        "theorem t {V : Type*} [NormedAddCommGroup V] [InnerProductSpace ℂ V] (u v : V) :\n"
        "  ⟪u, v⟫_ℂ = 0 ↔ ∀ (a : ℂ), ‖u‖ ≤ ‖u + a • v‖ := sorry",
    ),
    (
        "PutnamBench answer convention",
        "import Mathlib\n\nopen Real\n\nabbrev putnam_x_solution : ℝ := sorry\n-- 3\n"
        "/-- Find the number. -/\n"
        "theorem putnam_x (x : ℝ) (hx : x = 3) : x = putnam_x_solution :=\nsorry",
    ),
    (
        "PutnamBench noncomputable abbrev answer and open scoped",
        "open scoped BigOperators\nnoncomputable abbrev ans : ℝ := Real.exp 1\n"
        "theorem p : ans > 0 := sorry",
    ),
    (
        "MOBench structure, def, abbrev and match",
        "structure Coords where\n(row : ℕ) (col : ℕ)\n\ndef left_child (c : Coords) : Coords :=\n"
        " ⟨c.row.succ, c.col⟩\n\nabbrev does_exist : Bool := false\n\n"
        "theorem p : if does_exist then True else left_child ⟨0, 0⟩ = ⟨1, 0⟩ := by sorry",
    ),
    (
        "MOBench inductive with deriving and match on it",
        "inductive Color : Type where\n| red : Color\n| blue : Color\n"
        "deriving DecidableEq, Fintype\ntheorem p : ∃ f : ℕ → Color, f 0 = Color.red := by sorry",
    ),
    (
        "MOBench notation for a new type",
        'abbrev PosReal : Type := { x : ℝ // 0 < x }\n\nnotation "ℝ+" => PosReal\n\n'
        "theorem p (f : ℝ+ → ℝ+) : f = f := by sorry",
    ),
    (
        "MOBench side proofs in definitions and an instance",
        "abbrev Row (N : ℕ) : Type := (Set.Icc 1 ⟨N, by omega⟩ : Set (Fin (N + 2)))\n"
        "def fiber (k : ℕ) : Set ℕ := {n | n = k}\n"
        "instance {k : ℕ} : Nonempty (fiber k) := by unfold fiber; infer_instance\n"
        "theorem p (N : ℕ) : Nonempty (Row N) := by sorry",
    ),
    (
        "MOBench structure with @[ext] (dropped) and fields with binders",
        "@[ext] structure Card where\n  f : Fin 4 → ℕ\n  f_pos : ∀ i, 0 < f i\n"
        "theorem p (c : Card) : c.f 0 > 0 := by sorry",
    ),
    (
        "MOBench attribute [local instance]",
        "attribute [local instance] Classical.propDecidable\n\nvariable (V : Type*)\n"
        "theorem p (x : V) : x = x := by sorry",
    ),
    (
        "MOBench def with a where body",
        "structure S where\n  a : ℕ\n  b : ℕ\n\ndef init (n : ℕ) : S where\n  a := n\n  b := 0\n"
        "theorem p : (init 3).a = 3 := by sorry",
    ),
    (
        "MOBench local infix on a new symbol",
        'variable (star : ℝ → ℝ → ℝ)\nlocal infixl:80 " ⧫ " => star\n'
        "theorem p (x : ℝ) : x ⧫ x = x ⧫ x := by sorry",
    ),
    (
        "preimage ⁻¹' and primes",
        "theorem t' (f : ℕ → ℕ) (s : Set ℕ) (x' : ℕ) : f ⁻¹' s = f ⁻¹' s := sorry",
    ),
    (
        "Mathlib !₂[…] vector notation",
        "theorem t : (!₂[(1 : ℝ), 0] : EuclideanSpace ℝ (Fin 2)) = !₂[1, 0] := sorry",
    ),
    ("example", "example : (2 : ℕ) + 2 = 4 := by sorry"),
    ("lemma with := sorry", "lemma foo.bar {G : Type*} [Group G] (a : G) : a * 1 = a := sorry"),
    (
        "comments mentioning #eval and run_cmd",
        "-- #eval evil\n/- run_cmd evil -/\n" + T + " -- #exit",
    ),
    ("nested comments", "/- outer /- inner -/ #eval still_comment -/\n" + T),
    ("open ... in", "open Real in\ntheorem t : Real.pi > 3 := by sorry"),
    (
        "set_option ... in",
        "set_option maxRecDepth 2000 in\nset_option maxHeartbeats 20000 in\n" + T,
    ),
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
    ("letI in a hypothesis", "theorem t (h : letI x : ℕ := 1; x = 1) : True := by sorry"),
    ("named argument (not a default)", "theorem t : Nat.add (n := 1) 2 = 3 := by sorry"),
    ("absolute value bars at a line start", "theorem t (x : ℝ) :\n    |x| ≥ 0 := by sorry"),
    ("private theorem", "private theorem t : True := by sorry"),
    ("CRLF line ends", "theorem t :\r\n  True := by\r\n  sorry\r\n"),
    (
        "words that hold command words",
        "theorem t (hdef : True) (T_def : True) (X : Set ℝ) (hc : IsClopen X) : True := sorry",
    ),
    (
        "identifiers holding tactic words",
        "theorem t (hring : True) (hby : True) (hsimp : True) : True := sorry",
    ),
    ("dot access to a keyword-named field", "theorem t (x : ℕ × ℕ) : x.fst = x.1 := by sorry"),
    ("tab inside a comment", "theorem t : True := by sorry -- a\ttab"),
]
