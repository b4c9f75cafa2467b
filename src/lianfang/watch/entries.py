"""Adding, listing, removing and expiring watch-list entries (布控), with the policy's approval rule.

Watching a subject's sightings is reading them as they arrive, so adding an entry is
decided like a read: for every city in its scope, :func:`~lianfang.policy.decision.decide`
is asked about a sighting of that city naming the subject, at the sightings' policy
floor (sensitive: movements are 行踪轨迹), with the entry's purpose and case number and
the user's grants. A city the user reads by role needs nothing; a city that would be a
masked hit needs a live grant covering the subject (vehicle: the plate; person: the
person key) for that city, purpose and case — otherwise the entry is refused and the
refusal lists those cities with a prefilled access request for each; a city the role
may not read at all refuses the entry outright. Empty scopes, missing case numbers or
reasons, and expiries beyond the configured maximum are refused too (fail closed).
Every change is audited (``watch.add``, ``watch.remove``, ``watch.expire``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, MetaData, func, insert, select, update

from lianfang.access.approvals import Approvals
from lianfang.access.projection import person_key
from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.identity.directory import User
from lianfang.policy.config import PolicyConfig
from lianfang.policy.decision import Effect, Purpose, RecordRef, decide, effective_level, purpose_problem
from lianfang.policy.masking import mask_value
from lianfang.standard import Standard
from lianfang.standard.levels import Level
from lianfang.watch.model import (
    ACTIVE,
    DAY_MS,
    EXPIRED,
    PERSON,
    PLATE,
    REMOVED,
    SCOPE_KIND,
    WATCHED_CATEGORY,
    WatchEntry,
    WatchError,
    entry_of,
    subject_normaliser,
)

_CITY = re.compile(r"^\d{4}00$")
MAX_REASON = 500
REASON_PURPOSE = "watch.reason"  # SM4 field names: reason text, subject as typed
SUBJECT_PURPOSE = "watch.subject"
_ROLE_REFUSALS = {"deny.no_data_access", "deny.unknown_actor", "deny.above_hits", "deny.unknown_owner"}


class WatchEntries:
    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        standard: Standard,
        policy: PolicyConfig,
        cipher: FieldCipher,
        blind: BlindIndex,
        approvals: Approvals,
        audit: Audit,
        *,
        max_days: int,
        max_entries: int,
        cities: Callable[[], Sequence[str]],
        on_change: Callable[[], None] = lambda: None,
    ):
        self.engine = engine
        self.table = metadata.tables["watch_entry"]
        self.standard = standard
        self.policy = policy
        self.cipher = cipher
        self.blind = blind
        self.approvals = approvals
        self.audit = audit
        self.max_days = max_days
        self.max_entries = max_entries
        self.cities = cities  # the province's cities: the scope when none is named
        self.on_change = on_change
        self._normalise = {kind: subject_normaliser(standard, kind) for kind in (PLATE, PERSON)}
        cat = standard.category(WATCHED_CATEGORY)
        self.floor: Level = effective_level(cat.default_level, policy.floor(WATCHED_CATEGORY))

    # -- audit ------------------------------------------------------------------------

    def _audit(self, user: User | None, action: str, outcome: str, targets: tuple[str, ...], now_ms: int,
               client: str | None, purpose: Purpose | None = None, grant_id: int | None = None,
               **detail: Any) -> None:
        self.audit.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                at_ms=now_ms,
                **(user.audit_fields() if user else {}),
                target=targets,
                purpose=purpose.code if purpose else None,
                case_no=(purpose.case_no or None) if purpose else None,
                grant_id=grant_id,
                client=client,
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )

    def _refuse(self, user: User, err: WatchError, now_ms: int, client: str | None, purpose: Purpose | None,
                target: str = "watch:new", **detail: Any) -> WatchError:
        self._audit(user, "watch.add" if target == "watch:new" else "watch.remove", "denied", (target,), now_ms,
                    client, purpose, reason=err.reason, **detail)
        return err

    # -- subjects -----------------------------------------------------------------------

    def subject(self, kind: str, text: str) -> tuple[str, str | None]:
        """(key, clear text to keep encrypted or None): the plate as normalised, or the person key."""
        if kind not in self._normalise:
            raise WatchError("invalid", "watch.kind", "a watch-list entry is on a plate or a person")
        value = self._normalise[kind](text)
        if kind == PLATE:
            return value, None
        return person_key(self.blind, value), value

    def subject_shown(self, row: Any) -> str:
        """How the owner's list shows the subject: the plate, or the citizen ID masked."""
        m = row._mapping
        if m["kind"] == PLATE or m["subject_enc"] is None:
            return str(m["subject_key"])
        return mask_value("citizen_id", self.cipher.decrypt(SUBJECT_PURPOSE, bytes(m["subject_enc"])),
                          self.policy.masking)

    def subject_clear(self, row: Any) -> str | None:
        """The subject as the standard normalised it (matching needs it; never returned to anyone)."""
        m = row._mapping
        if m["kind"] == PLATE:
            return str(m["subject_key"])
        blob = m["subject_enc"]
        return None if blob is None else self.cipher.decrypt(SUBJECT_PURPOSE, bytes(blob))

    def reason_text(self, row: Any) -> str:
        blob = row._mapping["reason_enc"]
        return self.cipher.decrypt(REASON_PURPOSE, bytes(blob)) if blob is not None else ""

    # -- the approval rule ----------------------------------------------------------------

    def coverage(self, user: User, kind: str, key: str, purpose: Purpose, scope: Sequence[str],
                 now_ms: int) -> tuple[list[int], list[dict[str, Any]], list[tuple[str, str]]]:
        """(grant ids used, prefilled requests for cities that need a grant, (city, reason) refused by role).

        Each city is decided as a sighting of that city naming the subject, at the floor.
        """
        grants = self.approvals.grants_for(user.id, now_ms)
        actor = user.actor()
        subjects = frozenset({(SCOPE_KIND[kind], key)})
        used: list[int] = []
        needs: list[dict[str, Any]] = []
        refused: list[tuple[str, str]] = []
        for city in scope:
            ref = RecordRef(WATCHED_CATEGORY, 0, city, self.floor, subjects)
            d = decide(self.policy, actor, ref, Level.PUBLIC, purpose, grants, now_ms)
            if d.effect is Effect.ALLOW:
                if d.grant_id is not None and d.grant_id not in used:
                    used.append(d.grant_id)
            elif d.effect is Effect.MASK:
                needs.append({
                    "owner_city": city, "level": self.floor.value, "scope": SCOPE_KIND[kind].value,
                    "keys": [key], "purpose": purpose.code, "case_no": purpose.case_no or "", "why": d.reason,
                })  # fmt: skip
            else:
                refused.append((city, d.reason))
        return used, needs, refused

    # -- changes --------------------------------------------------------------------------

    def add(
        self,
        user: User,
        *,
        kind: str,
        subject: str,
        reason: str,
        purpose: Purpose,
        scope: Sequence[str] | None,
        expires_at: int,
        now_ms: int,
        client: str | None = None,
    ) -> WatchEntry:
        """Put a plate or a person on the user's watch list; refusals raise :class:`WatchError` (audited)."""
        try:
            key, clear = self.subject(kind, subject)
            cities = self._scope(scope)
            self._check(purpose, reason, expires_at, now_ms)
        except WatchError as invalid:
            raise self._refuse(user, invalid, now_ms, client, purpose, kind=kind) from None
        digest = {"plate": key} if kind == PLATE else {"person_digest": key}
        if self.active_count(user) >= self.max_entries:
            err = WatchError("invalid", "watch.too_many",
                             f"at most {self.max_entries} active watch-list entries per user; remove one first")
            raise self._refuse(user, err, now_ms, client, purpose, kind=kind, **digest)
        used, needs, refused = self.coverage(user, kind, key, purpose, cities, now_ms)
        if refused:
            err = WatchError(
                "forbidden", "watch.no_data_access",
                "你的角色不能布控这些城市的过车数据 your role may not watch sightings of "
                + ", ".join(c for c, _ in refused),
                cities=[c for c, _ in refused], why=sorted({r for _, r in refused}),
            )  # fmt: skip
            raise self._refuse(user, err, now_ms, client, purpose, kind=kind, cities=[c for c, _ in refused],
                               **digest)
        if needs:
            err = WatchError(
                "needs_grant", "watch.needs_grant",
                "布控其他城市的敏感数据须先获批准 watching these cities' sightings needs an approved grant first: "
                + ", ".join(n["owner_city"] for n in needs),
                cities=[n["owner_city"] for n in needs], request_access=needs,
            )  # fmt: skip
            raise self._refuse(user, err, now_ms, client, purpose, kind=kind,
                               cities=[n["owner_city"] for n in needs], **digest)
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(self.table).values(
                    owner_id=user.id,
                    owner_unit=user.unit_code,
                    kind=kind,
                    subject_key=key,
                    subject_enc=self.cipher.encrypt(SUBJECT_PURPOSE, clear) if clear is not None else None,
                    reason_enc=self.cipher.encrypt(REASON_PURPOSE, reason.strip()),
                    purpose=purpose.code,
                    case_no=(purpose.case_no or "").strip(),
                    scope=json.dumps(cities),
                    grant_ids=json.dumps(used),
                    status=ACTIVE,
                    created_at=now_ms,
                    expires_at=expires_at,
                    changed_at=now_ms,
                )
            )
            eid = int(res.inserted_primary_key[0])  # type: ignore[index]
        self.on_change()
        self._audit(user, "watch.add", "ok", (f"watch:{eid}",), now_ms, client, purpose,
                    grant_id=used[0] if used else None, kind=kind, cities=cities, grants=used or None,
                    expires_at=expires_at, **digest)
        return self.get(user, eid)

    def _scope(self, scope: Sequence[str] | None) -> list[str]:
        cities = sorted(set(self.cities())) if scope is None else sorted({str(c).strip() for c in scope})
        if not cities:
            raise WatchError("invalid", "watch.scope_empty", "布控范围不能为空 name at least one city to watch")
        bad = [c for c in cities if not _CITY.match(c)]
        if bad:
            raise WatchError("invalid", "watch.scope_city",
                             f"a scope lists owning cities by their 6-digit division code (xxxx00), not {bad[:3]}")
        return cities

    def _check(self, purpose: Purpose, reason: str, expires_at: int, now_ms: int) -> None:
        problem = purpose_problem(self.policy, purpose, self.floor)
        if problem == "deny.case_number_required" or not (purpose.case_no or "").strip():
            raise WatchError("invalid", "watch.case_number_missing", "布控须填写案件编号 a watch needs a case number")
        if problem is not None:
            raise WatchError("invalid", "watch.purpose_unknown", "未知用途 name a purpose code from the policy")
        if len(purpose.case_no or "") > 64:
            raise WatchError("invalid", "watch.case_number_missing", "a case number has at most 64 characters")
        text = (reason or "").strip()
        if not text:
            raise WatchError("invalid", "watch.reason_missing", "布控须说明理由 a watch needs a reason")
        if len(text) > MAX_REASON:
            raise WatchError("invalid", "watch.reason_missing", f"a reason has at most {MAX_REASON} characters")
        if not now_ms < expires_at <= now_ms + self.max_days * DAY_MS:
            raise WatchError("invalid", "watch.expiry",
                             f"a watch expires in the future, within {self.max_days} days")

    def remove(self, user: User, entry_id: int, *, reason: str = "", now_ms: int,
               client: str | None = None) -> WatchEntry:
        """End one of the user's own entries now (audited; another user's entry is 'not found')."""
        row = self._row(entry_id)
        if row is None or int(row.owner_id) != user.id:
            err = WatchError("not_found", "watch.not_found", f"no watch-list entry {entry_id}")
            raise self._refuse(user, err, now_ms, client, None, target=f"watch:{entry_id}")
        entry = entry_of(row)
        if entry.status != ACTIVE:
            err = WatchError("invalid", "watch.not_active", f"watch-list entry {entry_id} is already {entry.status}")
            raise self._refuse(user, err, now_ms, client, None, target=f"watch:{entry_id}")
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == entry_id, self.table.c.status == ACTIVE)
                .values(status=REMOVED, removed_at=now_ms, removed_by=user.id, changed_at=now_ms)
            )
        self.on_change()
        self._audit(user, "watch.remove", "ok", (entry.target,), now_ms, client,
                    Purpose(entry.purpose, "", entry.case_no), kind=entry.kind, reason_given=bool(reason.strip()))
        return self.get(user, entry_id)

    def expire(self, now_ms: int) -> list[int]:
        """Mark entries past their expiry as expired (matching already ignores them); audited once per sweep."""
        t = self.table
        with self.engine.begin() as conn:
            ids = [int(i) for i in conn.execute(
                select(t.c.id).where(t.c.status == ACTIVE, t.c.expires_at <= now_ms)).scalars()]
            if ids:
                conn.execute(update(t).where(t.c.id.in_(ids), t.c.status == ACTIVE)
                             .values(status=EXPIRED, changed_at=now_ms))
        if ids:
            self.on_change()
            self._audit(None, "watch.expire", "ok", tuple(f"watch:{i}" for i in ids[:100]), now_ms, "system",
                        count=len(ids))
        return ids

    # -- reading ---------------------------------------------------------------------------

    def _row(self, entry_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.id == entry_id)).first()

    def get(self, user: User, entry_id: int) -> WatchEntry:
        row = self._row(entry_id)
        if row is None or int(row.owner_id) != user.id:
            raise WatchError("not_found", "watch.not_found", f"no watch-list entry {entry_id}")
        return entry_of(row)

    def rows(self, user: User, *, status: str | None = ACTIVE) -> list[Any]:
        """The user's entries (newest first), as rows: ``entry_of`` / ``subject_shown`` / ``reason_text``."""
        t = self.table
        q = select(t).where(t.c.owner_id == user.id).order_by(t.c.id.desc())
        if status:
            q = q.where(t.c.status == status)
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def by_ids(self, ids: Sequence[int]) -> dict[int, Any]:
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return {int(r.id): r for r in conn.execute(select(self.table).where(self.table.c.id.in_(set(ids))))}

    def active_count(self, user: User) -> int:
        t = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t)
                                    .where(t.c.owner_id == user.id, t.c.status == ACTIVE)).scalar_one())


__all__ = ["MAX_REASON", "WatchEntries"]
