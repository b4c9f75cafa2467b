"""The auditor's view of the trail: events and an integrity check."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from lianfang.api.deps import PageDep, PlatformDep
from lianfang.api.security import Auditor, now_ms
from lianfang.api.timefmt import localise
from lianfang.audit import AuditEvent

router = APIRouter(tags=["audit"])


@router.get("/audit/events")
def events(
    who: Auditor,
    plat: PlatformDep,
    page: PageDep,
    action: str | None = None,
    user_id: int | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """Audit events, newest first (targets are record IDs or digests, never personal values)."""
    t = plat.audit.events
    q = select(t).order_by(t.c.seq.desc())
    n = select(func.count()).select_from(t)
    for col, value in ((t.c.action, action), (t.c.user_id, user_id), (t.c.outcome, outcome)):
        if value is not None:
            q, n = q.where(col == value), n.where(col == value)
    with plat.engine.connect() as conn:
        total = conn.execute(n).scalar_one()
        rows = conn.execute(q.limit(page.limit).offset(page.offset)).mappings().all()
    items = []
    for r in rows:
        item = {k: v for k, v in r.items() if k not in ("hash", "mac")}
        item["target"] = json.loads(item["target"])
        item["detail"] = json.loads(item["detail"])
        item["hash"] = bytes(r["hash"]).hex()
        items.append(localise(item, plat.tz))
    return {"total": total, "limit": page.limit, "offset": page.offset, "items": items}


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
def dispose(alarm_id: int, body: Disposition, who: Auditor, plat: PlatformDep) -> dict[str, Any]:
    """An auditor's disposition of an open alarm; audited."""
    now = now_ms()
    if not plat.alarms.dispose(alarm_id, status=body.status, note=body.note, by_user=who.user.id, at_ms=now):
        raise HTTPException(404, f"no open alarm {alarm_id}")
    plat.audit.record(AuditEvent(
        action="audit.alarm_dispose", outcome=body.status, at_ms=now, **who.user.audit_fields(),
        target=(f"alarm:{alarm_id}",),
        client=who.client,
    ))  # fmt: skip
    return {"id": alarm_id, "status": body.status}
