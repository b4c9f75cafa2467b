"""Access requests, the approver queue, decisions, grants and notifications (审批)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from lianfang.access import MAX_HOURS, AccessError, AccessRequest
from lianfang.api.deps import IdPath, PlatformDep
from lianfang.api.security import SignedIn, now_ms
from lianfang.api.timefmt import localise
from lianfang.policy.decision import Grant, Purpose, ScopeKind
from lianfang.standard.levels import Level

router = APIRouter(tags=["access"])

_STATUS = {"invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 409}


def _http(exc: AccessError) -> HTTPException:
    return HTTPException(_STATUS.get(exc.kind, 400), str(exc))


class NewRequest(BaseModel):
    """What a requester may say. Status, approver, grant and requester fields are not accepted."""

    model_config = ConfigDict(extra="forbid")

    owner_city: str = Field(pattern=r"^\d{6}$")
    level: Level
    scope: ScopeKind
    keys: list[str] = Field(min_length=1, max_length=500)
    purpose: str = Field(max_length=48)
    purpose_text: str = Field("", max_length=500)
    case_no: str = Field(min_length=1, max_length=64)
    hours: int = Field(ge=1, le=MAX_HOURS)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)
    hours: int | None = Field(None, ge=1, le=MAX_HOURS)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)


def _req(r: AccessRequest, tz: Any) -> dict[str, Any]:
    return localise(
        {
            "id": r.id, "requester_id": r.requester_id, "requester_unit": r.requester_unit,
            "owner_city": r.owner_city, "level": r.level.value, "scope": r.scope.value, "keys": list(r.keys),
            "purpose": r.purpose, "case_no": r.case_no, "hours": r.hours, "status": r.status,
            "created_at": r.created_at, "decided_by": r.decided_by, "decided_at": r.decided_at,
        },
        tz,
    )  # fmt: skip


def _grant(g: Grant, tz: Any) -> dict[str, Any]:
    return localise(
        {
            "id": g.id, "holder_id": g.holder_id, "approver_id": g.approver_id, "approver_role": g.approver_role.value,
            "city_code": g.city_code, "level": g.level.value, "purpose": g.purpose, "case_no": g.case_no,
            "scope": g.scope.value, "keys": sorted(g.keys), "starts_at": g.starts_ms, "expires_at": g.expires_ms,
            "revoked_at": g.revoked_ms,
        },
        tz,
    )  # fmt: skip


@router.post("/access/requests", status_code=201)
def create_request(body: NewRequest, who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    """Ask for access; the request goes to the approvers who may decide it."""
    try:
        req = plat.approvals.request(
            who.user, owner_city=body.owner_city, level=body.level, scope=body.scope, keys=body.keys,
            purpose=Purpose(body.purpose, body.purpose_text, body.case_no), hours=body.hours, now_ms=now_ms(),
            client=who.client,
        )  # fmt: skip
    except AccessError as exc:
        raise _http(exc) from None
    return _req(req, plat.tz)


@router.get("/access/requests")
def my_requests(who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    return {"items": [_req(r, plat.tz) for r in plat.approvals.mine(who.user)]}


@router.get("/access/queue")
def queue(who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    """Pending requests this user may decide."""
    return {"items": [_req(r, plat.tz) for r in plat.approvals.queue(who.user)]}


@router.post("/access/requests/{request_id}/approve")
def approve(request_id: IdPath, body: Decision, who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    try:
        g = plat.approvals.approve(who.user, request_id, reason=body.reason, now_ms=now_ms(), client=who.client,
                                   hours=body.hours)
    except AccessError as exc:
        raise _http(exc) from None
    return _grant(g, plat.tz)


@router.post("/access/requests/{request_id}/reject")
def reject(request_id: IdPath, body: Decision, who: SignedIn, plat: PlatformDep) -> dict[str, str]:
    try:
        plat.approvals.reject(who.user, request_id, reason=body.reason, now_ms=now_ms(), client=who.client)
    except AccessError as exc:
        raise _http(exc) from None
    return {"status": "rejected"}


@router.post("/access/requests/{request_id}/withdraw")
def withdraw(request_id: IdPath, who: SignedIn, plat: PlatformDep) -> dict[str, str]:
    try:
        plat.approvals.withdraw(who.user, request_id, now_ms=now_ms(), client=who.client)
    except AccessError as exc:
        raise _http(exc) from None
    return {"status": "withdrawn"}


@router.post("/access/grants/{grant_id}/revoke")
def revoke(grant_id: IdPath, body: Revocation, who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    try:
        g = plat.approvals.revoke(who.user, grant_id, reason=body.reason, now_ms=now_ms(), client=who.client)
    except AccessError as exc:
        raise _http(exc) from None
    return _grant(g, plat.tz)


@router.get("/access/grants")
def my_grants(who: SignedIn, plat: PlatformDep) -> dict[str, Any]:
    """The caller's live grants (and those that ended in the last day)."""
    return {"items": [_grant(g, plat.tz) for g in plat.approvals.grants_for(who.user.id, now_ms())]}


@router.get("/notifications")
def notifications(who: SignedIn, plat: PlatformDep, unread: bool = True) -> dict[str, Any]:
    return {"items": [localise(n, plat.tz) for n in plat.approvals.notifications(who.user, unread_only=unread)]}
