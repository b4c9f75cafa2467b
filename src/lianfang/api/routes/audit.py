"""The auditor's view of the trail: events and an integrity check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from lianfang.api.deps import MAX_ID, IdPath, PageDep, PlatformDep
from lianfang.api.security import Auditor, now_ms
from lianfang.api.timefmt import localise
from lianfang.audit.review import EventFilter, dispose_alarm, find_events

router = APIRouter(tags=["audit"])


@router.get("/audit/events")
def events(
    who: Auditor,
    plat: PlatformDep,
    page: PageDep,
    action: str | None = None,
    user_id: int | None = Query(None, ge=1, le=MAX_ID),
    outcome: str | None = None,
) -> dict[str, Any]:
    """Audit events, newest first (targets are record IDs or digests, never personal values).

    ``action`` matches exactly, or as a prefix when it ends with ``*`` (``data.*``).
    """
    found = find_events(plat.audit, EventFilter(user_id=user_id, action=action, outcome=outcome),
                        limit=page.limit, offset=page.offset)
    return {"total": found.total, "limit": found.limit, "offset": found.offset,
            "items": [localise(item, plat.tz) for item in found.items]}


@router.get("/audit/verify")
def verify(who: Auditor, plat: PlatformDep) -> dict[str, Any]:
    """Verify the whole trail now (links, MACs, signed checkpoints)."""
    report = plat.audit.verify()
    return {
        "ok": report.ok,
        "records": report.records,
        "first_seq": report.first_seq,
        "last_seq": report.last_seq,
        "head": report.head_hash.hex(),
        "checkpoints": report.checkpoints,
        "problems": [{"kind": p.kind, "seq": p.seq, "message": p.message} for p in report.problems],
    }


class Disposition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern="^(confirmed|false_positive)$")
    note: str = Field(min_length=1, max_length=2000)


@router.get("/audit/alarms")
def alarms(who: Auditor, plat: PlatformDep, status: str | None = "open", rule: str | None = None) -> dict[str, Any]:
    """Alarms on abnormal operations with their evidence, newest first."""
    items = plat.alarms.list(status=None if status == "all" else status, rule=rule, limit=plat.settings.max_page_size)
    return {"items": [localise({**a, "raised_at": a["at_ms"]}, plat.tz) for a in items]}


@router.post("/audit/alarms/{alarm_id}/dispose")
def dispose(alarm_id: IdPath, body: Disposition, who: Auditor, plat: PlatformDep) -> dict[str, Any]:
    """An auditor's disposition of an open alarm; audited."""
    try:
        done = dispose_alarm(plat.audit, plat.alarms, alarm_id, status=body.status, note=body.note,
                             who=who.user.audit_fields(), at_ms=now_ms(), client=who.client)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if not done:
        raise HTTPException(404, f"no open alarm {alarm_id}")
    return {"id": alarm_id, "status": body.status}
