"""Reading one stored record through the policy: every field decided, every read audited.

``RecordReader.view`` returns one record as :class:`~lianfang.access.projection.Projector`
projects it for the user, after writing the read to the audit trail; if the trail
cannot be written nothing is returned (``AuditUnavailable``).

A hidden record (denied at record level) is reported exactly like a missing one,
so IDs of other cities' protected records cannot be probed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, select

from lianfang.access.approvals import Approvals
from lianfang.access.projection import Projector, RecordView
from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import BlindIndex
from lianfang.identity.directory import User, family_digest
from lianfang.policy.decision import Effect, Purpose
from lianfang.standard import Standard
from lianfang.standard.levels import Level, parse_level
from lianfang.store.engine import read_only
from lianfang.store.schema import record_table_name


class RecordHidden(LookupError):
    """No such record, or one the user may not learn exists (the same answer for both)."""


class RequestRefused(PermissionError):
    """The request itself was refused (no purpose, no case number, no data access); ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


HIDDEN_REASONS = frozenset({"deny.above_hits", "deny.unknown_owner"})


class RecordReader:
    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        projector: Projector,
        approvals: Approvals,
        audit: Audit,
        blind: BlindIndex,
    ):
        self.engine = engine
        self.metadata = metadata
        self.projector = projector
        self.standard: Standard = projector.standard
        self.approvals = approvals
        self.audit = audit
        self.blind = blind

    def view(
        self,
        user: User,
        category: str,
        record_id: int,
        purpose: Purpose | None,
        *,
        now_ms: int,
        client: str | None = None,
    ) -> RecordView:
        if category not in self.standard.categories:
            raise RecordHidden(f"no category {category!r}")
        table = self.metadata.tables[record_table_name(category)]
        with read_only(self.engine) as conn:
            row = conn.execute(select(table).where(table.c.id == record_id)).first()
        target = f"{category}:{record_id}"
        if row is None:
            self._audit(user, target, "not_found", purpose, now_ms, client, {"reason": "not_found"})
            raise RecordHidden(f"no {category} record {record_id}")
        reading = self.projector.reading(user, purpose, self.approvals.grants_for(user.id, now_ms), now_ms)
        view: RecordView = self.projector.project(reading, category, row)
        if view.effect is Effect.DENY:
            outcome = "hidden" if view.reason == "deny.above_hits" else "denied"
            refused = {"reason": view.reason, "level": view.level.value}
            self._audit(user, target, outcome, purpose, now_ms, client, refused)
            if view.reason in HIDDEN_REASONS:
                raise RecordHidden(f"no {category} record {record_id}")
            raise RequestRefused(view.reason)
        detail: dict[str, Any] = {
            "reasons": dict(sorted(view.field_reasons.items())), "level": view.level.value,
            "owner_city": view.city_code, **self.subject_digests(category, row._mapping),
        }  # fmt: skip
        self._audit(user, target, view.effect.value, purpose, now_ms, client, detail,
                    grant_id=view.grant_ids[0] if view.grant_ids else None)
        return view

    def subject_digests(self, category: str, m: Any) -> dict[str, str]:
        """Blind-index digests of whom a person record is about, for the self/family alarm (never values)."""
        if category != "person":
            return {}
        out = {}
        if m.get("citizen_id_bidx") is not None:
            out["person_digest"] = bytes(m["citizen_id_bidx"]).hex()
        name = self.projector.value("name", "person_name", True, m)
        address = self.projector.value("household_address", "text", True, m)
        if name and address:
            out["family_digest"] = family_digest(self.blind, str(name), str(address)).hex()
        return out

    def _audit(
        self,
        user: User,
        target: str,
        outcome: str,
        purpose: Purpose | None,
        now_ms: int,
        client: str | None,
        detail: dict[str, Any],
        grant_id: int | None = None,
    ) -> None:
        self.audit.record(
            AuditEvent(
                action="data.view",
                outcome=outcome,
                at_ms=now_ms,
                **user.audit_fields(),
                target=(target,),
                purpose=purpose.code if purpose else None,
                case_no=(purpose.case_no or None) if purpose else None,
                grant_id=grant_id,
                result_count=1 if outcome in ("allow", "mask") else 0,
                client=client,
                detail=detail,
            )
        )




def classify(
    engine: Engine, metadata: MetaData, standard: Standard, category: str, record_id: int, level: Level
) -> tuple[Level, Level]:
    """Raise (or restore) one record's classification; returns (before, after).

    A record can be raised above its category's default (a protected witness becomes
    top secret) and brought back down to that default, never below it.
    """
    try:
        cat = standard.category(category)
    except KeyError:
        raise RecordHidden(f"no category {category!r}") from None
    if level.rank < cat.default_level.rank:
        raise ValueError(f"{category} records are at least {cat.default_level.value}; {level.value} would lower them")
    table = metadata.tables[record_table_name(category)]
    with engine.connect() as conn:
        before = conn.execute(select(table.c.classification).where(table.c.id == record_id)).scalar()
    if before is None:
        raise RecordHidden(f"no {category} record {record_id}")
    with engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == record_id).values(classification=level.value))
    return parse_level(before), level


__all__ = ["HIDDEN_REASONS", "RecordHidden", "RecordReader", "RecordView", "RequestRefused", "classify"]
