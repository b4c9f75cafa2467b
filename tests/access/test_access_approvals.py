"""Access requests → routing → decisions → grants, expiry and revocation; a state-machine check."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import text

from lianfang.access import AccessError
from lianfang.identity import User
from lianfang.platform import Platform
from lianfang.policy.decision import Effect, Purpose, RecordRef, ScopeKind, decide
from lianfang.settings import Settings
from lianfang.standard.levels import Level

T0 = 1_790_000_000_000
HOUR = 3_600_000
PURPOSE = Purpose("case_investigation", "追查盗窃案嫌疑人张三的落脚点", "A3601002026110001")
PASSWORD = "Test-Password-2026"

STAFF = {
    "bj_inv": ("investigator", "360100"),
    "bj_inv2": ("investigator", "360102"),
    "bj_appr": ("city_approver", "360100"),
    "yz_inv": ("investigator", "360200"),
    "yz_appr": ("city_approver", "360200"),
    "sheng_appr": ("province_approver", "360000"),
}


def make_staff(platform: Platform) -> dict[str, User]:
    out = {}
    for name, (role, unit) in STAFF.items():
        platform.directory.add(name, display_name=name, unit_code=unit, unit_name=unit, roles=[role], now_ms=T0,
                               password=PASSWORD)
        user = platform.directory.get(name)
        assert user is not None
        out[name] = user
    return out


@pytest.fixture
def staff(platform: Platform) -> dict[str, User]:
    return make_staff(platform)


def suspect(city: str = "360200", level: Level = Level.SENSITIVE, digest: str = "d1g35t") -> RecordRef:
    return RecordRef("person", 42, city, level, frozenset({(ScopeKind.PERSON, digest)}))


def sees(platform: Platform, user: User, rec: RecordRef, now: int) -> Effect:
    grants = platform.approvals.grants_for(user.id, now)
    return decide(platform.policy, user.actor(), rec, Level.PUBLIC, PURPOSE, grants, now).effect


def ask(platform: Platform, user: User, level: Level = Level.SENSITIVE, hours: int = 24, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"owner_city": "360200", "level": level, "scope": ScopeKind.PERSON,
                               "keys": ["d1g35t"], "purpose": PURPOSE, "hours": hours, "now_ms": T0}
    args.update(kw)
    return platform.approvals.request(user, **args)  # type: ignore[arg-type]


def test_the_binjiang_story(platform: Platform, staff: dict[str, User]) -> None:
    inv, appr = staff["bj_inv"], staff["bj_appr"]
    assert sees(platform, inv, suspect(), T0) is Effect.MASK
    req = ask(platform, inv)
    assert [r.id for r in platform.approvals.queue(appr)] == [req.id]
    assert platform.approvals.queue(staff["yz_appr"]) == []  # the requester's city decides
    assert [r.id for r in platform.approvals.queue(staff["sheng_appr"])] == [req.id]
    assert [n["kind"] for n in platform.approvals.notifications(appr)] == ["request.pending"]
    grant = platform.approvals.approve(appr, req.id, reason="同意", now_ms=T0 + 60_000)
    assert grant.expires_ms == T0 + 60_000 + 24 * HOUR
    assert sees(platform, inv, suspect(), T0 + 120_000) is Effect.ALLOW
    assert sees(platform, staff["bj_inv2"], suspect(), T0 + 120_000) is Effect.MASK  # a grant is personal
    assert sees(platform, inv, suspect(digest="other"), T0 + 120_000) is Effect.MASK  # and scoped
    assert [n["kind"] for n in platform.approvals.notifications(inv)] == ["request.approved"]
    with platform.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_event ORDER BY seq"))]
        raw = " ".join(str(r) for r in conn.execute(text("SELECT * FROM access_request")))
    assert actions == ["access.request", "access.approve"]
    assert "张三" not in raw  # the free-text purpose is stored encrypted


def test_expiry_and_revocation_take_effect_at_once(platform: Platform, staff: dict[str, User]) -> None:
    inv, appr = staff["bj_inv"], staff["bj_appr"]
    g = platform.approvals.approve(appr, ask(platform, inv, hours=2).id, reason="", now_ms=T0)
    assert sees(platform, inv, suspect(), T0 + 2 * HOUR - 1) is Effect.ALLOW
    assert sees(platform, inv, suspect(), T0 + 2 * HOUR) is Effect.MASK
    g2 = platform.approvals.approve(appr, ask(platform, inv).id, reason="", now_ms=T0)
    later = T0 + 3 * HOUR  # the first grant has expired; the second is live
    assert sees(platform, inv, suspect(), later) is Effect.ALLOW
    platform.approvals.revoke(appr, g2.id, reason="案件已破", now_ms=later)
    decision = decide(platform.policy, inv.actor(), suspect(), Level.PUBLIC, PURPOSE,
                      platform.approvals.grants_for(inv.id, later), later)
    assert (decision.effect, decision.reason) == (Effect.MASK, "mask.revoked")
    assert platform.approvals.notifications(inv)[0]["kind"] == "grant.revoked"  # newest first
    assert g.id != g2.id


def test_nobody_approves_their_own_request(platform: Platform, staff: dict[str, User]) -> None:
    appr = staff["bj_appr"]
    req = ask(platform, appr)
    assert platform.approvals.queue(appr) == []
    with pytest.raises(AccessError, match="own access request") as info:
        platform.approvals.approve(appr, req.id, reason="", now_ms=T0)
    assert info.value.kind == "forbidden"
    with platform.engine.connect() as conn:
        last = conn.execute(text("SELECT action, outcome, detail FROM audit_event ORDER BY seq DESC")).first()
    assert last is not None and (last[0], last[1]) == ("access.approve", "denied")
    assert json.loads(last[2])["reason"] == "forbidden"


def test_top_secret_only_by_a_province_approver(platform: Platform, staff: dict[str, User]) -> None:
    req = ask(platform, staff["bj_inv"], level=Level.TOP_SECRET)
    with pytest.raises(AccessError, match="may not decide"):
        platform.approvals.approve(staff["bj_appr"], req.id, reason="", now_ms=T0)
    platform.approvals.approve(staff["sheng_appr"], req.id, reason="", now_ms=T0)
    assert sees(platform, staff["bj_inv"], suspect(level=Level.TOP_SECRET), T0 + 1) is Effect.ALLOW


def test_non_approvers_and_other_cities_cannot_decide(platform: Platform, staff: dict[str, User]) -> None:
    req = ask(platform, staff["bj_inv"])
    for who in ("bj_inv2", "yz_inv", "yz_appr"):
        with pytest.raises(AccessError) as info:
            platform.approvals.approve(staff[who], req.id, reason="", now_ms=T0)
        assert info.value.kind == "forbidden"
    platform.approvals.reject(staff["bj_appr"], req.id, reason="证据不足", now_ms=T0)
    with pytest.raises(AccessError, match="is rejected") as info:
        platform.approvals.approve(staff["sheng_appr"], req.id, reason="", now_ms=T0)
    assert info.value.kind == "conflict"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"purpose": Purpose("case_investigation")}, "needs a case number"),
        ({"purpose": Purpose("gossip", case_no="A1")}, "unknown purpose"),
        ({"hours": 0}, "1–720 hours"),
        ({"hours": 721}, "1–720 hours"),
        ({"level": Level.PUBLIC}, "no role may grant public"),
        ({"keys": []}, "names 1–500"),
        ({"owner_city": "36"}, "6-digit"),
    ],
)
def test_invalid_requests_are_refused(platform: Platform, staff: dict[str, User], kw: dict[str, object],
                                      message: str) -> None:
    with pytest.raises(AccessError, match=message) as info:
        ask(platform, staff["bj_inv"], **kw)
    assert info.value.kind == "invalid"


def test_approval_cannot_exceed_the_hours_asked(platform: Platform, staff: dict[str, User]) -> None:
    req = ask(platform, staff["bj_inv"], hours=8)
    with pytest.raises(AccessError, match="1–8 hours"):
        platform.approvals.approve(staff["bj_appr"], req.id, reason="", now_ms=T0, hours=9)
    g = platform.approvals.approve(staff["bj_appr"], req.id, reason="", now_ms=T0, hours=4)
    assert g.expires_ms == T0 + 4 * HOUR


def test_only_holder_or_approver_revokes(platform: Platform, staff: dict[str, User]) -> None:
    g = platform.approvals.approve(staff["bj_appr"], ask(platform, staff["bj_inv"]).id, reason="", now_ms=T0)
    with pytest.raises(AccessError, match="only the holder"):
        platform.approvals.revoke(staff["yz_inv"], g.id, reason="", now_ms=T0 + 1)
    platform.approvals.revoke(staff["bj_inv"], g.id, reason="用完", now_ms=T0 + 1)
    with pytest.raises(AccessError, match="already revoked"):
        platform.approvals.revoke(staff["bj_appr"], g.id, reason="", now_ms=T0 + 2)


# -- the approval workflow as a state machine ----------------------------------------

RECORDS = {
    "yz_s": RecordRef("person", 1, "360200", Level.SENSITIVE, frozenset({(ScopeKind.PERSON, "p-yz")})),
    "bj_s": RecordRef("person", 2, "360100", Level.SENSITIVE, frozenset({(ScopeKind.PERSON, "p-bj")})),
    "yz_t": RecordRef("person", 3, "360200", Level.TOP_SECRET, frozenset({(ScopeKind.PERSON, "p-ts")})),
}
REQUESTERS = ["bj_inv", "yz_inv", "bj_appr"]
EVERYONE = list(STAFF)


class ApprovalWorkflow(RuleBasedStateMachine):
    """No sensitive cross-city read without a valid grant; no self-approval; expiry/revocation at once."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        var = Path(self.tmp.name) / "var"
        self.platform = Platform(Settings(var_dir=var))
        self.platform.ensure_key()
        self.platform.migrate()
        self.staff = make_staff(self.platform)
        self.now = T0
        self.pending: dict[int, tuple[str, str]] = {}  # request id -> (requester, record)
        self.grants: dict[int, dict[str, object]] = {}  # grant id -> model

    def teardown(self) -> None:
        self.platform.close()
        self.tmp.cleanup()

    @staticmethod
    def may_decide(approver: str, requester: str, record: str) -> bool:
        role, unit = STAFF[approver]
        if approver == requester:
            return False
        if RECORDS[record].level is Level.TOP_SECRET:
            return role == "province_approver"
        if role == "province_approver":
            return True
        return role == "city_approver" and unit[:4] == STAFF[requester][1][:4]

    @rule(requester=st.sampled_from(REQUESTERS), record=st.sampled_from(list(RECORDS)), hours=st.integers(1, 3))
    def request(self, requester: str, record: str, hours: int) -> None:
        rec = RECORDS[record]
        key = next(iter(rec.subjects))[1]
        req = self.platform.approvals.request(
            self.staff[requester], owner_city=rec.city_code, level=rec.level, scope=ScopeKind.PERSON, keys=[key],
            purpose=PURPOSE, hours=hours, now_ms=self.now,
        )
        self.pending[req.id] = (requester, record)

    @rule(data=st.data(), approver=st.sampled_from(EVERYONE))
    def approve(self, data: st.DataObject, approver: str) -> None:
        if not self.pending:
            return
        rid = data.draw(st.sampled_from(sorted(self.pending)))
        requester, record = self.pending[rid]
        if self.may_decide(approver, requester, record):
            g = self.platform.approvals.approve(self.staff[approver], rid, reason="", now_ms=self.now)
            del self.pending[rid]
            self.grants[g.id] = {"holder": requester, "record": record, "expires": g.expires_ms, "revoked": False}
        else:
            with pytest.raises(AccessError) as info:
                self.platform.approvals.approve(self.staff[approver], rid, reason="", now_ms=self.now)
            assert info.value.kind == "forbidden"

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        live = sorted(g for g, m in self.grants.items() if not m["revoked"])
        if not live:
            return
        gid = data.draw(st.sampled_from(live))
        holder = str(self.grants[gid]["holder"])
        self.platform.approvals.revoke(self.staff[holder], gid, reason="", now_ms=self.now)
        self.grants[gid]["revoked"] = True

    @rule(minutes=st.integers(1, 120))
    def wait(self, minutes: int) -> None:
        self.now += minutes * 60_000

    @invariant()
    def reads_match_the_grants(self) -> None:
        for name in ("bj_inv", "yz_inv", "bj_appr"):
            user = self.staff[name]
            for key, rec in RECORDS.items():
                own = STAFF[name][1][:4] == rec.city_code[:4] and rec.level is Level.SENSITIVE
                granted = any(
                    m["holder"] == name and m["record"] == key and not m["revoked"] and self.now < int(m["expires"])  # type: ignore[call-overload]
                    for m in self.grants.values()
                )
                effect = sees(self.platform, user, rec, self.now)
                assert (effect is Effect.ALLOW) == (own or granted), (name, key, effect)


TestApprovalWorkflow = ApprovalWorkflow.TestCase
TestApprovalWorkflow.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
