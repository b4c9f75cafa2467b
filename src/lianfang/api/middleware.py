"""What every HTTP answer gets: security headers, and a line in the access log.

A plain ASGI middleware: it only touches the response's start message on its way out.
Starlette's ``BaseHTTPMiddleware`` (what ``@app.middleware("http")`` builds) runs each
request through a task group and memory streams of its own, which cost about as much
server time per API request as the token check and the policy together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_access = logging.getLogger("lianfang.access")

_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
_CSP = ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
_NO_STORE = ("Cache-Control", "no-store")  # pages and answers may hold personal data


def is_api_path(path: str) -> bool:
    """Whether ``path`` is the API's (JSON answers, errors included) rather than a page's."""
    return path.startswith(("/api/", "/VIID/"))


def security_headers(path: str) -> tuple[tuple[str, str], ...]:
    """The headers an answer at ``path`` gets unless it set them itself."""
    extra: tuple[tuple[str, str], ...] = _ALWAYS
    if path != "/docs":  # the API explorer starts itself with an inline script
        extra += (_CSP,)
    if not path.startswith("/static/"):
        extra += (_NO_STORE,)
    return extra


class ResponseGuard:
    """Adds :func:`security_headers` to every HTTP answer and logs its method, path, status and time.

    uvicorn's own access log is off (``lianfang serve``): it would write query strings, and a
    query string may hold what a client should not have put there. This log writes the path
    only, when the answer starts (a stream is logged as it opens, not when it ends).
    """

    def __init__(self, app: ASGIApp, nul_page: Callable[[Scope], Response] | None = None) -> None:
        self.app = app
        self.nul_page = nul_page  # the answer to a page's URL holding NUL (default: plain text)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        if "\x00" in path or b"%00" in scope["query_string"]:
            await _refuse_nul(scope, receive, send, path, self.nul_page)
            _access.info("%s %s %d %.1fms", scope["method"], "(a path holding NUL)" if "\x00" in path else path,
                         400, (time.perf_counter() - started) * 1000)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path):
                    headers.setdefault(name, value)
                _access.info("%s %s %d %.1fms", scope["method"], path, message["status"],
                             (time.perf_counter() - started) * 1000)
            await send(message)

        await self.app(scope, receive, guarded)


async def _refuse_nul(scope: Scope, receive: Receive, send: Send, path: str,
                      nul_page: Callable[[Scope], Response] | None) -> None:
    """400 for a NUL character in the path or the query: no text field stores one (PostgreSQL refuses it
    outright: a 500 before this), and no legitimate value holds one. A page's URL gets ``nul_page``'s
    answer (the error page, in the user's language), handed a scope without the path and query."""
    message = "请求中含有 NUL 字符 the request's path or query holds a NUL character"
    response: Response
    if is_api_path(path):
        response = JSONResponse({"detail": message}, status_code=400)
    elif nul_page is not None:
        response = nul_page({**scope, "path": "/", "raw_path": b"/", "query_string": b""})
    else:
        response = PlainTextResponse(message, status_code=400)
    for name, value in security_headers(path):
        response.headers.setdefault(name, value)
    await response(scope, receive, send)


__all__ = ["ResponseGuard", "is_api_path", "security_headers"]
