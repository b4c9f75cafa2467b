"""审批: the approver's queue (requests routed to me), approve / reject with a reason, grants I approved.

Approvers only (city or province approver); anyone else gets a 403 page and the refusal
is audited. Decisions go through :class:`~lianfang.access.Approvals` as in the API, which
re-checks that this approver may decide this request (own city, level, not their own).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from lianfang.access import MAX_HOURS
from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.identity import User
from lianfang.web.page import APPROVERS, Viewer, poster_with, service_call, viewer_with
from lianfang.web.pages_access import grant_status

router = APIRouter(include_in_schema=False)

Approver = Annotated[Viewer, Depends(viewer_with(*APPROVERS))]
ApproverPost = Annotated[Viewer, Depends(poster_with(*APPROVERS))]


def _users(v: Viewer, ids: set[int]) -> dict[int, User]:
    found = {i: v.plat.directory.by_id(i) for i in ids}
    return {i: u for i, u in found.items() if u is not None}


@router.get("/approvals")
def approvals(v: Approver) -> Response:
    plat, now = v.plat, now_ms()
    queue = plat.approvals.queue(v.user)
    granted = plat.approvals.granted_by(v.user)
    people = _users(v, {r.requester_id for r in queue} | {g.holder_id for g in granted})
    return v.render(
        "approvals.html",
        queue=[(r, people.get(r.requester_id), plat.approvals.purpose_text(r.id)) for r in queue],
        granted=[(g, people.get(g.holder_id), grant_status(g, now)) for g in granted],
        max_hours=MAX_HOURS,
    )


def _reason(v: Viewer, reason: str) -> str:
    if not reason.strip():
        raise v.refuse(422, "err_invalid", v.t["reason_required"])
    return reason.strip()


@router.post("/approvals/{request_id}/approve")
def approve(request_id: IdPath, v: ApproverPost, reason: str = Form("", max_length=500),
            hours: str = Form("", max_length=6)) -> Response:
    text = _reason(v, reason)
    if hours.strip() and not (hours.strip().isascii() and hours.strip().isdigit()):
        raise v.refuse(422, "err_invalid", v.t["bad_hours"].format(max=MAX_HOURS))
    granted = int(hours) if hours.strip() else None  # the service checks 1 ≤ hours ≤ what was asked
    with service_call(v):
        v.plat.approvals.approve(v.user, request_id, reason=text, now_ms=now_ms(), client=v.client, hours=granted)
    return v.back("/approvals", done="approved")


@router.post("/approvals/{request_id}/reject")
def reject(request_id: IdPath, v: ApproverPost, reason: str = Form("", max_length=500)) -> Response:
    text = _reason(v, reason)
    with service_call(v):
        v.plat.approvals.reject(v.user, request_id, reason=text, now_ms=now_ms(), client=v.client)
    return v.back("/approvals", done="rejected")


__all__ = ["router"]
