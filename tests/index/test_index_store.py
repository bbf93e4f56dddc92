"""The index file: lookups, text search, and building a project's index once per revision."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_fixture import FIXTURE_REV, build_fixture_index, make_lean_project

from formalize.errors import InputError
from formalize.index import DeclarationIndex, index_path
from formalize.index.build import build_from_source, ensure_index
from formalize.index.records import Declaration, DeclKind
from formalize.index.store import fts_query, name_words, write_index


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeclarationIndex]:
    built = build_fixture_index(tmp_path_factory.mktemp("index"))
    yield built
    built.close()


def test_get_and_get_many_keep_input_order(index: DeclarationIndex) -> None:
    prime = index.get("Nat.Prime")
    assert prime is not None and prime.kind is DeclKind.DEF
    assert prime.module == "Mathlib.Data.Nat.Prime.Defs"
    assert index.get("Nat.prime") is None
    got = index.get_many(["Real.sqrt", "nope", "Nat.card", "Real.sqrt"])
    assert [d.name if d else None for d in got] == ["Real.sqrt", None, "Nat.card", "Real.sqrt"]
    many = [f"missing{i}" for i in range(1200)] + ["Finset.Icc"]  # more than one chunk
    assert index.get_many(many)[-1] == index.get("Finset.Icc")


def test_revision_and_size(index: DeclarationIndex) -> None:
    assert index.revision == f"mathlib@{FIXTURE_REV}"
    assert len(index) == len(list(index)) > 50


def test_is_namespace(index: DeclarationIndex) -> None:
    assert index.is_namespace("Nat")
    assert index.is_namespace("Nat.Prime")  # Nat.Prime.two_le lives under it
    assert index.is_namespace("padicValNat")
    assert not index.is_namespace("Nat.card")
    assert not index.is_namespace("Na")


def test_by_last_component(index: DeclarationIndex) -> None:
    assert index.by_last_component("Icc") == ["Finset.Icc"]
    assert index.by_last_component("prime") == []
    assert index.by_last_component("prime", casefold=True) == ["Nat.Prime"]
    assert index.by_last_component("card") == ["Nat.card", "Finset.card"]  # shortest first
    assert index.by_last_component("card", limit=1) == ["Nat.card"]


def test_names_with_prefix(index: DeclarationIndex) -> None:
    assert index.names_with_prefix("Nat.Prime.") == [
        "Nat.Prime.pos",
        "Nat.Prime.two_le",
        "Nat.Prime.two_le_old",
    ]
    assert index.names_with_prefix("Real.s", limit=2) == ["Real.sq_sqrt", "Real.sqrt"]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("the square root of a real number", "Real.sqrt"),
        ("p-adic valuation of n", "padicValNat"),
        ("cardinality of a type as a natural number", "Nat.card"),
        ("binomial coefficient", "Nat.choose"),
        ("imaginary unit", "Complex.I"),
    ],
)
def test_search_ranks_the_obvious_match_first(
    index: DeclarationIndex, query: str, first: str
) -> None:
    assert index.search(query, 5)[0].name == first


def test_search_edge_cases(index: DeclarationIndex) -> None:
    assert index.search("", 5) == []
    assert index.search("∑ ≤ ⟨⟩ :=", 5) == []  # no word
    assert index.search("prime", 0) == []
    assert index.search('NOT "prime" OR (', 3)  # operators are words, not syntax
    assert len(index.search("prime", 2)) == 2
    names = [d.name for d in index.search("mod mod of dvd", 10, include_deprecated=False)]
    assert "Int.emod_emod_of_dvd" in names and "Int.mod_mod_of_dvd" not in names
    assert "Int.mod_mod_of_dvd" in [d.name for d in index.search("mod mod of dvd", 10)]
    defs = index.search("prime", 10, definitions_only=True)
    assert [d.name for d in defs] == ["Nat.Prime", "padicValNat"]  # its docstring: "prime"
    assert "Nat.prime_two" in [d.name for d in index.search("prime", 10)]


def test_name_words_and_fts_query() -> None:
    assert name_words("padicValNat.self") == "padicValNat padic Val Nat self"
    assert name_words("Int.emod_emod_of_dvd") == "Int emod_emod_of_dvd emod emod of dvd"
    assert fts_query('a "b" a-c') == '"a" OR "b" OR "c"'


def test_open_refuses_what_is_not_an_index(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no declaration index"):
        DeclarationIndex.open(tmp_path / "absent.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(InputError, match="not a declaration index"):
        DeclarationIndex.open(other)
    old = tmp_path / "old.sqlite"
    write_index(old, [], "r", {})
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    with pytest.raises(InputError, match="rebuild"):
        DeclarationIndex.open(old)


def test_first_of_duplicate_names_is_kept(tmp_path: Path) -> None:
    first = Declaration("A.b", DeclKind.DEF, ": Nat", "", "M1", 1)
    second = Declaration("A.b", DeclKind.THEOREM, ": True", "", "M2", 2)
    assert write_index(tmp_path / "i.sqlite", [first, second], "r", {}) == 1
    with DeclarationIndex.open(tmp_path / "i.sqlite") as index:
        assert index.get("A.b") == first


def test_project_index_is_rebuilt_only_when_the_revision_changes(tmp_path: Path) -> None:
    project = make_lean_project(tmp_path)
    assert index_path(project) is None
    first = ensure_index(project)
    assert first.built and first.declarations > 50 and first.files == 10
    assert first.skipped_spans == 4  # the broken fixture file
    assert index_path(project) == first.path
    again = ensure_index(project)
    assert not again.built and again.path == first.path
    forced = ensure_index(project, force=True)
    assert forced.built
    make_lean_project(tmp_path, rev="1" * 40)  # the manifest pins a new revision
    assert index_path(project) is None
    vectors = first.path.with_name(first.path.name + ".abc.npy")  # an embedding retriever's
    vectors.write_bytes(b"")
    moved = ensure_index(project)
    assert moved.built and moved.path != first.path
    assert not first.path.exists() and not vectors.exists()  # the old revision's files go
    with DeclarationIndex.open(moved.path) as index:
        assert index.revision == f"mathlib@{'1' * 40}"


def test_project_without_manifest_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"lake-manifest\.json"):
        ensure_index(tmp_path)
    assert index_path(tmp_path) is None


def test_build_from_a_bare_source_tree(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    (tree / "Foo").mkdir(parents=True)
    (tree / "Foo" / "Bar.lean").write_text("namespace Foo\ndef bar : Nat := 1\nend Foo\n")
    report = build_from_source(tree, tmp_path / "proj", out=tmp_path / "i.sqlite")
    assert report.built and report.revision.startswith("source@")
    with DeclarationIndex.open(report.path) as index:
        decl = index.get("Foo.bar")
        assert decl is not None and decl.module == "Foo.Bar"
    assert not build_from_source(tree, tmp_path / "proj", out=tmp_path / "i.sqlite").built
    with pytest.raises(InputError):
        build_from_source(tmp_path / "nowhere", tmp_path / "proj")


def test_lean_core_sources_are_indexed_where_elan_put_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_lean_project(tmp_path)
    (project / "lean-toolchain").write_text("leanprover/lean4:v4.15.0\n")
    before = ensure_index(project)
    core = tmp_path / "elan" / "toolchains" / "leanprover--lean4---v4.15.0" / "src" / "lean"
    for library, text in {
        "Init": "namespace Nat\ndef gcd' : Nat → Nat → Nat := sorry\nend Nat\n",
        "Lean": "def Lean.compilerThing : Nat := 0\n",  # the compiler's: not indexed
    }.items():
        (core / library).mkdir(parents=True)
        (core / f"{library}.lean").write_text(f"import {library}.Core\n")
        (core / library / "Core.lean").write_text(text)
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "elan"))
    assert not ensure_index(project).built  # same revision: the toolchain was already in it
    report = ensure_index(project, force=True)
    assert report.files == before.files + 2
    with DeclarationIndex.open(report.path) as index:
        assert "toolchain@leanprover/lean4:v4.15.0" in index.revision
        assert index.get("Nat.gcd'") is not None
        assert index.get("Lean.compilerThing") is None


def test_popularity_favours_names_the_sources_use(tmp_path: Path) -> None:
    rare = Declaration("Rare.sqrt", DeclKind.DEF, ": ℝ → ℝ", "a square root, rarely used", "M", 1)
    common = Declaration("Real.sqrt", DeclKind.DEF, ": ℝ → ℝ", "the square root", "M", 2)
    uses = {"Real.sqrt": 500, ".sqrt": 20}
    write_index(tmp_path / "i.sqlite", [rare, common], "r", {}, uses=uses)
    with DeclarationIndex.open(tmp_path / "i.sqlite") as index:
        plain = [d.name for d in index.search("rarely used square root", 2)]
        assert plain == ["Rare.sqrt", "Real.sqrt"]  # more words match the rare one
        popular = [d.name for d in index.search("rarely used square root", 2, popularity=1.0)]
        assert popular == ["Real.sqrt", "Rare.sqrt"]
        # the scores behind that order: higher is better, popularity adds weight * ln(1 + uses)
        plain_scored = dict(
            (d.name, score) for d, score in index.search_scored("rarely used square root", 2)
        )
        scored = index.search_scored("rarely used square root", 2, popularity=2.0)
        assert [d.name for d, _ in scored] == popular
        assert scored[0][1] > scored[1][1]
        for (decl, score), prior in zip(
            scored, index.popularity([d.name for d, _ in scored]), strict=True
        ):
            assert prior > 0
            assert score == pytest.approx(plain_scored[decl.name] + 2.0 * prior)
        assert index.search_scored("", 2) == []


def test_build_counts_uses(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    (tree / "A").mkdir(parents=True)
    (tree / "A" / "B.lean").write_text(
        "def Foo.often : Nat := 1\ndef Foo.seldom : Nat := 2\n"
        "theorem t : Foo.often = Foo.often + Foo.often.succ - (x).often := rfl\n"
    )
    report = build_from_source(tree, tmp_path / "p", out=tmp_path / "i.sqlite")
    with sqlite3.connect(report.path) as conn:
        prior = dict(conn.execute("SELECT name, prior FROM decls").fetchall())
    assert prior["Foo.often"] > prior["Foo.seldom"] > 0
