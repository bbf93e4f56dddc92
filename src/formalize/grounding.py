"""Mathlib in the prompts (issue 22): the declarations retrieved for a problem, for the
translator, and the definitions of the constants a candidate uses, for the critic.

Both come from the declaration index (``formalize.index``): the translator's through a
``Retriever`` (``formalize.retrieval``: bm25, embedding), top ``k`` within a token budget;
the critic's through the name check's resolution (``formalize.names``), so the critic sees
what ``Nat.card`` or ``padicValNat`` is at the pinned Mathlib instead of guessing from the
name. Without an index, or with retrieval ``none``, nothing here is used and the prompts are
today's, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_K = 8
DEFAULT_BUDGET_TOKENS = 600  # of the retrieved block in the translator's prompt
DEFAULT_DEFINITIONS_BUDGET_TOKENS = 1200  # of the definitions block in the critic's prompt
_DOC_CHARS = 240
_CHARS_PER_TOKEN = 4  # a rough count: Lean and English in Qwen/Llama tokenizers run 3-4
NO_DEFINITIONS = "(none of the names used is in the Mathlib index)"


class Retriever(Protocol):
    """``formalize.retrieval.Retriever``: the top ``k`` declarations per query, input order."""

    name: str

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Any]]:
        """The declarations for each query, best first."""
        ...


def estimate_tokens(text: str) -> int:
    """A tokenizer-free token estimate (characters / 4, rounded up)."""
    return -(-len(text) // _CHARS_PER_TOKEN)


def describe(decl: Any, doc_chars: int = _DOC_CHARS) -> str:
    """One declaration as a prompt line: ``- Name signature`` and its docstring's start."""
    signature = " ".join(str(getattr(decl, "signature", "")).split())
    kind = getattr(getattr(decl, "kind", ""), "value", getattr(decl, "kind", ""))
    line = f"- {kind} {decl.name}" + (f" {signature}" if signature else "")
    doc = " ".join(str(getattr(decl, "docstring", "")).split())
    if len(doc) > doc_chars:
        doc = doc[: doc_chars - 3].rstrip() + "..."
    target = getattr(decl, "deprecated_to", None)
    if target:
        doc = f"deprecated: use {target}. {doc}".strip()
    return f"{line}\n  {doc}" if doc else line


def within_budget(decls: Sequence[Any], budget_tokens: int) -> list[str]:
    """The declarations' lines, best first, as many as fit in ``budget_tokens``."""
    lines: list[str] = []
    used = 0
    for decl in decls:
        line = describe(decl)
        cost = estimate_tokens(line) + 1
        if used + cost > budget_tokens:
            break
        lines.append(line)
        used += cost
    return lines


@dataclass
class Grounding:
    """What the run grounds its prompts in: a retriever with its ``k`` and token budget for the
    translator, and a resolver of used constants (a ``NameChecker``) for the critic."""

    retriever: Retriever | None = None
    k: int = DEFAULT_K
    budget_tokens: int = DEFAULT_BUDGET_TOKENS
    resolver: Any = None  # formalize.names.NameChecker over the same index
    definitions_budget_tokens: int = DEFAULT_DEFINITIONS_BUDGET_TOKENS
    revision: str = ""

    @property
    def retrieves(self) -> bool:
        """True when the translator's prompts carry retrieved declarations."""
        return self.retriever is not None and getattr(self.retriever, "name", "") != "none"

    def declarations(self, queries: Sequence[str]) -> list[str]:
        """The translator's declarations block for each query (a problem's text), in order."""
        if not self.retrieves or not queries:
            return ["" for _ in queries]
        assert self.retriever is not None
        found = self.retriever.retrieve(list(queries), self.k)
        blocks = []
        for decls in found:
            blocks.append("\n".join(within_budget(decls[: self.k], self.budget_tokens)))
        return blocks

    def definitions(self, lean: str) -> str:
        """The critic's definitions block: the used constants, in order of use, within budget."""
        if self.resolver is None:
            return NO_DEFINITIONS
        lines = within_budget(self.resolver.constants(lean), self.definitions_budget_tokens)
        return "\n".join(lines) or NO_DEFINITIONS

    def provenance(self) -> dict[str, Any]:
        """Recorded with every attempt: the retriever, k, the budgets, the index revision."""
        return {
            "retriever": getattr(self.retriever, "name", None) if self.retrieves else "none",
            "k": self.k if self.retrieves else 0,
            "budget_tokens": self.budget_tokens,
            "critic_definitions": self.resolver is not None,
            "index_revision": self.revision or None,
        }
