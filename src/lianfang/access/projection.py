"""Projecting a stored row through the policy: the one place values leave the store for a user.

Every path that returns records — one record, search results, entity pages,
trajectories, exports, watch-list hits, pushes — turns rows into what the caller
may see with :meth:`Projector.project`:

* the record-level decision (its classification raised to the category's policy
  floor, its owning city, the user's roles, grants and purpose) says whether it is
  readable, a masked hit, or not shown;
* each field is then decided at ``max(record level, field level)``: allowed values
  are decrypted and returned, identifying personal values of a masked field are
  returned masked (``110105********002X``), everything else is withheld.

Projection writes no audit event: each path records one event for what it returned
(it knows the query, the counts and the record IDs) before returning it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.identity.directory import User
from lianfang.policy.config import PolicyConfig
from lianfang.policy.decision import (
    Actor,
    Decision,
    Effect,
    Grant,
    Purpose,
    RecordRef,
    ScopeKind,
    decide,
    effective_level,
)
from lianfang.policy.masking import mask_value
from lianfang.standard import Category, Standard
from lianfang.standard.levels import Level, parse_level
from lianfang.store.codec import from_epoch_ms

LINEAGE = ("file_id", "batch_id", "position", "source_record_id")
_SUBJECT_TYPES = {"citizen_id": ScopeKind.PERSON, "plate": ScopeKind.VEHICLE, "case_no": ScopeKind.CASE}


@dataclass(frozen=True)
class Reading:
    """One request's context: who reads, why, with which grants, when."""

    user: User
    actor: Actor
    purpose: Purpose | None
    grants: tuple[Grant, ...]
    now_ms: int
    #: the cities whose records the grants may open by subject (a person, vehicle or case): only for
    #: those cities' records do the decisions look at a record's subjects (see :meth:`Projector.ref`)
    subject_cities: frozenset[str] = field(init=False)
    #: the cities whose data any of the grants is for: elsewhere no grant applies (see :meth:`Projector.decide`)
    grant_cities: frozenset[str] = field(init=False)
    #: decisions for records of the other cities, by (owner city, record level, field level)
    decisions: dict[tuple[str, Level, Level], Decision] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject_cities", frozenset(
            g.city_code for g in self.grants if g.scope is not ScopeKind.RECORDS))
        object.__setattr__(self, "grant_cities", frozenset(g.city_code for g in self.grants))
        object.__setattr__(self, "decisions", {})


@dataclass
class RecordView:
    category: str
    record_id: int
    city_code: str
    level: Level
    effect: Effect  # allow: readable (fields may still be withheld); mask: a masked hit; deny: not shown
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    masked: dict[str, str] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    grant_ids: list[int] = field(default_factory=list)
    lineage: dict[str, Any] | None = None
    field_reasons: dict[str, int] = field(default_factory=dict)  # decisions by reason, over the fields

    @property
    def shown(self) -> bool:
        return self.effect is not Effect.DENY

    @property
    def target(self) -> str:
        return f"{self.category}:{self.record_id}"

    def get(self, name: str) -> Any:
        """A value as shown: in full, masked, or ``None`` when withheld."""
        if name in self.values:
            return self.values[name]
        return self.masked.get(name)

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
                "keys": [self.target],
            }
        return out


#: The blind-index field whose digests name a person in grants, watch lists and audit details.
PERSON_KEY_FIELD = "citizen_id"


def person_key(blind: BlindIndex, citizen_id: str) -> str:
    """The subject key of a person (hex blind index of the normalised 18-digit ID)."""
    return blind.digest(PERSON_KEY_FIELD, citizen_id).hex()


class Projector:
    """Turns rows into :class:`RecordView` for one reader, deciding every field with :func:`decide`."""

    def __init__(self, standard: Standard, cipher: FieldCipher, blind: BlindIndex, policy: PolicyConfig,
                 tz: ZoneInfo):
        unknown = sorted(set(policy.floors) - set(standard.categories))
        if unknown:
            raise ValueError(f"policy.floors names categories the standard lacks: {unknown}")
        self.standard = standard
        self.cipher = cipher
        self.blind = blind
        self.policy = policy
        self.tz = tz
        self._levels: dict[tuple[str, str], Level] = {}  # (category, stored classification) → effective level

    @staticmethod
    def reading(user: User, purpose: Purpose | None, grants: Iterable[Grant], now_ms: int) -> Reading:
        return Reading(user, user.actor(), purpose, tuple(grants), now_ms)

    def ref(self, category: Category, row: Any, reading: Reading | None = None) -> RecordRef:
        """What the decision sees of a row: owner, level (raised to the category floor), subjects.

        With ``reading``, the subjects are worked out only where its grants could use them: a grant
        opens a record by subject only in its own city (:func:`decide` checks the city first), so
        elsewhere they cannot change a decision — and naming them may cost a decryption per row."""
        m = row._mapping
        key = (category.name, m["classification"])
        level = self._levels.get(key)
        if level is None:  # four names per category: worked out once each (an unknown one raises every time)
            level = self._levels[key] = effective_level(parse_level(key[1]), self.policy.floor(category.name))
        city = m["city_code"] or ""
        subjects = (self.subjects(category, row) if reading is None or city in reading.subject_cities
                    else frozenset())
        return RecordRef(category.name, int(m["id"]), city, level, subjects)

    def subjects(self, category: Category, row: Any) -> frozenset[tuple[ScopeKind, str]]:
        """The grant scopes a row falls under: person (:func:`person_key`), plate, case number.

        Derived from the standard: every field of type citizen ID, plate or case number
        names a subject, so a grant for a person also covers the vehicles they own, the
        sightings matched to them and the cases naming them as suspect. Blind indexes are
        keyed per column, so a citizen ID outside ``person.citizen_id`` is decrypted (in
        memory only) and digested under the person key.
        """
        out: set[tuple[ScopeKind, str]] = set()
        m = row._mapping
        for fld in category.fields.values():
            kind = _SUBJECT_TYPES.get(fld.type)
            if kind is None:
                continue
            if kind is ScopeKind.PERSON:
                if fld.name == PERSON_KEY_FIELD and m.get(f"{fld.name}_bidx") is not None:
                    out.add((kind, bytes(m[f"{fld.name}_bidx"]).hex()))
                elif m.get(f"{fld.name}_enc") is not None:
                    clear = self.cipher.decrypt(fld.name, bytes(m[f"{fld.name}_enc"]))
                    if clear:
                        out.add((kind, person_key(self.blind, str(clear))))
            elif fld.encrypted:
                continue  # plates and case numbers are not personal; an encrypted one names no subject
            elif m.get(fld.name):
                out.add((kind, str(m[fld.name])))
        return frozenset(out)

    def decide(self, reading: Reading, ref: RecordRef, field_level: Level) -> Decision:
        """:func:`decide` for ``reading``. Where none of its grants is for the record's city, no grant can
        change the answer (each fails as another city's before anything else is asked), so the answer
        depends only on the city and the two levels, and is made once per request for each of those."""
        if ref.city_code in reading.grant_cities:
            return decide(self.policy, reading.actor, ref, field_level, reading.purpose, reading.grants,
                          reading.now_ms)
        key = (ref.city_code, ref.level, field_level)
        made = reading.decisions.get(key)
        if made is None:
            made = reading.decisions[key] = decide(self.policy, reading.actor, ref, field_level, reading.purpose,
                                                   reading.grants, reading.now_ms)
        return made

    def decide_record(self, reading: Reading, ref: RecordRef) -> Decision:
        """The record-level decision: may this record be shown at all, in full or as a masked hit."""
        return self.decide(reading, ref, Level.PUBLIC)

    def project(self, reading: Reading, category: str, row: Any, *, lineage: bool = True,
                ref: RecordRef | None = None, top: Decision | None = None) -> RecordView:
        """The row as ``reading``'s user may see it (``effect`` deny: nothing to show).

        ``ref`` and ``top``: the row's :meth:`ref` and :meth:`decide_record` for this reading, where the
        caller has them already."""
        cat = self.standard.category(category)
        if ref is None:
            ref = self.ref(cat, row, reading)
        if top is None:
            top = self.decide_record(reading, ref)
        view = RecordView(category, ref.record_id, ref.city_code, ref.level, top.effect, top.reason)
        if top.effect is Effect.DENY:
            return view
        m = row._mapping
        by_level: dict[Level, Decision] = {}  # decide() is pure: one call per distinct field level
        for fld in cat.fields.values():
            d = by_level.get(fld.level)
            if d is None:
                d = by_level[fld.level] = self.decide(reading, ref, fld.level)
            view.field_reasons[d.reason] = view.field_reasons.get(d.reason, 0) + 1
            if d.grant_id is not None and d.grant_id not in view.grant_ids:
                view.grant_ids.append(d.grant_id)
            if d.effect is Effect.ALLOW:
                view.values[fld.name] = self.value(fld.name, fld.type, fld.encrypted, m)
            elif d.effect is Effect.MASK and fld.personal and fld.searchable:
                clear = self.value(fld.name, fld.type, fld.encrypted, m)
                if clear is not None:
                    view.masked[fld.name] = mask_value(fld.type, clear, self.policy.masking)
                else:
                    view.withheld.append(fld.name)
            else:
                view.withheld.append(fld.name)
        if top.effect is Effect.ALLOW and lineage:
            view.lineage = {k: m[k] for k in LINEAGE}
        return view

    def value(self, name: str, ftype: str, encrypted: bool, m: Any) -> Any:
        """One stored value in clear, as the API shows it (times ISO 8601 in the platform's zone)."""
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


__all__ = ["LINEAGE", "PERSON_KEY_FIELD", "Projector", "Reading", "RecordView", "person_key"]
