"""What an auditor reviews: the trail's events, filtered and paged, and the disposition of alarms.

The API (``/api/v1/audit/...``) and the auditor's web pages both call these, so a
filter means the same thing everywhere and a disposition writes the same audit event
whichever way it was made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from lianfang.audit import Audit, AuditEvent
from lianfang.audit.alarms import AlarmEngine

DISPOSITIONS = ("confirmed", "false_positive")


@dataclass(frozen=True)
class EventFilter:
    """Which events to list; ``None`` leaves a field unfiltered.

    ``action`` matches exactly, or as a prefix when it ends with ``*`` (``data.*``).
    ``since_ms`` is inclusive, ``until_ms`` exclusive.
    """

    user_id: int | None = None
    username: str | None = None
    action: str | None = None
    outcome: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True)
class EventPage:
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]  # newest first; target a list, detail a dict, hash as hex; times in epoch ms


def _where(q: Select[Any], audit: Audit, f: EventFilter) -> Select[Any]:
    c = audit.events.c
    for col, value in ((c.user_id, f.user_id), (c.username, f.username), (c.outcome, f.outcome)):
        if value is not None:
            q = q.where(col == value)
    if f.action is not None:
        if f.action.endswith("*"):
            prefix = f.action[:-1]
            q = q.where(c.action.startswith(prefix, autoescape=True))
        else:
            q = q.where(c.action == f.action)
    if f.since_ms is not None:
        q = q.where(c.at_ms >= f.since_ms)
    if f.until_ms is not None:
        q = q.where(c.at_ms < f.until_ms)
    return q


def find_events(audit: Audit, f: EventFilter, *, limit: int, offset: int) -> EventPage:
    """One page of events matching ``f``, newest first, with the total that match."""
    t = audit.events
    with audit.engine.connect() as conn:
        total = conn.execute(_where(select(func.count()).select_from(t), audit, f)).scalar_one()
        rows = conn.execute(
            _where(select(t), audit, f).order_by(t.c.seq.desc()).limit(limit).offset(offset)
        ).mappings().all()
    items = []
    for r in rows:
        item = {k: v for k, v in r.items() if k not in ("hash", "mac")}
        item["target"] = json.loads(item["target"])
        item["detail"] = json.loads(item["detail"])
        item["hash"] = bytes(r["hash"]).hex()
        items.append(item)
    return EventPage(int(total), limit, offset, items)


def dispose_alarm(
    audit: Audit,
    alarms: AlarmEngine,
    alarm_id: int,
    *,
    status: str,
    note: str,
    who: Mapping[str, Any],
    at_ms: int,
    client: str | None,
) -> bool:
    """Record an auditor's disposition of an open alarm and audit it; False when no such open alarm.

    ``who`` is the auditor as audit-event fields (``User.audit_fields()``).
    """
    if status not in DISPOSITIONS:
        raise ValueError("an alarm is disposed of as confirmed or false_positive")
    if not note.strip():
        raise ValueError("a disposition needs a note saying what was found")
    if not alarms.dispose(alarm_id, status=status, note=note.strip(), by_user=who.get("user_id"), at_ms=at_ms):
        return False
    audit.record(AuditEvent(action="audit.alarm_dispose", outcome=status, at_ms=at_ms, **who,
                            target=(f"alarm:{alarm_id}",), client=client))
    return True


__all__ = ["DISPOSITIONS", "EventFilter", "EventPage", "dispose_alarm", "find_events"]
