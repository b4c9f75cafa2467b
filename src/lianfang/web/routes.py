"""Sign-in, sign-out and the home page, server-rendered.

Forms carry a CSRF token: before sign-in, a random token in the ``lf_csrf`` cookie that
the form must echo (double submit); after, the session's own token. Sign-in uses the
same :class:`~lianfang.identity.auth.Authenticator` as the API, so lockout, TOTP replay
protection and the audit trail are identical.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from lianfang.api.security import SESSION_COOKIE, client_of, now_ms
from lianfang.identity import Session, SignInFailed
from lianfang.platform import Platform
from lianfang.web.i18n import lang_of, texts

PRE_CSRF_COOKIE = "lf_csrf"
LANG_COOKIE = "lf_lang"

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


def _platform(request: Request) -> Platform:
    plat: Platform = request.app.state.platform
    return plat


def _session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return _platform(request).auth.resume(token, now_ms=now_ms()) if token else None


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    html = _env.get_template(name).render(lang=lang, t=texts(lang), **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", secure=_platform(request).settings.cookie_secure)
    return response


def _sign_in_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _page(request, "sign_in.html", status, csrf_token=token, error=error, user=None)
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_platform(request).settings.cookie_secure)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    plat = _platform(request)
    user = session.user
    return _page(
        request, "home.html", user=user, csrf_token=session.csrf_token,
        roles=[f"{r.label_zh} {r.value}" for r in sorted(user.roles)],
        notifications=len(plat.approvals.notifications(user)), queue=len(plat.approvals.queue(user)),
        idle_minutes=session.idle_ms // 60_000,
    )  # fmt: skip


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    if _session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _sign_in_page(request)


@router.post("/sign-in")
def sign_in(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    code: str = Form(..., max_length=12),
    csrf_token: str = Form(..., max_length=64),
) -> Response:
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    lang = lang_of(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _sign_in_page(request, texts(lang)["bad_form"], status=403)
    plat = _platform(request)
    try:
        _, token = plat.auth.sign_in(username, password, code, client=client_of(request), now_ms=now_ms())
    except SignInFailed as exc:
        return _sign_in_page(request, str(exc), status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=plat.settings.cookie_secure,
                        samesite="strict", path="/")
    response.delete_cookie(PRE_CSRF_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: str = Form(..., max_length=64)) -> Response:
    session = _session(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    if not hmac.compare_digest(session.csrf_token, csrf_token):
        return HTMLResponse("CSRF token missing or wrong", status_code=403)
    _platform(request).auth.sign_out(request.cookies.get(SESSION_COOKIE, ""), client=client_of(request),
                                     now_ms=now_ms())
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
