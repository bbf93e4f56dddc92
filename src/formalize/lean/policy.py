"""The statement policy as data: which keywords, notations, commands and options a statement
may use. Everything not listed here is refused (an allow-list), with the few exceptions the
token table decides (term notations declared by Lean and the allowed libraries).

Pure data and small predicates; :mod:`formalize.lean.exposure` and
:mod:`formalize.lean.statement` apply them.
"""

from __future__ import annotations

from collections.abc import Iterable

from formalize.lean.chars import is_id_first
from formalize.lean.tokens import TokenTable

#: Name components that reach the metaprogramming API, IO, or kernel bypasses; ``autoParam``
# (and ``optParam``) spelt out are the binder defaults the gate refuses in their sugared form:
# Lean evaluates an auto-param's tactic constant, candidate code, when the argument is missing.
FORBIDDEN_NAME_PARTS = frozenset(
    """
    Lean Elab Meta IO EIO BaseIO unsafeIO unsafeBaseIO unsafeEIO unsafeCast FilePath System Process
    ofReduceBool ofReduceNat reduceBool reduceNat trustCompiler implemented_by extern sorryAx
    _root_ native_decide run_cmd run_tac run_elab run_meta by_elab test_extern autoParam optParam
    """.split()  # noqa: SIM905
)

#: Name prefixes the checker gives its own text: the filters' probe theorems, the reference
#: statement's renamed declarations, file mode's wrapper namespaces. A candidate declaring one
#: first would make the probe's theorem "already declared", the probe ill-formed and the filter
#: inconclusive: a way to dodge the Lean-verified filters.
RESERVED_NAME_PREFIXES = ("formalize_probe_", "formalize_ref", "FormalizeCheck")
#: The universe the reference filter pins ``Type*`` to.
RESERVED_NAMES = frozenset({"formalize_u"})


def is_reserved_name(part: str) -> bool:
    """Whether one component of a name is the checker's own (see above)."""
    return part in RESERVED_NAMES or part.startswith(RESERVED_NAME_PREFIXES)


#: Identifier-shaped keywords a statement's terms may use anywhere.
TERM_KEYWORDS = frozenset(
    {"fun", "let", "in", "if", "then", "else", "match", "with", "Type", "Sort", "Prop", "_"}
    | {"show", "from", "have", "haveI", "letI", "nofun", "nomatch", "inferInstanceAs"}
    # `Id.run do …`: do-notation builds a term; nothing runs at elaboration
    | {"do", "mut", "return", "for", "unless", "break", "continue"}
)
#: Term elaborators (``…%``) that only elaborate their argument: ``type_of% e`` is the type of
#: ``e``. Every other ``%`` token is refused (``eval%`` runs code).
HARMLESS_ELABORATORS = frozenset({"type_of%"})

#: Keywords allowed only where the gate's own parse put them (the command grammar).
COMMAND_KEYWORDS = frozenset(
    {"import", "open", "namespace", "section", "end", "noncomputable", "universe", "variable"}
    | {"set_option", "theorem", "lemma", "example", "def", "abbrev", "structure", "class"}
    | {"inductive", "private", "protected"}
)
#: Keywords that are part of one allowed command or declaration, at the place it gives them.
CLAUSE_KEYWORDS = frozenset({"by", "sorry", "where", "extends", "scoped", "hiding", "renaming"})

#: Term keywords that run code, tactics or file reads, refused at *every* offset (never part of
#: a legitimate identifier's end): whatever Lean's tokenisation, it cannot meet one of them.
ALWAYS_REFUSED = frozenset(
    {"include_str", "by?", "by_elab", "by_elabq", "show_term", "decreasing_by", "termination_by"}
    | {"termination_by?", "run_tac", "native_decide", "exact?", "apply?", "rw?", "decide!"}
)

#: Keywords that begin a declaration. After a parse error Lean retries a command at every
#: following character (``Lean.Parser.parseCommand``), so ``hdef`` can be read as ``def``;
#: such a declaration is harmless (it lands in the candidate's own namespace, its body obeys
#: the same token policy, and the candidate has failed to parse anyway), so these words are
#: refused where an identifier can start, like other keywords, but allowed inside one.
DECLARATION_WORDS = frozenset(
    {"theorem", "lemma", "example", "def", "abbrev", "structure", "class", "inductive"}
    | {"coinductive", "private", "protected", "noncomputable", "partial", "nonrec"}
)
#: Commands also harmless when read inside an identifier (``IsClopen`` ends in ``open``): their
#: effect ends with the scope they are in, the candidate's own (``end`` is refused everywhere,
#: so a stray one cannot close the scope a backend wraps the candidate in).
SCOPED_WORDS = frozenset({"open", "variable", "universe"})
#: Commands that, read inside an identifier (``infer_instance`` ends in ``instance``), could
#: act beyond the candidate's scope: close or open scopes, add global instances, axioms or
#: attributes. Checked against a fresh environment (the REPL) that cannot matter; a backend
#: that checks several candidates in one file checks such a candidate in a file of its own.
ISOLATING_WORDS = frozenset(
    {"end", "namespace", "section", "instance", "axiom", "export", "attribute", "deriving"}
    | {"mutual", "unsafe", "opaque", "omit", "include", "local", "scoped"}
)

#: Every keyword Lean core has that can begin a command (or a declaration's modifiers).
#: With the command-leading atoms of the token table, those not in ``DECLARATION_WORDS`` are
#: refused at *any* offset the gate did not parse as that command: read inside an identifier
#: after a parse error, ``append`` would be the command ``end``, which closes the scope the
#: file-mode checker wraps each candidate in, and ``hopen`` would be ``open``.
CORE_COMMAND_WORDS = frozenset(
    """
    import prelude theorem lemma example def abbrev instance structure class inductive
    coinductive axiom opaque namespace section end open export variable universe set_option
    attribute initialize builtin_initialize mutual deriving noncomputable private protected
    partial unsafe nonrec macro macro_rules syntax elab elab_rules notation notation3 infix
    infixl infixr prefix postfix declare_syntax_cat declare_simp_like_tactic run_cmd run_elab
    run_meta local scoped omit include binder_predicate register_simp_attr register_option
    builtin_simproc simproc dsimproc simproc_decl dsimproc_decl add_decl_doc seal unseal
    grind_pattern recommended_spelling irreducible_def alias lemma proof_wanted
    unsuppress_compilation suppress_compilation assert_not_exists library_note
    initialize_simps_projections test_extern count_heartbeats set_premise_selector
    declare_config_elab register_builtin_option builtin_initialize register_label_attr
    add_decl_doc assert_not_imported aux_def builtin_cbv_simproc builtin_cbv_simproc_decl
    builtin_dsimproc builtin_dsimproc_decl builtin_grind_propagator builtin_simproc
    builtin_simproc_decl cbv_simproc cbv_simproc_decl declare_bitwise_int_theorems
    declare_bitwise_uint_theorems declare_command_config_elab declare_command_config_elab_legacy
    declare_config_elab_legacy declare_core_config_elab declare_eval_bin declare_eval_bin_bitwise
    declare_eval_bin_bool_pred declare_int_theorems declare_sint_simprocs declare_term_config_elab
    declare_uint_simprocs declare_uint_theorems deprecated_module deprecated_syntax docs_to_verso
    elab_stx_quot grind_annotated grind_propagator inductive_fixpoint coinductive_fixpoint
    init_grind_norm init_quot leading_parser trailing_parser recommended_spelling
    register_error_explanation register_grind_attr register_linter_set register_parser_alias
    register_sym_dsimp register_sym_simp register_sym_simp_attr register_tactic_tag
    register_try?_tactic set_library_suggestions tactic_alt tactic_extension tactic_tag
    unif_hint with_weak_namespace public reprove unlock_limits
    """.split()  # noqa: SIM905
)

#: Options a candidate may set, with the upper bound of their numeric value (never 0, which
#: means "no limit" for the heartbeat options). ``autoImplicit`` and friends are not here: a
#: candidate turning auto-bound implicits on makes a misspelt name a variable, and the checker
#: sets them itself.
OPTION_BOUNDS = {
    "maxHeartbeats": 400_000,
    "maxRecDepth": 100_000,
    "synthInstance.maxHeartbeats": 400_000,
    "synthInstance.maxSize": 1_024,
}
#: Limits a statement may set at the top that would also hold in the filters' probes (which
#: follow its text), with Lean's defaults: lowered (`set_option synthInstance.maxSize 3`), they
#: would starve the probes' tactics into "not proved", a way to dodge the filters. Every probe
#: theorem sets each again, to the larger of the default and what the statement set (which
#: its own elaboration may need: PutnamBench's putnam_1989_a6 lowers `synthInstance.maxSize`).
PROBE_LIMITS = {"maxRecDepth": 512, "synthInstance.maxHeartbeats": 20_000}
PROBE_LIMITS |= {"synthInstance.maxSize": 128}
#: Options the checker sets in every header (a header line setting them is dropped).
CHECKER_OPTIONS = frozenset({"autoImplicit", "relaxedAutoImplicit"})

#: Symbol tokens refused although a term notation may declare them: ``‹t›`` runs the
#: ``assumption`` tactic, ``@[`` starts attributes, quotations (``\`(``, Qq's ``q(``/``ql(``)
#: build syntax and expressions. Every entry is a token of the table (a test checks it): an
#: entry Lean never reads as one token would never match. Antiquotations are not tokens: Lean
#: reads ``$(e)`` as ``$`` then ``(``, and only inside a quotation (``tryAnti`` answers no at
#: quotation depth 0), which the backtick rule already refuses; outside one ``f $(1)`` is a
#: parse error (the ``$`` application needs a space after it), and ``%$x`` token antiquotations
#: likewise.
DENIED_SYMBOLS = frozenset({"‹", "›", "@[", "`(", "q(", "ql("})

#: Tokens of Lean core that are term notation (core tokens come without their category):
#: brackets and separators, binders, arithmetic, logic, sets, coercions, structure instance
#: and subtype syntax, anonymous constructors, pipelines and the monad operators.
CORE_TERM_SYMBOLS = frozenset(
    """
    ( ) [ ] { } ⟨ ⟩ ⦃ ⦄ , : := :: ; . .. .( .{ => -> → ← <- ↔ <-> ∀ ∃ λ Σ Σ' ×' ⊕' ×
    ⊕ ∘ + - * / // % ^ ++ = == != ≠ < > ≤ ≥ <= >= ∧ ∨ /\\ \\/ ¬ ! && || ∣ ∈ ∉ ⊆ ⊂ ⊇ ⊃ ∪
    ∩ \\ · • ⁻¹ ↑ ⇑ ↥ @ _ ? | |> |>. <| $ <|> >>= >> <$> <*> <* *> ≈ ≍ ∅ ▸ #[ %[ ⋯ ↦
    &&& ||| ^^^ <<< >>> ~~~ ]'
    """.split()  # noqa: SIM905
)

_TERM_CATEGORIES = ("term", "term^", "?", "?^")


def is_term_declared(tags: Iterable[str]) -> bool:
    """Whether a token is declared as term syntax (a notation, or a term parser)."""
    for tag in tags:
        _, _, category = tag.partition(":")
        if tag == "core" or category in _TERM_CATEGORIES:
            return True
    return False


def command_words(table: TokenTable) -> frozenset[str]:
    """Identifier-shaped tokens that can start a command: core's, and every atom that leads a
    ``command`` declaration in the table (``assert_not_exists``, ``irreducible_def``, ...)."""
    leading = {
        t
        for t, tags in table.tags.items()
        if any(tag.endswith(":command^") for tag in tags) and is_id_first(t[0])
    }
    return frozenset(CORE_COMMAND_WORDS | leading)


def notation_keyword_allowed(token: str, tags: Iterable[str]) -> bool:
    """An identifier-led token (``ℝ``, ``ℝ≥0``, ``Type*``, ``C(``) that a statement may use:
    declared as a term notation, never as anything else (a tactic, a command, an attribute),
    and not an elaborator (``eval%``, ``delta%``: the ``%`` marks term elaborators)."""
    tags = list(tags)
    if token in HARMLESS_ELABORATORS:
        return True
    if "%" in token or not tags or token in DENIED_SYMBOLS:
        return False
    if token in ("Type*", "Sort*"):  # Mathlib elaborates them, as universe-polymorphic sorts
        return True
    return all(
        tag != "core" and tag.partition(":")[2] in ("term", "term^") and not tag.startswith("elab:")
        for tag in tags
    )


def symbol_allowed(token: str, tags: Iterable[str]) -> bool:
    """A symbol-led token a statement may use: term notation, and not denied."""
    if token in DENIED_SYMBOLS or (token.startswith("#") and len(token) > 1 and token != "#["):
        return False
    tags = list(tags)
    if "core" in tags:
        return token in CORE_TERM_SYMBOLS or is_term_declared(t for t in tags if t != "core")
    return is_term_declared(tags)
