"""Untrusted text to HTML: math found and rendered as allow-listed MathML or shown as source;
Lean highlighted by the project's lexer with messages at their positions."""

from __future__ import annotations

import pytest

from formalize.records import Message, Severity
from formalize.review.render import (
    Unrenderable,
    highlight_lean,
    latex_to_mathml,
    render_informal,
    split_math,
)

pytest.importorskip("latex2mathml", reason="the review extra is not installed")


def math_of(text: str) -> list[tuple[str, bool]]:
    return [(s.text, s.display) for s in split_math(text) if s.math]


def test_math_delimiters() -> None:
    assert math_of("Let $x$ and $$y^2$$ and \\(z\\) and \\[w\\].") == [
        ("x", False),
        ("y^2", True),
        ("z", False),
        ("w", True),
    ]
    # pandoc's dollar rule: prices are text, so is an escaped dollar
    assert math_of("It costs $20 and $30.") == []
    assert math_of("A \\$5 bill and $ x $ too.") == []
    assert math_of("$a$5") == []  # a closing dollar followed by a digit does not close
    assert math_of("unclosed $x and \\(y") == []
    text = "Show $x^2 \\ge 0$."
    assert "".join(s.source or s.text for s in split_math(text)) == text  # nothing lost


def test_mathml_is_rebuilt_from_the_allow_list() -> None:
    html = str(latex_to_mathml("\\frac{a}{b} \\leq \\sqrt{2}"))
    assert html.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert "<mfrac>" in html and "<msqrt>" in html and "≤" in html
    assert 'display="block"' in str(latex_to_mathml("x", display=True))


@pytest.mark.parametrize(
    "latex",
    [
        "\\text{<script>alert(1)</script>}",  # latex2mathml copies this through raw
        "\\href{javascript:alert(1)}{x}",  # and this as an href attribute
        "\\unknowncommand{x}",  # rendered as the command's name: not rendered at all
        "\\left( x",  # latex2mathml cannot parse it
        "\\text{a < b}",  # its output is not well-formed
        "x" * 5000,
    ],
)
def test_anything_else_fails_soft_to_its_source(latex: str) -> None:
    with pytest.raises(Unrenderable):
        latex_to_mathml(latex)
    html = str(render_informal(f"before ${latex}$ after"))
    assert '<span class="math-source"' in html and "<script" not in html and "<math" not in html
    assert "before " in html and " after" in html


def test_plain_text_is_escaped() -> None:
    html = str(render_informal('<img src=x onerror="alert(1)"> & $x$'))
    assert html.startswith("&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; ")
    assert 'title="$x$"' in html


def test_lean_is_highlighted_with_messages_at_their_positions() -> None:
    lean = "theorem t (h : foo) : True := by\n  trivial -- done"
    messages = (
        Message(Severity.ERROR, 1, 15, "unknown identifier 'foo'", 1, 18),
        Message(Severity.WARNING, 2, 2, "unused <tactic>"),  # no end: the token at it
        Message(Severity.INFO, 0, 0, "no position"),
        Message(Severity.ERROR, 9, 0, "beyond the code"),
    )
    html = str(highlight_lean(lean, messages))
    assert '<span class="lk-keyword">theorem</span>' in html
    assert '<span class="lk-ident mark-error">foo</span>' in html
    assert '<span class="lk-ident mark-warning">trivial</span>' in html
    assert '<span class="lk-line_comment">-- done</span>' in html
    assert "unused &lt;tactic&gt;" in html
    first_line = html.index('<span class="ln">1</span>')
    assert html.index("no position") < first_line and html.index("beyond the code") < first_line
    assert first_line < html.index("unknown identifier") < html.index('<span class="ln">2</span>')


def test_text_the_lexer_refuses_is_shown_plain() -> None:
    html = str(highlight_lean('/- never closed <b>"', ()))
    assert "/- never closed &lt;b&gt;&#34;" in html and "lk-" not in html
