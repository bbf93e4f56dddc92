"""The REPL's JSON protocol: request framing, response parsing, and the verdict on a statement.

Pure functions, shared by every backend (the REPL pool, file mode and kimina all report Lean
messages in the REPL's shape). What the real REPL sends is described in
``../shared/lean-repl/PROTOCOL.md``; the parts that matter here:

- a request is one line of JSON followed by a blank line (``encode_request``);
- a response is one pretty-printed JSON value, possibly many lines, ended by one blank line;
- a response with ``env`` is a command result; one with only ``message`` is an error object
  (``Unknown environment.``, ``Lean error: ...``);
- messages have 1-based lines and 0-based columns counted in code points; ``endPos`` may be
  missing or ``null``; messages from tactic mode sit at line 0;
- the warning for a ``sorry`` proof reads ``declaration uses 'sorry'`` up to Lean v4.27 and
  ``declaration uses `sorry``` from v4.28.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from formalize.records import CheckResult, CheckStatus, Message, Severity

_SORRY_WARNING = re.compile(r"^declaration uses ['`]sorry['`]")
_SEVERITIES = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,  # `lean --json` spells it out
    "trace": Severity.TRACE,
}


class ProtocolError(ValueError):
    """A reply that is not what the protocol allows (not JSON, wrong shape, wrong types)."""


@dataclass(frozen=True)
class ReplResponse:
    """One parsed REPL reply.

    Exactly one of ``env`` (command result), ``proof_state`` (tactic result) and ``error`` (an
    error object's text) is set. Positions in ``messages`` are as the REPL gave them.
    """

    env: int | None = None
    proof_state: int | None = None
    error: str | None = None
    messages: tuple[Message, ...] = ()
    sorries: int = 0


def encode_request(payload: Mapping[str, Any]) -> bytes:
    """One request as the REPL reads it: a single line of JSON, then a blank line.

    ``json.dumps`` escapes line breaks inside strings, so the request can never contain the
    blank line that would end it early (the REPL also drops raw line breaks since v4.22).
    Non-ASCII text is sent raw as UTF-8, as the recorded ``.in`` files do.
    """
    return (json.dumps(payload, ensure_ascii=False) + "\n\n").encode("utf-8")


def split_transcript(text: str) -> list[str]:
    """Split a stream of replies (a recorded ``.expected.out``) into the text of each reply."""
    out: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def parse_reply_text(text: str) -> ReplResponse:
    """Parse the text of one reply; ``ProtocolError`` when it is not JSON of a known shape."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"reply is not JSON ({exc.msg}): {_clip(text)}") from None
    return parse_response(obj)


def parse_response(obj: Any) -> ReplResponse:
    """Turn a decoded reply into a ``ReplResponse``; ``ProtocolError`` on an unknown shape."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"reply is not a JSON object: {_clip(json.dumps(obj))}")
    messages = tuple(parse_message(m) for m in _list(obj, "messages"))
    sorries = len(_list(obj, "sorries"))
    if "env" in obj:
        env = obj["env"]
        if not isinstance(env, int) or isinstance(env, bool) or env < 0:
            raise ProtocolError(f"reply has a bad env id: {env!r}")
        return ReplResponse(env=env, messages=messages, sorries=sorries)
    if "proofState" in obj:
        state = obj["proofState"]
        if not isinstance(state, int) or isinstance(state, bool):
            raise ProtocolError(f"reply has a bad proofState: {state!r}")
        return ReplResponse(proof_state=state, messages=messages, sorries=sorries)
    if "message" in obj:
        return ReplResponse(error=str(obj["message"]))
    raise ProtocolError(f"reply has neither env, proofState nor message: {_clip(json.dumps(obj))}")


def parse_message(obj: Any) -> Message:
    """One Lean message from the REPL (or ``lean --json``) into a ``Message`` record.

    A missing position is line 0 (no position); a missing or null ``endPos`` gives no end.
    An unknown severity counts as an error: protocol drift must not make a statement pass.
    """
    if not isinstance(obj, dict):
        raise ProtocolError(f"message is not an object: {_clip(json.dumps(obj))}")
    severity = _SEVERITIES.get(str(obj.get("severity", "")).lower(), Severity.ERROR)
    line, column = _pos(obj.get("pos"))
    end = obj.get("endPos")
    end_line, end_column = _pos(end) if isinstance(end, dict) else (None, None)
    data = obj.get("data", "")
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return Message(severity, line, column, text, end_line, end_column)


def is_sorry_warning(message: Message) -> bool:
    """True for Lean's "declaration uses sorry" warning, in either version's wording."""
    return message.severity is Severity.WARNING and bool(_SORRY_WARNING.match(message.text))


def shift_messages(messages: Iterable[Message], offset: int) -> tuple[Message, ...]:
    """Move positions ``offset`` lines down; line 0 (no position, tactic mode) stays 0."""
    if offset == 0:
        return tuple(messages)
    out = []
    for m in messages:
        line = m.line + offset if m.line > 0 else 0
        end = m.end_line + offset if m.end_line is not None and m.end_line > 0 else m.end_line
        out.append(replace(m, line=max(line, 0), end_line=end if end is None else max(end, 0)))
    return tuple(out)


def verdict(
    messages: Iterable[Message], *, elapsed_s: float = 0.0, toolchain: str | None = None
) -> CheckResult:
    """Lean's verdict on one statement from its messages.

    ``ok`` needs no error and at most one ``sorry`` warning: the one for the proof the caller
    put there. A second one means a ``sorry`` hid elsewhere (the gate should have caught it).
    """
    msgs = tuple(messages)
    elapsed = max(0.0, elapsed_s)
    if any(m.severity is Severity.ERROR for m in msgs):
        return CheckResult(CheckStatus.LEAN_ERROR, msgs, elapsed, toolchain)
    sorry = [m for m in msgs if is_sorry_warning(m)]
    if len(sorry) > 1:
        where = ", ".join(f"line {m.line}" for m in sorry)
        reason = f"{len(sorry)} declarations use sorry ({where}); only the proof may"
        return CheckResult(CheckStatus.LEAN_ERROR, msgs, elapsed, toolchain, reason=reason)
    return CheckResult(CheckStatus.OK, msgs, elapsed, toolchain)


def error_object_result(
    text: str, *, elapsed_s: float = 0.0, toolchain: str | None = None
) -> CheckResult:
    """The result for a ``{"message": ...}`` reply to a command.

    ``Lean error: ...`` is Lean's own complaint (a ``lean_error`` with that text); anything else
    (``Unknown environment.``, an exception's text) is a protocol problem.
    """
    elapsed = max(0.0, elapsed_s)
    if text.startswith("Lean error:"):
        body = text[len("Lean error:") :].strip() or text
        msg = Message(Severity.ERROR, 0, 0, body)
        return CheckResult(CheckStatus.LEAN_ERROR, (msg,), elapsed, toolchain)
    return CheckResult(
        CheckStatus.PROTOCOL_ERROR, (), elapsed, toolchain, reason=f"REPL error object: {text}"
    )


def _pos(obj: Any) -> tuple[int, int]:
    if obj is None:
        return 0, 0
    if not isinstance(obj, dict):
        raise ProtocolError(f"position is not an object: {obj!r}")
    line, column = obj.get("line", 0), obj.get("column", 0)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (line, column)):
        raise ProtocolError(f"bad position: {obj!r}")
    return line, column


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError(f"reply field {key!r} is not a list")
    return value


def _clip(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
