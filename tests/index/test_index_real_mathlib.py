"""The parser on real Mathlib sources, where a checkout is given: FORMALIZE_MATHLIB_SRC=DIR
(Mathlib at v4.15.0, the project's pin; the benchmark reads the same tree). Skipped, with the
reason, where none is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from formalize.index.parser import parse_source
from formalize.index.records import DeclKind
from formalize.index.resolve import resolve

FILES = {
    "Mathlib.Data.Nat.Prime.Defs": "Mathlib/Data/Nat/Prime/Defs.lean",
    "Mathlib.Algebra.BigOperators.Group.Finset": "Mathlib/Algebra/BigOperators/Group/Finset.lean",
}


@pytest.fixture(scope="module")
def mathlib() -> Path:
    value = os.environ.get("FORMALIZE_MATHLIB_SRC")
    if not value:
        pytest.skip("FORMALIZE_MATHLIB_SRC is not set (a Mathlib v4.15.0 source tree)")
    root = Path(value)
    missing = [f for f in FILES.values() if not (root / f).is_file()]
    if missing:
        pytest.skip(f"{root} lacks {missing} (not a Mathlib v4.15.0 tree?)")
    return root


def test_real_mathlib_files(mathlib: Path) -> None:
    results = [parse_source((mathlib / f).read_text(), m) for m, f in FILES.items()]
    assert all(r.parsed.skipped == 0 for r in results)
    decls = {d.name: d for d in resolve(results)[0]}
    assert decls["Nat.Prime"].kind is DeclKind.DEF
    assert decls["Nat.Prime"].docstring.startswith("`Nat.Prime p` means that `p` is a prime")
    assert decls["Nat.prime_def_lt''"].deprecated_to == "Nat.prime_def"  # deprecated alias
    assert decls["Finset.prod_of_empty"].deprecated_to == "Finset.prod_of_isEmpty"
    assert decls["Finset.prod_range_succ"].kind is DeclKind.THEOREM
    twin = decls["Finset.sum_range_succ"]  # made by @[to_additive]
    assert twin.module == "Mathlib.Algebra.BigOperators.Group.Finset"
    assert "∑" in twin.signature
    assert len(decls) > 500
