"""Turning untrusted text into safe HTML for the review pages: problems with their LaTeX as
MathML, and Lean code highlighted with Lean's messages at their positions.

Everything a model or a dataset wrote is untrusted. Plain text is escaped; LaTeX goes through
``latex2mathml`` and then through an allow-list: its output is parsed as XML and rebuilt from
the MathML elements and attributes listed here, with every text node and attribute value
escaped again; anything else (an element or attribute not on the list, a command it could not
render, a parse failure) fails soft to the escaped source text. The HTML returned is
``markupsafe.Markup``, so templates (autoescaping everywhere) print it unchanged and escape
everything else.

Math is found as ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]``; a single ``$`` follows
pandoc's rule (the opening one followed by a non-space, the closing one preceded by a non-space
and not followed by a digit, so "$20 and $30" is text) and ``\\$`` is a dollar sign.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from formalize.records import Message, Severity

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
MAX_MATH = 4000  # longer formulas are shown as source
MATHML_ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msup",
        "msub",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mstyle",
        "mtable",
        "mtr",
        "mtd",
        "mlabeledtr",
        "mover",
        "munder",
        "munderover",
        "menclose",
        "mpadded",
        "mphantom",
        "mfenced",
        "semantics",
        "annotation",
        "merror",
        "maligngroup",
        "malignmark",
    ]
)
MATHML_ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "form",
        "separator",
        "separators",
        "accent",
        "accentunder",
        "lspace",
        "rspace",
        "minsize",
        "maxsize",
        "movablelimits",
        "largeop",
        "symmetric",
        "columnalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "rowalign",
        "frame",
        "framespacing",
        "displaystyle",
        "scriptlevel",
        "width",
        "height",
        "depth",
        "linethickness",
        "notation",
        "mathcolor",
        "mathbackground",
        "mathsize",
        "equalrows",
        "equalcolumns",
        "align",
        "columnspan",
        "rowspan",
        "open",
        "close",
        "bevelled",
        "encoding",
    ]
)
# No quotes, parentheses, colons or angle brackets: nothing a URL or CSS could hide in.
_SAFE_VALUE = re.compile(r"^[\w .#%+,\-]*$")
_TOKEN_ELEMENTS = frozenset({"mi", "mo", "mn"})


class Unrenderable(ValueError):
    """LaTeX that is shown as its source text."""


# --------------------------------------------------------------------------- LaTeX


@dataclass(frozen=True)
class Segment:
    """A piece of a problem's text: plain text, or math (inline or display) without its
    delimiters; ``source`` is the piece as written."""

    text: str
    math: bool = False
    display: bool = False
    source: str = ""


def split_math(text: str) -> list[Segment]:
    """``text`` cut into plain and math segments (see the module docstring)."""
    out: list[Segment] = []
    plain: list[str] = []
    i = 0
    n = len(text)

    def flush() -> None:
        if plain:
            out.append(Segment("".join(plain)))
            plain.clear()

    while i < n:
        if text.startswith("\\$", i):
            plain.append("$")
            i += 2
            continue
        found = None
        for opener, closer, display in (
            ("$$", "$$", True),
            ("\\[", "\\]", True),
            ("\\(", "\\)", False),
        ):
            if text.startswith(opener, i):
                end = text.find(closer, i + len(opener))
                if end > i + len(opener):
                    found = (text[i + len(opener) : end], display, end + len(closer))
                break
        if found is None and text[i] == "$" and not text.startswith("$$", i):
            close = _closing_dollar(text, i)
            if close is not None:
                found = (text[i + 1 : close], False, close + 1)
        if found is None:
            plain.append(text[i])
            i += 1
            continue
        flush()
        body, display, stop = found
        out.append(Segment(body, math=True, display=display, source=text[i:stop]))
        i = stop
    flush()
    return out


def _closing_dollar(text: str, start: int) -> int | None:
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    j = start + 1
    while True:
        j = text.find("$", j)
        if j < 0:
            return None
        if text[j - 1] == "\\":
            j += 1
            continue
        after = text[j + 1] if j + 1 < len(text) else ""
        if not text[j - 1].isspace() and not after.isdigit():
            return j
        j += 1


def latex_to_mathml(latex: str, *, display: bool = False) -> Markup:
    """Safe MathML for ``latex``; ``Unrenderable`` when it cannot be rendered safely."""
    if len(latex) > MAX_MATH:
        raise Unrenderable("formula too long")
    try:
        from latex2mathml.converter import convert
    except ImportError as exc:  # the review extra is not installed
        raise Unrenderable("latex2mathml is not installed") from exc
    try:
        raw = convert(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types for input it cannot parse
        raise Unrenderable(f"latex2mathml: {type(exc).__name__}") from exc
    if "<!" in raw or "<?" in raw:
        raise Unrenderable("markup declarations in the output")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise Unrenderable(f"not well-formed MathML ({exc})") from exc
    return Markup(_rebuild(root))


def _rebuild(element: ET.Element) -> str:
    namespace, _, name = element.tag.rpartition("}")
    if namespace != "{" + MATHML_NS or name not in MATHML_ELEMENTS:
        raise Unrenderable(f"element {name!r} is not allowed")
    attributes = []
    for key, value in sorted(element.attrib.items()):
        if key not in MATHML_ATTRIBUTES or not _SAFE_VALUE.match(value):
            raise Unrenderable(f"attribute {key!r} (or its value) is not allowed")
        attributes.append(f' {key}="{escape(value)}"')
    if name == "math":
        attributes.insert(0, f' xmlns="{MATHML_NS}"')
    text = element.text or ""
    if name in _TOKEN_ELEMENTS and text.startswith("\\"):
        raise Unrenderable(f"unknown command {text!r}")
    inner = [str(escape(text))]
    for child in element:
        inner.append(_rebuild(child))
        inner.append(str(escape(child.tail or "")))
    return f"<{name}{''.join(attributes)}>{''.join(inner)}</{name}>"


def render_informal(text: str) -> Markup:
    """A problem's text as HTML: escaped text with its formulas as MathML (each formula that
    cannot be rendered shown as its source, marked)."""
    parts: list[str] = []
    for segment in split_math(text):
        if not segment.math:
            parts.append(str(escape(segment.text)))
            continue
        try:
            mathml = latex_to_mathml(segment.text, display=segment.display)
        except Unrenderable as exc:
            parts.append(
                f'<span class="math-source" title="{escape(str(exc))}">'
                f"{escape(segment.source)}</span>"
            )
            continue
        kind = "math-display" if segment.display else "math-inline"
        parts.append(f'<span class="{kind}" title="{escape(segment.source)}">{mathml}</span>')
    return Markup("".join(parts))


# --------------------------------------------------------------------------- Lean

_SEVERITY_RANK = {Severity.TRACE: 1, Severity.INFO: 2, Severity.WARNING: 3, Severity.ERROR: 4}
_RANK_NAME = {rank: severity.value for severity, rank in _SEVERITY_RANK.items()}


def highlight_lean(lean: str, messages: Sequence[Message] = ()) -> Markup:
    """Lean code as numbered lines of tokens (CSS class ``lk-<kind>``, the project's own
    lexer's kinds), each message's range marked and its text shown under its line; messages
    without a position (or beyond the code) are listed before the code."""
    from formalize.lean.lexer import LexError, tokenize

    kinds: list[str] = [""] * len(lean)
    token_end = list(range(1, len(lean) + 1))  # where the token holding each character ends
    try:
        for token in tokenize(lean):
            kinds[token.offset : token.end] = [token.kind] * len(token.text)
            token_end[token.offset : token.end] = [token.end] * len(token.text)
    except LexError:
        pass  # shown without colours; Lean's own messages say what is wrong
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", lean))
    lines = lean.split("\n")
    marks = [0] * len(lean)
    below: dict[int, list[Message]] = {}
    loose: list[Message] = []
    for message in messages:
        if not 1 <= message.line <= len(lines):
            loose.append(message)
            continue
        below.setdefault(message.line, []).append(message)
        start = starts[message.line - 1] + min(message.column, len(lines[message.line - 1]))
        end = token_end[start] if start < len(lean) else start + 1
        if message.end_line is not None and 1 <= message.end_line <= len(lines):
            end_line = lines[message.end_line - 1]
            end = starts[message.end_line - 1] + min(message.end_column or 0, len(end_line))
        end = max(end, start + 1)
        rank = _SEVERITY_RANK[message.severity]
        for k in range(start, min(end, len(lean))):
            marks[k] = max(marks[k], rank)
    html = ['<div class="lean">']
    html.extend(_message_html(m) for m in loose)
    for number, line in enumerate(lines, start=1):
        offset = starts[number - 1]
        html.append(f'<div class="line"><span class="ln">{number}</span><code>')
        html.append(
            _runs(line, kinds[offset : offset + len(line)], marks[offset : offset + len(line)])
        )
        html.append("</code></div>")
        html.extend(_message_html(m) for m in below.get(number, ()))
    html.append("</div>")
    return Markup("".join(html))


def _runs(line: str, kinds: list[str], marks: list[int]) -> str:
    out = []
    k = 0
    while k < len(line):
        j = k
        while j < len(line) and kinds[j] == kinds[k] and marks[j] == marks[k]:
            j += 1
        classes = []
        if kinds[k]:
            classes.append(f"lk-{kinds[k]}")
        if marks[k]:
            classes.append(f"mark-{_RANK_NAME[marks[k]]}")
        text = escape(line[k:j])
        out.append(f'<span class="{" ".join(classes)}">{text}</span>' if classes else str(text))
        k = j
    return "".join(out)


def _message_html(message: Message) -> str:
    where = f"{message.line}:{message.column}" if message.line else "no position"
    return (
        f'<div class="msg msg-{message.severity.value}"><span class="where">{where}</span> '
        f'<span class="sev">{message.severity.value}</span>: '
        f'<span class="text">{escape(message.text)}</span></div>'
    )
