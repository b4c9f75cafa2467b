"""Sign-in (password + TOTP), lockout, and server-side sessions with idle timeout.

* Five consecutive failures (configurable, never more than 10) lock the account
  for ten minutes or more; every attempt is audited, and failures say the same
  thing whatever was wrong, except that a locked account is told it is locked.
* A successful sign-in always creates a new random session token; only its SM3
  is stored. Sessions end on logout, on idle (30 minutes, 15 for users cleared for
  top secret), when the account is disabled or reset.
* Each session has its own CSRF token, which forms and state-changing API calls
  echo back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, Table, insert, select, update

from lianfang.audit import Audit, AuditEvent
from lianfang.crypto import FieldCipher, sm3_digest
from lianfang.identity import passwords, totp
from lianfang.identity.directory import Directory, User

MINUTE_MS = 60_000


class SignInFailed(Exception):
    """Sign-in refused. ``str()`` is safe to show; ``reason`` goes to the audit trail only."""

    def __init__(self, reason: str, message: str = "用户名、密码或动态口令错误 wrong user name, password or code"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Session:
    id: int
    user: User
    csrf_token: str
    idle_ms: int
    last_seen: int


@dataclass(frozen=True)
class AuthPolicy:
    max_failures: int = 5
    lock_ms: int = 10 * MINUTE_MS
    idle_ms: int = 30 * MINUTE_MS
    idle_ms_top_secret: int = 15 * MINUTE_MS


def token_hash(token: str) -> bytes:
    return sm3_digest(token.encode("utf-8"))


#: A session's last_seen is written again only when older than this (see ``resume``).
TOUCH_MS = 15_000


class Authenticator:
    def __init__(
        self,
        engine: Engine,
        directory: Directory,
        sessions: Table,
        cipher: FieldCipher,
        audit: Audit,
        policy: AuthPolicy = AuthPolicy(),
    ):
        self.engine = engine
        self.directory = directory
        self.users = directory.users
        self.sessions = sessions
        self.cipher = cipher
        self.audit = audit
        self.policy = policy

    def _audit(self, user: User | None, outcome: str, reason: str, client: str | None, now_ms: int,
               action: str = "auth.sign_in") -> None:
        self.audit.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                at_ms=now_ms,
                **(user.audit_fields() if user else {}),
                client=client,
                detail={"reason": reason},
            )
        )

    def sign_in(
        self, username: str, password: str, code: str, *, client: str | None, now_ms: int
    ) -> tuple[Session, str]:
        """Check password and TOTP code; returns the new session and its token (for the cookie)."""
        user = self.directory.get(username.strip().lower())
        if user is None:
            passwords.verify_password(passwords.dummy_hash(), password)  # same time as a wrong password
            self._audit(None, "failed", "unknown_user", client, now_ms)
            raise SignInFailed("unknown_user")
        if not user.active:
            self._audit(user, "failed", "disabled", client, now_ms)
            raise SignInFailed("disabled")
        if user.locked_until > now_ms:
            minutes = -(-(user.locked_until - now_ms) // MINUTE_MS)
            self._audit(user, "failed", "locked", client, now_ms)
            message = f"账号已锁定，请 {minutes} 分钟后再试 account locked; try again in {minutes} min"
            raise SignInFailed("locked", message)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.users.c.password_hash, self.users.c.totp_enc, self.users.c.totp_last_step).where(
                    self.users.c.id == user.id
                )
            ).one()
        password_ok = passwords.verify_password(row.password_hash, password)
        step = None
        if password_ok:
            secret = self.cipher.decrypt("user.totp", bytes(row.totp_enc))
            step = totp.accepted_step(secret, code, now_ms / 1000, int(row.totp_last_step))
        if not password_ok or step is None:
            self._fail(user, "bad_password" if not password_ok else "bad_code", client, now_ms)
        token = secrets.token_urlsafe(32)
        idle = self.policy.idle_ms_top_secret if user.cleared_top_secret else self.policy.idle_ms
        csrf = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            values: dict[str, object] = {
                "failed_sign_ins": 0, "locked_until": 0, "totp_last_step": step, "last_sign_in": now_ms,
            }
            if passwords.needs_rehash(row.password_hash):
                values["password_hash"] = passwords.hash_password(password)
            conn.execute(update(self.users).where(self.users.c.id == user.id).values(**values))
            res = conn.execute(
                insert(self.sessions).values(
                    token_hash=token_hash(token), csrf_token=csrf, user_id=user.id, created_at=now_ms,
                    last_seen=now_ms, idle_ms=idle, client=(client or "")[:64],
                )
            )
            session_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        self._audit(user, "ok", "password+totp", client, now_ms)
        return Session(session_id, user, csrf, idle, now_ms), token

    def _fail(self, user: User, reason: str, client: str | None, now_ms: int) -> None:
        users = self.users
        with self.engine.begin() as conn:  # the write comes first (see resume)
            conn.execute(update(users).where(users.c.id == user.id).values(failed_sign_ins=users.c.failed_sign_ins + 1))
            failures = conn.execute(select(users.c.failed_sign_ins).where(users.c.id == user.id)).scalar_one()
            locked = failures >= self.policy.max_failures
            if locked:
                conn.execute(update(users).where(users.c.id == user.id).values(
                    failed_sign_ins=0, locked_until=now_ms + self.policy.lock_ms))
        self._audit(user, "failed", reason + (",locked" if locked else ""), client, now_ms)
        raise SignInFailed(reason)

    def resume(self, token: str, *, now_ms: int, touch: bool = True) -> Session | None:
        """The live session for a cookie value, touched; None when unknown, ended, idle or disabled.

        ``touch=False`` for requests the browser makes by itself (a live stream reconnecting):
        they must not keep an unattended session from idling out.
        """
        if not token:
            return None
        # read, then write in a transaction that starts with its write: on SQLite a transaction
        # that reads first cannot wait for the write lock and fails at once under contention
        with self.engine.connect() as conn:
            row = conn.execute(select(self.sessions).where(self.sessions.c.token_hash == token_hash(token))).first()
        if row is None or row.ended_at is not None:
            return None
        user = self.directory.by_id(int(row.user_id))
        reason = None
        if user is None or not user.active:
            reason = "disabled"
        elif now_ms - int(row.last_seen) > int(row.idle_ms):
            reason = "idle"
        if reason is None and (not touch or 0 <= now_ms - int(row.last_seen) < TOUCH_MS):
            # seen moments ago: no write. Every request writing last_seen would serialise all
            # requests on one durable commit each; skipping it can only end a session sooner
            # (by at most TOUCH_MS), never later.
            assert user is not None
            return Session(int(row.id), user, row.csrf_token, int(row.idle_ms), int(row.last_seen))
        with self.engine.begin() as conn:
            live = self.sessions.c.id == row.id, self.sessions.c.ended_at.is_(None)
            if reason is not None:
                conn.execute(update(self.sessions).where(*live).values(ended_at=now_ms, end_reason=reason))
                return None
            touched = conn.execute(update(self.sessions).where(*live).values(last_seen=now_ms)).rowcount
        if not touched:  # ended (logout, disable) between the read and the write
            return None
        assert user is not None
        return Session(int(row.id), user, row.csrf_token, int(row.idle_ms), now_ms)

    def sign_out(self, token: str, *, client: str | None, now_ms: int) -> bool:
        session = self.resume(token, now_ms=now_ms)
        if session is None:
            return False
        with self.engine.begin() as conn:
            conn.execute(
                update(self.sessions)
                .where(self.sessions.c.id == session.id)
                .values(ended_at=now_ms, end_reason="logout")
            )
        self._audit(session.user, "ok", "logout", client, now_ms, action="auth.sign_out")
        return True


__all__ = ["AuthPolicy", "Authenticator", "Session", "SignInFailed", "token_hash"]
