"""The walls around the review app, as one ASGI middleware (``Guard``), outermost:

1. **Host check** (bound to a loopback address): the ``Host`` header must name a loopback
   host, so a page elsewhere cannot reach the server by rebinding its own DNS name to
   127.0.0.1.
2. **Token** (bound to any other address): every request carries the server's random token,
   as ``?token=`` (a page opened with it is redirected to itself without it, with the token in
   an HttpOnly, SameSite=Strict cookie), as that cookie, or as ``Authorization: Bearer``.
3. **Cross-site requests**: a state-changing request (anything but GET/HEAD/OPTIONS) must come
   from the server's own origin (``Origin``, else ``Referer``, must match ``Host`` when sent;
   ``Origin: null`` is refused) and carry the per-server CSRF token in the
   ``X-Formalize-CSRF`` header, which the pages hold in a meta tag and scripts read from
   ``GET /api/session``. A header a cross-site form cannot set, and a token a cross-site
   script cannot read.
4. **Headers on every response**: a Content-Security-Policy allowing only the app's own
   scripts and styles (no inline script), no framing, no MIME sniffing.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_HEADER = "x-formalize-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_cookie(port: int) -> str:
    """The cookie holding the access token (one per port: two servers on a host differ)."""
    return f"formalize_review_token_{port}"


class Guard:
    """The middleware described in the module docstring. ``token`` None: no token needed
    (loopback); ``loopback_only``: refuse Host headers that are not loopback names."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csrf_token: str,
        token: str | None,
        loopback_only: bool,
        port: int,
    ) -> None:
        self.app = app
        self.csrf_token = csrf_token
        self.token = token
        self.loopback_only = loopback_only
        self.cookie = token_cookie(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.loopback_only and not is_loopback(_hostname(host)):
            await _refuse(send_with_headers, 421, f"this server answers to 127.0.0.1, not {host!r}")
            return
        if self.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            from_query = query.get("token")
            if not self._token_ok(headers, from_query):
                await _refuse(
                    send_with_headers,
                    401,
                    "this review server needs its token: open the URL it printed at start",
                )
                return
            if from_query is not None and scope["method"] == "GET":
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                location = quote(scope["path"]) + (f"?{rest}" if rest else "")
                await _redirect_with_cookie(send_with_headers, location, self.cookie, self.token)
                return
        if scope["method"] not in SAFE_METHODS:
            problem = self._cross_site(headers, scope.get("scheme", "http"), host)
            if problem is not None:
                await _refuse(send_with_headers, 403, problem)
                return
        await self.app(scope, receive, send_with_headers)

    def _token_ok(self, headers: dict[str, str], from_query: str | None) -> bool:
        assert self.token is not None
        offered = [from_query or ""]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        offered.append(_cookies(headers.get("cookie", "")).get(self.cookie, ""))
        return any(hmac.compare_digest(o.encode(), self.token.encode()) for o in offered if o)

    def _cross_site(self, headers: dict[str, str], scheme: str, host: str) -> str | None:
        own = f"{scheme}://{host}".lower()
        origin = headers.get("origin")
        if origin is not None:
            if origin.lower() != own:
                return f"cross-site request refused (Origin {origin!r})"
        elif "referer" in headers:
            parts = urlsplit(headers["referer"])
            if f"{parts.scheme}://{parts.netloc}".lower() != own:
                return "cross-site request refused (Referer from another origin)"
        offered = headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(offered.encode(), self.csrf_token.encode()):
            return (
                f"missing or wrong {CSRF_HEADER} header (the pages send it; scripts read it"
                " from GET /api/session)"
            )
        return None


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out[name] = value
    return out


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send: Send, location: str, cookie: str, token: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (
                    b"set-cookie",
                    f"{cookie}={token}; Path=/; HttpOnly; SameSite=Strict".encode(),
                ),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
