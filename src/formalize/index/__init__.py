"""The declaration index: every declaration of the Lean project's dependencies (Mathlib,
Batteries, ...) read from their sources without Lean, kept in one SQLite file per dependency
revision, for retrieval into prompts and for checking names. See ``docs/retrieval.md``.

- :mod:`~formalize.index.records`: :class:`Declaration`, :class:`DeclKind`;
- :mod:`~formalize.index.parser`: Lean sources to declarations;
- :mod:`~formalize.index.store`: the SQLite+FTS5 file, :class:`DeclarationIndex`;
- :mod:`~formalize.index.locate`: where a project's index is (:func:`index_path`);
- :mod:`~formalize.index.build`: building it (:func:`ensure_index`).
"""

from formalize.index.locate import index_path
from formalize.index.records import Declaration, DeclKind
from formalize.index.store import DeclarationIndex

__all__ = ["DeclKind", "Declaration", "DeclarationIndex", "index_path"]
