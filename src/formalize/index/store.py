"""The declaration index on disk: one SQLite file (FTS5 for text search) per dependency
revision, written once by :func:`write_index` and read through :class:`DeclarationIndex`."""

from __future__ import annotations

import math
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from formalize.errors import InputError
from formalize.index.records import Declaration, DeclKind, split_name

#: the on-disk layout's version: an index of another version is rebuilt, not read
SCHEMA_VERSION = "3"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE decls (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    signature TEXT NOT NULL,
    docstring TEXT NOT NULL,
    module TEXT NOT NULL,
    line INTEGER NOT NULL,
    deprecated_to TEXT,
    last TEXT NOT NULL,
    last_fold TEXT NOT NULL,
    prior REAL NOT NULL DEFAULT 0  -- ln(1 + uses in the sources): how common the name is
);
CREATE TABLE namespaces (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE decls_fts USING fts5(
    words, signature, docstring, tag, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
_INDEXES = """
CREATE INDEX decls_last ON decls (last);
CREATE INDEX decls_last_fold ON decls (last_fold);
"""
#: bm25 weights of the FTS columns: the name's words, the signature, the docstring
_BM25 = "bm25(decls_fts, 8.0, 1.0, 3.0, 0.0)"
#: the kinds a statement names (lemmas and instances are what proofs name)
DEFINITION_KINDS = frozenset(DeclKind) - {DeclKind.THEOREM, DeclKind.INSTANCE}
_COLUMNS = "name, kind, signature, docstring, module, line, deprecated_to"
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_QUERY_WORD = re.compile(r"[^\W_]+")


def name_words(name: str) -> str:
    """The words of a declaration name for text search: its components, split at ``_`` and at
    camel-case humps (``padicValNat`` -> ``padic val nat``), plus the components whole."""
    parts = [p.strip("«»") for p in split_name(name)]
    words: list[str] = []
    for part in parts:
        words.append(part)
        pieces = [w for chunk in part.split("_") for w in _CAMEL.findall(chunk)]
        if len(pieces) > 1 or (pieces and pieces[0] != part):
            words.extend(pieces)
    return " ".join(words)


def fts_query(text: str) -> str:
    """An FTS5 query that matches any word of ``text`` (each word quoted, so no word is read
    as an FTS5 operator); "" when ``text`` has no word."""
    words = dict.fromkeys(w.lower() for w in _QUERY_WORD.findall(text))
    return " OR ".join(f'"{w}"' for w in words)


def _row(row: tuple[object, ...]) -> Declaration:
    name, kind, signature, docstring, module, line, deprecated_to = row
    return Declaration(
        str(name),
        DeclKind(kind),
        str(signature),
        str(docstring),
        str(module),
        int(line),  # type: ignore[call-overload]
        None if deprecated_to is None else str(deprecated_to),
    )


def _tag(kind: str, deprecated_to: str | None) -> str:
    """The FTS ``tag`` column: ``defn`` or ``lemma``, and ``deprecated`` (filters, not scored)."""
    tag = "defn" if DeclKind(kind) in DEFINITION_KINDS else "lemma"
    return tag + (" deprecated" if deprecated_to is not None else "")


def write_index(
    path: Path,
    declarations: Iterable[Declaration],
    revision: str,
    meta: dict[str, str],
    *,
    uses: Mapping[str, int] | None = None,
) -> int:
    """Write a new index file at ``path`` (replacing any) and return how many declarations it
    holds; the first of several declarations with one name is kept. ``path`` appears only
    when complete (written beside it, then renamed). ``uses``: occurrences of names in the
    sources, whole and (key ``"." + last``) by last component, for the popularity prior."""
    uses = uses or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")  # builds may run side by side
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        namespaces: set[str] = set()
        rows = []
        for decl in declarations:
            parts = split_name(decl.name)
            namespaces.update(".".join(parts[:i]) for i in range(1, len(parts)))
            last = parts[-1]
            rows.append(
                (
                    decl.name,
                    decl.kind.value,
                    decl.signature,
                    decl.docstring,
                    decl.module,
                    decl.line,
                    decl.deprecated_to,
                    last,
                    last.casefold(),
                    math.log1p(uses.get(decl.name, 0) + uses.get("." + last, 0)),
                )
            )
        conn.executemany(
            "INSERT OR IGNORE INTO decls (name, kind, signature, docstring, module, line, "
            "deprecated_to, last, last_fold, prior) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO decls_fts (rowid, words, signature, docstring, tag) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (rowid, name_words(name), signature, docstring, _tag(kind, deprecated_to))
                for rowid, name, signature, docstring, kind, deprecated_to in conn.execute(
                    "SELECT id, name, signature, docstring, kind, deprecated_to FROM decls"
                ).fetchall()
            ),
        )
        conn.executemany("INSERT INTO namespaces VALUES (?)", ((n,) for n in sorted(namespaces)))
        conn.executescript(_INDEXES)
        (count,) = conn.execute("SELECT count(*) FROM decls").fetchone()
        info = {**meta, "schema": SCHEMA_VERSION, "revision": revision, "declarations": str(count)}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(info.items()))
        conn.execute("INSERT INTO decls_fts (decls_fts) VALUES ('optimize')")
        conn.commit()
    finally:
        conn.close()
    tmp.replace(path)
    return int(count)


class DeclarationIndex:
    """Read access to an index file: look names up, list a namespace, search the text.

    Safe to share between threads (one connection behind a lock)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, meta: dict[str, str]) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.path = path
        self.meta = meta
        self.revision = meta.get("revision", "")

    @classmethod
    def open(cls, path: Path) -> DeclarationIndex:
        """Open the index at ``path`` read-only; ``InputError`` when it is not one."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"no declaration index at {path} (build it: formalize lean index)")
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise InputError(f"{path} is not a declaration index ({exc})") from None
        if meta.get("schema") != SCHEMA_VERSION:
            conn.close()
            raise InputError(
                f"{path} is a declaration index of layout {meta.get('schema')!r}, this version "
                f"reads {SCHEMA_VERSION!r}: rebuild it (formalize lean index --force)"
            )
        return cls(conn, path, meta)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def __len__(self) -> int:
        return int(self._query("SELECT count(*) FROM decls")[0][0])  # type: ignore[call-overload]

    def get(self, name: str) -> Declaration | None:
        """The declaration named exactly ``name``, or None."""
        rows = self._query(f"SELECT {_COLUMNS} FROM decls WHERE name = ?", (name,))
        return _row(rows[0]) if rows else None

    def get_many(self, names: Sequence[str]) -> list[Declaration | None]:
        """``get`` for each of ``names``, in input order."""
        found: dict[str, Declaration] = {}
        unique = list(dict.fromkeys(names))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self._query(f"SELECT {_COLUMNS} FROM decls WHERE name IN ({marks})", chunk):
                decl = _row(row)
                found[decl.name] = decl
        return [found.get(name) for name in names]

    def is_namespace(self, name: str) -> bool:
        """True when some declaration's name lies under ``name`` (``Nat`` for ``Nat.Prime``)."""
        return bool(self._query("SELECT 1 FROM namespaces WHERE name = ?", (name,)))

    def by_last_component(self, last: str, *, casefold: bool = False, limit: int = 50) -> list[str]:
        """The names whose last component is ``last`` (case-insensitively with ``casefold``),
        shortest first."""
        column, value = ("last_fold", last.casefold()) if casefold else ("last", last)
        rows = self._query(
            f"SELECT name FROM decls WHERE {column} = ? ORDER BY length(name), name LIMIT ?",
            (value, limit),
        )
        return [str(r[0]) for r in rows]

    def popularity(self, names: Sequence[str]) -> list[float]:
        """How common each of ``names`` is in the sources the index was built from, in input
        order (0.0 for a name the index lacks): ``ln(1 + uses)``, where uses counts the name
        written whole plus its last component written anywhere, so among names sharing a last
        component (``Real.sqrt``, ``Nat.sqrt``) the order is that of the whole name's uses."""
        found: dict[str, float] = {}
        unique = list(dict.fromkeys(names))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for name, prior in self._query(
                f"SELECT name, prior FROM decls WHERE name IN ({marks})", chunk
            ):
                found[str(name)] = float(prior)  # type: ignore[arg-type]
        return [found.get(name, 0.0) for name in names]

    def names_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        """The names starting with ``prefix`` (``Nat.Prime.`` lists that namespace), sorted."""
        rows = self._query(
            "SELECT name FROM decls WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [str(r[0]) for r in rows]

    def search(
        self,
        query: str,
        k: int,
        *,
        include_deprecated: bool = True,
        definitions_only: bool = False,
        popularity: float = 0.0,
    ) -> list[Declaration]:
        """The ``k`` declarations whose name words, signature and docstring best match any word
        of ``query`` (FTS5's bm25), best first; ``definitions_only`` leaves out theorems and
        instances (:data:`DEFINITION_KINDS` stay). ``popularity`` > 0 favours names the sources
        use often: the score is bm25 plus ``popularity * ln(1 + uses)``."""
        return [
            decl
            for decl, _ in self.search_scored(
                query,
                k,
                include_deprecated=include_deprecated,
                definitions_only=definitions_only,
                popularity=popularity,
            )
        ]

    def search_scored(
        self,
        query: str,
        k: int,
        *,
        include_deprecated: bool = True,
        definitions_only: bool = False,
        popularity: float = 0.0,
    ) -> list[tuple[Declaration, float]]:
        """:meth:`search` with each declaration's score (higher is better: FTS5's bm25, which
        is negative, negated, plus the popularity term), for a caller that combines it."""
        words = fts_query(query)
        if not words or k <= 0:
            return []
        match = f"{{words signature docstring}} : ({words})"
        if definitions_only:
            match += " AND tag : defn"
        if not include_deprecated:
            match += " NOT tag : deprecated"
        rows = self._query(
            f"SELECT {', '.join('d.' + c.strip() for c in _COLUMNS.split(','))}, "
            f"{_BM25} - ? * d.prior AS score "
            f"FROM decls_fts JOIN decls d ON d.id = decls_fts.rowid "
            f"WHERE decls_fts MATCH ? ORDER BY score LIMIT ?",
            (popularity, match, k),
        )
        return [(_row(r[:-1]), -float(r[-1])) for r in rows]  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Declaration]:
        """Every declaration, in name order."""
        return iter([_row(r) for r in self._query(f"SELECT {_COLUMNS} FROM decls ORDER BY name")])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> DeclarationIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
