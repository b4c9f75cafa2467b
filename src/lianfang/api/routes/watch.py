"""Watch lists (布控): entries, hits, and the live hit stream (server-sent events).

* ``GET/POST /watch/entries``, ``GET/DELETE /watch/entries/{id}`` — the caller's own entries;
  adding one follows the approval rule of :mod:`lianfang.watch.entries` (a refusal for want
  of a grant lists the cities and a prefilled access request for each).
* ``GET /watch/hits`` — the caller's hits, newest first, each projected through the policy now;
  ``POST /watch/hits/{id}/seen`` acknowledges one.
* ``GET /watch/stream`` — ``text/event-stream``: each new hit as ``event: hit`` with the hit id
  as the event id (``Last-Event-ID`` resumes after it), keep-alive comments while idle; it
  ends when the client goes, the server shuts down, or the session or token ends.

All accept a signed-in session (state changes with the CSRF header) or an API token with
scope ``data:read``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lianfang.api.deps import MAX_ID, IdPath, PageDep, PlatformDep
from lianfang.api.hit_bell import HitBell
from lianfang.api.security import BackgroundReader, Principal, Reader, audit_down, now_ms
from lianfang.audit import AuditUnavailable
from lianfang.identity.directory import User
from lianfang.platform import Platform
from lianfang.policy.decision import Purpose
from lianfang.watch import Delivery, WatchError, heartbeat
from lianfang.watch.hits import iso
from lianfang.watch.model import DAY_MS, entry_of

router = APIRouter(tags=["watch lists"])

_STATUS = {"invalid": 422, "forbidden": 403, "needs_grant": 403, "not_found": 404}
#: how often an open stream re-checks that its session or token is still good (seconds)
STREAM_RECHECK_S = 5.0


class EntryIn(BaseModel):
    """A new watch-list entry. Give ``days`` or ``expires_at`` (ISO 8601; a date alone ends that day)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["plate", "person"]
    subject: str = Field(max_length=40, description="The plate (any spelling) or the citizen ID (18 or 15 digits).")
    reason: str = Field(max_length=500, description="Why the subject is watched (stored encrypted).")
    purpose: str = Field(max_length=48, description="Purpose code from the policy (GET /api/v1/policy).")
    case_no: str = Field(max_length=64, description="The case the watch serves.")
    scope: list[str] | None = Field(
        None, max_length=64, description="City division codes whose sightings are matched; omitted = every city.")
    days: int | None = Field(None, ge=1, description="Expires this many days from now.")
    expires_at: str | None = Field(None, max_length=40, description="Or: expiry time, ISO 8601.")


def _refuse(err: WatchError) -> HTTPException:
    return HTTPException(_STATUS.get(err.kind, 422), err.as_dict())


def _expiry(plat: Platform, body: EntryIn, now: int) -> int:
    if (body.days is None) == (body.expires_at is None):
        raise _refuse(WatchError("invalid", "watch.expiry", "give either days or expires_at"))
    if body.days is not None:
        return now + body.days * DAY_MS
    assert body.expires_at is not None
    try:
        text = body.expires_at.strip()
        moment = datetime.fromisoformat(text + ("T23:59:59" if len(text) == 10 else ""))
    except ValueError:
        raise _refuse(WatchError("invalid", "watch.expiry", "expires_at is an ISO 8601 date or time")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=plat.tz)
    return int(moment.timestamp() * 1000)


def entry_json(plat: Platform, row: Any, counts: dict[int, tuple[int, int]] | None = None) -> dict[str, Any]:
    e = entry_of(row)
    hits, unseen = (counts or {}).get(e.id, (0, 0))
    return {
        "id": e.id,
        "kind": e.kind,
        "subject": plat.watch.entries.subject_shown(row),
        "subject_key": e.subject_key,
        "reason": plat.watch.entries.reason_text(row),
        "purpose": e.purpose,
        "case_no": e.case_no,
        "scope": list(e.scope),
        "grant_ids": list(e.grant_ids),
        "status": e.status,
        "live": e.live(now_ms()),
        "created_at": iso(e.created_at, plat.tz),
        "expires_at": iso(e.expires_at, plat.tz),
        "removed_at": iso(e.removed_at, plat.tz),
        "hits": hits,
        "unseen": unseen,
    }


def _entry_row(plat: Platform, user: User, entry_id: int) -> Any:
    rows = plat.watch.entries.by_ids([entry_id])
    row = rows.get(entry_id)
    if row is None or int(row.owner_id) != user.id:
        raise HTTPException(404, {"reason": "watch.not_found", "message": f"no watch-list entry {entry_id}"})
    return row


@router.get("/watch/entries")
def list_entries(who: Reader, plat: PlatformDep,
                 status: Literal["active", "removed", "expired", "all"] = "active") -> dict[str, Any]:
    """The caller's watch-list entries, newest first, with their hit counts."""
    plat.watch.entries.expire(now_ms())
    rows = plat.watch.entries.rows(who.user, status=None if status == "all" else status)
    counts = plat.watch.hits.counts(who.user)
    return {"total": len(rows), "items": [entry_json(plat, r, counts) for r in rows]}


@router.post("/watch/entries", status_code=201)
def add_entry(body: EntryIn, who: Reader, plat: PlatformDep) -> dict[str, Any]:
    """Put a plate or a person on the caller's watch list (refused: 422 invalid, 403 role or grant missing)."""
    now = now_ms()
    plat.watch.entries.expire(now)
    try:
        entry = plat.watch.entries.add(
            who.user, kind=body.kind, subject=body.subject, reason=body.reason,
            purpose=Purpose(body.purpose, "", body.case_no.strip() or None), scope=body.scope,
            expires_at=_expiry(plat, body, now), now_ms=now, client=who.client,
        )  # fmt: skip
    except WatchError as err:
        raise _refuse(err) from None
    except AuditUnavailable:
        raise audit_down() from None
    return entry_json(plat, _entry_row(plat, who.user, entry.id))


@router.get("/watch/entries/{entry_id}")
def get_entry(entry_id: IdPath, who: Reader, plat: PlatformDep) -> dict[str, Any]:
    return entry_json(plat, _entry_row(plat, who.user, entry_id), plat.watch.hits.counts(who.user))


@router.delete("/watch/entries/{entry_id}")
def remove_entry(entry_id: IdPath, who: Reader, plat: PlatformDep) -> dict[str, Any]:
    """End one of the caller's entries now (its hits stay readable)."""
    try:
        plat.watch.entries.remove(who.user, entry_id, now_ms=now_ms(), client=who.client)
    except WatchError as err:
        raise _refuse(err) from None
    except AuditUnavailable:
        raise audit_down() from None
    return entry_json(plat, _entry_row(plat, who.user, entry_id), plat.watch.hits.counts(who.user))


@router.get("/watch/hits")
def list_hits(who: Reader, plat: PlatformDep, page: PageDep, entry_id: int | None = Query(None, ge=1, le=MAX_ID),
              unseen: bool = False) -> dict[str, Any]:
    """The caller's hits, newest first, as the policy lets the caller see them now (audited)."""
    total, rows = plat.watch.hits.page_rows(who.user, entry_id=entry_id, unseen=unseen, limit=page.limit,
                                            offset=page.offset)
    try:
        delivery = plat.watch.hits.deliver(who.user, rows, now_ms=now_ms(), client=who.client, via="list")
    except AuditUnavailable:
        raise audit_down() from None
    return {"total": total, "limit": page.limit, "offset": page.offset, "hidden": delivery.hidden,
            "items": delivery.items}


@router.post("/watch/hits/{hit_id}/seen")
def hit_seen(hit_id: IdPath, who: Reader, plat: PlatformDep) -> dict[str, Any]:
    """Acknowledge one of the caller's hits."""
    if not plat.watch.hits.mark_seen(who.user, hit_id, now_ms()):
        raise HTTPException(404, {"reason": "watch.not_found", "message": f"no hit {hit_id}"})
    return {"id": hit_id, "seen": True}


# -- the live stream ----------------------------------------------------------------------------


def still_valid(plat: Platform, who: Principal, now: int) -> User | None:
    """The caller again, if the session or token behind the stream is still good (read only: a stream
    does not keep a session from idling out)."""
    user = plat.directory.by_id(who.user.id)
    if user is None or not user.active:
        return None
    md = plat.metadata.tables
    good = False
    with plat.engine.connect() as conn:
        if who.session is not None:
            s = md["auth_session"]
            live = conn.execute(
                select(s.c.ended_at, s.c.last_seen, s.c.idle_ms).where(s.c.id == who.session.id)).first()
            good = live is not None and live.ended_at is None and now - int(live.last_seen) <= int(live.idle_ms)
        elif who.token is not None:
            t = md["api_token"]
            tok = conn.execute(select(t.c.revoked_at, t.c.expires_at).where(t.c.id == who.token.id)).first()
            good = tok is not None and tok.revoked_at is None and now < int(tok.expires_at)
    return user if good else None


def _stopping(request: Request) -> threading.Event:
    event = getattr(request.app.state, "stopping", None)
    if event is None:
        event = threading.Event()
        request.app.state.stopping = event
    return event


def _end(reason: str) -> bytes:
    return f"event: end\ndata: {json.dumps({'reason': reason})}\n\n".encode()


@router.get("/watch/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "event: hit, id: <hit id>, data: <hit JSON as in /watch/hits>"}})
async def stream(
    request: Request,
    who: BackgroundReader,
    plat: PlatformDep,
    after: int | None = Query(None, ge=0, le=MAX_ID,
                              description="Deliver hits with an id above this (default: only new ones)."),
    last_event_id: str | None = Header(None, max_length=20),
    max_s: float | None = Query(None, gt=0, description="End the stream after this many seconds (default and "
                                "upper bound: the server's watch_stream_max_s); clients reconnect with Last-Event-ID."),
) -> StreamingResponse:
    """New hits of the caller's watch lists as server-sent events, within a poll interval of their storing."""
    start = after
    resume = (last_event_id or "").strip()
    # ASCII digits only ("²".isdigit() is true too) and no id beyond what a key holds: anything else is ignored,
    # as a browser's Last-Event-ID is never wrong by itself
    if start is None and resume.isascii() and resume.isdigit() and int(resume) <= MAX_ID:
        start = int(resume)
    if start is None:
        start = await run_in_threadpool(plat.watch.hits.latest_id, who.user)
    stopping = _stopping(request)
    hits = plat.watch.hits
    bell: HitBell = request.app.state.hit_bell
    poll = plat.settings.watch_poll_ms / 1000
    beat = plat.settings.watch_heartbeat_s
    lifetime = min(max_s or plat.settings.watch_stream_max_s, plat.settings.watch_stream_max_s)

    def deliver(user: User, rows: list[Any]) -> Delivery:
        return hits.deliver(user, rows, now_ms=now_ms(), client=who.client, via="stream")

    async def events() -> AsyncIterator[bytes]:
        hits.stream_opened()
        try:
            async for chunk in _events():
                yield chunk
        finally:
            hits.stream_closed()

    async def _events() -> AsyncIterator[bytes]:
        user, last = who.user, int(start)
        yield f"retry: 3000\n: watching after {last}\n\n".encode()
        loop = time.monotonic
        next_beat, next_check, ends = loop() + beat, loop() + STREAM_RECHECK_S, loop() + lifetime
        rang = -1  # the newest hit id (anyone's) when this stream last read its own: -1, read at once
        while not stopping.is_set() and not await request.is_disconnected():
            if loop() >= ends:
                yield _end("lifetime")
                return
            rows: list[Any] = []
            if bell.newest > rang:  # a hit came in somewhere since the last read: perhaps one of ours
                rang = bell.newest
                rows = await run_in_threadpool(hits.since, user, last)
            if rows:
                try:
                    delivery = await run_in_threadpool(deliver, user, rows)
                except AuditUnavailable:
                    yield _end("audit_unavailable")
                    return
                last = max(last, delivery.last_id)
                for item in delivery.items:
                    yield hits.sse(item)
                next_beat = loop() + beat
                rang = -1  # read again at once: a read returns a page of hits at most
                continue
            if loop() >= next_check:
                fresh = await run_in_threadpool(still_valid, plat, who, now_ms())
                if fresh is None:
                    yield _end("signed_out")
                    return
                user, next_check = fresh, loop() + STREAM_RECHECK_S
            if loop() >= next_beat:
                yield heartbeat()
                next_beat = loop() + beat
            # back within a poll interval to see whether to stop; at once when the bell rings
            await bell.wait(rang, poll)
        if stopping.is_set():
            yield _end("server_stopping")

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


__all__ = ["EntryIn", "entry_json", "router", "still_valid"]
