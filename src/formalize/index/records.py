"""The nouns of the declaration index: one :class:`Declaration` per named Lean constant the
parser found, and what a parse or a build of the index reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from formalize.records import Record


class DeclKind(str, enum.Enum):
    """What command made a declaration (``lemma`` is recorded as ``theorem``)."""

    DEF = "def"
    THEOREM = "theorem"
    ABBREV = "abbrev"
    STRUCTURE = "structure"
    CLASS = "class"
    INSTANCE = "instance"
    INDUCTIVE = "inductive"
    AXIOM = "axiom"
    OPAQUE = "opaque"
    NOTATION = "notation"
    #: a structure's or class's field (its projection ``S.f``), written in its ``where`` block
    FIELD = "field"
    #: an inductive type's constructor (``| c ...``) or a structure's ``mk``
    CONSTRUCTOR = "constructor"


@dataclass(frozen=True)
class Declaration(Record):
    """A declaration of the pinned dependencies, as its source text shows it."""

    name: str  # full name as Lean resolves it, e.g. "Nat.Prime" (namespaces applied)
    kind: DeclKind
    signature: str  # binders and type as text, whitespace-normalised, no proof or body
    docstring: str  # "" when none
    module: str  # e.g. "Mathlib.Data.Nat.Prime.Defs"
    line: int  # 1-based line of the declaring command's keyword
    deprecated_to: str | None = None  # the `@[deprecated X]` / `alias` target X, full name

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Declaration.name is empty")
        if self.line < 1:
            raise ValueError(f"Declaration.line must be >= 1, got {self.line}")

    @property
    def last(self) -> str:
        """The last component of the name (``Prime`` for ``Nat.Prime``)."""
        return split_name(self.name)[-1]

    def render(self) -> str:
        """Name, signature, module and docstring as a person reads them (`lean search`)."""
        head = f"{self.name} {self.signature}".rstrip()
        lines = [f"{self.kind.value} {head}", f"  -- {self.module}:{self.line}"]
        if self.deprecated_to:
            lines.append(f"  -- deprecated: use {self.deprecated_to}")
        if self.docstring:
            lines.extend("  " + line for line in self.docstring.splitlines())
        return "\n".join(lines)


@dataclass(frozen=True)
class ParsedFile:
    """What the parser got from one source file: the declarations it could read, and how many
    spans (commands) it had to skip because it could not read them."""

    module: str
    declarations: tuple[Declaration, ...]
    skipped: int = 0
    skipped_lines: tuple[int, ...] = field(default=())  # first line of each skipped span


def split_name(name: str) -> list[str]:
    """The components of a Lean name, keeping ``«…»`` components whole."""
    parts: list[str] = []
    current: list[str] = []
    in_guillemets = False
    for char in name:
        if char == "«":
            in_guillemets = True
        elif char == "»":
            in_guillemets = False
        if char == "." and not in_guillemets:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
