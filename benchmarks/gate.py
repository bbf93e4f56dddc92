"""Speed of the statement gate: real reference statements and 20 KB adversarial candidates.

    python benchmarks/gate.py [--repeat 5]

Two measurements, each the best of ``--repeat`` runs, side by side with the lexer alone on the
same text (the gate's floor: it cannot be faster than reading the tokens once):

- the reference statements of ``../shared/data/translation`` (miniF2F, ProofNet, PutnamBench,
  MOBench): per-statement mean and the slowest one, and the gate / lexer ratio;
- adversarial candidates of 20 KB (the default length limit) built to stress each scanner:
  long identifiers, deep brackets, many bars, comment markers, quantifier chains, identifier
  runs holding command words. Target: every one under 50 ms.
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


def best(fn: object, text: str, repeat: int) -> float:
    """Best wall time of ``fn(text)`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
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

    print("\n| 20 KB candidate | gate ms | lexer ms | gate / lexer | under 50 ms |")
    print("| --- | ---: | ---: | ---: | --- |")
    worst = 0.0
    for name, body in ADVERSARIAL.items():
        text = ("theorem t : " + body)[: SIZE - 20] + " := by sorry"
        gate_s = best(check_statement, text, args.repeat)
        try:
            lex_s = best(tokenize, text, args.repeat)
        except ValueError:  # Lean cannot lex it either: the gate refuses it at the lexer
            lex_s = float("nan")
        worst = max(worst, gate_s)
        print(
            f"| {name} | {1e3 * gate_s:.1f} | {1e3 * lex_s:.1f} | {gate_s / lex_s:.1f}x |"
            f" {'yes' if gate_s < 0.05 else 'NO'} |"
        )
    print(f"\nslowest adversarial candidate: {1e3 * worst:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
