"""Headers: normalisation, the gate applied to them, and the import probe."""

from __future__ import annotations

from formalize.lean.headers import (
    header_modules,
    normalize_header,
    prepare_header,
    probe_command,
)
from formalize.lean.statement import check_statement

MINIF2F = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\n"
    "open BigOperators Real Nat Topology Rat\n\n"
)


def test_normalize() -> None:
    assert (
        normalize_header("import Mathlib  \n\n-- note\nopen Real\n") == "import Mathlib\nopen Real"
    )
    assert normalize_header("") == ""


def test_dataset_headers_keep_what_is_safe() -> None:
    prepared = prepare_header(MINIF2F, check_statement)
    assert prepared.rejection is None
    assert prepared.text == "import Mathlib\nimport Aesop\nopen BigOperators Real Nat Topology Rat"
    assert prepared.dropped == ("set_option maxHeartbeats 0",)
    kept = prepare_header("import Mathlib\nset_option maxHeartbeats 400000", check_statement)
    assert kept.text.endswith("set_option maxHeartbeats 400000") and not kept.dropped


def test_unsafe_headers_are_rejected() -> None:
    for header, reason in [
        ("import Mathlib\n#eval IO.println 1", "#eval"),
        ("import Mathlib\ndef sneaky := by decide +native", "after `decide`"),
        ("import Mathlib\nopen Real\nimport Aesop", "comes after"),
        ("import Mathlib; #exit", "malformed import"),
    ]:
        prepared = prepare_header(header, check_statement)
        assert prepared.rejection is not None and reason in prepared.rejection, (header, prepared)


def test_probe() -> None:
    assert header_modules("import Mathlib\nimport Aesop\nopen Real") == ["Mathlib", "Aesop"]
    probe = probe_command("import Mathlib\nimport Aesop")
    assert probe is not None and "[`Mathlib, `Aesop]" in probe and "getModuleIdx?" in probe
    assert probe_command("import Std.Data.HashMap") == "#check Nat"  # no Lean elaborator there
    assert probe_command("open Real") is None
