"""Access requests and grants (审批): request → route → decide → grant → expire or revoke.

* A request names the owning city, the level, the scope (records, a person, a
  vehicle, a case), the purpose and case number, and the hours it is needed.
* It is routed to the users who may decide it: a role the policy lets approve
  that level for that city (``policy.yaml`` ``approvers``, after the city's own
  narrowing); a city approver decides for requesters of their own city, a
  province approver for anyone in the province. Nobody decides their own request.
* Approval creates a grant bound to the request's purpose, case, city, level and
  scope, starting now and expiring after the hours approved; revocation takes
  effect at once. Requesters and approvers are notified in the app.
* Every step is audited; a refused step is audited as ``denied`` with its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, MetaData, and_, bindparam, insert, or_, select, update

from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import FieldCipher
from lianfang.identity.directory import Directory, User
from lianfang.policy.config import PolicyConfig
from lianfang.policy.decision import Grant, Purpose, ScopeKind, actor_reach
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level, parse_level
from lianfang.store.engine import RawRead, read_only

HOUR_MS = 3_600_000
MAX_HOURS = 720  # 30 days
MAX_KEYS = 500
_KEY = re.compile(r"^[0-9A-Za-z_.:\-\u4e00-\u9fff]{1,64}$")
_CITY = re.compile(r"^\d{6}$")
#: grants that ended less than this long ago still come back, so a decision can say "expired"/"revoked"
RECENT_MS = 24 * HOUR_MS


class AccessError(ValueError):
    """A refused request or decision; ``kind`` is invalid | forbidden | not_found | conflict.

    ``code`` names the exact problem where interfaces show it in the reader's language
    (``request.case_no``, ``decide.own``, …), with ``params`` to fill in (``id``, ``status``,
    ``level``, ``city``, ``hours``, ``granted``); the message is English.
    """

    def __init__(self, kind: str, message: str, code: str | None = None,
                 params: Mapping[str, object] | None = None):
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.params: Mapping[str, object] = params or {}


@dataclass(frozen=True)
class AccessRequest:
    id: int
    requester_id: int
    requester_unit: str
    owner_city: str
    level: Level
    scope: ScopeKind
    keys: tuple[str, ...]
    purpose: str
    case_no: str
    hours: int
    status: str
    created_at: int
    decided_by: int | None
    decided_at: int | None


def _request(row: Any) -> AccessRequest:
    return AccessRequest(
        id=int(row.id),
        requester_id=int(row.requester_id),
        requester_unit=row.requester_unit,
        owner_city=row.owner_city,
        level=parse_level(row.level),
        scope=ScopeKind(row.scope_kind),
        keys=tuple(json.loads(row.scope_keys)),
        purpose=row.purpose,
        case_no=row.case_no,
        hours=int(row.hours),
        status=row.status,
        created_at=int(row.created_at),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


_GRANT_COLUMNS = ("id", "holder_id", "approver_id", "approver_role", "city_code", "level", "purpose", "case_no",
                  "scope_kind", "scope_keys", "starts_at", "expires_at", "revoked_at")


def _grant(row: Any) -> Grant:
    return _grant_of(row._mapping)


def _grant_of(m: Mapping[str, Any]) -> Grant:
    return Grant(
        id=int(m["id"]),
        holder_id=int(m["holder_id"]),
        approver_id=int(m["approver_id"]),
        approver_role=Role(m["approver_role"]),
        city_code=m["city_code"],
        level=parse_level(m["level"]),
        purpose=m["purpose"],
        case_no=m["case_no"],
        scope=ScopeKind(m["scope_kind"]),
        keys=frozenset(json.loads(m["scope_keys"])),
        starts_ms=int(m["starts_at"]),
        expires_ms=int(m["expires_at"]),
        revoked_ms=m["revoked_at"],
    )


class Approvals:
    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        directory: Directory,
        cipher: FieldCipher,
        audit: Audit,
        policy: PolicyConfig,
    ):
        self.engine = engine
        self.requests = metadata.tables["access_request"]
        self.grants = metadata.tables["access_grant"]
        self.notes = metadata.tables["notification"]
        self.directory = directory
        self.cipher = cipher
        self.audit = audit
        self.policy = policy
        g = self.grants.c
        # built once: every data request asks it
        # every data request reads the reader's grants: plain columns, past SQLAlchemy's per-statement work
        self._live = RawRead(self.engine, select(*(g[name] for name in _GRANT_COLUMNS)).where(
            g.holder_id == bindparam("holder"),
            g.expires_at > bindparam("since"),
            or_(g.revoked_at.is_(None), g.revoked_at > bindparam("since")),
        ))

    # -- audit ---------------------------------------------------------------------

    def _audit(self, user: User, action: str, outcome: str, target: str, now_ms: int, client: str | None,
               req: AccessRequest | None = None, grant_id: int | None = None, **detail: object) -> None:
        self.audit.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                at_ms=now_ms,
                **user.audit_fields(),
                target=(target,),
                purpose=req.purpose if req else None,
                case_no=req.case_no if req else None,
                grant_id=grant_id,
                client=client,
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )

    def _refuse(self, user: User, action: str, target: str, now_ms: int, client: str | None, kind: str,
                message: str, req: AccessRequest | None = None, code: str | None = None,
                params: Mapping[str, object] | None = None) -> AccessError:
        self._audit(user, action, "denied", target, now_ms, client, req, reason=kind)
        return AccessError(kind, message, code, params)

    # -- requests ------------------------------------------------------------------

    def request(
        self,
        user: User,
        *,
        owner_city: str,
        level: Level,
        scope: ScopeKind,
        keys: Sequence[str],
        purpose: Purpose,
        hours: int,
        now_ms: int,
        client: str | None = None,
    ) -> AccessRequest:
        """File a request; it goes to the approvers' queues. Refusals raise AccessError.

        Roles that read no data at all (administrators, auditors) cannot ask for a grant:
        a grant would open nothing for them, and asking is refused (``forbidden``).
        """
        reach = actor_reach(self.policy, user.actor(), owner_city if _CITY.match(owner_city) else "000000")
        if reach.own is None and reach.other is None and reach.hits is None:
            raise self._refuse(user, "access.request", "request:new", now_ms, client, "forbidden",
                               "your role reads no records, so it cannot be granted access to them",
                               code="request.role")
        problem = self._request_problem(owner_city, level, keys, purpose, hours)
        if problem is not None:
            code, message = problem
            raise self._refuse(user, "access.request", "request:new", now_ms, client, "invalid", message,
                               code=code)
        text = (purpose.text or "").strip()
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(self.requests).values(
                    requester_id=user.id,
                    requester_unit=user.unit_code,
                    owner_city=owner_city,
                    level=level.value,
                    scope_kind=scope.value,
                    scope_keys=json.dumps(sorted(set(keys)), ensure_ascii=False),
                    purpose=purpose.code,
                    purpose_text_enc=self.cipher.encrypt("access.purpose_text", text) if text else None,
                    case_no=(purpose.case_no or "").strip(),
                    hours=hours,
                    status="pending",
                    created_at=now_ms,
                )
            )
            rid = int(res.inserted_primary_key[0])  # type: ignore[index]
        req = self.get(rid)
        approvers = self.eligible_approvers(req)
        self._notify([u.id for u in approvers], "request.pending", rid, now_ms)
        self._audit(user, "access.request", "ok", f"request:{rid}", now_ms, client, req, level=level.value,
                    owner_city=owner_city, scope=scope.value, keys=len(set(keys)), hours=hours,
                    approvers=len(approvers))
        return req

    def _request_problem(
        self, owner_city: str, level: Level, keys: Sequence[str], purpose: Purpose, hours: int
    ) -> tuple[str, str] | None:
        """(code, English message) of the first problem of a request, or None."""
        if not _CITY.match(owner_city):
            return "request.city", "the owning city is its 6-digit division code"
        if purpose.code not in self.policy.purposes:
            return "request.purpose", f"unknown purpose {purpose.code!r}"
        if not (purpose.case_no or "").strip():
            return "request.case_no", "an access request needs a case number"
        if not self.policy.approver_roles(level, owner_city):
            return "request.no_approver", f"no role may grant {level} access to {owner_city}'s data"
        if not keys or len(set(keys)) > MAX_KEYS or not all(_KEY.match(k) for k in keys):
            return "request.keys", f"a request names 1–{MAX_KEYS} records, persons, vehicles or cases"
        if not 1 <= hours <= MAX_HOURS:
            return "request.hours", f"access is requested for 1–{MAX_HOURS} hours"
        return None

    def get(self, request_id: int) -> AccessRequest:
        with read_only(self.engine) as conn:
            row = conn.execute(select(self.requests).where(self.requests.c.id == request_id)).first()
        if row is None:
            raise AccessError("not_found", f"no access request {request_id}", "request.not_found", {"id": request_id})
        return _request(row)

    def purpose_text(self, request_id: int) -> str:
        """The requester's own words on why (stored encrypted); shown to the approvers who decide."""
        with read_only(self.engine) as conn:
            blob = conn.execute(
                select(self.requests.c.purpose_text_enc).where(self.requests.c.id == request_id)
            ).scalar_one_or_none()
        return self.cipher.decrypt("access.purpose_text", bytes(blob)) if blob else ""

    def mine(self, user: User) -> list[AccessRequest]:
        with read_only(self.engine) as conn:
            rows = conn.execute(
                select(self.requests).where(self.requests.c.requester_id == user.id).order_by(self.requests.c.id.desc())
            )
            return [_request(r) for r in rows]

    # -- routing -------------------------------------------------------------------

    def deciding_role(self, user: User, req: AccessRequest) -> Role | None:
        """The role under which ``user`` may decide ``req``, or None."""
        if not user.active or user.id == req.requester_id:
            return None
        allowed = self.policy.approver_roles(req.level, req.owner_city)
        requester_city = req.requester_unit[:4] + "00"
        province = user.unit_code.endswith("0000") and user.unit_code[:2] == req.owner_city[:2]
        for role in (Role.CITY_APPROVER, Role.PROVINCE_APPROVER):
            if role not in user.roles or role not in allowed:
                continue
            if role is Role.CITY_APPROVER and user.unit_code[:4] + "00" == requester_city and not province:
                return role
            if role is Role.PROVINCE_APPROVER and province:
                return role
        return None

    def eligible_approvers(self, req: AccessRequest) -> list[User]:
        candidates = self.directory.list(role=Role.CITY_APPROVER.value) + self.directory.list(
            role=Role.PROVINCE_APPROVER.value
        )
        seen: set[int] = set()
        out = []
        for u in candidates:
            if u.id not in seen and self.deciding_role(u, req) is not None:
                seen.add(u.id)
                out.append(u)
        return out

    def queue(self, user: User) -> list[AccessRequest]:
        """Pending requests ``user`` may decide, oldest first."""
        with read_only(self.engine) as conn:
            rows = conn.execute(
                select(self.requests).where(self.requests.c.status == "pending").order_by(self.requests.c.id)
            )
            pending = [_request(r) for r in rows]
        return [r for r in pending if self.deciding_role(user, r) is not None]

    # -- decisions -----------------------------------------------------------------

    def _decidable(self, user: User, request_id: int, action: str, now_ms: int, client: str | None
                   ) -> tuple[AccessRequest, Role]:
        try:
            req = self.get(request_id)
        except AccessError as exc:
            raise self._refuse(user, action, f"request:{request_id}", now_ms, client, "not_found", str(exc),
                               code=exc.code, params=exc.params) from None
        target = f"request:{request_id}"
        if req.status != "pending":
            raise self._refuse(user, action, target, now_ms, client, "conflict",
                               f"request {request_id} is {req.status}", req,
                               code="decide.not_pending", params={"id": request_id, "status": req.status})
        if user.id == req.requester_id:
            raise self._refuse(user, action, target, now_ms, client, "forbidden",
                               "nobody decides their own access request", req, code="decide.own")
        role = self.deciding_role(user, req)
        if role is None:
            raise self._refuse(user, action, target, now_ms, client, "forbidden",
                               f"you may not decide {req.level} access to {req.owner_city}'s data for this requester",
                               req, code="decide.not_yours", params={"level": req.level.value, "city": req.owner_city})
        return req, role

    def approve(self, user: User, request_id: int, *, reason: str, now_ms: int, client: str | None = None,
                hours: int | None = None) -> Grant:
        req, role = self._decidable(user, request_id, "access.approve", now_ms, client)
        granted = req.hours if hours is None else hours
        if not 1 <= granted <= req.hours:
            raise self._refuse(user, "access.approve", f"request:{request_id}", now_ms, client, "invalid",
                               f"approve for 1–{req.hours} hours (what was asked), not {granted}", req,
                               code="approve.hours", params={"hours": req.hours, "granted": granted})
        with self.engine.begin() as conn:
            done = conn.execute(
                update(self.requests)
                .where(self.requests.c.id == req.id, self.requests.c.status == "pending")
                .values(status="approved", decided_by=user.id, decided_role=role.value, decided_at=now_ms,
                        reason_enc=self._enc_reason(reason))
            ).rowcount
            if done != 1:
                raise AccessError("conflict", f"request {request_id} was decided meanwhile", "decide.raced",
                                  {"id": request_id})
            res = conn.execute(
                insert(self.grants).values(
                    request_id=req.id, holder_id=req.requester_id, approver_id=user.id, approver_role=role.value,
                    city_code=req.owner_city, level=req.level.value, purpose=req.purpose, case_no=req.case_no,
                    scope_kind=req.scope.value, scope_keys=json.dumps(list(req.keys), ensure_ascii=False),
                    starts_at=now_ms, expires_at=now_ms + granted * HOUR_MS,
                )
            )
            gid = int(res.inserted_primary_key[0])  # type: ignore[index]
        self._notify([req.requester_id], "request.approved", req.id, now_ms)
        self._audit(user, "access.approve", "ok", f"request:{req.id}", now_ms, client, req, grant_id=gid,
                    as_role=role.value, hours=granted, level=req.level.value)
        return self.grant(gid)

    def reject(self, user: User, request_id: int, *, reason: str, now_ms: int, client: str | None = None) -> None:
        req, role = self._decidable(user, request_id, "access.reject", now_ms, client)
        with self.engine.begin() as conn:
            conn.execute(
                update(self.requests)
                .where(self.requests.c.id == req.id, self.requests.c.status == "pending")
                .values(status="rejected", decided_by=user.id, decided_role=role.value, decided_at=now_ms,
                        reason_enc=self._enc_reason(reason))
            )
        self._notify([req.requester_id], "request.rejected", req.id, now_ms)
        self._audit(user, "access.reject", "ok", f"request:{req.id}", now_ms, client, req, as_role=role.value)

    def withdraw(self, user: User, request_id: int, *, now_ms: int, client: str | None = None) -> None:
        req = self.get(request_id)
        if req.requester_id != user.id or req.status != "pending":
            raise self._refuse(user, "access.withdraw", f"request:{request_id}", now_ms, client, "forbidden",
                               "only the requester withdraws a pending request", req, code="withdraw.not_requester")
        with self.engine.begin() as conn:
            conn.execute(update(self.requests).where(self.requests.c.id == req.id).values(status="withdrawn"))
        self._audit(user, "access.withdraw", "ok", f"request:{req.id}", now_ms, client, req)

    def _enc_reason(self, reason: str) -> bytes | None:
        text = reason.strip()
        return self.cipher.encrypt("access.reason", text) if text else None

    # -- grants --------------------------------------------------------------------

    def grant(self, grant_id: int) -> Grant:
        with read_only(self.engine) as conn:
            row = conn.execute(select(self.grants).where(self.grants.c.id == grant_id)).first()
        if row is None:
            raise AccessError("not_found", f"no grant {grant_id}", "grant.not_found", {"id": grant_id})
        return _grant(row)

    def grants_for(self, user_id: int, now_ms: int) -> list[Grant]:
        """The user's live grants, plus those that ended in the last day (so a refusal can say why)."""
        return [_grant_of(r) for r in self._live.all({"holder": user_id, "since": now_ms - RECENT_MS})]

    def granted_by(self, user: User, *, limit: int = 200) -> list[Grant]:
        """Grants ``user`` approved, newest first (live, expired and revoked)."""
        g = self.grants.c
        with read_only(self.engine) as conn:
            rows = conn.execute(select(self.grants).where(g.approver_id == user.id).order_by(g.id.desc()).limit(limit))
            return [_grant(r) for r in rows]

    def revoke(self, user: User, grant_id: int, *, reason: str, now_ms: int, client: str | None = None) -> Grant:
        """End a grant now. The holder may give it up; approvers who could grant it may revoke it."""
        try:
            g = self.grant(grant_id)
        except AccessError:
            raise self._refuse(user, "grant.revoke", f"grant:{grant_id}", now_ms, client, "not_found",
                               f"no grant {grant_id}", code="grant.not_found", params={"id": grant_id}) from None
        req = self.get(self._request_of(grant_id))
        may = user.id == g.holder_id or (user.active and self.deciding_role(user, req) is not None) or (
            user.active and user.id == g.approver_id
        )
        if not may:
            raise self._refuse(user, "grant.revoke", f"grant:{grant_id}", now_ms, client, "forbidden",
                               "only the holder or an approver who could grant it may revoke a grant", req,
                               code="revoke.not_allowed")
        with self.engine.begin() as conn:
            done = conn.execute(
                update(self.grants)
                .where(and_(self.grants.c.id == grant_id, self.grants.c.revoked_at.is_(None)))
                .values(revoked_at=now_ms, revoked_by=user.id, revoke_reason_enc=self._enc_reason(reason))
            ).rowcount
        if done != 1:
            raise AccessError("conflict", f"grant {grant_id} is already revoked", "revoke.already", {"id": grant_id})
        self._notify([g.holder_id], "grant.revoked", grant_id, now_ms)
        self._audit(user, "grant.revoke", "ok", f"grant:{grant_id}", now_ms, client, req, grant_id=grant_id)
        return self.grant(grant_id)

    def _request_of(self, grant_id: int) -> int:
        with read_only(self.engine) as conn:
            return int(conn.execute(select(self.grants.c.request_id).where(self.grants.c.id == grant_id)).scalar_one())

    # -- notifications -------------------------------------------------------------

    def _notify(self, user_ids: Sequence[int], kind: str, ref_id: int, now_ms: int) -> None:
        if not user_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                insert(self.notes),
                [{"user_id": u, "kind": kind, "ref_id": ref_id, "created_at": now_ms} for u in sorted(set(user_ids))],
            )

    def notifications(self, user: User, *, unread_only: bool = True) -> list[dict[str, Any]]:
        n = self.notes.c
        q = select(self.notes).where(n.user_id == user.id).order_by(n.id.desc()).limit(200)
        if unread_only:
            q = q.where(n.read_at.is_(None))
        with read_only(self.engine) as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def mark_read(self, user: User, note_id: int, now_ms: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(self.notes).where(self.notes.c.id == note_id, self.notes.c.user_id == user.id)
                .values(read_at=now_ms)
            )


__all__ = ["MAX_HOURS", "AccessError", "AccessRequest", "Approvals"]
