"""Sign-in, sign-out and the home page.

Forms carry a CSRF token: before sign-in, a random token in the ``lf_csrf`` cookie that
the form must echo (double submit); after, the session's own token. Sign-in uses the
same :class:`~lianfang.identity.auth.Authenticator` as the API, so lockout, TOTP replay
protection and the audit trail are identical.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianfang.api.security import SESSION_COOKIE, client_of, now_ms
from lianfang.identity import SignInFailed
from lianfang.policy.roles import Role
from lianfang.web.i18n import texts
from lianfang.web.page import (
    APPROVERS,
    PRE_CSRF_COOKIE,
    Posting,
    Viewing,
    lang_for,
    platform_of,
    reads_data,
    render,
    safe_next,
    session_of,
)
from lianfang.web.pages_access import grant_status

router = APIRouter(include_in_schema=False)


def _sign_in_page(request: Request, error: str | None = None, status: int = 200, nxt: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", status=status, csrf_token=token, error=error, next=safe_next(nxt))
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=platform_of(request).settings.cookie_secure)
    return response


@router.get("/", response_class=HTMLResponse)
def home(v: Viewing) -> Response:
    plat, user = v.plat, v.user
    show_access = reads_data(v)
    mine = plat.approvals.mine(user) if show_access else []
    now = now_ms()
    grants = plat.approvals.grants_for(user.id, now) if show_access else []
    live = [g for g in grants if grant_status(g, now) == "active"]
    return v.render(
        "home.html",
        roles=sorted(r.value for r in user.roles),
        notifications=len(plat.approvals.notifications(user)),
        show_access=show_access, pending=sum(r.status == "pending" for r in mine), grants=len(live),
        queue=len(plat.approvals.queue(user)) if v.has(*APPROVERS) else None,
        alarms=len(plat.alarms.list(status="open", limit=plat.settings.max_page_size)) if v.has(Role.AUDITOR) else None,
        idle_minutes=v.session.idle_ms // 60_000,
    )  # fmt: skip


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/") -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_page(request, nxt=next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    code: str = Form(..., max_length=12),
    csrf_token: str = Form(..., max_length=64),
    next: str = Form("/", max_length=2000),
) -> Response:
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _sign_in_page(request, texts(lang_for(request))["bad_form"], status=403, nxt=next)
    plat = platform_of(request)
    try:
        _, token = plat.auth.sign_in(username, password, code, client=client_of(request), now_ms=now_ms())
    except SignInFailed as exc:
        return _sign_in_page(request, str(exc), status=401, nxt=next)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=plat.settings.cookie_secure,
                        samesite="strict", path="/")
    response.delete_cookie(PRE_CSRF_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(v: Posting) -> Response:
    v.plat.auth.sign_out(v.request.cookies.get(SESSION_COOKIE, ""), client=v.client, now_ms=now_ms())
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
