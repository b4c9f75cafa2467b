"""The auditor's view of the trail: events and an integrity check."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from lianfang.api.deps import PageDep, PlatformDep
from lianfang.api.security import Auditor
from lianfang.api.timefmt import localise

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
