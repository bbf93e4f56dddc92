r"""File mode: many statements in one generated ``.lean`` file, checked by ``lake env lean --json``.

For users without the REPL built. Statements that share a header go into files of up to
``file_chunk`` statements:

    <header>
    <probe>                       -- the header check of formalize.lean.headers.probe_command

    namespace FormalizeCheck0     -- each statement in its own namespace: equal theorem names
    <statement 0>                 -- do not clash, and its `open`/`variable` lines end with it
    end FormalizeCheck0
    ...

``lean --json`` prints one JSON message per line; each is given to the statement whose line
range holds it, with the line made relative to that statement. An error in the header's or
the probe's lines fails the header. A file that times out, crashes or runs out of memory is
split in two and each half rerun, down to the single statement that did it, which gets that
status; a hang therefore costs more than in REPL mode.

No statement can change another's result. The statement gate (``formalize.lean.statement``)
lets a statement's commands act only inside its own scopes: every ``end`` must close a scope
the statement opened (an ``end`` Lean might read anywhere else, even inside an identifier,
is refused), options, ``open``\ s and ``variable``\ s are scoped, attributes are refused, and
the namespaces or sections it leaves open are closed for it (``Job.closing``, from the gate's
parse). What outlives a scope (an ``instance``, a ``notation``, ``deriving``) or may give a
library constant's name another meaning (a declaration inside the statement's namespaces or
with a dotted name; ``Job.alone``) is checked in a file of its own, without the wrapper
namespace: inside ``FormalizeCheck0``, ``def Nat.Prime`` would declare
``FormalizeCheck0.Nat.Prime`` and shadow Mathlib's, where the REPL reports it already declared.

Each ``lean`` run starts inside the sandbox (``formalize.lean.sandbox``), which shows it the
generated file read-only and nothing else of its temporary directory.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from formalize.errors import SetupError
from formalize.lean.config import LeanConfig, default_workers
from formalize.lean.headers import brings_the_elaborator, probe_command
from formalize.lean.pool import Job
from formalize.lean.project import absolute_arguments, is_lake_project
from formalize.lean.protocol import ProtocolError, parse_message, verdict
from formalize.lean.repl import ReplFailure, ReplNotStarted, run_capture
from formalize.lean.sandbox import plan_command
from formalize.records import CheckResult, CheckStatus, Message, Severity

_SCOPE_OPEN = re.compile(r"^\s*(?:noncomputable\s+)?(namespace|section)\b\s*([^\s-]*)")
_SCOPE_END = re.compile(r"^\s*end\b")


@dataclass(frozen=True)
class Span:
    """Where one statement sits in the generated file (1-based, inclusive)."""

    first: int  # the line the region (wrapper included) starts at
    body: int  # the statement's first line
    lines: int  # how many lines the statement has
    last: int  # the region's last line


@dataclass(frozen=True)
class GeneratedFile:
    """The text of a generated file and the line ranges of its parts."""

    text: str
    header_last: int  # last line of header + probe
    spans: tuple[Span, ...]


def open_scopes(body: str) -> list[str]:  # kept for callers without the gate's answer
    """``end`` lines closing the namespaces/sections a statement leaves open, innermost first."""
    stack: list[str] = []
    for line in body.split("\n"):
        m = _SCOPE_OPEN.match(line)
        if m:
            stack.append(m.group(2) if m.group(1) == "namespace" or m.group(2) else "")
        elif _SCOPE_END.match(line) and stack:
            stack.pop()
    return [f"end {name}".rstrip() for name in reversed(stack)]


def build_file(
    header: str,
    bodies: Sequence[str],
    probe: str | None,
    closing: Sequence[Sequence[str] | None] | None = None,
    *,
    wrap: bool = True,
    guards: Sequence[Sequence[str]] | None = None,
) -> GeneratedFile:
    """The file checking ``bodies`` under ``header``; ``closing[k]`` are the ``end`` lines body
    ``k`` needs (from the statement gate; None: found by a line scan). Without ``wrap`` (one
    body, checked alone) the body stands at the root, as in the REPL; comment lines keep the
    wrapper's place, so line numbers are the same. ``guards[k]`` are the names body ``k``
    declares: inside the wrapper a command first fails if one already exists (the REPL's
    "already declared"), since ``FormalizeCheck0.Even`` would shadow Mathlib's ``Even``."""
    if not wrap and len(bodies) != 1:
        raise ValueError("build_file: only a single body can be checked without the wrapper")
    lines = header.split("\n") if header else []
    if probe:
        lines += probe.split("\n")
    header_last = len(lines)
    spans = []
    for k, body in enumerate(bodies):
        first = len(lines) + 1
        opener = f"namespace FormalizeCheck{k}" if wrap else "-- checked alone, at the root"
        lines += ["", opener]
        names = guards[k] if guards is not None else ()
        if wrap and names:
            lines += guard_command(names).split("\n")
        body_lines = body.split("\n")
        start = len(lines) + 1
        lines += body_lines
        given = closing[k] if closing is not None else None
        ends = list(given) if given is not None else open_scopes(body)
        lines += [*ends, f"end FormalizeCheck{k}" if wrap else "-- end of the statement"]
        spans.append(Span(first, start, len(body_lines), len(lines)))
    return GeneratedFile("\n".join(lines) + "\n", header_last, tuple(spans))


def guard_command(names: Sequence[str]) -> str:
    """A trusted command that errors, as the REPL would, for each of ``names`` (plain full
    names from the statement gate) that the environment already has."""
    listed = ", ".join(f"`{name}" for name in names)
    return (
        "#eval show Lean.Elab.Command.CommandElabM Unit from do\n"
        f"  for n in [{listed}] do\n"
        "    if (← Lean.getEnv).contains n then\n"
        "      Lean.logError\n"
        '        ("formalize guard: \'" ++ toString n ++ "\' has already been declared")'
    )


def needs_a_file_of_its_own(job: Job) -> bool:
    """Alone, at the root: effects beyond its scopes, or names to guard under a header whose
    environment has no Lean elaborator to run the guard (core modules only)."""
    return job.alone or (bool(job.guard) and not brings_the_elaborator(job.header))


def parse_json_lines(stdout: str) -> list[Message]:
    """The messages ``lean --json`` printed (other lines, e.g. from Lake, are skipped)."""
    out = []
    for line in stdout.split("\n"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "severity" in obj:
            try:
                out.append(parse_message(obj))
            except ProtocolError:
                continue
    return out


def distribute(
    messages: Sequence[Message], generated: GeneratedFile
) -> tuple[list[Message], list[list[Message]]]:
    """Split file messages into header messages and per-statement ones (statement lines)."""
    header: list[Message] = []
    per: list[list[Message]] = [[] for _ in generated.spans]
    for m in messages:
        if m.line == 0 or m.line <= generated.header_last:
            header.append(m)
            continue
        k = next((i for i, s in enumerate(generated.spans) if m.line <= s.last), None)
        if k is None:
            k = len(generated.spans) - 1
        span = generated.spans[k]
        line = min(max(m.line - span.body + 1, 1), span.lines)
        end = m.end_line
        if end is not None:
            end = min(max(end - span.body + 1, line), span.lines)
        per[k].append(Message(m.severity, line, m.column, m.text, end, m.end_column))
    return header, per


class FileBackend:
    """Checks jobs by running ``lean --json`` on generated files."""

    def __init__(self, config: LeanConfig, *, toolchain: str | None = None) -> None:
        self.config = config
        self.toolchain = toolchain
        self.failed_headers: dict[str, CheckResult] = {}
        self.cwd = config.lean_project if is_lake_project(config.lean_project) else None
        self.command = absolute_arguments(config.lean_cmd)
        # How a run without its file argument starts (what the doctor shows); SetupError now
        # rather than at the first check when the sandbox is required and cannot run.
        self.launch = plan_command(config, self.command, cwd=self.cwd)

    def preflight(self) -> None:
        """``SetupError`` when the ``lean`` command cannot be found."""
        import shutil

        exe = self.config.lean_cmd[0]
        if shutil.which(exe) is None and not Path(exe).is_file():
            raise SetupError(
                f"file mode runs {' '.join(self.config.lean_cmd)!r}, but {exe!r} is not on PATH. "
                "Install elan (https://github.com/leanprover/elan) and run `formalize lean setup`."
            )

    def run(
        self, jobs: Iterable[Job], progress: bool = False, total: int | None = None
    ) -> list[CheckResult]:
        """Check the jobs; body-relative results in job order."""
        jobs = list(jobs)
        groups: dict[str, list[int]] = {}
        chunks: list[tuple[str, list[int]]] = []
        for i, job in enumerate(jobs):
            if needs_a_file_of_its_own(job):
                chunks.append((job.header, [i]))
            else:
                groups.setdefault(job.header, []).append(i)
        size = self.config.file_chunk
        for header, idx in groups.items():
            chunks += [(header, idx[k : k + size]) for k in range(0, len(idx), size)]
        results: list[CheckResult | None] = [None] * len(jobs)
        bar = None
        if progress and len(jobs) >= self.config.progress_min:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), desc="lean (file mode)", unit="check", leave=False)
        try:
            with ThreadPoolExecutor(
                self.config.workers or default_workers(), thread_name_prefix="lean-file"
            ) as ex:
                futures = [
                    ex.submit(self._check, header, [jobs[i] for i in idx]) for header, idx in chunks
                ]
                for (_, idx), future in zip(chunks, futures, strict=True):
                    for i, result in zip(idx, future.result(), strict=True):
                        results[i] = result
                    if bar is not None:
                        bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Nothing stays running between calls."""

    def _check(self, header: str, jobs: list[Job]) -> list[CheckResult]:
        failed = self.failed_headers.get(header)
        if failed is not None:
            return [failed] * len(jobs)
        c = self.config
        probe = probe_command(header) if c.probe == "auto" else (c.probe or None)
        bodies = [job.body for job in jobs]
        closing = [job.closing for job in jobs]
        wrap = not (len(jobs) == 1 and needs_a_file_of_its_own(jobs[0]))
        guards = [job.guard for job in jobs]
        generated = build_file(header, bodies, probe, closing, wrap=wrap, guards=guards)
        begin = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="formalize-check-") as tmp:
            path = Path(tmp) / "Check.lean"
            path.write_text(generated.text, encoding="utf-8")
            # As root the sandboxed `lean` runs as nobody: it must be able to read the file.
            Path(tmp).chmod(0o755)
            path.chmod(0o644)
            launch = plan_command(c, [*self.command, str(path)], cwd=self.cwd, read_only=[path])
            try:
                if launch.program is None:
                    raise ReplNotStarted(f"cannot run {' '.join(self.command)!r}: no such program")
                code, stdout, stderr = run_capture(
                    launch.argv,
                    cwd=launch.cwd,
                    env=launch.env,
                    timeout_s=c.import_timeout_s
                    + sum(job.timeout_s or c.timeout_s for job in jobs),
                    memory_mb=c.memory_mb,
                    memory_poll_s=c.memory_poll_s,
                )
            except ReplNotStarted as exc:
                raise SetupError(f"{exc.reason}. Run `formalize lean setup`.") from None
            except ReplFailure as exc:
                return self._split(header, jobs, exc, time.monotonic() - begin)
        elapsed = (time.monotonic() - begin) / max(1, len(bodies))
        messages = parse_json_lines(stdout.decode("utf-8", errors="replace"))
        if code not in (0, 1) or (code == 1 and not any(_is_error(m) for m in messages)):
            crash = ReplFailure(f"`lean` exited with code {code}; stderr: {stderr[-1000:]}")
            return self._split(header, jobs, crash, time.monotonic() - begin)
        header_msgs, per = distribute(messages, generated)
        errors = [m for m in header_msgs if _is_error(m)]
        if errors:
            result = CheckResult(
                CheckStatus.LEAN_ERROR,
                tuple(Message(Severity.ERROR, 0, 0, f"header: {m.text}") for m in errors),
                elapsed,
                self.toolchain,
                reason=f"the header does not import: {errors[0].text[:300]}",
            )
            self.failed_headers[header] = result
            return [result] * len(bodies)
        return [verdict(ms, elapsed_s=elapsed, toolchain=self.toolchain) for ms in per]

    def _split(
        self, header: str, jobs: list[Job], exc: ReplFailure, elapsed: float
    ) -> list[CheckResult]:
        if len(jobs) == 1:
            return [CheckResult(exc.status, (), elapsed, self.toolchain, reason=exc.reason)]
        half = len(jobs) // 2
        return self._check(header, jobs[:half]) + self._check(header, jobs[half:])


def _is_error(m: Message) -> bool:
    return m.severity is Severity.ERROR
