"""Watch-list hits for their owner: listed, streamed, acknowledged — always through the policy.

A hit is shown as the sighting it points at, projected by
:class:`~lianfang.access.projection.Projector` for the owner *at delivery time*, with
the entry's purpose and case number and the grants the owner holds then: a grant that
expired or was revoked since the hit was made turns it into a masked hit, and a
sighting the owner may not see at all (a role change, a record raised above what
masked hits show) is not delivered — only counted. Every delivery is audited as
``data.watch_hit`` (one event per entry in the batch, with that entry's purpose and
case number) before anything is returned; if the trail cannot be written nothing is.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, func, select, update

from lianfang.access.approvals import Approvals
from lianfang.access.projection import Projector
from lianfang.audit import Audit, AuditEvent
from lianfang.identity.directory import User
from lianfang.policy.decision import Effect, Purpose
from lianfang.store.engine import read_only
from lianfang.store.schema import record_table_name
from lianfang.watch.entries import WatchEntries
from lianfang.watch.model import PLATE, entry_of


def iso(ms: int | None, tz: ZoneInfo) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).isoformat(timespec="milliseconds")


@dataclass
class Delivery:
    """Hits as shown to their owner, plus how many were withheld entirely."""

    items: list[dict[str, Any]] = field(default_factory=list)
    hidden: int = 0
    last_id: int = 0  # the newest hit id looked at (shown or not): where a stream continues


class LatencyLog:
    """Ingest-to-delivery times (ms) of hits this process streamed, newest kept, for the bench."""

    def __init__(self, size: int = 10_000):
        self._values: deque[int] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, ms: int) -> None:
        with self._lock:
            self._values.append(ms)

    def values(self) -> list[int]:
        with self._lock:
            return list(self._values)

    def percentile(self, q: float) -> int | None:
        data = sorted(self.values())
        if not data:
            return None
        return data[min(len(data) - 1, max(0, round(q / 100 * len(data) + 0.5) - 1))]


class WatchHits:
    def __init__(self, engine: Engine, metadata: MetaData, projector: Projector, approvals: Approvals,
                 audit: Audit, entries: WatchEntries, tz: ZoneInfo):
        self.engine = engine
        self.table = metadata.tables["watch_hit"]
        self.metadata = metadata
        self.projector = projector
        self.approvals = approvals
        self.audit = audit
        self.entries = entries
        self.tz = tz
        self.latency = LatencyLog()
        self.open_streams = 0  # live streams in this process
        self._streams_lock = threading.Lock()

    def stream_opened(self) -> None:
        with self._streams_lock:
            self.open_streams += 1

    def stream_closed(self) -> None:
        with self._streams_lock:
            self.open_streams -= 1

    # -- reading hit rows (no data yet) ---------------------------------------------------------

    def latest_id(self, user: User) -> int:
        t = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(t.c.id)).where(t.c.owner_id == user.id)).scalar() or 0)

    def newest_id(self) -> int:
        """The newest hit's id, whoever owns it (0 when there is none): what live streams wait on."""
        with read_only(self.engine) as conn:  # asked five times a second: one round trip, no transaction
            return int(conn.execute(select(func.max(self.table.c.id))).scalar() or 0)

    def since(self, user: User, after_id: int, limit: int = 100) -> list[Any]:
        """The user's hits with an id above ``after_id``, oldest first (what a stream polls)."""
        t = self.table
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(t).where(t.c.owner_id == user.id, t.c.id > after_id).order_by(t.c.id).limit(limit)))

    def page_rows(self, user: User, *, entry_id: int | None, unseen: bool, limit: int, offset: int
                  ) -> tuple[int, list[Any]]:
        t = self.table
        cond = [t.c.owner_id == user.id]
        if entry_id is not None:
            cond.append(t.c.entry_id == entry_id)
        if unseen:
            cond.append(t.c.seen_at.is_(None))
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(t).where(*cond)).scalar_one())
            rows = list(conn.execute(select(t).where(*cond).order_by(t.c.id.desc()).limit(limit).offset(offset)))
        return total, rows

    def mark_seen(self, user: User, hit_id: int, now_ms: int) -> bool:
        t = self.table
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.id == hit_id, t.c.owner_id == user.id, t.c.seen_at.is_(None))
                                .values(seen_at=now_ms)).rowcount
            if done:
                return True
            return conn.execute(select(t.c.id).where(t.c.id == hit_id, t.c.owner_id == user.id)).first() is not None

    def counts(self, user: User) -> dict[int, tuple[int, int]]:
        """entry id -> (hits, unseen hits) of the user's entries."""
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.entry_id, func.count(), func.count(t.c.seen_at))
                                .where(t.c.owner_id == user.id).group_by(t.c.entry_id))
            return {int(e): (int(n), int(n) - int(seen)) for e, n, seen in rows}

    # -- delivering (projection + audit) --------------------------------------------------------

    def deliver(self, user: User, hits: Sequence[Any], *, now_ms: int, client: str | None, via: str) -> Delivery:
        """Project ``hits`` for ``user`` now and audit what is returned; raises AuditUnavailable."""
        out = Delivery(last_id=max((int(h.id) for h in hits), default=0))
        if not hits:
            return out
        entries = self.entries.by_ids([int(h.entry_id) for h in hits])
        rows = self._records(hits)
        grants = self.approvals.grants_for(user.id, now_ms)
        readings: dict[int, Any] = {}
        groups: dict[int, list[dict[str, Any]]] = {}
        hidden: dict[int, int] = {}
        for h in hits:
            eid = int(h.entry_id)
            entry_row = entries.get(eid)
            row = rows.get((h.category, int(h.record_id)))
            if entry_row is None or row is None or int(entry_row.owner_id) != user.id:
                hidden[eid] = hidden.get(eid, 0) + 1
                continue
            if eid not in readings:
                entry = entry_of(entry_row)
                readings[eid] = self.projector.reading(user, Purpose(entry.purpose, "", entry.case_no), grants,
                                                       now_ms)
            view = self.projector.project(readings[eid], h.category, row, lineage=False)
            if view.effect is Effect.DENY:
                hidden[eid] = hidden.get(eid, 0) + 1
                continue
            item = self._item(h, entry_row, view.as_dict())
            if via == "stream":  # from the sighting's arrival to this delivery (the bench reports it)
                item["latency_ms"] = max(0, now_ms - int(h.ingested_at))
            groups.setdefault(eid, []).append(item)
        for eid in sorted(set(groups) | set(hidden)):
            self._audit(user, entries.get(eid), groups.get(eid, []), hidden.get(eid, 0), now_ms, client, via)
        shown = {int(i["id"]): i for items in groups.values() for i in items}
        out.items = [shown[int(h.id)] for h in hits if int(h.id) in shown]
        out.hidden = sum(hidden.values())
        return out

    def _records(self, hits: Sequence[Any]) -> dict[tuple[str, int], Any]:
        by_category: dict[str, set[int]] = {}
        for h in hits:
            by_category.setdefault(h.category, set()).add(int(h.record_id))
        out: dict[tuple[str, int], Any] = {}
        with self.engine.connect() as conn:
            for category, ids in by_category.items():
                table = self.metadata.tables[record_table_name(category)]
                for row in conn.execute(select(table).where(table.c.id.in_(ids))):
                    out[(category, int(row.id))] = row
        return out

    def _item(self, h: Any, entry_row: Any, sighting: dict[str, Any]) -> dict[str, Any]:
        m = entry_row._mapping
        return {
            "id": int(h.id),
            "entry": {
                "id": int(m["id"]),
                "kind": m["kind"],
                "subject": self.entries.subject_shown(entry_row),
                "purpose": m["purpose"],
                "case_no": m["case_no"],
                "status": m["status"],
            },
            "city_code": sighting["city_code"],
            "access": sighting["access"],
            "detected_at": iso(int(h.created_at), self.tz),
            "seen": h.seen_at is not None,
            "sighting": sighting,
        }

    def _audit(self, user: User, entry_row: Any, items: list[dict[str, Any]], hidden: int, now_ms: int,
               client: str | None, via: str) -> None:
        allow = sum(1 for i in items if i["access"] == Effect.ALLOW.value)
        m = entry_row._mapping if entry_row is not None else None
        detail: dict[str, Any] = {"via": via, "allow": allow, "mask": len(items) - allow, "hidden": hidden}
        if m is not None:
            detail["entry"] = int(m["id"])
            if m["kind"] == PLATE:
                detail["plate"] = m["subject_key"]
            else:
                detail["person_digest"] = m["subject_key"]
        grant = next((g for i in items for g in i["sighting"]["grants"]), None)
        self.audit.record(AuditEvent(
            action="data.watch_hit",
            outcome="allow" if allow else ("mask" if items else "none"),
            at_ms=now_ms,
            **user.audit_fields(),
            target=(*((f"watch:{int(m['id'])}",) if m is not None else ()),
                    *(f"{i['sighting']['category']}:{i['sighting']['id']}" for i in items)),
            purpose=m["purpose"] if m is not None else None,
            case_no=(m["case_no"] or None) if m is not None else None,
            grant_id=grant,
            result_count=len(items),
            client=client,
            detail=detail,
        ))  # fmt: skip

    # -- the stream's wire format -------------------------------------------------------------

    def sse(self, item: dict[str, Any]) -> bytes:
        """One hit as a server-sent event: ``id`` (the hit id, for Last-Event-ID), ``event: hit``, JSON data."""
        self.latency.add(int(item["latency_ms"]))
        data = json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)
        return f"id: {item['id']}\nevent: hit\ndata: {data}\n\n".encode()


def heartbeat(now: float | None = None) -> bytes:
    """A comment line: keeps proxies and the browser from closing an idle stream."""
    return f": keep-alive {int(now if now is not None else time.time())}\n\n".encode()


__all__ = ["Delivery", "LatencyLog", "WatchHits", "heartbeat", "iso"]
