"""The red-team corpus: candidates written by attacking the gate (``redteam_candidates.json``).

``bypass-*`` got past an earlier version of the gate (tokens ending in a letter such as `→o`
and `[MOD`, number literals such as `2.` and `0xA`, after which Lean starts a fresh token:
`include_str`, `by?`, `decreasing_by`, `set_library_suggestions`; notation atoms glued from
existing tokens; a header ending in `… in`); ``refused-*`` were refused from the start; all
must stay refused. ``bypass-gate-*`` got past the loosened gate of issue 21 while it was
being written (red team, 2026-12-06): tactic sequences in ``intro`` match alternatives, which
that gate read as terms; notation atoms that are existing closing brackets, which ended its
tactic blocks early while Lean read on; untyped binder defaults and auto-params; a ``@[simp]``
lemma proved by ``sorry``; a ``#`` word its token table lacks; a term keyword (``then``,
``else``, ``from``, ``with``) on a line left of a block's column, which ended the block for
that gate while Lean, reading on, takes the next line at the column as a tactic.
``bypass-gatefix-*`` got past the merge of that gate with the red team's fixes (gatefix,
2026-12-06), each a neighbour of one of those classes: Mathlib's ``tac says tacs`` (its atom
missing from the token table), ``<|>`` after arguments read at maximal precedence, ``by``
left of a block continuing ``show``, ``=>`` alternatives of ``have`` or inside ``(…)``/``try``,
a ``sorry`` instance used unnamed by ``simp``, a ``#`` word of two letters, notation atoms
opening a bracket no later atom closes.
``harmless-*`` are accepted on purpose: what Lean reads there runs nothing
(`append2` holds no `end` token), or is isolated (an instance), or is a comment the gate
blanks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formalize.lean.headers import prepare_header
from formalize.lean.statement import check_statement

CASES = json.loads(Path(__file__).with_name("redteam_candidates.json").read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_redteam_candidate(name: str) -> None:
    text = CASES[name]
    if name.endswith(".header") or name.startswith("bypass-11-"):
        prepared = prepare_header(text, check_statement)
        assert prepared.rejection is not None
        return
    report = check_statement(text)
    if name.startswith("harmless-"):
        assert report.ok, report.reason
        if "instance" in name:
            assert report.global_effects  # checked in a file of its own
        if "root" in name:  # a `_root_` declaration: alone, at the root, in file mode
            assert report.shadowing and report.alone
    else:
        assert not report.ok, (name, text)
        assert report.reason


def test_the_corpus_holds_every_class() -> None:
    kinds = {name.split("-")[0] for name in CASES}
    assert kinds == {"bypass", "refused", "harmless"}
    assert sum(name.startswith("bypass-") for name in CASES) >= 10
    assert len(CASES) >= 80
