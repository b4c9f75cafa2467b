"""The access decision: the shipped policy, cell by cell, and the grant rules."""

from __future__ import annotations

import itertools
from dataclasses import replace
from importlib import resources

import pytest
import yaml
from access_oracle import GRANT_STATES, expected  # registered by conftest.py
from hypothesis import given
from hypothesis import strategies as st

from lianfang.policy.config import PolicyConfig, load_policy, parse_policy
from lianfang.policy.decision import (
    Actor,
    Effect,
    Grant,
    Purpose,
    RecordRef,
    ScopeKind,
    decide,
)
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level

POLICY = load_policy()
BINJIANG, YUNZHOU = "360100", "360200"
NOW = 1_790_000_000_000
HOUR = 3_600_000
P, IN, S, T = Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.TOP_SECRET

ORDER = [P, IN, S, T]


def record(city: str = YUNZHOU, level: Level = S, rid: int = 7) -> RecordRef:
    return RecordRef(
        category="person",
        record_id=rid,
        city_code=city,
        level=level,
        subjects=frozenset({(ScopeKind.PERSON, "d1g35t")}),
    )


def actor(role: Role, city: str = BINJIANG, uid: int = 1) -> Actor:
    return Actor(user_id=uid, roles=frozenset({role}), unit_code=city)


def grant(state: str, *, level: Level = T, city: str = YUNZHOU, **kw: object) -> Grant:
    base = Grant(
        id=99,
        holder_id=1,
        approver_id=2,
        approver_role=Role.PROVINCE_APPROVER,
        city_code=city,
        level=level,
        purpose="case_investigation",
        case_no="A3601002026110001",
        scope=ScopeKind.PERSON,
        keys=frozenset({"d1g35t"}),
        starts_ms=NOW - HOUR,
        expires_ms=NOW + HOUR,
    )
    if state == "expired":
        base = replace(base, expires_ms=NOW - 1)
    elif state == "revoked":
        base = replace(base, revoked_ms=NOW - 1)
    return replace(base, **kw)  # type: ignore[arg-type]


PURPOSE = Purpose("case_investigation", "盗窃案串并", "A3601002026110001")

CELLS = list(itertools.product(Role, ORDER, (True, False), GRANT_STATES))


@pytest.mark.parametrize(("role", "level", "own", "state"), CELLS, ids=lambda v: str(v))
def test_access_matrix(role: Role, level: Level, own: bool, state: str) -> None:
    rec = record(city=BINJIANG if own else YUNZHOU, level=level)
    grants = [] if state == "none" else [grant(state, city=rec.city_code)]
    got = decide(POLICY, actor(role), rec, P, PURPOSE, grants, NOW)
    assert (got.effect, got.reason) == expected(role, level, own, state)
    assert got.grant_id == (99 if got.reason == "allow.grant" else None)


def test_province_unit_owns_every_city_of_the_province() -> None:
    hq = Actor(user_id=1, roles=frozenset({Role.OFFICER}), unit_code="360000")
    assert decide(POLICY, hq, record(YUNZHOU, IN), P, PURPOSE, (), NOW).reason == "allow.own"
    assert decide(POLICY, hq, record("440100", IN), P, PURPOSE, (), NOW).effect is Effect.MASK


def test_district_unit_belongs_to_its_city() -> None:
    officer = Actor(user_id=1, roles=frozenset({Role.OFFICER}), unit_code="360102")
    assert decide(POLICY, officer, record(BINJIANG, IN), P, PURPOSE, (), NOW).reason == "allow.own"


@pytest.mark.parametrize("unit", ["", "3601", "36010x", "9999999"])
def test_malformed_unit_gets_nothing(unit: str) -> None:
    who = Actor(user_id=1, roles=frozenset({Role.PROVINCE_APPROVER}), unit_code=unit)
    assert decide(POLICY, who, record(level=P), P, PURPOSE, (), NOW).reason == "deny.unknown_actor"


def test_no_roles_gets_nothing() -> None:
    who = Actor(user_id=1, roles=frozenset(), unit_code=BINJIANG)
    assert decide(POLICY, who, record(BINJIANG, P), P, PURPOSE, (), NOW).effect is Effect.DENY


def test_field_level_raises_the_value_above_its_record() -> None:
    got = decide(POLICY, actor(Role.INVESTIGATOR), record(YUNZHOU, IN), S, PURPOSE, (), NOW)
    assert (got.effect, got.level) == (Effect.MASK, S)


def test_raised_record_level_protects_every_field() -> None:
    witness = record(BINJIANG, T)  # a protected witness in the investigator's own city
    got = decide(POLICY, actor(Role.INVESTIGATOR), witness, P, PURPOSE, (), NOW)
    assert (got.effect, got.reason) == (Effect.DENY, "deny.above_hits")


@pytest.mark.parametrize(
    ("purpose", "level", "reason"),
    [
        (None, P, "deny.purpose_missing"),
        (Purpose(""), P, "deny.purpose_missing"),
        (Purpose("curiosity"), P, "deny.purpose_unknown"),
        (Purpose("case_investigation"), S, "deny.case_number_required"),
        (Purpose("case_investigation", case_no="   "), S, "deny.case_number_required"),
    ],
)
def test_requests_without_purpose_or_case_number_are_refused(
    purpose: Purpose | None, level: Level, reason: str
) -> None:
    got = decide(POLICY, actor(Role.PROVINCE_APPROVER), record(BINJIANG, level), P, purpose, (), NOW)
    assert (got.effect, got.reason) == (Effect.DENY, reason)


def test_internal_data_needs_no_case_number() -> None:
    got = decide(POLICY, actor(Role.OFFICER), record(BINJIANG, IN), P, Purpose("identity_check"), (), NOW)
    assert got.effect is Effect.ALLOW


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"holder_id": 5}, "mask.no_grant"),  # someone else's grant
        ({"city_code": "360300"}, "mask.no_grant"),  # another owner city
        ({"keys": frozenset({"other"})}, "mask.no_grant"),  # another person
        ({"keys": frozenset()}, "mask.no_grant"),  # an empty scope covers nothing
        ({"purpose": "dispatch"}, "mask.other_purpose"),
        ({"case_no": "A3601002026110002"}, "mask.other_purpose"),
        ({"level": IN}, "mask.level_too_low"),
        ({"approver_id": 1}, "mask.approver_not_authorised"),  # approved by the holder
        ({"approver_role": Role.INVESTIGATOR}, "mask.approver_not_authorised"),
        ({"starts_ms": NOW + 1}, "mask.not_started"),
        ({"expires_ms": NOW}, "mask.expired"),  # expiry takes effect at once
        ({"revoked_ms": NOW}, "mask.revoked"),  # so does revocation
    ],
)
def test_a_grant_opens_only_what_it_names(change: dict[str, object], reason: str) -> None:
    g = grant("valid", **{"level": S, **change})  # type: ignore[arg-type]
    got = decide(POLICY, actor(Role.INVESTIGATOR), record(YUNZHOU, S), P, PURPOSE, [g], NOW)
    assert (got.effect, got.reason) == (Effect.MASK, reason)


def test_top_secret_needs_a_province_approver() -> None:
    rec = record(YUNZHOU, T)
    by_city = grant("valid", approver_role=Role.CITY_APPROVER)
    got = decide(POLICY, actor(Role.INVESTIGATOR), rec, P, PURPOSE, [by_city], NOW)
    assert (got.effect, got.reason) == (Effect.DENY, "deny.above_hits")
    by_province = grant("valid")
    assert decide(POLICY, actor(Role.INVESTIGATOR), rec, P, PURPOSE, [by_province], NOW).reason == "allow.grant"


def test_records_scope_names_records_by_category_and_id() -> None:
    g = grant("valid", scope=ScopeKind.RECORDS, keys=frozenset({"person:7"}))
    assert decide(POLICY, actor(Role.INVESTIGATOR), record(rid=7), P, PURPOSE, [g], NOW).allowed
    assert not decide(POLICY, actor(Role.INVESTIGATOR), record(rid=8), P, PURPOSE, [g], NOW).allowed


def test_several_roles_read_the_union() -> None:
    both = Actor(user_id=1, roles=frozenset({Role.OFFICER, Role.DISPATCHER}), unit_code=BINJIANG)
    assert decide(POLICY, both, record(YUNZHOU, IN), P, PURPOSE, (), NOW).reason == "allow.other"


def _tightened(city_rules: dict[str, object]) -> PolicyConfig:
    raw = yaml.safe_load(resources.files("lianfang.policy").joinpath("policy.yaml").read_text(encoding="utf-8"))
    raw["cities"] = {YUNZHOU: city_rules}
    return parse_policy(raw)


def test_a_city_tightens_its_own_data_only() -> None:
    cfg = _tightened({"other": "public", "approvers": {"sensitive": ["province_approver"]}})
    inv = actor(Role.INVESTIGATOR)
    assert decide(cfg, inv, record(YUNZHOU, IN), P, PURPOSE, (), NOW).effect is Effect.MASK  # was allow.other
    assert decide(cfg, inv, record("360300", IN), P, PURPOSE, (), NOW).reason == "allow.other"
    city_grant = grant("valid", level=S, approver_role=Role.CITY_APPROVER)
    got = decide(cfg, inv, record(YUNZHOU, S), P, PURPOSE, [city_grant], NOW)
    assert got.reason == "mask.approver_not_authorised"


LEVEL_NAMES = st.sampled_from(["none", "public", "internal", "sensitive", "top_secret"])


@given(
    own=LEVEL_NAMES,
    other=LEVEL_NAMES,
    hits=LEVEL_NAMES,
    role=st.sampled_from(list(Role)),
    level=st.sampled_from(ORDER),
    field_level=st.sampled_from(ORDER),
    home=st.sampled_from([BINJIANG, YUNZHOU, "360000"]),
    state=st.sampled_from(GRANT_STATES),
)
def test_city_rules_never_widen_access(
    own: str, other: str, hits: str, role: Role, level: Level, field_level: Level, home: str, state: str
) -> None:
    rank = {Effect.DENY: 0, Effect.MASK: 1, Effect.ALLOW: 2}
    try:
        cfg = _tightened({"own": own, "other": other, "hits": hits})
    except ValueError:
        return  # refused as a loosening: nothing to compare
    who = actor(role, home)
    rec = record(YUNZHOU, level)
    grants = [] if state == "none" else [grant(state)]
    before = decide(POLICY, who, rec, field_level, PURPOSE, grants, NOW)
    after = decide(cfg, who, rec, field_level, PURPOSE, grants, NOW)
    assert rank[after.effect] <= rank[before.effect]


CITIES = [BINJIANG, YUNZHOU, "360300"]
SUBJECTS = [(ScopeKind.PERSON, "d1g35t"), (ScopeKind.VEHICLE, "赣A12345"), (ScopeKind.CASE, "A3601002026110001")]
GrantSpec = tuple[str, ScopeKind, tuple[ScopeKind, str], str, Level]  # city, scope, subject, state, level
#: a reader (role, home city), a record (owner city, level, subjects), a field level and 0-4 grants of any kind
READERS = {
    "role": st.sampled_from(list(Role)),
    "home": st.sampled_from([*CITIES, "360000"]),
    "owner": st.sampled_from(CITIES),
    "level": st.sampled_from(ORDER),
    "field_level": st.sampled_from(ORDER),
    "subjects": st.frozensets(st.sampled_from(SUBJECTS)),
    "grants": st.lists(st.tuples(st.sampled_from(CITIES), st.sampled_from(list(ScopeKind)), st.sampled_from(SUBJECTS),
                                 st.sampled_from(GRANT_STATES[1:]), st.sampled_from(ORDER)), max_size=4),
}


def held_grants(specs: list[GrantSpec], *, except_city: str | None = None) -> tuple[Grant, ...]:
    """The grants ``specs`` describe (a record-scoped one names record person:7), leaving out ``except_city``'s."""
    return tuple(grant(state, city=city, scope=scope, level=glevel,
                       keys=frozenset({key if scope is not ScopeKind.RECORDS else "person:7"}))
                 for city, scope, (_, key), state, glevel in specs if city != except_city)


@given(**READERS)
def test_a_records_subjects_only_matter_in_the_cities_its_subject_grants_open(
    role: Role, home: str, owner: str, level: Level, field_level: Level,
    subjects: frozenset[tuple[ScopeKind, str]], grants: list[GrantSpec],
) -> None:
    """``Reading.subject_cities`` lets projection skip working out subjects (a decryption per row for some
    categories) for records of other cities: for those, no grant can change its answer through them."""
    from lianfang.access.projection import Reading
    from lianfang.identity.directory import User

    held = held_grants(grants)
    who = actor(role, home)
    user = User(1, "u", "u", home, home, frozenset({role}), False, "active", False, 0, 0, None)
    reading = Reading(user, who, PURPOSE, held, NOW)
    full = RecordRef("person", 7, owner, level, subjects)
    if owner in reading.subject_cities:
        return  # here the subjects are worked out
    lean = replace(full, subjects=frozenset())
    assert decide(POLICY, who, full, field_level, PURPOSE, held, NOW) == decide(
        POLICY, who, lean, field_level, PURPOSE, held, NOW)


@given(**READERS)
def test_grants_for_other_cities_never_change_a_decision(
    role: Role, home: str, owner: str, level: Level, field_level: Level,
    subjects: frozenset[tuple[ScopeKind, str]], grants: list[GrantSpec],
) -> None:
    """What lets projection make one decision per (city, record level, field level) and request for the
    records of cities none of the reader's grants is for (``Projector.decide``)."""
    held = held_grants(grants, except_city=owner)
    who = actor(role, home)
    rec = RecordRef("person", 7, owner, level, subjects)
    other = RecordRef("sighting", 8, owner, level, frozenset())  # another record, even of another category
    assert decide(POLICY, who, rec, field_level, PURPOSE, held, NOW) == decide(
        POLICY, who, other, field_level, PURPOSE, (), NOW)
