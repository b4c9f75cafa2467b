"""The audit trail: appends, group commit, refusal of personal data, fail closed, retention."""

from __future__ import annotations

import re
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from lianfang.audit import (
    Audit,
    AuditEvent,
    AuditEventRefused,
    AuditUnavailable,
    GroupCommitter,
    PersonalDataInAudit,
    RetentionError,
)
from lianfang.audit.event import looks_personal
from lianfang.audit.trail import AuditTrail
from lianfang.platform import Platform
from lianfang.store.schema import build_metadata

DAY = 86_400_000


def event(i: int = 0, *, at_ms: int | None = None, **kw: object) -> AuditEvent:
    base: dict[str, object] = {
        "action": "data.search",
        "outcome": "ok",
        "at_ms": at_ms if at_ms is not None else int(time.time() * 1000),
        "user_id": 1 + i % 3,
        "username": f"bj_inv_{i % 3}",
        "unit_code": "360100",
        "role": "investigator",
        "target": (f"person:{i}", "bidx:9f3a0c1d2e"),
        "purpose": "case_investigation",
        "case_no": "A3601002026110001",
        "result_count": i % 7,
        "client": "127.0.0.1",
        "detail": {"reasons": ["allow.own"]},
    }
    base.update(kw)
    return AuditEvent(**base)  # type: ignore[arg-type]


def count(platform: Platform) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(platform.audit.events)).scalar_one())


def test_appends_are_numbered_and_verify(platform: Platform) -> None:
    audit = platform.audit
    assert audit.append([event(i) for i in range(30)]) == list(range(1, 31))
    assert audit.record(event(30)) == 31
    report = audit.verify()
    assert report.ok, report.problems
    assert (report.records, report.first_seq, report.last_seq) == (31, 1, 31)


def test_an_empty_trail_verifies(platform: Platform) -> None:
    report = platform.audit.verify()
    assert report.ok and report.records == 0


def test_group_commit_serves_concurrent_callers(platform: Platform) -> None:
    committer = GroupCommitter(platform.audit.trail, max_batch=64)
    got: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(40):
            seq = committer.record(event(k * 100 + i))
            with lock:
                got.append(seq)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committer.close()
    assert sorted(got) == list(range(1, 241))
    assert platform.audit.verify().ok


def test_trails_of_several_processes_append_side_by_side_under_load(platform: Platform) -> None:
    """Two appenders (as two server processes, or the server and the command line, have) write at once.

    Each keeps its own connection and its own idea of the head, so they collide on the
    sequence number; every caller's event must still be stored, none refused, and the
    alarm rules' subject index row of each event stored with it, under its number.
    """
    trails = [platform.audit.trail,
              Audit(platform.engine, platform.keyring, platform.metadata, subjects=platform.alarms.subjects_of).trail]
    committers = [GroupCommitter(trail, max_batch=64) for trail in trails]
    got: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(committer: GroupCommitter, k: int) -> None:
        for i in range(60):
            try:
                seq = committer.record(event(k * 1000 + i))
            except AuditUnavailable as exc:
                with lock:
                    failures.append(exc)
                continue
            with lock:
                got.append(seq)

    threads = [threading.Thread(target=worker, args=(c, j * 10 + k)) for j, c in enumerate(committers)
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in committers:
        c.close()
    assert failures == []
    assert sorted(got) == list(range(1, 2 * 8 * 60 + 1))  # every event stored once, numbered without gaps
    report = platform.audit.verify()
    assert report.ok and report.records == 2 * 8 * 60, report.problems
    with platform.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT seq, target FROM audit_event")).all())
        index = conn.execute(text("SELECT seq, subject FROM audit_subject")).all()
    assert len(index) == len(stored)
    assert all(f'"{subject}"' in stored[seq] for seq, subject in index)


@pytest.mark.parametrize(
    "bad",
    [
        {"target": ("person:110105199003072316",)},  # an 18-digit citizen ID as a target
        {"username": "13812345678"},
        {"case_no": "110105900307231"},  # a 15-digit ID
        {"detail": {"query": "张三 110105199003072316"}},
        {"target": ("张三",)},  # not "<kind>:<id or digest>"
    ],
)
def test_personal_data_never_enters_the_trail(platform: Platform, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError) as info:
        platform.audit.append([event(1), event(2, **bad)])
    assert "110105" not in str(info.value) and "138123" not in str(info.value) and "张三" not in str(info.value)
    assert count(platform) == 0  # the whole batch is refused, nothing half-written
    if "target" not in bad or bad["target"] != ("张三",):
        assert isinstance(info.value, PersonalDataInAudit)


@pytest.mark.parametrize("bad", [
    {"case_no": "A36\ud800"},  # JSON's "\ud800" decodes to a lone surrogate, which has no UTF-8 form
    {"username": "x\udc80"},
    {"detail": {"note": "a\ud800b"}},
    {"detail": {"\udfff": 1}},
])
def test_text_without_a_utf8_form_is_refused_alone(platform: Platform, bad: dict[str, object]) -> None:
    """Such an event used to pass the check, join a batch and fail the batch's write: every caller sharing
    the commit was refused and the trail's failure alarm went off. Now only its own caller is refused."""
    failures: list[BaseException] = []
    platform.audit.trail._on_failure = failures.append
    with pytest.raises(AuditEventRefused, match="valid Unicode"):
        platform.audit.record(event(2, **bad))
    committer = GroupCommitter(platform.audit.trail)
    try:
        good = [committer.record(event(i)) for i in range(3)]
        with pytest.raises(AuditEventRefused):
            committer.record(event(9, **bad))
        good.append(committer.record(event(4)))
    finally:
        committer.close()
    assert good == [1, 2, 3, 4] and failures == []
    assert platform.audit.verify().ok


def test_case_numbers_and_digests_are_not_mistaken_for_personal_data(platform: Platform) -> None:
    ok = event(1, case_no="A3601002026110001", target=("bidx:5a0e" + "0" * 28, "sighting:123456789012"))
    assert platform.audit.record(ok) == 1


def test_a_failed_write_refuses_and_raises_the_alarm(platform: Platform, tmp_path: object) -> None:
    alarms: list[str] = []
    empty = create_engine(f"sqlite:///{tmp_path}/no-audit-tables.db")  # no schema: every write fails
    metadata = build_metadata(platform.standard)
    trail = AuditTrail(
        empty,
        platform.keyring,
        metadata.tables["audit_event"],
        metadata.tables["audit_checkpoint"],
        on_failure=lambda exc: alarms.append(type(exc).__name__),
    )
    with pytest.raises(AuditUnavailable, match="access refused"):
        trail.append([event(1)])
    assert alarms == ["OperationalError"]
    committer = GroupCommitter(trail)
    with pytest.raises(AuditUnavailable):
        committer.record(event(2))
    committer.close()
    assert len(alarms) == 2


def test_the_database_refuses_updates_and_early_deletes(platform: Platform) -> None:
    platform.audit.append([event(i) for i in range(3)])
    for sql in ("UPDATE audit_event SET outcome = 'denied' WHERE seq = 2", "DELETE FROM audit_event WHERE seq = 1"):
        with pytest.raises(DBAPIError, match=r"append-only|retention"), platform.engine.begin() as conn:
            conn.execute(text(sql))
    assert count(platform) == 3


def test_purge_keeps_a_year_and_leaves_a_verifiable_rest(platform: Platform) -> None:
    audit: Audit = platform.audit
    now = int(time.time() * 1000)
    old = [event(i, at_ms=now - 500 * DAY + i) for i in range(10)]
    recent = [event(i, at_ms=now - 10 * DAY + i) for i in range(5)]
    audit.append(old + recent)
    with pytest.raises(RetentionError, match="inside the retention"):
        audit.purge(now - 300 * DAY, at_ms=now)
    with pytest.raises(RetentionError, match="at least 366 days"):
        audit.purge(now - 500 * DAY, retention_days=180, at_ms=now)
    assert count(platform) == 15
    deleted, anchor = audit.purge(now - 400 * DAY, at_ms=now)
    assert deleted == 10 and anchor is not None and anchor.seq == 10
    report = audit.verify()
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq, report.records) == (11, 15, 5)
    assert audit.record(event(99)) == 16
    assert audit.verify().ok


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x1e\x1f"), max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.fixed_dictionaries({
        "user_id": st.none() | st.integers(0, 2**62),
        "username": st.none() | _TEXT.filter(lambda t: not any(c.isdigit() for c in t)),
        "role": st.none() | _TEXT,
        "case_no": st.none() | st.just("") | st.just("A1"),
        "grant_id": st.none() | st.integers(0, 2**40),
        "result_count": st.none() | st.integers(0, 10_000),
        "client": st.none() | st.just("::1"),
        "detail": st.dictionaries(_TEXT, _TEXT | st.integers(), max_size=3),
    }),
    at_ms=st.integers(0, 2**50),
)
def test_the_database_canonical_form_equals_the_appender_s(platform: Platform, fields: dict[str, object],
                                                           at_ms: int) -> None:
    """Verification rebuilds each record's canonical text in SQL; it must equal what was hashed."""
    try:
        ev = AuditEvent(action="data.view", outcome="ok", at_ms=at_ms, **fields).checked()  # type: ignore[arg-type]
    except ValueError:
        return  # refused as possibly personal: nothing to store
    platform.audit.append([ev])
    report = platform.audit.verify()
    assert report.ok, report.problems[:2]


def test_framing_characters_are_refused(platform: Platform) -> None:
    for bad in ("a\x1fb", "a\x1eb", "a\x00b"):
        with pytest.raises(ValueError, match="control characters"):
            platform.audit.append([event(1, username=bad)])


def test_digests_and_sealed_values_are_not_mistaken_for_ids(platform: Platform) -> None:
    """A hex digest or base64 ciphertext can hold 15 digits in a row by chance; it is not an ID."""
    digest = "619000a99512bc8d580457124975615b"  # holds "580457124975615", seen in a real run
    ev = event(1, target=("person:42", f"bidx:{digest}"),
               detail={"person_digest": digest, "reason_enc": "QUJDMTEwMTA1MTk0OTEyMzEwMDJY"})
    assert platform.audit.record(ev) == 1
    with pytest.raises(PersonalDataInAudit):
        platform.audit.record(event(2, detail={"note": "嫌疑人 110105194912310021"}))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16))
def test_no_digest_is_refused(raw: bytes) -> None:
    AuditEvent(action="data.view", outcome="allow", at_ms=1, target=(f"bidx:{raw.hex()}",),
               detail={"person_digest": raw.hex(), "family_digest": raw[::-1].hex()}).checked()


# The pattern the trail has always refused: a citizen ID or a mobile, not inside a longer digit run.
PERSONAL_PATTERN = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9})(?![0-9])")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text("0123456789", min_size=9, max_size=20),
                          st.sampled_from(["X", "x", "A", ":", "\n", "一"]),
                          st.just("13812345678"), st.just("11010519491231002")), max_size=8))
def test_the_personal_data_check_is_the_pattern_it_replaces(parts: list[str]) -> None:
    text_ = "".join(parts)
    assert looks_personal(text_) == bool(PERSONAL_PATTERN.search(text_)), text_


def test_the_trails_own_connection_closes_with_the_engine_and_reopens(platform: Platform) -> None:
    """Appends use a connection of the trail's own; engine.dispose() closes it like every other one."""
    audit = platform.audit
    audit.append([event(1)])
    own = audit.trail._appender._raw
    assert own is not None
    platform.engine.dispose()
    assert audit.trail._appender._raw is None
    with pytest.raises(Exception):  # noqa: B017 - closed: each driver says so in its own words
        own.dbapi_connection.cursor().execute("SELECT 1")
    assert audit.append([event(2)]) == [2]  # a new connection, carrying on the chain
    assert audit.verify().ok


_JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(detail=st.dictionaries(_TEXT, _JSONABLE, max_size=4))
def test_the_stored_detail_is_the_standard_compact_sorted_json(detail: dict[str, object]) -> None:
    """What the trail stores (and hashes) for a detail: sorted, compact JSON with characters as they are."""
    import json

    ev = AuditEvent(action="data.view", outcome="ok", at_ms=1, detail=detail)
    stored = ev.row()["detail"]
    assert stored == json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert json.loads(stored) == detail


def test_details_the_fast_encoder_refuses_are_still_recorded(platform: Platform) -> None:
    ev = event(1, detail={"big": 2**70, "by_code": {3: "x", 1: "y"}})
    platform.audit.append([ev])
    assert ev.row()["detail"] == '{"big":1180591620717411303424,"by_code":{"1":"y","3":"x"}}'
    assert platform.audit.verify().ok
