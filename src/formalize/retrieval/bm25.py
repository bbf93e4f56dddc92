"""``bm25``: the index's FTS5 search over names, signatures and docstrings."""

from __future__ import annotations

from collections.abc import Sequence

from formalize.index.records import Declaration
from formalize.index.store import DeclarationIndex
from formalize.retrieval.base import query_words


class Bm25Retriever:
    """Ranks declarations by FTS5's bm25 against the words of the problem (deprecated names
    left out: the translator should not be shown them)."""

    name = "bm25"

    def __init__(self, index: DeclarationIndex, *, include_deprecated: bool = False) -> None:
        self.index = index
        self.include_deprecated = include_deprecated

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]:
        """The top ``k`` per query, in input order."""
        return [
            self.index.search(query_words(q), k, include_deprecated=self.include_deprecated)
            for q in queries
        ]
