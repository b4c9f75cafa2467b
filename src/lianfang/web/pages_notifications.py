"""通知: the in-app notifications (requests to decide, decisions, revocations); marking them read."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from lianfang.api.deps import IdPath
from lianfang.api.security import now_ms
from lianfang.web.page import Posting, Viewing

router = APIRouter(include_in_schema=False)

#: where a notification leads, by kind ({ref} is the request or grant it is about)
_LINKS = {
    "request.pending": "/approvals#request-{ref}",
    "request.approved": "/access#request-{ref}",
    "request.rejected": "/access#request-{ref}",
    "grant.revoked": "/access#grant-{ref}",
}


def link_of(kind: str, ref_id: int) -> str:
    return _LINKS.get(kind, "/").format(ref=ref_id)


@router.get("/notifications")
def notifications(v: Viewing) -> Response:
    notes = v.plat.approvals.notifications(v.user, unread_only=False)
    return v.render("notifications.html", notes=[(n, link_of(n["kind"], n["ref_id"])) for n in notes])


@router.post("/notifications/{note_id}/read")
def mark_read(note_id: IdPath, v: Posting) -> Response:
    v.plat.approvals.mark_read(v.user, note_id, now_ms())  # only the user's own notes are touched
    return v.back("/notifications", done="read")


@router.post("/notifications/read-all")
def mark_all_read(v: Posting) -> Response:
    now = now_ms()
    for note in v.plat.approvals.notifications(v.user):
        v.plat.approvals.mark_read(v.user, int(note["id"]), now)
    return v.back("/notifications", done="read")


__all__ = ["link_of", "router"]
