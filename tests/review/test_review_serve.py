"""`formalize review` as a user starts it: a real server process, on loopback without a token
and, bound beyond loopback, refusing every request without the token it printed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.lines import Lines

import formalize
from formalize.cli.main import main

pytest.importorskip("uvicorn", reason="the review extra is not installed")


@contextmanager
def serving(corpus: Path, *args: str) -> Iterator[tuple[int, list[str]]]:
    """`formalize review --port 0` in a subprocess: the port it took (read from the URL it
    prints once it listens) and its stderr lines so far."""
    env = dict(os.environ, PYTHONPATH=str(Path(formalize.__file__).parents[1]))
    argv = [sys.executable, "-m", "formalize.cli.main", "review", "--db", str(corpus)]
    process = subprocess.Popen(
        [*argv, "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    out = Lines(process.stderr)
    try:
        line = out.wait_for(r"http://[^/\s]+:\d+/")  # the URL, printed once it listens
        port = int(line.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        # the socket listens before the URL is printed: this waits for the app to answer
        with contextlib.suppress(urllib.error.HTTPError):  # it answers (401 without the token)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=120).close()
        yield port, out.seen
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(out.seen)
        out.rest(60)


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kw: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_loopback_needs_no_token(corpus: Path) -> None:
    with serving(corpus, "--annotator", "dana") as (port, lines):
        assert status_of(f"http://127.0.0.1:{port}/") == 200
        assert status_of(f"http://127.0.0.1:{port}/", {"Host": f"evil.example:{port}"}) == 421
    assert any(f"open http://127.0.0.1:{port}/" in line for line in lines)


def test_beyond_loopback_every_request_needs_the_printed_token(corpus: Path) -> None:
    with serving(corpus, "--host", "0.0.0.0") as (port, lines):
        found = re.search(r"\?token=([\w-]+)", "".join(lines))  # on the URL's line
        assert found, lines
        token = found.group(1)
        base = f"http://127.0.0.1:{port}"
        for path in ("/", "/api/attempts", "/static/review.js"):
            assert status_of(base + path) == 401
        assert status_of(f"{base}/?token=wrong") == 401
        assert status_of(f"{base}/?token={token}") == 303  # sets the cookie, drops the token
        assert status_of(f"{base}/api/session", {"Authorization": f"Bearer {token}"}) == 200
        cookie = f"formalize_review_token_{port}={token}"
        assert status_of(f"{base}/problems/p1", {"Cookie": cookie}) == 200


def test_without_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--db", str(tmp_path / "none.db")]) == 2
    assert "no corpus at" in capsys.readouterr().err


def test_a_busy_port_is_an_error_that_names_its_holder(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["review", "--db", str(corpus), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use by " in err
    assert f"(pid {os.getpid()}:" in err  # this test's own process holds it
    assert "Traceback" not in err and "open http" not in err  # no URL printed first


def test_without_a_port_the_next_free_one_is_taken() -> None:
    import socket

    from formalize.review.port import bind

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        with bind("127.0.0.1", None, default=busy) as taken:
            assert busy < taken.getsockname()[1] < busy + 20
