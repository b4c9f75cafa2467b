"""Accounts, sign-in with password + TOTP, lockout, sessions and API tokens, on both stores."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from lianfang.identity import DirectoryError, SignInFailed
from lianfang.identity.passwords import WeakPassword, check_rule, generate_password
from lianfang.identity.totp import code_at
from lianfang.platform import Platform
from lianfang.policy.roles import Role

T0 = 1_790_000_000_000  # a fixed "now" (ms); TOTP codes are computed for it
MIN = 60_000


def add(platform: Platform, username: str = "bj_inv_zhang", **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "display_name": "张警官",
        "unit_code": "360100",
        "unit_name": "滨江市公安局刑侦支队",
        "roles": ["investigator"],
        "now_ms": T0,
    }
    args.update(kw)
    return platform.directory.add(username, **args)  # type: ignore[arg-type]


def code(secret: str, at_ms: int) -> str:
    return code_at(secret, at_ms / 1000)


def audit_rows(platform: Platform) -> list[dict[str, object]]:
    with platform.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_event ORDER BY seq"))]


def test_add_stores_only_hashes_and_ciphertext(platform: Platform) -> None:
    cred = add(platform)
    assert cred.totp_uri.startswith("otpauth://totp/")
    with platform.engine.connect() as conn:
        row = conn.execute(select(platform.directory.users)).one()._mapping
    assert row["password_hash"].startswith("$argon2id$")
    assert cred.password not in json.dumps({k: str(v) for k, v in row.items()})
    assert cred.totp_secret.encode() not in bytes(row["totp_enc"])
    user = platform.directory.get("bj_inv_zhang")
    assert user is not None and user.roles == {Role.INVESTIGATOR} and user.must_change_password


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"roles": ["auditor", "system_admin"]}, "三员分立"),
        ({"roles": ["sheriff"]}, "unknown role"),
        ({"unit_code": "3601"}, "6-digit division code"),
        ({"password": "short"}, "at least 12"),
    ],
)
def test_add_refuses_bad_accounts(platform: Platform, kw: dict[str, object], message: str) -> None:
    with pytest.raises(DirectoryError, match=message):
        add(platform, **kw)


def test_duplicate_and_malformed_usernames(platform: Platform) -> None:
    add(platform)
    with pytest.raises(DirectoryError, match="already exists"):
        add(platform)
    with pytest.raises(DirectoryError, match="user name"):
        add(platform, "Robert'); DROP TABLE app_user;--")


def test_sign_in_with_password_and_code_opens_a_session(platform: Platform) -> None:
    cred = add(platform)
    session, token = platform.auth.sign_in(
        "bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client="127.0.0.1", now_ms=T0
    )
    assert session.user.username == "bj_inv_zhang" and len(token) >= 40
    assert platform.auth.resume(token, now_ms=T0 + MIN) is not None
    with platform.engine.connect() as conn:
        stored = conn.execute(select(platform.metadata.tables["auth_session"].c.token_hash)).scalar_one()
    assert token.encode() not in bytes(stored)
    events = audit_rows(platform)
    assert [(e["action"], e["outcome"]) for e in events] == [("auth.sign_in", "ok")]
    assert platform.audit.verify().ok


def test_each_sign_in_gets_a_new_token(platform: Platform) -> None:
    cred = add(platform)
    _, first = platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client=None, now_ms=T0)
    later = T0 + 60_000
    _, second = platform.auth.sign_in(
        "bj_inv_zhang", cred.password, code(cred.totp_secret, later), client=None, now_ms=later
    )
    assert first != second


def test_a_totp_code_is_accepted_once(platform: Platform) -> None:
    cred = add(platform)
    c = code(cred.totp_secret, T0)
    platform.auth.sign_in("bj_inv_zhang", cred.password, c, client=None, now_ms=T0)
    with pytest.raises(SignInFailed) as info:
        platform.auth.sign_in("bj_inv_zhang", cred.password, c, client=None, now_ms=T0 + 1000)
    assert info.value.reason == "bad_code"


def test_failures_look_alike_and_are_audited_without_secrets(platform: Platform) -> None:
    cred = add(platform)
    messages = set()
    for user, pw, otp in (
        ("nobody", "Whatever-123x", "123456"),
        ("bj_inv_zhang", "Wrong-password-1", code(cred.totp_secret, T0)),
        ("bj_inv_zhang", cred.password, "000000"),
    ):
        with pytest.raises(SignInFailed) as info:
            platform.auth.sign_in(user, pw, otp, client="127.0.0.1", now_ms=T0)
        messages.add(str(info.value))
    assert len(messages) == 1
    trail = json.dumps([{k: str(v) for k, v in e.items()} for e in audit_rows(platform)], ensure_ascii=False)
    assert "Wrong-password-1" not in trail and cred.password not in trail and "nobody" not in trail
    reasons = [json.loads(str(e["detail"]))["reason"] for e in audit_rows(platform)]
    assert reasons == ["unknown_user", "bad_password", "bad_code"]


def test_a_name_holding_nul_is_an_unknown_user_on_every_store(platform: Platform) -> None:
    # PostgreSQL refuses NUL in text outright, so the look-up must not ask it (that was a 400 there, a 401 on SQLite)
    add(platform)
    with pytest.raises(SignInFailed) as info:
        platform.auth.sign_in("bj_inv\x00zhang", "Whatever-123x", "123456", client="127.0.0.1", now_ms=T0)
    assert info.value.reason == "unknown_user"
    assert platform.directory.get("bj_inv_zhang\x00") is None
    reasons = [json.loads(str(e["detail"]))["reason"] for e in audit_rows(platform)]
    assert reasons == ["unknown_user"]


def test_five_failures_lock_for_ten_minutes(platform: Platform) -> None:
    cred = add(platform)
    for i in range(5):
        with pytest.raises(SignInFailed):
            platform.auth.sign_in("bj_inv_zhang", "Wrong-password-1", "000000", client=None, now_ms=T0 + i)
    right = T0 + 5 * MIN + 4  # the fifth failure was at T0 + 4
    with pytest.raises(SignInFailed, match="locked") as info:
        platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, right), client=None, now_ms=right)
    assert info.value.reason == "locked" and "5 分钟" in str(info.value)
    after = T0 + 4 + 10 * MIN
    session, _ = platform.auth.sign_in(
        "bj_inv_zhang", cred.password, code(cred.totp_secret, after), client=None, now_ms=after
    )
    assert session.user.failed_sign_ins == 0


def test_four_failures_then_success_resets_the_count(platform: Platform) -> None:
    cred = add(platform)
    for i in range(4):
        with pytest.raises(SignInFailed):
            platform.auth.sign_in("bj_inv_zhang", "Wrong-password-1", "000000", client=None, now_ms=T0 + i)
    platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client=None, now_ms=T0 + 10)
    user = platform.directory.get("bj_inv_zhang")
    assert user is not None and user.failed_sign_ins == 0 and user.locked_until == 0


def test_idle_timeout_30_minutes_and_15_for_top_secret(platform: Platform) -> None:
    normal = add(platform)
    cleared = add(platform, "sheng_appr_li", roles=["province_approver"], unit_code="360000", cleared_top_secret=True)
    _, t1 = platform.auth.sign_in("bj_inv_zhang", normal.password, code(normal.totp_secret, T0), client=None, now_ms=T0)
    _, t2 = platform.auth.sign_in(
        "sheng_appr_li", cleared.password, code(cleared.totp_secret, T0), client=None, now_ms=T0
    )
    assert platform.auth.resume(t1, now_ms=T0 + 29 * MIN) is not None  # activity moves the idle clock
    assert platform.auth.resume(t1, now_ms=T0 + 58 * MIN) is not None
    assert platform.auth.resume(t1, now_ms=T0 + 89 * MIN) is None
    assert platform.auth.resume(t2, now_ms=T0 + 16 * MIN) is None
    assert platform.auth.resume(t1, now_ms=T0 + 90 * MIN) is None  # an ended session stays ended


def test_requests_moments_apart_do_not_rewrite_the_session_and_never_extend_it(platform: Platform) -> None:
    from lianfang.identity.auth import TOUCH_MS

    cred = add(platform)
    _, tok = platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client=None, now_ms=T0)

    def last_seen() -> int:
        with platform.engine.connect() as conn:
            return int(conn.execute(text("SELECT last_seen FROM auth_session")).scalar_one())

    assert platform.auth.resume(tok, now_ms=T0 + TOUCH_MS - 1) is not None
    assert last_seen() == T0  # no durable write for a request moments after the last one
    assert platform.auth.resume(tok, now_ms=T0 + TOUCH_MS + 1) is not None
    assert last_seen() == T0 + TOUCH_MS + 1
    # the idle clock runs from the last *written* time: at most TOUCH_MS early, never late
    assert platform.auth.resume(tok, now_ms=T0 + 2 * TOUCH_MS) is not None
    assert platform.auth.resume(tok, now_ms=T0 + TOUCH_MS + 1 + 30 * MIN + 1) is None


def test_api_token_last_used_is_kept_to_the_minute(platform: Platform) -> None:
    add(platform)
    _, token = platform.tokens.create("bj_inv_zhang", "feed", {"data:read"}, days=1, now_ms=T0)

    def last_used() -> int | None:
        with platform.engine.connect() as conn:
            v = conn.execute(text("SELECT last_used FROM api_token")).scalar_one()
        return None if v is None else int(v)

    assert platform.tokens.authenticate(token, "data:read", now_ms=T0 + 1) is not None
    assert last_used() == T0 + 1
    assert platform.tokens.authenticate(token, "data:read", now_ms=T0 + 30_000) is not None
    assert last_used() == T0 + 1
    assert platform.tokens.authenticate(token, "data:read", now_ms=T0 + 61_001) is not None
    assert last_used() == T0 + 61_001


def test_logout_ends_the_session_on_the_server(platform: Platform) -> None:
    cred = add(platform)
    _, token = platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client=None, now_ms=T0)
    assert platform.auth.sign_out(token, client=None, now_ms=T0 + 1)
    assert platform.auth.resume(token, now_ms=T0 + 2) is None
    assert audit_rows(platform)[-1]["action"] == "auth.sign_out"


def test_disable_ends_sessions_and_refuses_sign_in(platform: Platform) -> None:
    cred = add(platform)
    _, token = platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, T0), client=None, now_ms=T0)
    platform.directory.disable("bj_inv_zhang", now_ms=T0 + 1)
    assert platform.auth.resume(token, now_ms=T0 + 2) is None
    later = T0 + MIN
    with pytest.raises(SignInFailed) as info:
        platform.auth.sign_in("bj_inv_zhang", cred.password, code(cred.totp_secret, later), client=None, now_ms=later)
    assert info.value.reason == "disabled"


def test_reset_gives_new_credentials_and_unlocks(platform: Platform) -> None:
    old = add(platform)
    for i in range(5):
        with pytest.raises(SignInFailed):
            platform.auth.sign_in("bj_inv_zhang", "Wrong-password-1", "000000", client=None, now_ms=T0 + i)
    new = platform.directory.reset("bj_inv_zhang", now_ms=T0 + 10)
    assert new.password != old.password and new.totp_secret != old.totp_secret
    at = T0 + MIN
    platform.auth.sign_in("bj_inv_zhang", new.password, code(new.totp_secret, at), client=None, now_ms=at)


def test_change_password_checks_the_rule(platform: Platform) -> None:
    cred = add(platform)
    with pytest.raises(DirectoryError, match="current password is wrong"):
        platform.directory.change_password("bj_inv_zhang", "nope", "Another-Secret-42")
    with pytest.raises(DirectoryError, match="three of"):
        platform.directory.change_password("bj_inv_zhang", cred.password, "alllowercaseletters")
    platform.directory.change_password("bj_inv_zhang", cred.password, "Another-Secret-42")
    user = platform.directory.get("bj_inv_zhang")
    assert user is not None and not user.must_change_password


def test_api_tokens_are_scoped_expiring_and_revocable(platform: Platform) -> None:
    add(platform, "yz_kakou_push", roles=["partner"], unit_code="360200")
    tok, secret = platform.tokens.create("yz_kakou_push", "卡口推送", {"viid:push"}, days=30, now_ms=T0)
    assert platform.tokens.authenticate(secret, "viid:push", now_ms=T0 + 1) is not None
    assert platform.tokens.authenticate(secret, "data:read", now_ms=T0 + 1) is None
    assert platform.tokens.authenticate(secret + "x", "viid:push", now_ms=T0 + 1) is None
    assert platform.tokens.authenticate(secret, "viid:push", now_ms=T0 + 30 * 86_400_000) is None
    assert platform.tokens.revoke(tok.id, now_ms=T0 + 2)
    assert platform.tokens.authenticate(secret, "viid:push", now_ms=T0 + 3) is None
    with pytest.raises(DirectoryError, match="scopes"):
        platform.tokens.create("yz_kakou_push", "x", {"root"}, days=30, now_ms=T0)
    with pytest.raises(DirectoryError, match="1–365 days"):
        platform.tokens.create("yz_kakou_push", "x", {"viid:push"}, days=0, now_ms=T0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_password_rule_property(candidate: str) -> None:
    try:
        check_rule(candidate, "bj_inv_zhang")
    except WeakPassword:
        return
    assert len(candidate) >= 12 and "bj_inv_zhang" not in candidate.lower()


def test_generated_passwords_meet_the_rule() -> None:
    for _ in range(50):
        check_rule(generate_password())


@settings(max_examples=200, deadline=None)
@given(code=st.text(min_size=6, max_size=8))
def test_a_second_factor_that_is_not_six_ascii_digits_is_refused_not_an_error(code: str) -> None:
    """``"²²²²²²".isdigit()`` is true, and comparing non-ASCII text in constant time raises TypeError:
    such a code was a 500 at sign-in. Every text is now an answer: a step, or None."""
    from lianfang.identity.totp import accepted_step

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    step = accepted_step(secret, code, 1_790_000_000, 0)
    assert step is None or (code.strip().isascii() and code.strip().isdigit())
    assert accepted_step(secret, "²" * 6, 1_790_000_000, 0) is None
    assert accepted_step(secret, code_at(secret, 1_790_000_000), 1_790_000_000, 0) is not None
