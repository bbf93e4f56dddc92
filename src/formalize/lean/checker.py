"""``LeanChecker``: the compile-check stage. The safety gate first, then a Lean backend.

    with LeanChecker(LeanConfig(workers=4)) as checker:
        results = checker.check(statements, header="import Mathlib")

Every statement passes the statement gate (``formalize.lean.statement.check_statement``);
a refused one is ``rejected`` and never reaches Lean. A statement may carry its own ``import``
lines; otherwise it is checked under ``header``. Identical (header, body) pairs are checked
once per call, and with a cache, once ever per toolchain. Results come back in input order,
with message positions relative to the statement the caller gave.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from formalize.cache import Cache, content_key
from formalize.errors import InputError, SetupError
from formalize.lean.config import LeanConfig
from formalize.lean.headers import PreparedHeader, normalize_header, prepare_header
from formalize.lean.memory import MemorySample
from formalize.lean.pool import ChecksCancelled, Job, ReplPool
from formalize.lean.project import (
    SETUP_HINT,
    absolute_arguments,
    default_repl_command,
    is_lake_project,
    read_versions,
)
from formalize.lean.protocol import shift_messages
from formalize.records import CheckResult, CheckStatus

if TYPE_CHECKING:
    from formalize.lean.sandbox import SandboxPlan

# Bump when the meaning of a cached result changes (the gate, the verdict rules, the wrapping).
CHECK_VERSION = "2"  # 2: the gate's text (comments blanked), checker-set options


class Backend(Protocol):
    """What the checker needs from a way of running Lean."""

    failed_headers: dict[str, CheckResult]

    def run(
        self, jobs: Iterable[Job], progress: bool = False, total: int | None = None
    ) -> list[CheckResult]:
        """Check the jobs; body-relative results in job order."""
        ...

    def close(self) -> None:
        """Release processes and connections."""
        ...


@dataclasses.dataclass(frozen=True)
class _Plan:
    index: int
    header: str
    body: str
    offset: int
    closing: tuple[str, ...] | None = None
    alone: bool = False
    timeout_s: float | None = None
    guard: tuple[str, ...] = ()


class LeanChecker:
    """Checks Lean statements; build it from a ``LeanConfig``, close it when done."""

    def __init__(
        self,
        config: LeanConfig | None = None,
        cache: Cache | None = None,
        *,
        backend: Backend | None = None,
    ) -> None:
        """``backend``: where checks run instead of the config's backend (the Ray executor's
        Lean actors); the gate, the headers and the cache stay here."""
        self.config = config or LeanConfig()
        self.cache = cache
        self._backend: Backend | None = backend
        self._headers: dict[str, PreparedHeader] = {}
        self._toolchain: str | None = self.config.toolchain
        self._toolchain_read = self.config.toolchain is not None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public

    @property
    def toolchain(self) -> str | None:
        """Provenance of results: toolchain and Mathlib version (None when unknown)."""
        if not self._toolchain_read:
            c = self.config
            project = (
                read_versions(c.lean_project).stamp() if is_lake_project(c.lean_project) else None
            )
            if c.backend == "kimina":
                self._toolchain = f"kimina-lean-server at {c.kimina_url}"
            elif c.backend == "repl" and c.repl_cmd:
                where = f" in {project}" if project else ""
                self._toolchain = f"REPL `{' '.join(c.repl_cmd)}`{where}"
            else:
                self._toolchain = project
            self._toolchain_read = True
        return self._toolchain

    @property
    def launch(self) -> SandboxPlan | None:
        """How the backend starts Lean, sandbox included (None before the first check, kimina)."""
        return getattr(self._backend, "launch", None)

    def worker_memory(self) -> list[MemorySample]:
        """The memory (RSS, PSS, private) of each live REPL worker; empty for the other
        backends and before the first check."""
        backend = self._backend
        return backend.worker_memory() if isinstance(backend, ReplPool) else []

    def preflight(self) -> None:
        """Fail fast (``SetupError``, saying what is missing) when the backend cannot run.

        Checks what can be checked without starting Lean: the command exists, the project is
        built, the server answers. Importing the header happens with the first check.
        """
        backend = self._get_backend()
        check = getattr(backend, "preflight", None)
        if check is not None:
            check()

    def check(
        self, statements: Sequence[str], header: str | None = None, progress: bool = False
    ) -> list[CheckResult]:
        """Check each statement; one ``CheckResult`` per statement, in input order.

        ``header`` (default: the config's) applies to statements without ``import`` lines.
        A header that does not import makes its statements ``lean_error``, except the
        configured one (``LeanConfig.header``): that is setup, and raises ``SetupError``, as
        does a Lean that cannot run at all (``InputError`` when the gate refuses it).
        """
        configured = self._prepare(self.config.header)
        if configured.rejection:
            raise InputError(f"the configured Lean header is not allowed: {configured.rejection}")
        default = configured if header is None else self._prepare(header)
        toolchain = self.toolchain
        results: list[CheckResult | None] = [None] * len(statements)
        plans: list[_Plan] = []

        def planned() -> Iterator[_Plan]:
            # A generator, so that the gate runs while the first jobs are already checking.
            from formalize.lean.statement import body_line_offset, check_statement, split_header

            kwargs = self._gate_kwargs()
            for i, text in enumerate(statements):
                report = check_statement(text, **kwargs)
                if not report.ok:
                    reason = report.reason or "refused by the statement gate"
                    results[i] = CheckResult(
                        CheckStatus.REJECTED, toolchain=toolchain, reason=reason
                    )
                    continue
                # Lean gets the text the gate judged: newlines normalised, comments blanked
                assert report.text is not None
                try:
                    imports, body = split_header(report.text)
                    prepared = self._prepare(imports) if imports.strip() else default
                except Exception as exc:  # one statement never takes its batch down
                    results[i] = CheckResult(
                        CheckStatus.REJECTED,
                        toolchain=toolchain,
                        reason=f"could not prepare the statement ({type(exc).__name__}: {exc})",
                    )
                    continue
                if prepared.rejection:
                    results[i] = CheckResult(
                        CheckStatus.REJECTED, toolchain=toolchain, reason=prepared.rejection
                    )
                    continue
                plan = _Plan(
                    i,
                    prepared.text,
                    body,
                    body_line_offset(report.text),
                    report.open_scopes,
                    report.alone,
                    guard=report.guard_names or (),
                )
                plans.append(plan)
                yield plan

        keyed = self._run(planned(), toolchain, progress, len(statements))
        failed = self._backend.failed_headers if self._backend is not None else {}
        if configured.text in failed and any(p.header == configured.text for p in plans):
            given = normalize_header(self.config.header)
            raise SetupError(
                f"the configured header {given!r} does not import in "
                f"{self.config.lean_project}: {failed[configured.text].reason}. "
                "Run `formalize lean doctor` to see what is missing."
            )
        for plan in plans:
            result = keyed[(plan.header, plan.body)]
            results[plan.index] = dataclasses.replace(
                result, messages=shift_messages(result.messages, plan.offset), toolchain=toolchain
            )
        return [r for r in results if r is not None]

    def probe(
        self, items: Sequence[tuple[str, str, bool]], timeout_s: float | None = None
    ) -> list[CheckResult]:
        """Check trusted probe texts: ``items`` are (header, body, alone) triples, one result
        each, in order, cached like checks. No statement gate: a probe is the filters' own text
        around a statement that has passed the gate (``formalize.filters``), and the gate
        refuses the tactics a probe is made of. A body closes every scope it opens; ``alone``
        (the statement has global effects) makes file mode check it in a file of its own.
        Headers are prepared as for checks; ``timeout_s`` bounds each probe (default: the
        config's ``timeout_s``)."""
        toolchain = self.toolchain
        results: list[CheckResult | None] = [None] * len(items)
        plans: list[_Plan] = []
        for i, (header, body, alone) in enumerate(items):
            prepared = self._prepare(header)
            if prepared.rejection:
                results[i] = CheckResult(
                    CheckStatus.REJECTED, toolchain=toolchain, reason=prepared.rejection
                )
                continue
            plans.append(_Plan(i, prepared.text, body, 0, (), alone, timeout_s))
        keyed = self._run(iter(plans), toolchain, False, len(plans))
        for plan in plans:
            results[plan.index] = dataclasses.replace(
                keyed[(plan.header, plan.body)], toolchain=toolchain
            )
        return [r for r in results if r is not None]

    def run_jobs(self, jobs: Sequence[Job]) -> tuple[list[CheckResult], dict[str, CheckResult]]:
        """Run jobs that another checker has gated and prepared (``check``/``probe`` of the
        Ray executor's driver), on this checker's backend, no cache: body-relative results in
        job order, and the headers that failed to import (what the driver's checker needs to
        tell setup failures from statement errors)."""
        backend = self._get_backend()
        results = backend.run(list(jobs))
        return results, dict(backend.failed_headers)

    def cancel_pending(self) -> None:
        """Cancel the checks queued and not yet started (a run is stopping), where the
        backend can: the ``check`` calls in progress end with ``ChecksCancelled``."""
        with self._lock:
            backend = self._backend
        cancel = getattr(backend, "cancel_pending", None)
        if cancel is not None:
            cancel()

    def close(self) -> None:
        """Stop every Lean process."""
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def __enter__(self) -> LeanChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _gate_kwargs(self) -> dict[str, Any]:
        if self.config.allowed_options is None:
            return {}
        return {"allowed_options": self.config.allowed_options}

    def _prepare(self, header: str) -> PreparedHeader:
        with self._lock:
            prepared = self._headers.get(header)
        if prepared is None:
            from formalize.lean.statement import check_statement

            kwargs = self._gate_kwargs()
            prepared = prepare_header(header, lambda text: check_statement(text, **kwargs))
            if not prepared.rejection and not self.config.auto_implicit:
                options = "set_option autoImplicit false\nset_option relaxedAutoImplicit false"
                text = f"{prepared.text}\n{options}" if prepared.text else options
                prepared = dataclasses.replace(prepared, text=text)
            with self._lock:
                self._headers[header] = prepared
        return prepared

    def _run(
        self, plans: Iterator[_Plan], toolchain: str | None, progress: bool, total: int
    ) -> dict[tuple[str, str], CheckResult]:
        """Results for each distinct (header, body): from the cache or from the backend."""
        keyed: dict[tuple[str, str], CheckResult] = {}
        pending: dict[tuple[str, str], None] = {}  # insertion-ordered set

        def jobs() -> Iterator[Job]:
            for plan in plans:
                key = (plan.header, plan.body)
                if key in keyed or key in pending:
                    continue
                cached = self._cached(key, toolchain)
                if cached is not None:
                    keyed[key] = cached
                else:
                    pending[key] = None
                    yield Job(
                        *key,
                        closing=plan.closing,
                        alone=plan.alone,
                        timeout_s=plan.timeout_s,
                        guard=plan.guard,
                    )

        queue = jobs()
        first = next(queue, None)
        if first is not None:
            stream = itertools.chain([first], queue)
            try:
                out = self._get_backend().run(stream, progress=progress, total=total)
            except ChecksCancelled as stop:  # what did run is cached for the rerun
                for key, done in zip(pending, stop.results, strict=False):
                    if done is not None:
                        self._store(key, toolchain, done)
                raise
            for (header, body), result in zip(pending, out, strict=True):
                keyed[(header, body)] = result
                self._store((header, body), toolchain, result)
        return keyed

    def _cache_key(self, key: tuple[str, str], toolchain: str | None) -> str | None:
        if self.cache is None or toolchain is None:
            return None  # without a known toolchain a cached verdict could be another Lean's
        return content_key("lean-check", CHECK_VERSION, toolchain, key[0], key[1])

    def _cached(self, key: tuple[str, str], toolchain: str | None) -> CheckResult | None:
        ckey = self._cache_key(key, toolchain)
        if ckey is None or self.cache is None:
            return None
        text = self.cache.get(ckey)
        if text is None:
            return None
        try:
            return CheckResult.from_json(text)
        except (ValueError, TypeError, KeyError):
            return None

    def _store(self, key: tuple[str, str], toolchain: str | None, result: CheckResult) -> None:
        # Only Lean's verdicts are facts about the statement; infrastructure failures are not.
        if result.status not in (CheckStatus.OK, CheckStatus.LEAN_ERROR):
            return
        ckey = self._cache_key(key, toolchain)
        if ckey is not None and self.cache is not None:
            self.cache.put(ckey, result.to_json())

    def _get_backend(self) -> Backend:
        with self._lock:
            if self._backend is None:
                self._backend = self._make_backend()
            return self._backend

    def _make_backend(self) -> Backend:
        c = self.config
        if c.backend == "file":
            from formalize.lean.filemode import FileBackend

            return FileBackend(c, toolchain=self.toolchain)
        if c.backend == "kimina":
            from formalize.lean.kimina import KiminaBackend

            return KiminaBackend(c, toolchain=self.toolchain)
        if c.repl_cmd:
            # Arguments naming files here stay valid when the command runs in the project.
            command = absolute_arguments(c.repl_cmd)
            cwd = c.lean_project if is_lake_project(c.lean_project) else None
            hint = f"Check --repl-cmd ({' '.join(command)})."
        else:
            command = default_repl_command(c.lean_project)
            cwd = c.lean_project
            hint = SETUP_HINT
        return ReplPool(c, command, cwd=cwd, toolchain=self.toolchain, setup_hint=hint)
