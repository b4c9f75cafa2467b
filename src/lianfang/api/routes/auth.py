"""Sign-in, sign-out and "who am I" for the web UI and API clients with sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lianfang.api.deps import PlatformDep
from lianfang.api.security import SESSION_COOKIE, SignedIn, client_of, now_ms, user_json
from lianfang.identity import SignInFailed

router = APIRouter(tags=["auth"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    code: str = Field(max_length=12, description="The 6-digit TOTP code")


@router.post("/auth/sign-in")
def sign_in(body: SignIn, request: Request, response: Response, plat: PlatformDep) -> dict[str, Any]:
    """Password + TOTP. Sets a new session cookie; returns the CSRF token for state-changing calls."""
    try:
        session, token = plat.auth.sign_in(
            body.username, body.password, body.code, client=client_of(request), now_ms=now_ms()
        )
    except SignInFailed as exc:
        raise HTTPException(401, str(exc)) from None
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=plat.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return {"user": user_json(session.user), "csrf_token": session.csrf_token,
            "idle_minutes": session.idle_ms // 60_000}


@router.post("/auth/sign-out")
def sign_out(who: SignedIn, request: Request, response: Response, plat: PlatformDep) -> dict[str, str]:
    """End the session on the server and clear the cookie."""
    plat.auth.sign_out(request.cookies.get(SESSION_COOKIE, ""), client=who.client, now_ms=now_ms())
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "signed out"}


@router.get("/auth/me")
def me(who: SignedIn) -> dict[str, Any]:
    out = {"user": user_json(who.user), "via": who.via}
    if who.session is not None:
        out["csrf_token"] = who.session.csrf_token
    return out
