"""The rules for adding a watch-list entry: what is refused, what a grant opens, expiry, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from watch_world import (  # registered by conftest.py
    BINJIANG,
    CASE,
    DAY,
    PERSON_ID,
    PLATE,
    PURPOSE,
    QINGHE,
    YUNZHOU,
    add_plate,
    events,
    grant,
    now_ms,
    user,
)

from lianfang.access.projection import person_key
from lianfang.identity.directory import User
from lianfang.platform import Platform
from lianfang.policy.decision import Purpose, ScopeKind
from lianfang.watch import WatchError


def refused(platform: Platform, who: User, **kw: object) -> WatchError:
    args: dict[str, object] = {"kind": "plate", "subject": PLATE, "reason": "嫌疑车辆", "purpose": PURPOSE,
                               "scope": [BINJIANG], "expires_at": now_ms() + DAY, "now_ms": now_ms()}
    args.update(kw)
    with pytest.raises(WatchError) as info:
        platform.watch.entries.add(who, **args)  # type: ignore[arg-type]
    return info.value


def test_an_own_city_plate_is_watched_without_a_grant(platform: Platform, inv: User) -> None:
    entry = add_plate(platform, inv, plate="赣a·7q777")
    assert entry.subject_key == PLATE and entry.scope == (BINJIANG,) and entry.grant_ids == ()
    assert entry.live(now_ms()) and entry.case_no == CASE
    (ev,) = events(platform, "watch.add")
    assert ev["outcome"] == "ok" and ev["target"] == [f"watch:{entry.id}"] and ev["case_no"] == CASE
    assert ev["detail"]["plate"] == PLATE and ev["detail"]["cities"] == [BINJIANG]


def test_an_empty_scope_is_refused(platform: Platform, inv: User) -> None:
    err = refused(platform, inv, scope=[])
    assert err.reason == "watch.scope_empty"
    (ev,) = events(platform, "watch.add")
    assert ev["outcome"] == "denied" and ev["detail"]["reason"] == "watch.scope_empty"


def test_a_missing_case_number_reason_or_purpose_is_refused(platform: Platform, inv: User) -> None:
    assert refused(platform, inv, purpose=Purpose("case_investigation", "", None)).reason == "watch.case_number_missing"
    assert refused(platform, inv, purpose=Purpose("case_investigation", "", "  ")).reason == "watch.case_number_missing"
    assert refused(platform, inv, reason=" ").reason == "watch.reason_missing"
    assert refused(platform, inv, purpose=Purpose("curiosity", "", CASE)).reason == "watch.purpose_unknown"
    assert refused(platform, inv, subject="not a plate").reason == "watch.subject"
    assert refused(platform, inv, kind="phone").reason == "watch.kind"
    assert refused(platform, inv, scope=["3601"]).reason == "watch.scope_city"
    assert refused(platform, inv, scope=["360102"]).reason == "watch.scope_city"


def test_expiry_must_be_in_the_future_and_within_the_maximum(platform: Platform, inv: User) -> None:
    assert refused(platform, inv, expires_at=now_ms() - 1).reason == "watch.expiry"
    days = platform.settings.watch_max_days
    assert refused(platform, inv, expires_at=now_ms() + (days + 1) * DAY).reason == "watch.expiry"
    add_plate(platform, inv, days=days - 1)


def test_another_citys_scope_without_a_grant_is_refused_with_the_request_to_file(
        platform: Platform, inv: User) -> None:
    err = refused(platform, inv, scope=[BINJIANG, YUNZHOU])
    assert err.kind == "needs_grant" and err.reason == "watch.needs_grant"
    assert err.extra["cities"] == [YUNZHOU]
    assert err.extra["request_access"] == [{
        "owner_city": YUNZHOU, "level": "sensitive", "scope": "vehicle", "keys": [PLATE],
        "purpose": "case_investigation", "case_no": CASE, "why": "mask.no_grant"}]
    assert YUNZHOU in str(err)
    (ev,) = events(platform, "watch.add")
    assert ev["outcome"] == "denied" and ev["detail"]["cities"] == [YUNZHOU]
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM watch_entry")).scalar() == 0


def test_the_request_prefill_is_accepted_by_the_access_flow_and_its_grant_opens_the_scope(
        platform: Platform, inv: User, appr: User) -> None:
    err = refused(platform, inv, scope=[BINJIANG, YUNZHOU])
    (pre,) = err.extra["request_access"]
    req = platform.approvals.request(inv, owner_city=pre["owner_city"], level=platform.watch.entries.floor,
                                     scope=ScopeKind(pre["scope"]), keys=pre["keys"],
                                     purpose=Purpose(pre["purpose"], "", pre["case_no"]), hours=24, now_ms=now_ms())
    g = platform.approvals.approve(appr, req.id, reason="", now_ms=now_ms())
    entry = add_plate(platform, inv, scope=[BINJIANG, YUNZHOU])
    assert entry.grant_ids == (g.id,) and entry.scope == (BINJIANG, YUNZHOU)
    ev = events(platform, "watch.add")[-1]
    assert ev["outcome"] == "ok" and ev["grant_id"] == g.id


def test_a_grant_for_another_case_plate_or_city_does_not_count(platform: Platform, inv: User, appr: User) -> None:
    grant(platform, inv, appr, YUNZHOU, ScopeKind.VEHICLE, [PLATE], purpose=Purpose("case_investigation", "",
                                                                                      "A3601002026119999"))
    grant(platform, inv, appr, YUNZHOU, ScopeKind.VEHICLE, ["赣B12345"])
    grant(platform, inv, appr, QINGHE, ScopeKind.VEHICLE, [PLATE])
    err = refused(platform, inv, scope=[YUNZHOU, QINGHE])
    assert err.extra["cities"] == [YUNZHOU]


def test_a_revoked_grant_no_longer_opens_a_new_entry(platform: Platform, inv: User, appr: User) -> None:
    g = grant(platform, inv, appr, YUNZHOU, ScopeKind.VEHICLE, [PLATE])
    platform.approvals.revoke(appr, g.id, reason="", now_ms=now_ms())
    err = refused(platform, inv, scope=[YUNZHOU])
    assert err.extra["request_access"][0]["why"] == "mask.revoked"


def test_every_city_is_the_default_scope(platform: Platform, inv: User) -> None:
    cities = platform.city_codes()
    assert len(cities) >= 16 and BINJIANG in cities
    err = refused(platform, inv, scope=None)
    assert err.extra["cities"] == [c for c in cities if c != BINJIANG]


def test_roles_that_read_no_sightings_may_not_watch(platform: Platform) -> None:
    steward = user(platform, "bj_steward", role="steward")
    err = refused(platform, steward)
    assert err.kind == "forbidden" and err.reason == "watch.no_data_access" and err.extra["cities"] == [BINJIANG]
    auditor = user(platform, "auditor", unit="360000", role="auditor")
    assert refused(platform, auditor).reason == "watch.no_data_access"


def test_a_person_is_kept_as_a_blind_index_never_in_clear(platform: Platform) -> None:
    yz = user(platform, "yz_inv", unit="360202")
    entry = platform.watch.entries.add(yz, kind="person", subject=f" {PERSON_ID} ", reason="在逃人员",
                                       purpose=PURPOSE, scope=[YUNZHOU], expires_at=now_ms() + DAY, now_ms=now_ms())
    assert entry.subject_key == person_key(platform.blind, PERSON_ID)
    with platform.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM watch_entry")).one()
        trail = conn.execute(text("SELECT target, detail FROM audit_event")).all()
    assert PERSON_ID not in repr(tuple(row)) and PERSON_ID not in repr(trail)
    (ev,) = events(platform, "watch.add")
    assert ev["detail"]["person_digest"] == entry.subject_key
    rows = platform.watch.entries.rows(yz)
    assert platform.watch.entries.subject_shown(rows[0]) == "360202********0013"


def test_removing_ends_an_entry_and_only_its_owner_may(platform: Platform, inv: User) -> None:
    entry = add_plate(platform, inv)
    other = user(platform, "bj_inv2")
    with pytest.raises(WatchError) as info:
        platform.watch.entries.remove(other, entry.id, now_ms=now_ms())
    assert info.value.kind == "not_found"
    done = platform.watch.entries.remove(inv, entry.id, now_ms=now_ms())
    assert done.status == "removed" and not done.live(now_ms())
    with pytest.raises(WatchError):
        platform.watch.entries.remove(inv, entry.id, now_ms=now_ms())
    outcomes = [(e["outcome"], e["user_id"]) for e in events(platform, "watch.remove")]
    assert outcomes == [("denied", other.id), ("ok", inv.id), ("denied", inv.id)]


def test_entries_past_their_expiry_are_marked_expired(platform: Platform, inv: User) -> None:
    entry = add_plate(platform, inv, days=1)
    assert platform.watch.entries.expire(now_ms()) == []
    assert platform.watch.entries.expire(now_ms() + 2 * DAY) == [entry.id]
    assert platform.watch.entries.get(inv, entry.id).status == "expired"
    (ev,) = events(platform, "watch.expire")
    assert ev["target"] == [f"watch:{entry.id}"]


def test_a_user_holds_a_bounded_number_of_entries(platform: Platform, inv: User) -> None:
    platform.watch.entries.max_entries = 2
    add_plate(platform, inv)
    add_plate(platform, inv, plate="赣B12345")
    assert refused(platform, inv, subject="赣C12345").reason == "watch.too_many"
