"""The kimina-lean-server backend against a small fake server speaking its ``/verify`` API.

The fake splits snippets as kimina does (leading ``import``/blank lines are the header), runs
the rest through the fake REPL's rules, and reports positions either relative to that rest
(old servers, as in the recorded goldens) or to the snippet (new servers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fake_repl import FakeRepl
from lean_fakes import fake_config

from formalize.errors import SetupError
from formalize.lean import LeanChecker
from formalize.lean.kimina import KiminaBackend, leading_header_lines
from formalize.lean.pool import Job
from formalize.records import CheckStatus


class FakeKimina(BaseHTTPRequestHandler):
    positions = "body"
    fail_http = False
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        if self.fail_http:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"Internal Server Error")
            return
        results = [self.verify(c["custom_id"], c["proof"]) for c in body["codes"]]
        data = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def verify(self, cid: str, code: str) -> dict[str, Any]:
        k = leading_header_lines(code)
        lines = code.split("\n")
        header, rest = "\n".join(lines[:k]), "\n".join(lines[k:])
        if "fake_hang" in rest:
            return {"custom_id": cid, "error": "Lean process timed out", "response": None}
        repl = FakeRepl()
        env = repl.command(header, None)["env"]
        reply = repl.command(rest, env)
        reply.pop("env")
        shift = k if self.positions == "snippet" else 0
        for m in reply.get("messages", []):
            m["pos"]["line"] += shift
            if m.get("endPos"):
                m["endPos"]["line"] += shift
        reply["time"] = 0.25
        return {"custom_id": cid, "error": None, "response": reply}


@pytest.fixture
def server() -> Iterator[tuple[str, type[FakeKimina]]]:
    handler = type("Handler", (FakeKimina,), {"seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


STATEMENTS = [
    "theorem a : 1 = 1 := by sorry",
    "import Mathlib\n\n/-- doc -/\ntheorem b :\n  undefined_ident = 1 := by sorry",
    "theorem h : fake_hang = 1 := sorry",
    "#eval 1",
]


@pytest.mark.parametrize("positions", ["body", "snippet"])
def test_both_position_conventions_map_back(
    tmp_path: Path, server: tuple[str, type[FakeKimina]], positions: str
) -> None:
    url, handler = server
    handler.positions = positions
    config = fake_config(
        tmp_path, backend="kimina", kimina_url=url, header="import Mathlib\nopen Real"
    )
    with LeanChecker(config) as checker:
        checker.preflight()
        results = checker.check(STATEMENTS)
    assert [r.status for r in results] == [
        CheckStatus.OK,
        CheckStatus.LEAN_ERROR,
        CheckStatus.TIMEOUT,
        CheckStatus.REJECTED,
    ]
    assert [(m.line, m.column) for m in results[1].errors()] == [(5, 2)]
    assert results[1].messages[-1].line == 4  # the sorry warning, at the theorem's name
    assert results[0].messages[0].line == 1 and results[0].elapsed_s == 0.25
    sent = [c["proof"] for body in handler.seen for c in body["codes"]]
    assert not any("#eval 1" in s for s in sent)  # rejected: never sent
    assert sum("formalize_kimina_calibration" in s for s in sent) == 2  # one per header


def test_header_failure_http_errors_and_unreachable(
    tmp_path: Path, server: tuple[str, type[FakeKimina]]
) -> None:
    url, handler = server
    backend = KiminaBackend(fake_config(tmp_path, backend="kimina", kimina_url=url))
    (bad,) = backend.run([Job("import Mathlib.NonexistentZ", "theorem a : True := sorry")])
    assert bad.status is CheckStatus.LEAN_ERROR and "does not import" in str(bad.reason)
    handler.fail_http = True
    (failed,) = backend.run([Job("import Mathlib", "theorem a : True := sorry")])
    assert failed.status is CheckStatus.PROTOCOL_ERROR and "HTTP 500" in str(failed.reason)
    gone = KiminaBackend(fake_config(tmp_path, backend="kimina", kimina_url="http://127.0.0.1:9"))
    with pytest.raises(SetupError, match="cannot reach kimina-lean-server"):
        gone.preflight()
    with pytest.raises(SetupError, match="cannot reach kimina-lean-server"):
        gone.run([Job("import Mathlib", "theorem a : True := sorry")])
