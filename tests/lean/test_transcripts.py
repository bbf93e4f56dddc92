"""Parsing against the real recorded REPL output of four Lean versions, and kimina's goldens.

The recordings (``../shared/lean-repl/``, see its MANIFEST.md) are the ground truth the fake
REPL and the driver are held to: every reply must parse, and the version differences that
matter (``endPos: null``, missing fields, the ``sorry`` wording) must come out right.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lean_fakes import SHARED_REPL

from formalize.lean.kimina import leading_header_lines, map_line, result_from
from formalize.lean.protocol import (
    error_object_result,
    is_sorry_warning,
    parse_reply_text,
    split_transcript,
    verdict,
)
from formalize.records import CheckStatus, Severity

VERSIONS = {
    "v4.9.0": "repl-versions/v4.9.0/test",
    "v4.15.0": "repl-versions/v4.15.0/test",
    "v4.26.0": "repl-versions/v4.26.0/test",
    "v4.33.0-rc2": "repl/test",
}


def shared(rel: str) -> Path:
    path = SHARED_REPL / rel
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/ sits beside the repo on project machines)")
    return path


def replies(path: Path) -> list[str]:
    return split_transcript(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_recorded_reply_parses_and_pairs_with_a_request(version: str) -> None:
    root = shared(VERSIONS[version])
    outs = sorted(root.rglob("*.expected.out"))
    assert len(outs) >= 38
    severities: set[str] = set()
    for out in outs:
        texts = replies(out)
        requests = split_transcript(
            out.with_name(out.name.replace(".expected.out", ".in")).read_text()
        )
        assert len(texts) == len(requests), out
        for text in texts:
            reply = parse_reply_text(text)  # raises on anything unexpected
            assert (reply.env is not None) + (reply.proof_state is not None) + (
                reply.error is not None
            ) == 1
            raw = json.loads(text)
            severities |= {m["severity"] for m in raw.get("messages", [])}
            for m in reply.messages:
                assert m.line >= 0 and m.column >= 0
    assert severities <= {"error", "warning", "info"}


@pytest.mark.parametrize(
    ("version", "quote"),
    [("v4.9.0", "'"), ("v4.15.0", "'"), ("v4.26.0", "'"), ("v4.33.0-rc2", "`")],
)
def test_sorry_warning_wording_per_version(version: str, quote: str) -> None:
    for case in ("term_sorry", "tactic_sorry"):
        (text,) = replies(shared(VERSIONS[version]) / f"{case}.expected.out")
        reply = parse_reply_text(text)
        (warning,) = reply.messages
        assert warning.text == f"declaration uses {quote}sorry{quote}"
        assert is_sorry_warning(warning)
        assert reply.sorries == 1
        assert verdict(reply.messages).status is CheckStatus.OK


@pytest.mark.parametrize("version", ["v4.9.0", "v4.15.0", "v4.26.0", "v4.33.0-rc2"])
def test_unfinished_tactic_block_and_null_end_positions(version: str) -> None:
    (text,) = replies(shared(VERSIONS[version]) / "unfinished_tactic_block.expected.out")
    reply = parse_reply_text(text)
    assert verdict(reply.messages).status is CheckStatus.LEAN_ERROR
    null_ends = [m for m in reply.messages if m.end_line is None]
    if version == "v4.33.0-rc2":
        assert not null_ends  # only "unsolved goals", with an end position
    else:
        (m,) = null_ends
        assert (m.line, m.column) == (1, 17) and m.text.startswith("unexpected end of input")


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_identifier_is_a_lean_error_in_every_wording(version: str) -> None:
    texts = replies(shared(VERSIONS[version]) / "dup_msg.expected.out")
    first, info, error = (parse_reply_text(t) for t in texts)
    assert (first.env, info.env, error.env) == (0, 1, 2)  # ids count up, also with errors
    assert verdict(info.messages).status is CheckStatus.OK
    result = verdict(error.messages)
    assert result.status is CheckStatus.LEAN_ERROR
    assert re.fullmatch(r"[uU]nknown identifier ['`]g['`]", result.errors()[0].text)


@pytest.mark.parametrize("version", VERSIONS)
def test_error_objects(version: str) -> None:
    (text,) = replies(shared(VERSIONS[version]) / "unknown_environment.expected.out")
    reply = parse_reply_text(text)
    assert reply.error == "Unknown environment."
    assert error_object_result(reply.error).status is CheckStatus.PROTOCOL_ERROR
    exact = replies(shared(VERSIONS[version]) / "Mathlib" / "test" / "exact.expected.out")
    last = parse_reply_text(exact[-1])
    assert last.error is not None and last.error.startswith("Lean error:")
    assert error_object_result(last.error).status is CheckStatus.LEAN_ERROR
    # messages from tactic mode sit at line 0
    step = parse_reply_text(exact[2])
    assert step.proof_state is not None and step.messages[0].line == 0


def test_tactic_replies_with_and_without_proof_status() -> None:
    old = json.loads(replies(shared(VERSIONS["v4.15.0"]) / "readme.expected.out")[1])
    new = json.loads(replies(shared(VERSIONS["v4.26.0"]) / "readme.expected.out")[1])
    assert "proofStatus" not in old and "proofStatus" in new
    assert (
        parse_reply_text(json.dumps(old)).proof_state
        == parse_reply_text(json.dumps(new)).proof_state
    )


def test_used_constants_missing_in_v4_9() -> None:
    old = json.loads(replies(shared(VERSIONS["v4.9.0"]) / "all_tactics.expected.out")[0])
    new = json.loads(replies(shared(VERSIONS["v4.26.0"]) / "all_tactics.expected.out")[0])
    assert "usedConstants" not in old["tactics"][0] and "usedConstants" in new["tactics"][0]
    assert parse_reply_text(json.dumps(old)).env == 0


# --------------------------------------------------------------------------- kimina goldens


def kimina_cases() -> list[Path]:
    root = SHARED_REPL / "kimina-lean-server" / "match" / "output"
    return sorted(root.glob("*.json")) if root.is_dir() else []


def test_kimina_goldens_statuses_and_positions() -> None:
    cases = kimina_cases()
    if not cases:
        pytest.skip("../shared/lean-repl/kimina-lean-server is absent")
    statuses: dict[CheckStatus, int] = {}
    named = 0
    for out in cases:
        code = (out.parent.parent / "input" / f"{out.stem}.lean").read_text(encoding="utf-8")
        lines = code.split("\n")
        (item,) = json.loads(out.read_text(encoding="utf-8"))["results"]
        result = result_from(
            item, code=code, before_body=0, positions="body", elapsed=0.0, toolchain=None
        )
        statuses[result.status] = statuses.get(result.status, 0) + 1
        if item["error"]:
            assert result.status is CheckStatus.TIMEOUT
            continue
        assert result.elapsed_s == item["response"]["time"]
        for raw, m in zip(item["response"].get("messages", []), result.messages, strict=True):
            assert m.line == raw["pos"]["line"] + leading_header_lines(code)
            token = re.search(r"`([^`\s]+)`", m.text)
            if token and m.severity is Severity.WARNING and "unused variable" in m.text:
                # the message names a token: it must be on the line we mapped it to
                assert token.group(1) in lines[m.line - 1], (out.name, m)
                named += 1
    assert statuses == {CheckStatus.OK: 98, CheckStatus.TIMEOUT: 4}
    assert named >= 30


def test_kimina_position_modes_agree() -> None:
    code = "import Mathlib\nimport Aesop\n\nset_option maxRecDepth 500\n\ntheorem t : True := sorry"
    assert leading_header_lines(code) == 3
    # a message on the theorem: body line 3 in old servers, snippet line 6 in new ones
    assert map_line(3, code=code, before_body=2, positions="body") == 4
    assert map_line(6, code=code, before_body=2, positions="snippet") == 4
    assert map_line(0, code=code, before_body=2, positions="body") == 0
