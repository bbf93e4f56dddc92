"""Retrieval of Mathlib declarations for a problem: one interface (:class:`Retriever`: a batch
of queries in, the top-k :class:`~formalize.index.records.Declaration` per query out, in
order) and one line per retriever in :data:`REGISTRY`:

- ``bm25`` (the default): the index's FTS5 bm25 over names, signatures and docstrings;
- ``embedding``: a sentence-embedding model (``pip install 'formalize-lean[hf]'``) re-ranking
  bm25's candidates, or searching precomputed vectors of every declaration;
- ``none``: nothing (prompts as without retrieval).

See ``docs/retrieval.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from formalize.errors import InputError
from formalize.index.store import DeclarationIndex
from formalize.retrieval.base import NoRetriever, Retriever, query_words
from formalize.settings import did_you_mean

__all__ = [
    "DEFAULT_RETRIEVER",
    "REGISTRY",
    "NoRetriever",
    "Retriever",
    "build_retriever",
    "query_words",
]

DEFAULT_RETRIEVER = "bm25"


def _bm25(index: DeclarationIndex, **options: Any) -> Retriever:
    from formalize.retrieval.bm25 import Bm25Retriever

    return Bm25Retriever(index, **options)


def _embedding(index: DeclarationIndex, **options: Any) -> Retriever:
    from formalize.retrieval.embedding import EmbeddingRetriever

    return EmbeddingRetriever(index, **options)


#: name -> factory(index, **options). Adding a retriever: one module, one line here.
REGISTRY: dict[str, Callable[..., Retriever]] = {
    "bm25": _bm25,
    "embedding": _embedding,
    "none": lambda index, **options: NoRetriever(),
}


def build_retriever(name: str, index: DeclarationIndex | None, **options: Any) -> Retriever:
    """The retriever ``name`` over ``index`` (``none`` needs no index). ``InputError`` for an
    unknown name (with a "did you mean") and for a missing index."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(
            f"unknown retriever {name!r}{did_you_mean(name, REGISTRY)}; known: {known}"
        )
    if name == "none":
        return REGISTRY[name](index, **options)
    if index is None:
        raise InputError(
            f"retriever {name!r} needs the declaration index, and none is built: run "
            "`formalize lean index` (or use --retrieval none)"
        )
    try:
        return REGISTRY[name](index, **options)
    except TypeError as exc:
        raise InputError(f"retriever {name!r}: {exc}") from None
