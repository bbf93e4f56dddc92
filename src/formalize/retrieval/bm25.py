"""``bm25``: the index's FTS5 search over names, signatures and docstrings."""

from __future__ import annotations

from collections.abc import Sequence

from formalize.index.records import Declaration
from formalize.index.store import DeclarationIndex
from formalize.retrieval.base import query_words

#: weight of the popularity prior (ln of a name's uses in the sources) added to bm25; chosen on
#: miniF2F's valid split (benchmarks/README.md)
DEFAULT_POPULARITY = 1.0


class Bm25Retriever:
    """Ranks declarations by FTS5's bm25 against the words of the problem. By default only
    definitions (what a statement names; not theorems or instances) and no deprecated name:
    the translator should not be shown them. Names the sources use often are favoured
    (``popularity``), as a statement mostly names common definitions."""

    name = "bm25"

    def __init__(
        self,
        index: DeclarationIndex,
        *,
        include_deprecated: bool = False,
        definitions_only: bool = True,
        popularity: float = DEFAULT_POPULARITY,
    ) -> None:
        self.index = index
        self.include_deprecated = include_deprecated
        self.definitions_only = definitions_only
        self.popularity = popularity

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]:
        """The top ``k`` per query, in input order."""
        return [
            self.index.search(
                query_words(q),
                k,
                include_deprecated=self.include_deprecated,
                definitions_only=self.definitions_only,
                popularity=self.popularity,
            )
            for q in queries
        ]
