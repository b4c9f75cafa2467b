"""Reading one stored record through the policy: every field decided, every read audited.

``RecordReader.view`` is the one way a record's values leave the store for a user:

* the record-level decision (its classification, owning city, the user's roles,
  grants and purpose) says whether it is readable, a masked hit, or hidden;
* each field is then decided at ``max(record level, field level)``: allowed values
  are decrypted and returned, identifying personal values of a masked field are
  returned masked (``110105********002X``), everything else is withheld;
* the read is written to the audit trail *before* anything is returned, and if the
  trail cannot be written nothing is returned (``AuditUnavailable``).

A hidden record (denied at record level) is reported exactly like a missing one,
so IDs of other cities' protected records cannot be probed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, select

from lianfang.access.approvals import Approvals
from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.identity.directory import User, family_digest
from lianfang.policy.config import PolicyConfig
from lianfang.policy.decision import Decision, Effect, Purpose, RecordRef, ScopeKind, decide
from lianfang.policy.masking import mask_value
from lianfang.standard import Category, Standard
from lianfang.standard.levels import Level, parse_level
from lianfang.store.codec import from_epoch_ms
from lianfang.store.schema import record_table_name

LINEAGE = ("file_id", "batch_id", "position", "source_record_id")


class RecordHidden(LookupError):
    """No such record, or one the user may not learn exists (the same answer for both)."""


class RequestRefused(PermissionError):
    """The request itself was refused (no purpose, no case number, no data access); ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class RecordView:
    category: str
    record_id: int
    city_code: str
    level: Level
    effect: Effect  # allow: readable (fields may still be withheld); mask: a masked hit
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    masked: dict[str, str] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    grant_ids: list[int] = field(default_factory=list)
    lineage: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "id": self.record_id,
            "city_code": self.city_code,
            "classification": self.level.value,
            "access": self.effect.value,
            "reason": self.reason,
            "values": self.values,
            "masked": self.masked,
            "withheld": self.withheld,
            "grants": self.grant_ids,
        }
        if self.lineage is not None:
            out["lineage"] = self.lineage
        if self.effect is Effect.MASK or self.withheld:
            out["request_access"] = {
                "owner_city": self.city_code,
                "level": self.level.value,
                "scope": ScopeKind.RECORDS.value,
                "keys": [f"{self.category}:{self.record_id}"],
            }
        return out


_SUBJECT_TYPES = {"citizen_id": ScopeKind.PERSON, "plate": ScopeKind.VEHICLE, "case_no": ScopeKind.CASE}


def subjects_of(category: Category, row: Any) -> frozenset[tuple[ScopeKind, str]]:
    """The grant scopes a stored row falls under: person (blind-index digest, hex), plate, case number.

    Derived from the standard: every field of type citizen ID (through its blind index),
    plate or case number names a subject, so a grant for a person also covers the
    sightings matched to them and the cases naming them as suspect.
    """
    out: set[tuple[ScopeKind, str]] = set()
    m = row._mapping
    for fld in category.fields.values():
        kind = _SUBJECT_TYPES.get(fld.type)
        if kind is None:
            continue
        if fld.encrypted:
            digest = m.get(f"{fld.name}_bidx")
            if digest is not None:
                out.add((kind, bytes(digest).hex()))
        elif m.get(fld.name):
            out.add((kind, str(m[fld.name])))
    return frozenset(out)


class RecordReader:
    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        standard: Standard,
        cipher: FieldCipher,
        policy: PolicyConfig,
        approvals: Approvals,
        audit: Audit,
        tz: ZoneInfo,
        blind: BlindIndex,
    ):
        self.engine = engine
        self.metadata = metadata
        self.standard = standard
        self.cipher = cipher
        self.policy = policy
        self.approvals = approvals
        self.audit = audit
        self.tz = tz
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
        try:
            cat = self.standard.category(category)
        except KeyError:
            raise RecordHidden(f"no category {category!r}") from None
        table = self.metadata.tables[record_table_name(category)]
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == record_id)).first()
        target = f"{category}:{record_id}"
        if row is None:
            self._audit(user, target, "not_found", purpose, now_ms, client, {"reason": "not_found"})
            raise RecordHidden(f"no {category} record {record_id}")
        m = row._mapping
        level = parse_level(m["classification"])
        rec = RecordRef(category, record_id, m["city_code"] or "", level, subjects_of(cat, row))
        grants = self.approvals.grants_for(user.id, now_ms)
        actor = user.actor()
        top = decide(self.policy, actor, rec, Level.PUBLIC, purpose, grants, now_ms)
        if top.effect is Effect.DENY:
            outcome = "hidden" if top.reason == "deny.above_hits" else "denied"
            refused = {"reason": top.reason, "level": rec.level.value}
            self._audit(user, target, outcome, purpose, now_ms, client, refused)
            if top.reason in ("deny.above_hits", "deny.unknown_owner"):
                raise RecordHidden(f"no {category} record {record_id}")
            raise RequestRefused(top.reason)
        view = RecordView(category, record_id, rec.city_code, rec.level, top.effect, top.reason)
        reasons: Counter[str] = Counter()
        for fld in cat.fields.values():
            d: Decision = decide(self.policy, actor, rec, fld.level, purpose, grants, now_ms)
            reasons[d.reason] += 1
            if d.grant_id is not None and d.grant_id not in view.grant_ids:
                view.grant_ids.append(d.grant_id)
            if d.effect is Effect.ALLOW:
                view.values[fld.name] = self._value(fld.name, fld.type, fld.encrypted, m)
            elif d.effect is Effect.MASK and fld.personal and fld.searchable:
                clear = self._value(fld.name, fld.type, fld.encrypted, m)
                if clear is not None:
                    view.masked[fld.name] = mask_value(fld.type, clear, self.policy.masking)
                else:
                    view.withheld.append(fld.name)
            else:
                view.withheld.append(fld.name)
        if top.effect is Effect.ALLOW:
            view.lineage = {k: m[k] for k in LINEAGE}
        detail: dict[str, Any] = {
            "reasons": dict(sorted(reasons.items())), "level": rec.level.value, "owner_city": rec.city_code,
            **self._subject_digests(category, m),
        }  # fmt: skip
        self._audit(user, target, top.effect.value, purpose, now_ms, client, detail,
                    grant_id=view.grant_ids[0] if view.grant_ids else None)
        return view

    def _subject_digests(self, category: str, m: Any) -> dict[str, str]:
        """Blind-index digests of whom a person record is about, for the self/family alarm (never values)."""
        if category != "person":
            return {}
        out = {}
        if m.get("citizen_id_bidx") is not None:
            out["person_digest"] = bytes(m["citizen_id_bidx"]).hex()
        name = self._value("name", "person_name", True, m)
        address = self._value("household_address", "text", True, m)
        if name and address:
            out["family_digest"] = family_digest(self.blind, str(name), str(address)).hex()
        return out

    def _value(self, name: str, ftype: str, encrypted: bool, m: Any) -> Any:
        if encrypted:
            blob = m.get(f"{name}_enc")
            return None if blob is None else self.cipher.decrypt(name, bytes(blob))
        v = m.get(name)
        if v is None:
            return None
        if ftype == "datetime":
            return from_epoch_ms(int(v), self.tz).isoformat()
        if isinstance(v, date):
            return v.isoformat()
        return v

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


__all__ = ["RecordHidden", "RecordReader", "RecordView", "RequestRefused", "classify", "subjects_of"]
