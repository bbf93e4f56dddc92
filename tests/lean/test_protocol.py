"""The REPL protocol helpers: framing, parsing, position shifts, the verdict rules."""

from __future__ import annotations

import json

import pytest

from formalize.lean.protocol import (
    ProtocolError,
    encode_request,
    error_object_result,
    is_sorry_warning,
    parse_message,
    parse_reply_text,
    parse_response,
    shift_messages,
    split_transcript,
    verdict,
)
from formalize.records import CheckStatus, Message, Severity


def test_a_request_is_one_line_then_a_blank_line() -> None:
    data = encode_request({"cmd": "theorem x :\n  ℝ = ℝ := by\n\n  sorry", "env": 0})
    text = data.decode("utf-8")
    assert text.endswith("\n\n") and text.count("\n") == 2  # inner line breaks are escaped
    assert "ℝ" in text  # raw UTF-8, as the recorded .in files send it
    assert json.loads(text) == {"cmd": "theorem x :\n  ℝ = ℝ := by\n\n  sorry", "env": 0}


def test_reply_shapes() -> None:
    assert parse_response({"env": 3}).env == 3
    tactic = parse_response({"proofState": 2, "goals": []})
    assert tactic.proof_state == 2 and tactic.env is None
    error = parse_response({"message": "Unknown environment."})
    assert error.error == "Unknown environment." and error.env is None
    for bad in (
        [],
        {"goals": []},
        {"env": "0"},
        {"env": -1},
        {"env": True},
        {"env": 0, "messages": {}},
    ):
        with pytest.raises(ProtocolError):
            parse_response(bad)
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_reply_text("this is not JSON")


def test_messages_tolerate_missing_and_null_positions() -> None:
    m = parse_message(
        {"severity": "error", "pos": {"line": 1, "column": 17}, "endPos": None, "data": "x"}
    )
    assert (m.line, m.column, m.end_line, m.end_column) == (1, 17, None, None)
    m = parse_message({"severity": "warning", "data": "y"})  # no pos, no endPos
    assert (m.line, m.column, m.end_line) == (0, 0, None)
    assert parse_message({"severity": "information", "data": ""}).severity is Severity.INFO
    # protocol drift fails closed: an unknown severity counts as an error
    assert parse_message({"severity": "fatal", "data": ""}).severity is Severity.ERROR
    with pytest.raises(ProtocolError):
        parse_message({"severity": "error", "pos": {"line": -1, "column": 0}, "data": ""})


def test_split_transcript() -> None:
    text = '{"env": 0}\n\n{"messages":\n [{"severity": "info"}],\n "env": 1}\n\n'
    assert split_transcript(text) == [
        '{"env": 0}',
        '{"messages":\n [{"severity": "info"}],\n "env": 1}',
    ]


def test_shift_keeps_line_zero() -> None:
    msgs = (
        Message(Severity.ERROR, 2, 4, "a", 3, 0),
        Message(Severity.INFO, 0, 0, "tactic mode", 0, 0),
        Message(Severity.ERROR, 1, 0, "no end"),
    )
    out = shift_messages(msgs, 3)
    assert [(m.line, m.end_line) for m in out] == [(5, 6), (0, 0), (4, None)]
    assert shift_messages(msgs, 0) == msgs


@pytest.mark.parametrize("text", ["declaration uses 'sorry'", "declaration uses `sorry`"])
def test_sorry_warning_in_both_wordings(text: str) -> None:
    assert is_sorry_warning(Message(Severity.WARNING, 1, 8, text))
    assert not is_sorry_warning(Message(Severity.ERROR, 1, 8, text))
    assert not is_sorry_warning(Message(Severity.WARNING, 1, 8, "unused variable `sorry`"))


def test_verdict_rules() -> None:
    sorry = Message(Severity.WARNING, 1, 8, "declaration uses 'sorry'")
    unused = Message(Severity.WARNING, 1, 20, "unused variable `h`")
    assert verdict([sorry, unused]).status is CheckStatus.OK
    assert verdict([]).status is CheckStatus.OK  # a real proof: no sorry warning at all
    err = Message(Severity.ERROR, 1, 12, "unknown identifier 'x'")
    assert verdict([err, sorry]).status is CheckStatus.LEAN_ERROR
    twice = verdict([sorry, Message(Severity.WARNING, 3, 8, "declaration uses `sorry`")])
    assert twice.status is CheckStatus.LEAN_ERROR and "2 declarations use sorry" in str(
        twice.reason
    )


def test_error_objects() -> None:
    lean = error_object_result("Lean error:\n<input>:1:1: unknown tactic")
    assert (
        lean.status is CheckStatus.LEAN_ERROR
        and lean.messages[0].text == "<input>:1:1: unknown tactic"
    )
    other = error_object_result("Unknown environment.")
    assert other.status is CheckStatus.PROTOCOL_ERROR and "Unknown environment." in str(
        other.reason
    )
