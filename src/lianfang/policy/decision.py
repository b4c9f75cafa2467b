"""The access decision: one pure function behind every path that returns data.

``decide(config, actor, record, level, purpose, grants, now_ms)`` answers allow,
mask or deny for one value of one record, with a reason code the audit trail
records. It reads no clock, database or global: everything it needs is passed in,
so the same inputs always give the same answer and every path (search, entity
pages, trajectories, exports, pushes) can share it.

The order of the checks:

1. **Who**: a role that reads nothing (administrators, auditors) is denied; an
   actor without a known role or jurisdiction gets nothing (fail closed).
2. **Why**: a request without a known purpose is denied; a request touching data
   at ``case_number_from`` or above without a case number is denied.
3. **Reach**: the role's reach over the owner's data (own jurisdiction or another
   city, after the owning city's tightening) allows what it covers.
4. **Grant**: otherwise a grant held by the actor that is live (started, not
   expired, not revoked), bound to this purpose and case, for the owning city,
   at or above the level, covering the record, and approved by a role the policy
   lets approve that level (never by the holder) allows it.
5. **Hit**: otherwise, up to the role's ``hits`` level, the record is a masked hit;
   above it, denied (counted, never shown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from lianfang.policy.config import PolicyConfig, Reach, RoleReach, within
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level


class Effect(StrEnum):
    ALLOW = "allow"
    MASK = "mask"
    DENY = "deny"


class ScopeKind(StrEnum):
    """What a grant covers: listed records, or everything about a person, vehicle or case."""

    RECORDS = "records"  # keys: "<category>:<record id>"
    PERSON = "person"  # keys: citizen-ID blind-index digests (hex)
    VEHICLE = "vehicle"  # keys: normalised plates
    CASE = "case"  # keys: case numbers


@dataclass(frozen=True)
class Actor:
    """Who asks: a user with roles in a unit of the jurisdiction tree."""

    user_id: int
    roles: frozenset[Role]
    unit_code: str  # the unit's 6-digit division code (province 360000, city 360100, district 360102)

    @cached_property
    def province(self) -> bool:
        return len(self.unit_code) == 6 and self.unit_code.isdigit() and self.unit_code.endswith("0000")

    @cached_property
    def city_code(self) -> str | None:
        """The city of the user's unit; ``None`` for a malformed unit code."""
        code = self.unit_code
        if len(code) != 6 or not code.isdigit() or code.endswith("0000"):
            return None
        return code[:4] + "00"

    def owns(self, owner_city: str) -> bool:
        """True when data of ``owner_city`` is in the user's own jurisdiction."""
        if self.province:
            return owner_city[:2] == self.unit_code[:2]
        return self.city_code is not None and owner_city == self.city_code


@dataclass(frozen=True)
class Purpose:
    """Why data is requested: a purpose code from the policy, free text, and the case number."""

    code: str
    text: str = ""
    case_no: str | None = None


@dataclass(frozen=True)
class RecordRef:
    """What the decision needs to know about a record (never its personal values)."""

    category: str
    record_id: int
    city_code: str  # the owning city
    level: Level  # the record's classification: the standard's default or raised
    subjects: frozenset[tuple[ScopeKind, str]] = frozenset()

    def covered_by(self, kind: ScopeKind, keys: frozenset[str]) -> bool:
        if kind is ScopeKind.RECORDS:
            return f"{self.category}:{self.record_id}" in keys
        return any(k == kind and key in keys for k, key in self.subjects)


@dataclass(frozen=True)
class Grant:
    """An approved access grant, as the decision sees it."""

    id: int
    holder_id: int
    approver_id: int
    approver_role: Role
    city_code: str  # the owning city whose data it opens
    level: Level  # opens data up to this level
    purpose: str
    case_no: str
    scope: ScopeKind
    keys: frozenset[str]
    starts_ms: int
    expires_ms: int
    revoked_ms: int | None = None


@dataclass(frozen=True)
class Decision:
    effect: Effect
    reason: str
    level: Level
    grant_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


def effective_level(record_level: Level, field_level: Level) -> Level:
    """A value is as secret as the more secret of its record and its field."""
    return record_level if record_level.rank >= field_level.rank else field_level


def _widest(a: Reach, b: Reach) -> Reach:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.rank >= b.rank else b


def actor_reach(config: PolicyConfig, actor: Actor, owner_city: str) -> RoleReach:
    """The union of the actor's roles' reaches over ``owner_city``'s data."""
    own: Reach = None
    other: Reach = None
    hits: Reach = None
    for role in actor.roles:
        r = config.reach(role, owner_city)
        own, other, hits = _widest(own, r.own), _widest(other, r.other), _widest(hits, r.hits)
    return RoleReach(own, other, hits)


def purpose_problem(config: PolicyConfig, purpose: Purpose | None, level: Level) -> str | None:
    """Why ``purpose`` is not enough for data at ``level`` (a reason code), or None."""
    if purpose is None or not purpose.code:
        return "deny.purpose_missing"
    if purpose.code not in config.purposes:
        return "deny.purpose_unknown"
    if level.at_least(config.case_number_from) and not (purpose.case_no or "").strip():
        return "deny.case_number_required"
    return None


def _grant_problem(
    config: PolicyConfig, actor: Actor, record: RecordRef, level: Level, purpose: Purpose, g: Grant, now_ms: int
) -> str | None:
    """Why grant ``g`` does not open this value (a reason code), or None when it does."""
    if g.holder_id != actor.user_id or g.city_code != record.city_code:
        return "grant.other"
    if not record.covered_by(g.scope, g.keys):
        return "grant.other"
    if g.purpose != purpose.code or g.case_no != (purpose.case_no or "").strip():
        return "grant.other_purpose"
    if not g.level.at_least(level):
        return "grant.level_too_low"
    if g.approver_id == g.holder_id or g.approver_role not in config.approver_roles(g.level, record.city_code):
        return "grant.approver_not_authorised"
    if g.revoked_ms is not None and g.revoked_ms <= now_ms:
        return "grant.revoked"
    if now_ms < g.starts_ms:
        return "grant.not_started"
    if now_ms >= g.expires_ms:
        return "grant.expired"
    return None


# The most telling reason wins when several grants fail: one that nearly applied
# (expired, revoked) explains more than one for another record.
_GRANT_REASON_ORDER = (
    "grant.revoked",
    "grant.expired",
    "grant.not_started",
    "grant.approver_not_authorised",
    "grant.level_too_low",
    "grant.other_purpose",
    "grant.other",
)


def decide(
    config: PolicyConfig,
    actor: Actor,
    record: RecordRef,
    field_level: Level,
    purpose: Purpose | None,
    grants: Iterable[Grant] = (),
    now_ms: int = 0,
) -> Decision:
    """Allow, mask or deny one value (see the module docstring for the order of checks)."""
    level = effective_level(record.level, field_level)
    if not actor.roles or (actor.city_code is None and not actor.province):
        return Decision(Effect.DENY, "deny.unknown_actor", level)
    if len(record.city_code) != 6 or not record.city_code.isdigit():
        return Decision(Effect.DENY, "deny.unknown_owner", level)
    reach = actor_reach(config, actor, record.city_code)
    if reach.own is None and reach.other is None and reach.hits is None:
        return Decision(Effect.DENY, "deny.no_data_access", level)
    problem = purpose_problem(config, purpose, level)
    if problem is not None:
        return Decision(Effect.DENY, problem, level)
    assert purpose is not None
    own = actor.owns(record.city_code)
    if within(level, reach.own if own else reach.other):
        return Decision(Effect.ALLOW, "allow.own" if own else "allow.other", level)
    failures: set[str] = set()
    for g in grants:
        why = _grant_problem(config, actor, record, level, purpose, g, now_ms)
        if why is None:
            return Decision(Effect.ALLOW, "allow.grant", level, g.id)
        failures.add(why)
    if within(level, reach.hits):
        why_not = next((r for r in _GRANT_REASON_ORDER if r in failures and r != "grant.other"), None)
        return Decision(Effect.MASK, f"mask.{why_not.split('.', 1)[1]}" if why_not else "mask.no_grant", level)
    return Decision(Effect.DENY, "deny.above_hits", level)


__all__ = [
    "Actor",
    "Decision",
    "Effect",
    "Grant",
    "Purpose",
    "RecordRef",
    "ScopeKind",
    "actor_reach",
    "decide",
    "effective_level",
    "purpose_problem",
]
