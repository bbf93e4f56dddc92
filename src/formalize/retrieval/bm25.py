"""``bm25``: the index's FTS5 search over names, signatures and docstrings."""

from __future__ import annotations

from collections.abc import Sequence

from formalize.index.records import Declaration
from formalize.index.store import DeclarationIndex
from formalize.retrieval.base import query_words


class Bm25Retriever:
    """Ranks declarations by FTS5's bm25 against the words of the problem. By default only
    definitions (what a statement names; not theorems or instances) and no deprecated name:
    the translator should not be shown them."""

    name = "bm25"

    def __init__(
        self,
        index: DeclarationIndex,
        *,
        include_deprecated: bool = False,
        definitions_only: bool = True,
    ) -> None:
        self.index = index
        self.include_deprecated = include_deprecated
        self.definitions_only = definitions_only

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]:
        """The top ``k`` per query, in input order."""
        return [
            self.index.search(
                query_words(q),
                k,
                include_deprecated=self.include_deprecated,
                definitions_only=self.definitions_only,
            )
            for q in queries
        ]
