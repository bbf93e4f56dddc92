"""The review web app: server-rendered pages over the corpus store, and the JSON API beside them.

``create_app(store, settings)`` builds a Starlette application; nothing happens at import time
and the caller owns the store (``formalize review`` opens it, serves, closes it). Pages are
Jinja2 templates with autoescaping everywhere; model and dataset text reaches them only as
escaped text or through ``formalize.review.render``. One small script of the app's own
(``static/review.js``) does the keyboard labelling and posts labels to the API.

Routes:
  GET  /                      runs, the funnel, labels and the audit sample's progress
  GET  /attempts?...          attempts under filters, paged by keyset (``after`` / ``before``)
  GET  /problems/{id}         a problem with every attempt by round; label them here
  GET  /audit, /audit/next    the audit queue, and the next item this annotator has not labelled
  GET  /api/attempts?...      the same list as JSON: {"items", "next_after", "prev_before", "total"}
  GET  /api/problems/{id}     the problem, its entry and every attempt with its labels
  POST /api/labels            {"attempt_id", "label", "error_type", "note", "annotator"}
  GET  /api/session           the CSRF token scripts send with POSTs, the default annotator
  GET  /api/report            ``formalize review report --json``
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from formalize.corpus import Store
from formalize.errors import FormalizeError, InputError
from formalize.records import AttemptStatus, ErrorType, Label, LabelValue
from formalize.review import browse
from formalize.review.render import highlight_lean, render_informal
from formalize.review.security import CSRF_HEADER, Guard, is_loopback

STATIC = Path(__file__).parent / "static"
ANNOTATOR_COOKIE = "formalize_annotator"
MAX_NOTE = 10_000
MAX_NAME = 100
#: Error types in the order of their keys 1..7 on the problem page.
ERROR_TYPES: tuple[tuple[ErrorType, str], ...] = (
    (ErrorType.WRONG_TYPE, "wrong type or domain"),
    (ErrorType.MISSING_HYPOTHESIS, "missing hypothesis"),
    (ErrorType.EXTRA_HYPOTHESIS, "extra hypothesis"),
    (ErrorType.WRONG_QUANTIFIER, "wrong quantifier"),
    (ErrorType.WRONG_CONCLUSION, "wrong conclusion or answer"),
    (ErrorType.TRIVIALISED, "trivialised"),
    (ErrorType.OTHER, "other"),
)


@dataclass(frozen=True)
class ReviewSettings:
    """How the app is served. ``token``: required on every request when set (``formalize
    review`` sets one whenever it binds to a non-loopback address); ``csrf_token``: the
    per-server token state-changing requests carry."""

    host: str = "127.0.0.1"
    port: int = 8765
    annotator: str = "annotator"
    token: str | None = None
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    page_size: int = 50

    @property
    def loopback(self) -> bool:
        """True when bound to an address only this machine reaches."""
        return is_loopback(self.host)


def create_app(store: Store, settings: ReviewSettings) -> Any:
    """The ASGI application (Starlette inside the ``Guard`` middleware)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    views = _Views(store, settings)
    routes = [
        Route("/", views.index),
        Route("/attempts", views.attempts),
        Route("/problems/{problem_id:path}", views.problem),
        Route("/audit", views.audit),
        Route("/audit/next", views.audit_next),
        Route("/api/attempts", views.api_attempts),
        Route("/api/problems/{problem_id:path}", views.api_problem),
        Route("/api/labels", views.api_labels, methods=["POST"]),
        Route("/api/session", views.api_session),
        Route("/api/report", views.api_report),
        Route("/favicon.ico", views.favicon),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    return Guard(
        app,
        csrf_token=settings.csrf_token,
        token=settings.token,
        loopback_only=settings.loopback and settings.token is None,
        port=settings.port,
    )


def template_env() -> Any:
    """The Jinja2 environment of the pages: autoescaping on for every template."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("formalize.review", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        informal=render_informal,
        lean=highlight_lean,
        when=_when,
        pct=_pct,
        problem_url=problem_url,
    )
    return env


def problem_url(problem_id: str, attempt_id: int | None = None, **extra: str) -> str:
    """The problem page's path (ids may hold slashes and anything else: quoted)."""
    query = {"attempt": str(attempt_id)} if attempt_id is not None else {}
    query.update(extra)
    tail = f"?{urlencode(query)}" if query else ""
    anchor = f"#a{attempt_id}" if attempt_id is not None else ""
    return f"/problems/{quote(problem_id, safe='')}{tail}{anchor}"


def _when(stamp: float | None) -> str:
    return "-" if not stamp else time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


class _Views:
    """The route handlers (plain functions run in Starlette's thread pool: the store is
    thread-safe)."""

    def __init__(self, store: Store, settings: ReviewSettings) -> None:
        self.store = store
        self.settings = settings
        self.env = template_env()

    # ------------------------------------------------------------------ helpers

    def annotator(self, request: Any) -> str:
        """Who is labelling: the page's annotator cookie, else the server's ``--annotator``."""
        name = unquote(request.cookies.get(ANNOTATOR_COOKIE, "")).strip()
        return name[:MAX_NAME] if name else self.settings.annotator

    def page(self, request: Any, template: str, status: int = 200, **context: Any) -> Any:
        from starlette.responses import HTMLResponse

        context.update(
            csrf_token=self.settings.csrf_token,
            annotator=self.annotator(request),
            path=request.url.path,
            corpus=str(self.store.path),
        )
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def error_page(self, request: Any, status: int, message: str) -> Any:
        return self.page(request, "error.html", status=status, message=message)

    @staticmethod
    def json(data: Any, status: int = 200) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse(data, status_code=status, headers={"cache-control": "no-store"})

    def filtered_page(self, request: Any) -> tuple[browse.AttemptFilter, browse.Page]:
        query = {k: request.query_params.getlist(k) for k in request.query_params}
        flt = browse.AttemptFilter.from_query(query)
        after = _int_param(request, "after")
        before = _int_param(request, "before")
        limit = _int_param(request, "limit") or self.settings.page_size
        page = browse.page_attempts(self.store, flt, after=after, before=before, limit=limit)
        return flt, page

    # ------------------------------------------------------------------ pages

    def index(self, request: Any) -> Any:
        from formalize.review.report import build_report

        sample, queue = browse.audit_queue(self.store)
        me = self.annotator(request)
        return self.page(
            request,
            "index.html",
            funnel=self.store.funnel(),
            runs=browse.run_summaries(self.store),
            report=build_report(self.store),
            sample=sample,
            queue_total=len(queue),
            queue_mine=sum(any(a == me for a, _ in i.labels) for i in queue),
            queue_any=sum(bool(i.labels) for i in queue),
        )

    def attempts(self, request: Any) -> Any:
        try:
            flt, page = self.filtered_page(request)
        except InputError as exc:
            return self.error_page(request, 400, str(exc))
        base = flt.query()
        limit = request.query_params.get("limit")
        if limit:
            base.append(("limit", limit))
        return self.page(
            request,
            "attempts.html",
            flt=flt,
            result=page,
            runs=[r.id for r in browse.run_summaries(self.store)],
            sources=browse.sources(self.store),
            statuses=[s.value for s in AttemptStatus],
            limit=int(limit) if limit else self.settings.page_size,
            next_url=None
            if page.next_after is None
            else "/attempts?" + urlencode([*base, ("after", str(page.next_after))]),
            prev_url=None
            if page.prev_before is None
            else "/attempts?" + urlencode([*base, ("before", str(page.prev_before))]),
        )

    def problem(self, request: Any) -> Any:
        view = browse.problem_view(self.store, request.path_params["problem_id"])
        if view is None:
            return self.error_page(request, 404, "no such problem in this corpus")
        selected = _int_param(request, "attempt", strict=False)
        ids: list[int | None] = [a.attempt_id for a in view.attempts]
        if selected not in ids:
            accepted = [a.attempt_id for a in view.attempts if a.attempt.status.value == "accepted"]
            selected = [*accepted, *ids, None][0]
        return self.page(
            request,
            "problem.html",
            view=view,
            selected=selected,
            error_types=ERROR_TYPES,
            from_audit=request.query_params.get("from") == "audit",
        )

    def audit(self, request: Any) -> Any:
        sample, items = browse.audit_queue(self.store)
        return self.page(
            request,
            "audit.html",
            sample=sample,
            items=items,
            me=self.annotator(request),
            done=request.query_params.get("done") == "1",
        )

    def audit_next(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        item = browse.next_in_queue(self.store, self.annotator(request))
        if item is None:
            return RedirectResponse("/audit?done=1", status_code=303)
        target = problem_url(item.problem_id, item.attempt_id, **{"from": "audit"})
        return RedirectResponse(target, status_code=303)

    def favicon(self, request: Any) -> Any:
        from starlette.responses import Response

        return Response(status_code=204)

    # ------------------------------------------------------------------ API

    def api_attempts(self, request: Any) -> Any:
        try:
            _, page = self.filtered_page(request)
        except InputError as exc:
            return self.json({"error": str(exc)}, 400)
        return self.json(
            {
                "items": [r.to_dict() for r in page.rows],
                "next_after": page.next_after,
                "prev_before": page.prev_before,
                "total": page.total,
            }
        )

    def api_problem(self, request: Any) -> Any:
        view = browse.problem_view(self.store, request.path_params["problem_id"])
        if view is None:
            return self.json({"error": "no such problem"}, 404)
        return self.json(view.to_dict())

    def api_session(self, request: Any) -> Any:
        return self.json(
            {
                "csrf_token": self.settings.csrf_token,
                "csrf_header": CSRF_HEADER,
                "annotator": self.annotator(request),
                "labels": [v.value for v in LabelValue],
                "error_types": [e.value for e, _ in ERROR_TYPES],
            }
        )

    def api_report(self, request: Any) -> Any:
        from formalize.review.report import build_report

        return self.json(build_report(self.store).to_dict())

    async def api_labels(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return self.json({"error": "send the label as application/json"}, 415)
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self.json({"error": "the body is not JSON"}, 400)
        try:
            status, answer = await run_in_threadpool(self.save_label, data, request)
        except FormalizeError as exc:
            return self.json({"error": str(exc)}, 400)
        return self.json(answer, status)

    def save_label(self, data: Any, request: Any) -> tuple[int, dict[str, Any]]:
        """Validate and store one label; (HTTP status, answer)."""
        from formalize.labels import add_label

        if not isinstance(data, dict):
            raise InputError("the body must be a JSON object")
        unknown = set(data) - {
            "attempt_id",
            "problem_id",
            "round",
            "sample",
            "lean_sha",
            "label",
            "error_type",
            "note",
            "annotator",
        }
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)}")
        key = self.key_of(data)
        if key is None:
            return 404, {"error": "no such attempt"}
        sha = data.get("lean_sha")
        if sha is not None and sha != key.lean_sha:
            return 409, {"error": "the attempt's statement changed since the page was loaded"}
        try:
            value = LabelValue(data.get("label"))
        except ValueError:
            raise InputError("label must be 'faithful' or 'unfaithful'") from None
        error = data.get("error_type") or None
        try:
            error_type = None if error is None else ErrorType(error)
        except ValueError:
            known = ", ".join(e.value for e in ErrorType)
            raise InputError(f"unknown error_type {error!r} (one of {known})") from None
        note = data.get("note") or ""
        annotator = data.get("annotator") or self.annotator(request)
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise InputError(f"note must be text of at most {MAX_NOTE} characters")
        if not isinstance(annotator, str) or not 0 < len(annotator.strip()) <= MAX_NAME:
            raise InputError(f"annotator must be a name of 1 to {MAX_NAME} characters")
        try:
            label = Label(
                problem_id=key.problem_id,
                round=key.round,
                sample=key.sample,
                lean_sha=key.lean_sha,
                label=value,
                annotator=annotator.strip(),
                error_type=error_type,
                note=note,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        try:
            stored = add_label(self.store, label)
        except InputError as exc:  # the round was re-recorded between the lookup and now
            return 409, {"error": str(exc)}
        view = browse.problem_view(self.store, key.problem_id)
        labels = []
        if view is not None:
            current = next((a for a in view.attempts if a.attempt_id == key.attempt_id), None)
            labels = [lab.to_dict() for lab in (current.labels if current else ())]
        return 201, {"attempt_id": key.attempt_id, "label": stored.to_dict(), "labels": labels}

    def key_of(self, data: dict[str, Any]) -> browse.AttemptKey | None:
        """The attempt a label names: by ``attempt_id``, or by problem, round and sample."""
        attempt_id = data.get("attempt_id")
        if attempt_id is not None:
            if not isinstance(attempt_id, int) or isinstance(attempt_id, bool):
                raise InputError("attempt_id must be an integer")
            return browse.attempt_key(self.store, attempt_id)
        try:
            problem_id = str(data["problem_id"])
            round_, sample = int(data["round"]), int(data["sample"])
        except (KeyError, TypeError, ValueError):
            raise InputError("give attempt_id, or problem_id, round and sample") from None
        found = browse.attempt_id_of(self.store, problem_id, round_, sample)
        return None if found is None else browse.attempt_key(self.store, found)


def _int_param(request: Any, name: str, *, strict: bool = True) -> int | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        if strict:
            raise InputError(f"{name} must be an integer, not {text!r}") from None
        return None
