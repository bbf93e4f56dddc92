"""The retriever interface: natural-language queries in, declarations of the index out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from formalize.index.records import Declaration


@runtime_checkable
class Retriever(Protocol):
    """Finds the declarations relevant to each query; one list per query, in input order,
    each at most ``k`` long and best first."""

    name: str

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]: ...


class NoRetriever:
    """``none``: retrieves nothing (the prompts stay as they were without retrieval)."""

    name = "none"

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]:
        """An empty list per query."""
        return [[] for _ in queries]


# Words a problem writes in LaTeX or in English for what Mathlib names otherwise.
_LATEX = {
    "sqrt": "sqrt square root",
    "binom": "choose binomial",
    "choose": "choose binomial",
    "gcd": "gcd",
    "lcm": "lcm",
    "lfloor": "floor",
    "rfloor": "",
    "lceil": "ceil",
    "rceil": "",
    "sum": "sum",
    "prod": "prod product",
    "log": "log",
    "ln": "log",
    "exp": "exp",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arctan": "arctan",
    "pi": "pi",
    "mid": "dvd divides",
    "nmid": "dvd divides",
    "equiv": "modeq",
    "pmod": "mod",
    "bmod": "mod",
    "mod": "mod",
    "det": "det",
    "int": "integral",
    "lim": "tendsto limit",
    "infty": "",
    "mathbb": "",
}
_SYNONYMS = {
    "remainder": "mod emod",
    "divisible": "dvd",
    "divides": "dvd",
    "divisor": "divisors dvd",
    "divisors": "divisors dvd",
    "integer": "int",
    "integers": "int",
    "natural": "nat",
    "reals": "real",
    "primes": "prime",
    "absolute": "abs",
    "modulus": "abs",
    "derivative": "deriv",
    "logarithm": "log",
}
_STOPWORD_TEXT = (
    "a an and are as at be by for from has have if in into is it its let of on or such that "
    "the then there these this to was we what when where which who will with show prove "
    "find compute determine all each every any given value values"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
_WORD = re.compile(r"[^\W_]+")


def query_words(text: str) -> str:
    """The words of a problem that are worth searching for: LaTeX commands turned into the
    words Mathlib uses (``\\sqrt`` -> ``sqrt``), other commands and English filler dropped,
    a few synonyms added (``remainder`` -> ``mod``)."""
    text = _LATEX_COMMAND.sub(lambda m: f" {_LATEX.get(m.group(1), '')} ", text)
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) == 1 or word.isdigit():
            continue
        words.append(word)
        if word in _SYNONYMS:
            words.extend(_SYNONYMS[word].split())
    return " ".join(dict.fromkeys(words))
