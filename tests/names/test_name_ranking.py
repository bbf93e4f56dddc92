"""The order of a wrong name's suggestions among declarations sharing its last component: the
statement's own signals (its names' namespaces, the types it writes), definitions before
lemmas, then how common a name is in the sources (``DeclarationIndex.popularity``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from index_fixture import build_fixture_index
from names_fakes import FakeDecl, FakeIndex

from formalize.index.records import Declaration, DeclKind
from formalize.index.store import DeclarationIndex, write_index
from formalize.names import NameChecker, scan, suggest


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeclarationIndex]:
    index = build_fixture_index(tmp_path_factory.mktemp("ranking"))
    yield index
    index.close()


def _first(index: object, text: str) -> str:
    (miss,) = NameChecker(index).check_one(text).unresolved  # type: ignore[arg-type]
    return miss.suggestions[0]


def test_popularity_is_the_stored_prior_in_input_order(tmp_path: Path) -> None:
    decls = [
        Declaration("Nat.sqrt", DeclKind.DEF, "", "", "M", 1),
        Declaration("Real.sqrt", DeclKind.DEF, "", "", "M", 2),
    ]
    uses = {"Real.sqrt": 40, "Nat.sqrt": 3, ".sqrt": 10}
    write_index(tmp_path / "i.sqlite", decls, "r", {}, uses=uses)
    with DeclarationIndex.open(tmp_path / "i.sqlite") as index:
        real, nat, missing = index.popularity(["Real.sqrt", "Nat.sqrt", "No.such"])
    assert missing == 0.0
    assert real > nat > 0.0  # 40 + 10 uses against 3 + 10


def test_fixture_popularity_counts_its_sources(fixture_index: DeclarationIndex) -> None:
    # the fixture's sources write `Nat.card` more often than `Finset.card`
    nat, finset = fixture_index.popularity(["Nat.card", "Finset.card"])
    assert nat > finset > 0.0


@pytest.mark.parametrize(
    ("text", "best"),
    [
        # nothing in the statement says which: the more common name
        ("theorem t (α : Type) : Int.card α = 0 := sorry", "Nat.card"),
        # a binder's type names the namespace (not the argument's: that is a hint)
        ("theorem t (s : Finset ℤ) (h : s = s) : Int.card α = 0 := sorry", "Finset.card"),
        # another name of the statement lives there
        ("theorem t : Int.card (Finset.Icc 1 3) = 3 := sorry", "Finset.card"),
        # or is that namespace (a type or class is also a namespace)
        ("theorem t (f : ℕ → Finset ℕ) : Int.card (f 1) = 0 := sorry", "Finset.card"),
    ],
)
def test_statement_signals_rank_before_popularity(
    fixture_index: DeclarationIndex, text: str, best: str
) -> None:
    assert _first(fixture_index, text) == best


def test_opens_are_not_a_signal(fixture_index: DeclarationIndex) -> None:
    # `open Finset` is boilerplate in many headers; the popular name still comes first
    text = "open Finset\ntheorem t (α : Type) : Int.card α = 0 := sorry"
    assert _first(fixture_index, text) == "Nat.card"


def test_definitions_rank_before_lemmas(tmp_path: Path) -> None:
    decls = [
        Declaration("Finsets.sqrt", DeclKind.THEOREM, "", "", "M", 1),
        Declaration("Real.sqrt", DeclKind.DEF, "", "", "M", 2),
    ]
    uses = {"Finsets.sqrt": 90, "Real.sqrt": 5}  # the lemma is more common, and closer
    write_index(tmp_path / "i.sqlite", decls, "r", {}, uses=uses)
    with DeclarationIndex.open(tmp_path / "i.sqlite") as index:
        got = suggest(index, "Finset.sqrt", ["Finset.sqrt"])
    assert got == ["Real.sqrt", "Finsets.sqrt"]


def test_popularity_orders_what_the_statement_leaves_equal(tmp_path: Path) -> None:
    decls = [Declaration(f"{s}.sqrt", DeclKind.DEF, "", "", "M", 1) for s in ("Nat", "Real")]
    for uses, best in (({"Real.sqrt": 9}, "Real.sqrt"), ({"Nat.sqrt": 9}, "Nat.sqrt")):
        path = tmp_path / f"{best}.sqlite"
        write_index(path, decls, "r", {}, uses=uses)
        with DeclarationIndex.open(path) as index:
            assert suggest(index, "Int.sqrt", ["Int.sqrt"])[0] == best


def test_an_index_without_popularity_still_ranks() -> None:
    index = FakeIndex([FakeDecl("Real.sqrt"), FakeDecl("Nat.sqrt")])
    got = suggest(index, "Int.sqrt", ["Int.sqrt"], types=["Real"])
    assert got == ["Real.sqrt", "Nat.sqrt"]


def test_a_deprecated_candidate_gives_way_to_its_target_in_its_place() -> None:
    index = FakeIndex(
        [
            FakeDecl("Finset.card"),
            FakeDecl("Old.card", "def", deprecated_to="Other.cardinal"),
            FakeDecl("Other.cardinal"),
        ]
    )
    got = suggest(index, "Int.card", ["Int.card"], context=["Finset"])
    assert got == ["Finset.card", "Other.cardinal"]


def test_scan_lists_the_types_written() -> None:
    found = scan("theorem t (s : Finset ℕ) (x : ℝ) (q : Polynomial ℚ) : True := sorry")
    assert {"Finset", "Nat", "Real", "Polynomial", "Rat"} <= found.types
