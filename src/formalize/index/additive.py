"""The names Mathlib's ``@[to_additive]`` attribute gives the additive twins of multiplicative
declarations (``Finset.prod_range_succ`` -> ``Finset.sum_range_succ``), which exist only after
elaboration, so the parser must predict them.

The rules follow Mathlib v4.15.0's ``Mathlib/Tactic/ToAdditive/Frontend.lean`` (read, not
run): split a name's last component at case changes and ``_``, translate word by word
(``mul`` -> ``add``, ``monoid`` -> ``addMonoid``), fix the known abbreviations (``addComm``,
``nonneg``), keep the capitalisation of the source; the namespace is mapped through the
translations of its prefixes; an explicit ``@[to_additive foo]`` name replaces the last
components."""

from __future__ import annotations

import re
from collections.abc import Callable

from formalize.index.records import split_name

# word -> the words it becomes (lower-case keys; the first output word takes the input's case)
_WORDS: dict[str, list[str]] = {
    "one": ["zero"], "mul": ["add"], "smul": ["vadd"], "inv": ["neg"], "div": ["sub"],
    "prod": ["sum"], "hmul": ["hadd"], "hsmul": ["hvadd"], "hdiv": ["hsub"], "hpow": ["hsmul"],
    "finprod": ["finsum"], "tprod": ["tsum"], "pow": ["nsmul"], "npow": ["nsmul"],
    "zpow": ["zsmul"], "mabs": ["abs"], "monoid": ["add", "Monoid"],
    "submonoid": ["add", "Submonoid"], "group": ["add", "Group"],
    "subgroup": ["add", "Subgroup"], "semigroup": ["add", "Semigroup"],
    "magma": ["add", "Magma"], "haar": ["add", "Haar"], "prehaar": ["add", "Prehaar"],
    "unit": ["add", "Unit"], "units": ["add", "Units"], "cyclic": ["add", "Cyclic"],
    "rootable": ["divisible"], "semigrp": ["add", "Semigrp"], "grp": ["add", "Grp"],
    "commute": ["add", "Commute"], "semiconj": ["add", "Semiconj"],
    "zpowers": ["zmultiples"], "powers": ["multiples"], "multipliable": ["summable"],
    "gpfree": ["apfree"], "quantale": ["add", "Quantale"], "square": ["even"],
}  # fmt: skip

# "a B c -> x y": after the word-by-word step, the word sequence a B c becomes x y
_ABBREVIATIONS_TEXT = """
cancel Add -> addCancel | Cancel Add -> AddCancel | left Cancel Add -> addLeftCancel
Left Cancel Add -> AddLeftCancel | right Cancel Add -> addRightCancel
Right Cancel Add -> AddRightCancel | cancel Comm Add -> addCancelComm
Cancel Comm Add -> AddCancelComm | comm Add -> addComm | Comm Add -> AddComm
Zero LE -> Nonneg | zero _ le -> nonneg | zero LE -> nonneg | Zero LT -> Pos | zero _ lt -> pos
zero LT -> pos | LE Zero -> Nonpos | le _ zero -> nonpos | LT Zero -> Neg | lt _ zero -> neg
Add Single -> Single | add Single -> single | add _ single -> single | Add Support -> Support
add Support -> support | add _ support -> support | Add TSupport -> TSupport
add TSupport -> tsupport | add _ tsupport -> tsupport | Add Indicator -> Indicator
add Indicator -> indicator | add _ indicator -> indicator | is Even -> even | Is Even -> Even
is Regular -> isAddRegular | Is Regular -> IsAddRegular | is Left Regular -> isAddLeftRegular
Is Left Regular -> IsAddLeftRegular | is Right Regular -> isAddRightRegular
Is Right Regular -> IsAddRightRegular | Has Fundamental Domain -> HasAddFundamentalDomain
has Fundamental Domain -> hasAddFundamentalDomain | Quotient Measure -> AddQuotientMeasure
quotient Measure -> addQuotientMeasure | HSmul -> HSMul | NSmul -> NSMul | Nsmul -> NSMul
ZSmul -> ZSMul | neg Fun -> invFun | Neg Fun -> InvFun | unique Prods -> uniqueSums
Unique Prods -> UniqueSums | order Of -> addOrderOf | Order Of -> AddOrderOf
is Of Fin Order -> isOfFinAddOrder | Is Of Fin Order -> IsOfFinAddOrder
is Central Scalar -> isCentralVAdd | Is Central Scalar -> IsCentralVAdd
function _ add Semiconj -> function _ semiconj | function _ add Commute -> function _ commute
Zero Le Part -> PosPart | Le Zero Part -> NegPart | zero Le Part -> posPart
le Zero Part -> negPart | Division Add Monoid -> SubtractionMonoid
division Add Monoid -> subtractionMonoid | Sub Neg Zero Add Monoid -> SubNegZeroMonoid
sub Neg Zero Add Monoid -> subNegZeroMonoid
"""
_ABBREVIATIONS: list[tuple[list[str], list[str]]] = [
    (lhs.split(), rhs.split())
    for rule in _ABBREVIATIONS_TEXT.replace("\n", " | ").split("|")
    if "->" in rule
    for lhs, rhs in [rule.split("->")]
]
# a chunk that ends a word although an upper-case letter follows (``LEConj`` -> LE, Conj)
_END_CAPITALS = {"LE": [""], "LT": [""], "WF": [""], "Coe": ["TC", "T", "HTCT"]}


def split_case(word: str) -> list[str]:
    """A name component in words: at ``_`` (kept as a word), before an upper-case letter that
    follows a non-upper-case one, and after ``LE``/``LT``/``WF``."""
    parts: list[str] = []
    start = 0
    i = 0
    while i + 1 < len(word):
        here, nxt = word[i], word[i + 1]
        chunk = word[start : i + 1]
        if here == "_" or nxt == "_":
            parts.append(chunk)
            start = i + 1
        elif nxt.isupper():
            ends = _END_CAPITALS.get(chunk)
            tail = word[i + 1 :]
            suffix = next((s for s in ends or [] if tail.startswith(s)), None)
            if suffix is not None:
                parts.append(chunk + suffix)
                start = i + 1 + len(suffix)
                i = start
                continue
            if not here.isupper():
                parts.append(chunk)
                start = i + 1
        i += 1
    parts.append(word[start:])
    return [p for p in parts if p]


def _capitalise_like(model: str, word: str) -> str:
    out = list(word)
    for i, char in enumerate(model[: len(word)]):
        if char.islower():
            out[i] = out[i].lower()
        elif char.isupper():
            out[i] = out[i].upper()
    return "".join(out)


def _fix_abbreviations(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for lhs, rhs in _ABBREVIATIONS:
            if words[i : i + len(lhs)] == lhs:
                out.extend(rhs)
                i += len(lhs)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def guess_name(component: str) -> str:
    """The additive twin of one name component (``prod_range_succ`` -> ``sum_range_succ``)."""

    def one(token: str) -> str:
        words: list[str] = []
        for word in split_case(token):
            translated = _WORDS.get(word.lower(), [word])
            words.extend([_capitalise_like(word, translated[0]), *translated[1:]])
        return "".join(_fix_abbreviations(words))

    return "'".join(one(token) for token in component.split("'"))


def target_name(source: str, explicit: str | None, translation: Callable[[str], str | None]) -> str:
    """The full name ``@[to_additive explicit]`` gives the additive twin of ``source``;
    ``translation`` maps a name already translated to its twin (None otherwise)."""
    parts = split_name(source)
    prefix, last = parts[:-1], parts[-1]
    for cut in range(len(prefix), 0, -1):  # the longest translated prefix of the namespace
        mapped = translation(".".join(prefix[:cut]))
        if mapped is not None:
            prefix = [*split_name(mapped), *prefix[cut:]]
            break
    if explicit is None:
        return ".".join([*prefix, guess_name(last)])
    depth = len(split_name(explicit))
    kept = prefix[: max(0, len(prefix) - (depth - 1))]
    return ".".join([*kept, explicit])


_SYMBOLS = [("∏", "∑"), ("⨅", "⨅"), (" * ", " + "), ("⁻¹", "⁻"), (" / ", " - ")]
_IDENT_WORD = re.compile(r"(?<![\w.])[A-Za-z_][\w.']*")
_DOT_FIELD = re.compile(r"(?<=\))\.([A-Za-z_]\w*)")


def translate_signature(signature: str, translation: Callable[[str], str | None]) -> str:
    """A best-effort additive reading of a signature: translated names and operators."""
    text = _IDENT_WORD.sub(lambda m: translation(m.group()) or m.group(), signature)
    text = _DOT_FIELD.sub(lambda m: "." + guess_name(m.group(1)), text)  # `(s).prod f`
    for mul, add in _SYMBOLS:
        text = text.replace(mul, add)
    return text
