"""kimina-lean-server backend: statements go to a running server's ``POST /verify`` API.

For users who already run a kimina-lean-server (it pools REPLs by header itself). Lean runs
on the server, so formalize's sandbox does not apply: the isolation is the server's
(``docs/security.md``). Request:
``{"codes": [{"custom_id", "proof"}], "timeout", "disable_cache"}``; reply:
``{"results": [{"custom_id", "error", "response"}]}`` where ``response`` is the REPL's command
reply plus ``time`` (``../shared/lean-repl/kimina-lean-server/match/output``).

Two things differ between server versions and are handled here:

- Positions: the server splits a snippet into its leading ``import``/blank lines and the rest,
  and runs the rest against the imported env. Older servers (the recorded goldens) return
  positions relative to that rest; newer ones shift them back to the snippet. With
  ``kimina_positions = "auto"`` the backend sends one calibration snippet per header (its
  ``sorry`` warning sits on a known line) and learns which; ``body``/``snippet`` force it.
- Failures: the server reports them only as text in ``error`` (``Lean process timed out``,
  ``Lean REPL command timed out in 30 seconds``). Text containing "timed out" becomes
  ``timeout``; any other error text ``protocol_error``. This string matching is the one
  place where a status is read off a message, because the API gives nothing else.

The calibration snippet also carries the header probe (``headers.probe_command``), so a header
that does not import is reported as such.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from formalize.errors import SetupError
from formalize.lean.config import LeanConfig, default_workers
from formalize.lean.headers import probe_command
from formalize.lean.pool import Job
from formalize.lean.protocol import ProtocolError, is_sorry_warning, parse_message, verdict
from formalize.records import CheckResult, CheckStatus, Message, Severity

log = logging.getLogger(__name__)
CALIBRATION = "theorem formalize_kimina_calibration : True := sorry"

Opener = Callable[..., Any]


def leading_header_lines(code: str) -> int:
    """How many leading lines kimina puts in its header: ``import`` lines and blank lines."""
    n = 0
    for line in code.split("\n"):
        stripped = line.strip()
        if stripped.startswith("import ") or not stripped:
            n += 1
        else:
            break
    return n


def snippet(header: str, body: str) -> tuple[str, int]:
    """The code sent for (header, body), and how many lines precede the body in it."""
    if not header:
        return body, 0
    return f"{header}\n{body}", header.count("\n") + 1


def map_line(line: int, *, code: str, before_body: int, positions: str) -> int:
    """A line the server reported -> the same line relative to our body (0 stays 0)."""
    if line <= 0:
        return 0
    in_snippet = line + leading_header_lines(code) if positions == "body" else line
    return max(1, in_snippet - before_body)


def result_from(
    item: dict[str, Any],
    *,
    code: str,
    before_body: int,
    positions: str,
    elapsed: float,
    toolchain: str | None,
) -> CheckResult:
    """One ``results[*]`` entry -> a body-relative ``CheckResult``."""
    error = item.get("error")
    response = item.get("response")
    if error:
        status = CheckStatus.TIMEOUT if "timed out" in str(error).lower() else None
        return CheckResult(
            status or CheckStatus.PROTOCOL_ERROR, (), elapsed, toolchain, reason=f"kimina: {error}"
        )
    if not isinstance(response, dict):
        return CheckResult(
            CheckStatus.PROTOCOL_ERROR, (), elapsed, toolchain, reason="kimina: no response"
        )
    if isinstance(response.get("time"), (int, float)):
        elapsed = float(response["time"])
    if "message" in response and "messages" not in response:
        return CheckResult(
            CheckStatus.PROTOCOL_ERROR,
            (),
            elapsed,
            toolchain,
            reason=f"REPL error object: {response['message']}",
        )
    try:
        raw = response.get("messages") or []
        if not isinstance(raw, list):
            raise ProtocolError("messages is not a list")
        messages = []
        for m in map(parse_message, raw):
            line = map_line(m.line, code=code, before_body=before_body, positions=positions)
            end = m.end_line
            if end is not None and end > 0:
                end = map_line(end, code=code, before_body=before_body, positions=positions)
            messages.append(Message(m.severity, line, m.column, m.text, end, m.end_column))
    except ProtocolError as exc:
        return CheckResult(CheckStatus.PROTOCOL_ERROR, (), elapsed, toolchain, reason=str(exc))
    return verdict(messages, elapsed_s=elapsed, toolchain=toolchain)


class KiminaBackend:
    """Checks jobs through a kimina-lean-server."""

    def __init__(
        self,
        config: LeanConfig,
        *,
        toolchain: str | None = None,
        opener: Opener = urllib.request.urlopen,
    ) -> None:
        assert config.kimina_url, "LeanConfig checks that kimina_url is set"
        self.config = config
        self.url = config.kimina_url.rstrip("/")
        self.toolchain = toolchain
        self.opener = opener
        self.failed_headers: dict[str, CheckResult] = {}
        self._positions: dict[str, str] = {}
        self._lock = threading.Lock()

    def preflight(self) -> None:
        """``SetupError`` when the server does not answer at all."""
        try:
            with self.opener(self.url + "/health", timeout=10):
                pass
        except urllib.error.HTTPError:
            return  # it answered: the server is there
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None

    def run(
        self, jobs: Iterable[Job], progress: bool = False, total: int | None = None
    ) -> list[CheckResult]:
        """Check the jobs; body-relative results in job order."""
        jobs = list(jobs)
        for header in dict.fromkeys(job.header for job in jobs):
            self._calibrate(header)
        todo = [i for i, job in enumerate(jobs) if job.header not in self.failed_headers]
        results: list[CheckResult | None] = [self.failed_headers.get(job.header) for job in jobs]
        size = self.config.kimina_batch
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
        with ThreadPoolExecutor(
            self.config.workers or default_workers(), thread_name_prefix="kimina"
        ) as ex:
            futures = [ex.submit(self._check, [jobs[i] for i in chunk]) for chunk in chunks]
            for chunk, future in zip(chunks, futures, strict=True):
                for i, result in zip(chunk, future.result(), strict=True):
                    results[i] = result
        return [r for r in results if r is not None]

    def close(self) -> None:
        """No connection is kept open."""

    # ------------------------------------------------------------------ internals

    def _check(self, jobs: Sequence[Job]) -> list[CheckResult]:
        codes = [snippet(job.header, job.body) for job in jobs]
        begin = time.monotonic()
        try:
            items = self._verify([code for code, _ in codes], len(jobs))
        except _ChunkFailure as exc:
            return [
                CheckResult(exc.status, (), time.monotonic() - begin, self.toolchain, exc.reason)
                for _ in jobs
            ]
        elapsed = (time.monotonic() - begin) / max(1, len(jobs))
        out = []
        for k, (job, (code, before)) in enumerate(zip(jobs, codes, strict=True)):
            item = items.get(str(k))
            if item is None:
                out.append(
                    CheckResult(
                        CheckStatus.PROTOCOL_ERROR,
                        (),
                        elapsed,
                        self.toolchain,
                        reason="kimina: no result for this snippet",
                    )
                )
                continue
            positions = self._positions.get(job.header, "body")
            out.append(
                result_from(
                    item,
                    code=code,
                    before_body=before,
                    positions=positions,
                    elapsed=elapsed,
                    toolchain=self.toolchain,
                )
            )
        return out

    def _verify(self, codes: Sequence[str], n: int) -> dict[str, dict[str, Any]]:
        timeout = max(1, math.ceil(self.config.timeout_s))
        payload = {
            "codes": [{"custom_id": str(k), "proof": code} for k, code in enumerate(codes)],
            "timeout": timeout,
            "disable_cache": False,
        }
        request = urllib.request.Request(
            self.url + "/verify",
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        budget = self.config.import_timeout_s + timeout * n
        try:
            with self.opener(request, timeout=budget) as reply:
                body = reply.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", errors="replace")
            raise _ChunkFailure(
                CheckStatus.PROTOCOL_ERROR, f"kimina: HTTP {exc.code} {detail}"
            ) from None
        except TimeoutError:
            raise _ChunkFailure(
                CheckStatus.TIMEOUT, f"kimina: no answer within {budget:g} s"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                raise _ChunkFailure(
                    CheckStatus.TIMEOUT, f"kimina: no answer within {budget:g} s"
                ) from None
            raise self._unreachable(exc) from None
        try:
            data = json.loads(body)
            results = data["results"]
            return {str(r["custom_id"]): r for r in results}
        except (ValueError, KeyError, TypeError):
            raise _ChunkFailure(
                CheckStatus.PROTOCOL_ERROR, f"kimina: unreadable reply {body[:200]!r}"
            ) from None

    def _calibrate(self, header: str) -> None:
        """Verify the header and learn the server's position convention, once per header."""
        with self._lock:
            if header in self._positions or header in self.failed_headers:
                return
        probe = probe_command(header) if self.config.probe == "auto" else self.config.probe
        body = f"{probe}\n{CALIBRATION}" if probe else CALIBRATION
        code, before = snippet(header, body)
        try:
            item = self._verify([code], 1)["0"]
        except (_ChunkFailure, KeyError):
            log.warning("kimina: calibration failed; assuming body-relative positions")
            self._positions[header] = "body"
            return
        response = item.get("response") or {}
        raw = response.get("messages") or [] if isinstance(response, dict) else []
        messages = [parse_message(m) for m in raw if isinstance(m, dict)]
        errors = [m for m in messages if m.severity is Severity.ERROR]
        if item.get("error") or errors:
            texts = [str(item["error"])] if item.get("error") else [m.text for m in errors]
            self.failed_headers[header] = CheckResult(
                CheckStatus.LEAN_ERROR,
                tuple(Message(Severity.ERROR, 0, 0, f"header: {t}") for t in texts),
                0.0,
                self.toolchain,
                reason=f"the header does not import: {texts[0][:300]}",
            )
            return
        expected = before + body.count("\n") + 1  # the calibration theorem's line
        lines = {m.line for m in messages if is_sorry_warning(m)}
        mode = self.config.kimina_positions
        if mode == "auto":
            mode = "snippet" if expected in lines else "body"
            if not lines:
                log.warning("kimina: no sorry warning in calibration; assuming body positions")
        with self._lock:
            self._positions[header] = mode

    def _unreachable(self, exc: BaseException) -> SetupError:
        reason = getattr(exc, "reason", exc)
        return SetupError(
            f"cannot reach kimina-lean-server at {self.url} ({reason}). Start the server, "
            "or fix --kimina-url."
        )


class _ChunkFailure(Exception):
    def __init__(self, status: CheckStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
