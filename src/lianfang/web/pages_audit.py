"""审计: the auditor's view — the trail's events (filtered, paged), open alarms with evidence and their
disposition, and an integrity check of the whole trail.

Auditors only; anyone else gets a 403 page and the refusal is audited. The queries and the
disposition are :mod:`lianfang.audit.review`, the same code behind ``/api/v1/audit/...``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from lianfang.api.deps import MAX_ID, IdPath
from lianfang.api.security import now_ms
from lianfang.audit import AuditUnavailable
from lianfang.audit.review import DISPOSITIONS, EventFilter, dispose_alarm, find_events
from lianfang.identity import User
from lianfang.policy.roles import Role
from lianfang.web.page import Viewer, local_ms, poster_with, viewer_with

router = APIRouter(include_in_schema=False)

AuditorPage = Annotated[Viewer, Depends(viewer_with(Role.AUDITOR))]
AuditorPost = Annotated[Viewer, Depends(poster_with(Role.AUDITOR))]

PAGE_SIZE = 50
ALARM_STATUSES = ("open", "confirmed", "false_positive", "all")
OUTCOMES = ("ok", "allow", "masked", "denied", "hidden", "failed", "confirmed", "false_positive")


def _filter(v: Viewer, user: str, action: str, outcome: str, since: str, until: str
            ) -> tuple[EventFilter, list[str]]:
    """The filter the form asks for, and the names of fields that could not be read (ignored)."""
    bad: list[str] = []
    times: dict[str, int | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            times[name] = local_ms(text, v.plat)
        except ValueError:
            bad.append(v.t[name])
            times[name] = None
    user = user.strip()
    numeric = user.isascii() and user.isdigit() and int(user) <= MAX_ID  # "²" is a digit too
    return EventFilter(
        user_id=int(user) if numeric else None,
        username=user if user and not numeric else None,
        action=action.strip() or None,
        outcome=outcome.strip() or None,
        since_ms=times["since"],
        until_ms=times["until"],
    ), bad


def _trail_page(v: Viewer, *, user: str = "", action: str = "", outcome: str = "", since: str = "",
                until: str = "", offset: int = 0, verified: Any = None, status: int = 200) -> Response:
    f, bad = _filter(v, user, action, outcome, since, until)
    page = find_events(v.plat.audit, f, limit=PAGE_SIZE, offset=max(0, offset))
    form = {"user": user, "action": action, "outcome": outcome, "since": since, "until": until}

    def url_for_offset(n: int) -> str:
        return "/audit?" + urlencode({**{k: val for k, val in form.items() if val}, "offset": n})

    return v.render("audit_trail.html", status=status, page=page, form=form, bad=bad, outcomes=OUTCOMES,
                    url_for_offset=url_for_offset, verified=verified, open_alarms=_open_alarms(v))


def _open_alarms(v: Viewer) -> int:
    return len(v.plat.alarms.list(status="open", limit=v.plat.settings.max_page_size))


@router.get("/audit")
def trail(v: AuditorPage, user: str = "", action: str = "", outcome: str = "", since: str = "", until: str = "",
          offset: int = 0) -> Response:
    return _trail_page(v, user=user[:64], action=action[:48], outcome=outcome[:32], since=since[:32],
                       until=until[:32], offset=offset)


@router.post("/audit/verify")
def verify(v: AuditorPost) -> Response:
    """Verify the whole trail now; htmx swaps in the result, a plain form post gets the whole page."""
    report = v.plat.audit.verify()
    if v.request.headers.get("hx-request") == "true":
        return v.render("audit_verify.html", verified=report)
    return _trail_page(v, verified=report)


def _usernames(v: Viewer, ids: set[int]) -> dict[int, User]:
    found = {i: v.plat.directory.by_id(i) for i in ids}
    return {i: u for i, u in found.items() if u is not None}


@router.get("/audit/alarms")
def alarms(v: AuditorPage, status: str = "open") -> Response:
    status = status if status in ALARM_STATUSES else "open"
    items = v.plat.alarms.list(status=None if status == "all" else status, limit=v.plat.settings.max_page_size)
    people = _usernames(v, {int(a["user_id"]) for a in items if a["user_id"] is not None})
    return v.render("audit_alarms.html", alarms=items, people=people, shown=status, statuses=ALARM_STATUSES,
                    dispositions=DISPOSITIONS, open_alarms=_open_alarms(v))


@router.post("/audit/alarms/{alarm_id}/dispose")
def dispose(alarm_id: IdPath, v: AuditorPost, status: str = Form("", max_length=16),
            note: str = Form("", max_length=2000)) -> Response:
    if status not in DISPOSITIONS or not note.strip():
        raise v.refuse(422, "err_invalid", v.t["dispose_help"])
    try:
        done = dispose_alarm(v.plat.audit, v.plat.alarms, alarm_id, status=status, note=note,
                             who=v.user.audit_fields(), at_ms=now_ms(), client=v.client)
    except AuditUnavailable:
        raise v.refuse(503, "error_title", v.t["err_audit"]) from None
    if not done:
        raise v.refuse(404, "not_found_title", v.t["no_open_alarm"].format(id=alarm_id))
    return v.back("/audit/alarms", done="disposed")


__all__ = ["router"]
