"""The fake REPL replays recorded requests and must answer like the real REPL did.

Only recorded cases within the fake's documented rules are replayed (it cannot elaborate):
sorry proofs, unfinished tactic blocks, error objects, env and proof-state numbering, imports.
For those, replies must match the recording in shape (keys, number of replies, env ids,
proof-state ids, error texts), in every message's severity, position and end position
(``null`` included), and in the first line of its text: the sorry wording is per version.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lean_fakes import SHARED_REPL, fake_cmd

from formalize.lean.protocol import split_transcript

VERSIONS = {
    "v4.9.0": "repl-versions/v4.9.0/test",
    "v4.15.0": "repl-versions/v4.15.0/test",
    "v4.26.0": "repl-versions/v4.26.0/test",
    "v4.33.0-rc2": "repl/test",
}
# (recorded case, how many of its replies the fake can reproduce; None: all)
CASES = [
    ("term_sorry", None),
    ("tactic_sorry", None),
    ("dup_sorries", None),
    ("unfinished_tactic_block", None),
    ("unknown_environment", None),
    ("unknown_proof_state", None),
    ("readme", None),
    ("tactic_mode_sorry", 1),
    ("sorry_hypotheses", 1),
    ("have_by_sorry", None),  # below: only the second reply (the first is a real error)
    ("import_lean", None),
    ("Mathlib/test/H20231115", None),
]


def shape(reply: dict[str, Any], *, tactic_details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"keys": sorted(reply)}
    for key in ("env", "proofState", "message"):
        if key in reply:
            out[key] = reply[key]
    out["messages"] = [
        (m["severity"], m["pos"], m.get("endPos"), m["data"].split("\n")[0])
        for m in reply.get("messages", [])
    ]
    if "env" in reply or tactic_details:
        out["sorries"] = [
            (s["proofState"], s.get("pos"), s.get("endPos")) for s in reply.get("sorries", [])
        ]
    if "proofState" in reply and not tactic_details:
        out["keys"] = sorted(set(out["keys"]) - {"sorries"})
    return out


def replay(version: str, requests: bytes) -> list[dict[str, Any]]:
    done = subprocess.run(
        fake_cmd("--lean-version", version), input=requests, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")
    assert text.endswith("}\n\n")  # every reply ends with exactly one blank line
    assert "\n\n\n" not in text
    return [json.loads(t) for t in split_transcript(text)]


@pytest.mark.parametrize("version", VERSIONS)
def test_fake_replays_recorded_sessions(version: str) -> None:
    root = SHARED_REPL / VERSIONS[version]
    if not root.is_dir():
        pytest.skip(f"{root} is absent (../shared/ sits beside the repo on project machines)")
    compared = 0
    for case, limit in CASES:
        out = root / f"{case}.expected.out"
        if not out.exists():
            continue  # not recorded for this version
        recorded = [json.loads(t) for t in split_transcript(out.read_text(encoding="utf-8"))]
        fake = replay(version, (root / f"{case}.in").read_bytes())
        assert len(fake) == len(recorded), case
        pairs = list(zip(recorded, fake, strict=True))
        if case == "have_by_sorry":
            pairs = pairs[1:2]
        for real, ours in pairs[:limit]:
            details = "sorries" not in real
            assert shape(ours, tactic_details=details) == shape(real, tactic_details=details), case
            compared += 1
    assert compared >= 12


def test_multiline_replies_and_framing() -> None:
    fake = replay(
        "v4.15.0",
        b'{"cmd": "import Mathlib\\nopen Real"}\n\n'
        b'{"cmd": "theorem long_name_for_wrapping (x : Nat) : x + 0 = x := by sorry", "env": 0}\n\n'
        b"# a comment request gets no reply\n\n"
        b'{"cmd": "theorem t : undefined_ident = 1 := by sorry", "env": 0}',  # EOF, no blank line
    )
    assert [r["env"] for r in fake] == [0, 1, 2]
    assert fake[2]["messages"][0]["data"] == "unknown identifier 'undefined_ident'"
    assert fake[2]["messages"][0]["pos"] == {"line": 1, "column": 12}


def test_unparsable_request_kills_the_process_like_the_real_one() -> None:
    done = subprocess.run(fake_cmd(), input=b"{not json\n\n", capture_output=True, timeout=30)
    assert done.returncode != 0 and done.stdout == b""
    assert b"uncaught exception" in done.stderr and b"Could not parse JSON" in done.stderr


def test_failed_import_answers_a_bare_env(tmp_path: Path) -> None:
    fake = replay(
        "v4.15.0",
        b'{"cmd": "import Mathlib.NonexistentModule"}\n\n{"cmd": "#check Nat", "env": 0}\n\n',
    )
    assert fake[0] == {"env": 0}  # v4.15 hides the failure, as repl PR #73 shows
    assert fake[1]["messages"][0]["severity"] == "error"


def test_lean_json_mode(tmp_path: Path) -> None:
    src = tmp_path / "T.lean"
    src.write_text("import Mathlib\n#check x\ntheorem t : undefined_ident := sorry\n")
    done = subprocess.run(fake_cmd("--lean-json", str(src)), capture_output=True, timeout=30)
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert done.returncode == 1
    assert [r["severity"] for r in rows] == ["information", "error", "warning"]
    assert rows[1]["pos"] == {"line": 3, "column": 12} and rows[1]["fileName"] == str(src)
