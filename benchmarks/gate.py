"""Speed of the statement gate: real reference statements and 20 KB adversarial candidates.

    python benchmarks/gate.py [--repeat 5]

Two measurements, each the best CPU time of ``--repeat`` runs, side by side with the lexer
alone on the same text (the gate's floor: it cannot be faster than reading the tokens once):

- the reference statements of ``../shared/data/translation`` (miniF2F, ProofNet, PutnamBench,
  MOBench): per-statement mean and the slowest one, and the gate / lexer ratio;
- adversarial candidates of 20 KB (the default length limit) built to stress each scanner:
  statement bodies (long identifiers, deep brackets, many bars, comment markers, quantifier
  chains, identifier runs holding command words), and whole candidates that make one stage
  work hardest while staying under the token limit, so that every stage runs (notation atoms
  in many sections then many uses, nested side proofs and scopes, declarations, instances and
  commands in a row, dotted identifiers, thousands of distinct characters). Target: every one
  under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data" / "translation"
SIZE = 20_000

ADVERSARIAL = {
    "long identifier": "x" * SIZE,
    "identifier runs": "a1" * (SIZE // 2),
    "command words inside names": "hend " * (SIZE // 5),
    "nested parentheses": "(" * (SIZE // 2) + ")" * (SIZE // 2),
    "bars at line starts": "|\n" * (SIZE // 2),
    "quantifier chain": "∀ x : ℕ, " * (SIZE // 9),
    "set-builders": "{x | " * (SIZE // 5),
    "comment markers": "/- " * (SIZE // 3),
    "char literals": "'a' " * (SIZE // 4),
    "side proofs": "⟨1, by simp⟩ " * (SIZE // 13),
    # issue 21: tactic blocks wherever they stand (lean/tactics.py keeps a stack of blocks)
    "nested tactic blocks": "(by exact " * (SIZE // 10),
    "tactic lines": "by\n  simp\n  · exact (by\n    decide)\n" * (SIZE // 37),
    "binder groups": "(x : ℕ) " * (SIZE // 8),
    "symbol soup": "→+*≃ₗ[]⟪⟫_ℝ∑'⁻¹' " * (SIZE // 17),
    "one arrow, repeated": "→" * SIZE,  # many tokens share its first character
    "arrows within the token limit": "→ " * 3900,
}


def _code_tokens(text: str) -> int:
    from formalize.lean.lexer import tokenize

    return sum(t.is_code for t in tokenize(text))


def _fill(unit: str, head: str = "", tail: str = "", *, whole: bool = False) -> str:
    """``head``, then ``unit`` repeated as often as fits, then ``tail``: at most 20 KB and, unless
    the repeated text is one token (``whole``), 3,950 code tokens (under the gate's limit of
    4,000, so that every stage runs, not only the lexer)."""
    room = (SIZE - len(head) - len(tail)) // len(unit)
    per_unit = 0 if whole else _code_tokens(unit)
    if per_unit:
        room = min(room, (3_950 - _code_tokens(head + tail)) // per_unit)
    return head + unit * max(0, room) + tail


def _sections_then_uses() -> str:
    """The second red team's case: sections each declaring a local notation atom, then many
    uses of it (the atom-scope check was uses x atoms x `end`s: 2 s for 15 KB)."""
    local = 'section\nlocal notation "⧫" => (1 : ℕ)\nend\n'
    last = 'section\nlocal notation "⧫" => (1 : ℕ)\ntheorem t : 0'
    return _fill(" + ⧫", local * 170 + last, " = 0 := by sorry\nend")


def _distinct_atoms() -> str:
    """Many notations, each with its own atom, all used in the statement."""
    atoms = [chr(0x2B00 + i) + chr(0x2B00 + j) for i in range(20) for j in range(20)][:200]
    head = "".join(f'notation "{a}" => (1 : ℕ)\n' for a in atoms)
    return head + "theorem t : " + " + ".join(atoms * 3) + " = 0 := by sorry"


def _nested_side_proofs() -> str:
    """Side proofs whose lemma lists hold side proofs, as deep as the token limit allows."""
    depth = 490
    return "theorem t : " + "⟨1, by simp [" * depth + "]⟩" * depth + " = 1 := by sorry"


def _nested_scopes() -> str:
    """Sections and namespaces nested deep, closed at the end."""
    depth = 900
    opened = "".join(f"namespace N{k}\nsection\n" for k in range(depth // 2))
    closed = "".join(f"end\nend N{k}\n" for k in reversed(range(depth // 2)))
    return opened + "theorem t : True := by sorry\n" + closed


def _deep_namespaces_opened() -> str:
    """Namespaces 64 deep (the gate's limit), each filled by a structure, then `open` lines
    naming them: each `open` is looked up at every enclosing level."""
    depth = 64
    opened = "".join(f"namespace N{k}\nstructure S{k} where\n  x : ℕ\n" for k in range(depth))
    names = " ".join(f"S{k}" for k in range(depth))
    return _fill(f"open {names}\n", head=opened, tail="theorem t : True := by sorry")


def _many_declarations() -> str:
    """Auxiliary definitions one after another (each body scanned to the next command)."""
    return _fill("def f : ℕ := 1 + 1\n", tail="theorem t : True := by sorry")


def _many_variables() -> str:
    return _fill("variable (x : ℕ) {y : ℕ} [Inhabited ℕ]\n", tail="theorem t : True := sorry")


def _long_identifiers() -> str:
    """Identifiers as long as the every-offset check's reach, each ending in a command word:
    the check looks at the last few characters of every identifier run."""
    word = "x" * 33 + "end"
    return _fill(f" ∧ {word} = {word}", "theorem t : True", " := by sorry")


def _dotted_identifiers() -> str:
    return _fill(".a", "theorem t (h : ℕ × ℕ) : h", " = h := by sorry", whole=True)


def _field_indices() -> str:
    return _fill(".1", "theorem t (h : ℕ × ℕ) : h", " = h := by sorry")


def _distinct_characters() -> str:
    """Thousands of distinct characters in a comment (the character check once compiled a
    regular expression per distinct character)."""
    chars = "".join(chr(0x3400 + k) for k in range(SIZE))
    return ("theorem t : True := by sorry\n-- " + chars)[:SIZE]


def _open_in_chains() -> str:
    return _fill("open Nat in\n", tail="theorem t : True := by sorry")


def _structure_instances() -> str:
    """Structure instances with typed fields and lets: the binder-default check's stack."""
    unit = " ∧ ({ fst := (fun x : ℕ => let y := x; y) 1, snd := 2 } : ℕ × ℕ).1 = 1"
    return _fill(unit, "theorem t : True", " := by sorry")


def _bars_in_definitions() -> str:
    """Line-leading bars in definitions, the equation-compiler lookahead."""
    return _fill("\n  | 1", "def f : ℕ → ℕ := fun n => n ", "\ntheorem t : True := by sorry")


def _comments_after_code() -> str:
    """Comments past the token limit's count (the lexer recounts code tokens rarely)."""
    return _fill("--\n", "theorem t : " + "a " * 3980, "= 1 := by sorry")


def _where_fields() -> str:
    unit = "\n  fst := 1 + 1"
    return _fill(unit, "def p : ℕ × ℕ where", "\n  snd := 0\ntheorem t : p.1 = 2 := by sorry")


def _instances() -> str:
    return _fill("instance : Inhabited ℕ := ⟨0⟩\n", tail="theorem t : True := by sorry")


def _namespaces() -> str:
    return _fill("namespace A.B.C\nend A.B.C\n", tail="theorem t : True := by sorry")


def _doc_comments() -> str:
    return _fill("/-- d -/\ndef f : ℕ := 1\n", tail="theorem t : True := by sorry")


def _cardinalities() -> str:
    """`#` before a name, as often as fits: each one's word is looked at (a word longer than a
    letter could be a `#` command)."""
    return _fill(" + #a₁.b", "theorem t (a₁ : Finset ℕ) : 0", " = 0 := by sorry")


def _bracket_atoms() -> str:
    """One notation with as many atoms as fit, opening brackets then closing them (the atoms'
    brackets are matched as one bracket string)."""
    half = 900
    atoms = '"⧫(" ' + 'x "⧫(" ' * half + 'x ")" ' * (half + 1)
    return f"notation {atoms}=> 1\ntheorem t : True := by sorry"


def _term_tactic_arguments() -> str:
    """A term tactic whose arguments are a long chain of `fun … =>` (each `=>` checked)."""
    return _fill(" fun x =>", "def p : ℕ := by\n  exact", " 1\ntheorem t : True := by sorry")


#: Whole candidates of at most 20 KB, each built to make one gate stage work hardest.
CANDIDATES = {
    "local notations in 170 sections, then uses": _sections_then_uses,
    "200 distinct notation atoms, all used": _distinct_atoms,
    "side proofs nested 490 deep": _nested_side_proofs,
    "scopes nested 900 deep": _nested_scopes,
    "namespaces 64 deep, each filled, opened over and over": _deep_namespaces_opened,
    "auxiliary definitions in a row": _many_declarations,
    "variable lines": _many_variables,
    "identifiers ending in `end`, reach long": _long_identifiers,
    "one dotted identifier": _dotted_identifiers,
    "field indices": _field_indices,
    "distinct characters in a comment": _distinct_characters,
    "`open … in` chain": _open_in_chains,
    "structure instances with typed lets": _structure_instances,
    "line-leading bars in a definition": _bars_in_definitions,
    "comments after 3,980 tokens": _comments_after_code,
    "`where` fields": _where_fields,
    "instances in a row": _instances,
    "namespaces with dotted names, opened and closed": _namespaces,
    "documented definitions": _doc_comments,
    "one notation, 1,800 bracket atoms": _bracket_atoms,
    "cardinalities `#a₁.b`": _cardinalities,
    "a term tactic's `fun … =>` chain": _term_tactic_arguments,
}


def best(fn: object, text: str, repeat: int) -> float:
    """Best CPU time of ``fn(text)`` over ``repeat`` runs, in seconds (CPU time, not wall time:
    the machine is shared, and time spent waiting for a core is not the gate's)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn(text)  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times)


def references() -> list[str]:
    texts: list[str] = []
    for name in ("minif2f", "proofnet", "putnambench", "mobench"):
        path = SHARED / f"{name}.jsonl"
        if not path.exists():
            continue
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            text = row.get("lean4_file") or row["formal_statement"].rstrip() + " sorry"
            texts.append(text)
    return texts


def main() -> None:
    from formalize.lean.lexer import tokenize
    from formalize.lean.statement import check_statement

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    check_statement("theorem warm : True := sorry")  # load the token table once
    print(f"load average {os.getloadavg()[0]:.1f}")

    texts = references()
    if texts:
        gate = [best(check_statement, t, args.repeat) for t in texts]
        lex = [best(tokenize, t, args.repeat) for t in texts]
        print(
            f"reference statements: {len(texts)}; gate mean {1e3 * sum(gate) / len(gate):.2f} ms,"
            f" slowest {1e3 * max(gate):.2f} ms; lexer mean {1e3 * sum(lex) / len(lex):.2f} ms;"
            f" gate / lexer {sum(gate) / sum(lex):.1f}x"
        )
    else:
        print(f"reference statements: skipped ({SHARED} is absent)")

    print("\n| 20 KB candidate | gate ms | lexer ms | gate / lexer | under 50 ms | verdict |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    worst = 0.0
    texts = {
        n: ("theorem t : " + body)[: SIZE - 20] + " := by sorry" for n, body in ADVERSARIAL.items()
    }
    texts.update({name: build() for name, build in CANDIDATES.items()})
    for name, text in texts.items():
        assert len(text) <= SIZE, (name, len(text))
        gate_s = best(check_statement, text, args.repeat)
        try:
            lex_s = best(tokenize, text, args.repeat)
        except ValueError:  # Lean cannot lex it either: the gate refuses it at the lexer
            lex_s = float("nan")
        worst = max(worst, gate_s)
        verdict = check_statement(text)
        print(
            f"| {name} | {1e3 * gate_s:.1f} | {1e3 * lex_s:.1f} | {gate_s / lex_s:.1f}x |"
            f" {'yes' if gate_s < 0.05 else 'NO'} | {'accepted' if verdict.ok else 'refused'} |"
        )
    print(f"\nslowest adversarial candidate: {1e3 * worst:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
