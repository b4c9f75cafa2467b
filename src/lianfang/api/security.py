"""Who is calling: a web session (cookie + CSRF token) or an API token (Bearer), and what they may call.

* Sessions: the ``lf_session`` cookie (HttpOnly, Secure, SameSite=Strict) holds a
  random token whose SM3 the server keeps; it is checked and touched on every
  request (idle timeout, disabled accounts). Requests that change state with a
  session must echo the session's CSRF token in ``X-CSRF-Token``.
* API tokens: ``Authorization: Bearer lf_…`` for system-to-system calls; each route
  names the scope a token needs, and routes without one accept sessions only.
  Tokens carry no ambient authority, so they need no CSRF token.
* Role checks fail closed: a route lists the roles that may call it; a caller
  holding none of them gets 403 and the refusal is audited.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from lianfang.audit import AuditEvent
from lianfang.identity import ApiToken, Session, User
from lianfang.platform import Platform
from lianfang.policy.roles import Role

SESSION_COOKIE = "lf_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # session | token
    client: str
    session: Session | None = None
    token: ApiToken | None = None


def now_ms() -> int:
    return int(time.time() * 1000)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _platform(request: Request) -> Platform:
    plat: Platform = request.app.state.platform
    return plat


def _unauthorised(message: str = "请先登录 sign in first") -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="lianfang"'})


def _bearer(header: str, scope: str | None) -> str:
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise _unauthorised("Authorization must be 'Bearer <token>'")
    if scope is None:
        raise HTTPException(403, "this endpoint is for signed-in users, not API tokens")
    return value.strip()


def _token_principal(request: Request, token: ApiToken | None, scope: str) -> Principal:
    if token is None:
        raise _unauthorised("the API token is unknown, expired, revoked or lacks scope " + scope)
    return Principal(token.user, "token", client_of(request), token=token)


def _session_principal(request: Request, *, touch: bool) -> Principal:
    plat = _platform(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    session = plat.auth.resume(cookie, now_ms=now_ms(), touch=touch) if cookie else None
    if session is None:
        raise _unauthorised()
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, session.csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong (send X-CSRF-Token)")
    return Principal(session.user, "session", client_of(request), session=session)


async def _caller(request: Request, scope: str | None, touch: bool) -> Principal:
    """The caller, with as few trips to the thread pool as may be: an API token is looked up on
    the event loop (two indexed reads, quicker than the hop to a pool thread and back, which
    under load costs more than the whole check); its once-a-minute ``last_used`` write, a
    session (which may be touched) and everything else that writes go to the pool."""
    header = request.headers.get("authorization", "")
    if not header:
        return await run_in_threadpool(_session_principal, request, touch=touch)
    value = _bearer(header, scope)
    assert scope is not None
    plat = _platform(request)
    now = now_ms()
    token, stale = plat.tokens.check(value, scope, now_ms=now)
    if token is not None and stale and not await run_in_threadpool(plat.tokens.touch, token.id, now_ms=now):
        token = None
    return _token_principal(request, token, scope)


def requires(*roles: Role, scope: str | None = None, touch: bool = True) -> Callable[..., Any]:
    """A dependency: the caller, authenticated, holding one of ``roles`` (any role when none are named).

    ``touch=False``: the request does not count as activity of a signed-in user (see ``Auth.resume``).
    """
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        who = await _caller(request, scope, touch)
        if allowed and not (who.user.roles & allowed):
            await run_in_threadpool(_refuse_role, request, who, allowed)
        return who

    return dependency


def _refuse_role(request: Request, who: Principal, allowed: frozenset[Role]) -> None:
    route = request.scope.get("route")
    name = getattr(route, "name", None) or "unknown"
    _platform(request).audit.record(
        AuditEvent(
            action="authz.denied",
            outcome="denied",
            at_ms=now_ms(),
            **who.user.audit_fields(),
            target=(f"route:{name}",),
            client=who.client,
            detail={"needs": sorted(r.value for r in allowed), "method": request.method},
        )
    )
    raise HTTPException(403, "你的角色无权执行此操作 your role may not do this")


def record(request: Request, who: Principal, action: str, outcome: str, targets: tuple[str, ...],
           result_count: int | None = None, **detail: Any) -> None:
    """Write one audit event for what ``who`` just did (state changes, reads outside the record reader)."""
    _platform(request).audit.record(
        AuditEvent(
            action=action,
            outcome=outcome,
            at_ms=now_ms(),
            **who.user.audit_fields(),
            target=targets,
            result_count=result_count,
            client=who.client,
            detail={"via": who.via, **({"token": who.token.id} if who.token else {}), **detail},
        )
    )


def audit_down() -> HTTPException:
    """503 for a data request refused because the audit trail cannot be written (fail closed)."""
    return HTTPException(503, "审计不可用，拒绝访问 the audit trail is unavailable; access refused")


def steward_city(who: Principal) -> str | None:
    """The one city whose data this caller stewards, or None for a province-level unit."""
    code = who.user.unit_code
    return None if code.endswith("0000") else code[:4] + "00"


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "unit_code": user.unit_code,
        "unit_name": user.unit_name,
        "roles": sorted(r.value for r in user.roles),
        "cleared_top_secret": user.cleared_top_secret,
        "must_change_password": user.must_change_password,
    }


SignedIn = Annotated[Principal, Depends(requires())]
Steward = Annotated[Principal, Depends(requires(Role.STEWARD, scope="ingest:write"))]
StewardOrAdmin = Annotated[Principal, Depends(requires(Role.STEWARD, Role.SYSTEM_ADMIN))]
Auditor = Annotated[Principal, Depends(requires(Role.AUDITOR, scope="audit:read"))]
Reader = Annotated[Principal, Depends(requires(scope="data:read"))]
#: a reader whose request the browser makes by itself (a live stream reconnecting): not activity
BackgroundReader = Annotated[Principal, Depends(requires(scope="data:read", touch=False))]

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Auditor",
    "BackgroundReader",
    "Principal",
    "Reader",
    "SignedIn",
    "Steward",
    "StewardOrAdmin",
    "audit_down",
    "client_of",
    "now_ms",
    "record",
    "requires",
    "steward_city",
    "user_json",
]
