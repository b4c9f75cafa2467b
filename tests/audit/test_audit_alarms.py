"""Seeded misuse raises every alarm, with evidence; ordinary use in working hours raises none."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from lianfang.audit import AuditEvent, AuditUnavailable
from lianfang.audit.alarms import RULES, AlarmConfigError, load_alarm_config, parse_alarm_config
from lianfang.crypto import BlindIndex
from lianfang.identity.directory import family_digest
from lianfang.platform import Platform

SH = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000
MIN = 60_000
# Monday 2026-11-30, 10:00 in Shanghai: inside working hours
MONDAY_10 = int(datetime(2026, 11, 30, 10, 0, tzinfo=SH).timestamp() * 1000)
PASSWORD = "Test-Password-2026"


def user(platform: Platform, name: str, role: str = "investigator", created: int = MONDAY_10 - 30 * DAY) -> int:
    platform.directory.add(name, display_name=name, unit_code="360100", unit_name="滨江", roles=[role],
                           now_ms=created, password=PASSWORD)
    u = platform.directory.get(name)
    assert u is not None
    return u.id


def view(uid: int, at: int, target: str = "person:1", *, outcome: str = "allow", case: str | None = "A1",
         action: str = "data.view", rows: int = 1, **detail: object) -> AuditEvent:
    return AuditEvent(action=action, outcome=outcome, at_ms=at, user_id=uid, username=f"u{uid}",
                      unit_code="360100", role="investigator", target=(target,), purpose="case_investigation",
                      case_no=case, result_count=rows, client="127.0.0.1", detail={"level": "sensitive", **detail})


def alarms(platform: Platform) -> dict[str, list[dict[str, object]]]:
    platform.alarm_worker.drain()
    out: dict[str, list[dict[str, object]]] = {}
    for a in platform.alarms.list(status=None, limit=100_000):
        out.setdefault(str(a["rule"]), []).append(a)
    return out


def test_seeded_misuse_raises_every_alarm(platform: Platform) -> None:
    audit = platform.audit
    a, b = user(platform, "misuser"), user(platform, "peer_one")
    others = [user(platform, f"curious_{i}") for i in range(5)]
    # volume: 10 reads a day for two weeks, peers 20 a day, then 260 reads today
    history = [view(a, MONDAY_10 - d * DAY + i * MIN, f"person:{1000 + i}") for d in range(1, 15) for i in range(10)]
    history += [view(b, MONDAY_10 - d * DAY + i * MIN, f"person:{2000 + i}") for d in range(1, 15) for i in range(20)]
    audit.append(history)
    audit.append([view(a, MONDAY_10 + i * 100, f"person:{3000 + i}") for i in range(260)])
    # after hours: Sunday 23:30
    sunday_night = int(datetime(2026, 11, 29, 23, 30, tzinfo=SH).timestamp() * 1000)
    audit.record(view(b, sunday_night))
    # repeated denials: five in four minutes
    audit.append([view(b, MONDAY_10 + 3 * 3_600_000 + i * MIN, outcome="denied") for i in range(5)])
    # a person looked up under a case number no case carries
    audit.record(view(b, MONDAY_10 + 4 * 3_600_000, "person:55", case="A9999999999999999"))
    # bulk export
    audit.record(view(b, MONDAY_10 + 5 * 3_600_000, "export:7", action="data.export", rows=5000))
    # a protected person (a record raised to top secret), even when the read was refused
    audit.record(view(b, MONDAY_10 + 6 * 3_600_000, "person:66", outcome="hidden", level="top_secret"))
    # one subject, many users in a day
    audit.append([view(u, MONDAY_10 + 7 * 3_600_000 + i * MIN, "person:77") for i, u in enumerate(others)])
    # looking up oneself, and one's family
    blind = BlindIndex(platform.keyring)
    platform.directory.set_identity("peer_one", blind, citizen_id="11010519491231002X", name="张三",
                                    address="岚江省滨江市江南区1号")
    mine = blind.digest("citizen_id", "11010519491231002X").hex()
    family = family_digest(blind, "张四", "岚江省滨江市江南区1号").hex()
    audit.record(view(b, MONDAY_10 + 8 * 3_600_000, "person:88", person_digest=mine))
    audit.record(view(b, MONDAY_10 + 8 * 3_600_000 + MIN, "person:89", person_digest="00", family_digest=family))
    # a dormant account signs in again after 200 days
    sleeper = user(platform, "sleeper", created=MONDAY_10 - 200 * DAY)
    audit.record(AuditEvent(action="auth.sign_in", outcome="ok", at_ms=MONDAY_10, user_id=sleeper))
    # the trail cannot be written
    platform.alarm_worker.drain()  # the rules read the trail: let them finish before it goes away
    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    with pytest.raises(AuditUnavailable):
        platform.audit.record(view(b, MONDAY_10 + 9 * 3_600_000))
    with platform.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))

    found = alarms(platform)
    assert set(found) == set(RULES), sorted(set(RULES) - set(found))
    vol = found["volume"][0]
    assert vol["user_id"] == a and vol["severity"] == "medium"
    assert vol["evidence"]["reads_today"] > vol["evidence"]["threshold"] >= 200  # type: ignore[index,operator]
    assert found["repeated_denials"][0]["evidence"]["denials"] == 5  # type: ignore[index]
    assert len(found["repeated_denials"]) == 1  # a burst is one alarm
    assert found["many_users_one_subject"][0]["subject"] == "person:77"
    assert {x["evidence"]["match"] for x in found["self_or_family"]} == {"self", "family"}  # type: ignore[index]
    assert found["dormant_account"][0]["evidence"]["idle_days"] == 200  # type: ignore[index]
    assert found["bulk_export"][0]["evidence"]["rows"] == 5000  # type: ignore[index]
    assert found["audit_failure"][0]["severity"] == "critical"
    assert any(x["user_id"] == b for x in found["after_hours"])  # weekend history and Sunday night


def test_ordinary_use_raises_nothing(platform: Platform) -> None:
    """Working hours, modest volume, allowed reads, a handful of users: no alarm (except unknown cases)."""
    audit = platform.audit
    staff = [user(platform, f"officer_{i}") for i in range(4)]
    weekdays = [d for d in range(0, 14) if datetime.fromtimestamp((MONDAY_10 - d * DAY) / 1000, SH).isoweekday() <= 5]
    events = [
        view(uid, MONDAY_10 - d * DAY + i * 7 * MIN, f"person:{uid * 100 + i}")
        for d in weekdays for uid in staff for i in range(15)
    ]  # fmt: skip
    audit.append(events)
    found = alarms(platform)
    # every ordinary read here names case A1, which no case record carries in this empty store
    assert set(found) <= {"no_case_link"}
    assert all(x["severity"] == "medium" for x in found.get("no_case_link", []))


def test_disposition_closes_an_alarm(platform: Platform) -> None:
    b = user(platform, "nightowl")
    sunday_night = int(datetime(2026, 11, 29, 23, 30, tzinfo=SH).timestamp() * 1000)
    platform.audit.record(view(b, sunday_night))
    alarm = alarms(platform)["after_hours"][0]
    assert platform.alarms.dispose(int(alarm["id"]), status="false_positive", note="值班", by_user=1, at_ms=1)
    assert platform.alarms.list(status="open", rule="after_hours") == []
    assert not platform.alarms.dispose(int(alarm["id"]), status="confirmed", note="", by_user=1, at_ms=2)
    with pytest.raises(ValueError):
        platform.alarms.dispose(int(alarm["id"]), status="ignored", note="", by_user=1, at_ms=3)


def test_an_open_alarm_holds_back_repeats_until_it_is_disposed_of(platform: Platform) -> None:
    b = user(platform, "nightowl")
    sunday_night = int(datetime(2026, 11, 29, 23, 30, tzinfo=SH).timestamp() * 1000)
    platform.audit.append([view(b, sunday_night + i * MIN) for i in range(3)])
    assert len(alarms(platform)["after_hours"]) == 1  # one night of reading is one alarm
    first = alarms(platform)["after_hours"][0]
    assert platform.alarms.dispose(int(first["id"]), status="confirmed", note="核实", by_user=1, at_ms=1)
    platform.audit.record(view(b, sunday_night + 10 * MIN))  # disposed of: the next read raises again
    again = alarms(platform)["after_hours"]
    assert len(again) == 2 and {a["status"] for a in again} == {"confirmed", "open"}


def test_a_busy_day_raises_one_volume_alarm_with_the_day_s_count(platform: Platform) -> None:
    a = user(platform, "busy")
    audit = platform.audit
    audit.append([view(a, MONDAY_10 + i * 100, f"person:{i}") for i in range(150)])
    audit.append([view(a, MONDAY_10 + i * 100, f"person:{i}", action="auth.whoami") for i in range(150, 300)])
    assert "volume" not in alarms(platform)  # 150 reads (the rest are not data reads): below the floor of 200
    audit.append([view(a, MONDAY_10 + i * 100, f"person:{i}") for i in range(300, 700)])
    found = alarms(platform)["volume"]
    assert len(found) == 1
    assert found[0]["evidence"]["reads_today"] == 201  # type: ignore[index]  # raised by the read that passed 200


def test_alarm_rules_are_configurable_and_checked() -> None:
    cfg = load_alarm_config()
    assert all(cfg.on(r) for r in RULES)
    with pytest.raises(AlarmConfigError, match="unknown rule"):
        parse_alarm_config({"version": 1, "working_hours": {"start": "08:00", "end": "20:00", "weekdays": [1]},
                            "rules": {"looked_funny": {}}})
    with pytest.raises(AlarmConfigError, match="unknown keys"):
        parse_alarm_config({"version": 1, "working_hours": {"start": "08:00", "end": "20:00", "weekdays": [1]},
                            "rules": {"volume": {"factr": 2}}})
    off = parse_alarm_config({"version": 1, "working_hours": {"start": "08:00", "end": "20:00", "weekdays": [1]},
                              "rules": {"volume": {"enabled": False}}})
    assert not off.on("volume") and not off.on("after_hours")  # a rule left out is off


def test_many_users_one_subject_reads_the_subject_index_and_prunes_it(platform: Platform) -> None:
    """The rule counts readers of a person from ``audit_subject`` (one subject's range), not by scanning the day."""
    audit, subjects = platform.audit, platform.metadata.tables["audit_subject"]
    readers = [user(platform, f"reader_{i}") for i in range(5)]
    audit.append([view(readers[i], MONDAY_10 + i * MIN, "person:501") for i in range(4)])
    with platform.engine.connect() as conn:  # written with the events, not later by the alarm thread
        noted = conn.execute(text("SELECT subject, user_id FROM audit_subject ORDER BY seq")).all()
    assert noted == [("person:501", uid) for uid in readers[:4]]
    # without the index rows the fifth reader is the first one the rule knows of: no alarm
    with platform.engine.begin() as conn:
        conn.execute(subjects.delete())
    audit.append([view(readers[4], MONDAY_10 + 5 * MIN, "person:501")])
    assert "many_users_one_subject" not in alarms(platform)
    # with them, the fifth reader raises it
    audit.append([view(readers[i], MONDAY_10 + 6 * MIN + i, "person:502") for i in range(5)])
    (raised,) = alarms(platform)["many_users_one_subject"]
    assert raised["subject"] == "person:502" and raised["evidence"]["users"] == 5  # type: ignore[index]
    # the first event of a later day forgets what is older than twice the window
    audit.append([view(readers[0], MONDAY_10 + 3 * DAY, "person:503")])
    platform.alarm_worker.drain()
    with platform.engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT subject FROM audit_subject"))] == ["person:503"]


def test_the_upgrade_fills_the_subject_index_from_the_last_two_days(tmp_path: Path) -> None:
    """Trails from before the index keep raising the alarm across the upgrade."""
    import time

    from alembic import command

    from lianfang.audit import Audit
    from lianfang.audit.alarms import AlarmEngine, UserFacts
    from lianfang.crypto import create_key_file
    from lianfang.standard import load_standard
    from lianfang.store.engine import alembic_config, make_engine, migrate
    from lianfang.store.schema import build_metadata

    url = f"sqlite:///{(tmp_path / 'old.db').as_posix()}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0011")
    metadata = build_metadata(load_standard())
    now = int(time.time() * 1000)
    rules = AlarmEngine(engine, metadata, load_alarm_config(), SH,
                        lambda uid: UserFacts("investigator", now - 30 * DAY, None, None))
    audit = Audit(engine, create_key_file(tmp_path / "k.key"), metadata)
    audit.append([view(10 + i, now - 3_600_000 + i * MIN, "person:77") for i in range(4)])
    audit.append([view(20, now - 3 * DAY, "person:77")])  # outside the backfill
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT subject, user_id FROM audit_subject ORDER BY seq")).all()
    assert rows == [("person:77", 10 + i) for i in range(4)]
    audit = Audit(engine, audit.keyring, metadata, subjects=rules.subjects_of)  # as the platform wires it
    (seq,) = audit.append([view(99, now, "person:77")])
    assert "many_users_one_subject" in rules.observe(seq, view(99, now, "person:77"))
    engine.dispose()
