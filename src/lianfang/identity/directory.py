"""The user directory: accounts in units of the jurisdiction tree, with roles.

Adding or resetting an account returns its one-time credentials (an initial
password the user must change, and the TOTP secret to enrol) exactly once;
only the argon2id hash and the SM4-encrypted TOTP secret are stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.identity import passwords, totp
from lianfang.policy.decision import Actor
from lianfang.policy.roles import Role, parse_roles
from lianfang.store.engine import read_only

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
_UNIT = re.compile(r"^\d{6}$")


class DirectoryError(ValueError):
    """A user operation was refused (the message says why)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    unit_code: str
    unit_name: str
    roles: frozenset[Role]
    cleared_top_secret: bool
    status: str
    must_change_password: bool
    locked_until: int
    failed_sign_ins: int
    last_sign_in: int | None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def actor(self) -> Actor:
        return Actor(user_id=self.id, roles=self.roles, unit_code=self.unit_code)

    @property
    def role_text(self) -> str:
        """The roles as stored and audited: sorted, comma-separated."""
        return ",".join(sorted(r.value for r in self.roles))

    def audit_fields(self) -> dict[str, Any]:
        """Who acted, as :class:`~lianfang.audit.AuditEvent` fields."""
        return {"user_id": self.id, "username": self.username, "unit_code": self.unit_code, "role": self.role_text}


@dataclass(frozen=True)
class Credentials:
    """One-time credentials for a new or reset account: show them once, store neither."""

    username: str
    password: str
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return totp.provisioning_uri(self.totp_secret, self.username)


#: the ``app_user`` columns a :class:`User` is made of
USER_COLUMNS = ("id", "username", "display_name", "unit_code", "unit_name", "roles", "cleared_top_secret", "status",
                "must_change_password", "locked_until", "failed_sign_ins", "last_sign_in")


def user_of(row: object) -> User:
    """The account in a row holding the ``app_user`` columns (alone or beside others)."""
    return user_from(row._mapping)  # type: ignore[attr-defined]


def user_from(r: Any) -> User:
    """The account from a mapping of (at least) :data:`USER_COLUMNS`."""
    return User(
        id=int(r["id"]),
        username=r["username"],
        display_name=r["display_name"],
        unit_code=r["unit_code"],
        unit_name=r["unit_name"],
        roles=frozenset(Role(x) for x in r["roles"].split(",") if x),
        cleared_top_secret=bool(r["cleared_top_secret"]),
        status=r["status"],
        must_change_password=bool(r["must_change_password"]),
        locked_until=int(r["locked_until"]),
        failed_sign_ins=int(r["failed_sign_ins"]),
        last_sign_in=r["last_sign_in"],
    )


def family_digest(blind: BlindIndex, name: str, address: str) -> bytes:
    """Blind index of surname + registered address: who counts as one's family for the alarm."""
    return blind.digest("family", f"{name.strip()[:1]}|{' '.join(address.split())}")


class Directory:
    def __init__(self, engine: Engine, users: Table, sessions: Table, cipher: FieldCipher):
        self.engine = engine
        self.users = users
        self.sessions = sessions
        self.cipher = cipher

    def add(
        self,
        username: str,
        *,
        display_name: str,
        unit_code: str,
        unit_name: str,
        roles: Iterable[str],
        cleared_top_secret: bool = False,
        now_ms: int,
        password: str | None = None,
    ) -> Credentials:
        if not _USERNAME.match(username):
            raise DirectoryError("a user name is 3–64 characters: lower-case letters, digits, '_', '.', '-'")
        if not _UNIT.match(unit_code):
            raise DirectoryError("a unit is its 6-digit division code")
        try:
            parsed = parse_roles(roles)
        except ValueError as exc:
            raise DirectoryError(str(exc)) from None
        if not display_name.strip():
            raise DirectoryError("a display name is required")
        initial = password or passwords.generate_password()
        try:
            passwords.check_rule(initial, username)
        except passwords.WeakPassword as exc:
            raise DirectoryError(str(exc)) from None
        secret = totp.new_secret()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(self.users).values(
                        username=username,
                        display_name=display_name.strip()[:64],
                        unit_code=unit_code,
                        unit_name=unit_name.strip()[:120] or unit_code,
                        roles=",".join(sorted(r.value for r in parsed)),
                        cleared_top_secret=int(cleared_top_secret),
                        password_hash=passwords.hash_password(initial),
                        totp_enc=self.cipher.encrypt("user.totp", secret),
                        totp_last_step=0,
                        status="active",
                        failed_sign_ins=0,
                        locked_until=0,
                        must_change_password=int(password is None),
                        created_at=now_ms,
                    )
                )
        except IntegrityError:
            raise DirectoryError(f"user {username!r} already exists") from None
        return Credentials(username, initial, secret)

    def get(self, username: str) -> User | None:
        """The user called ``username``, or None (a name holding NUL is no one's: PostgreSQL would
        refuse to compare with it, SQLite finds no one)."""
        if "\x00" in username:
            return None
        with read_only(self.engine) as conn:
            row = conn.execute(select(self.users).where(self.users.c.username == username)).first()
        return user_of(row) if row is not None else None

    def by_id(self, user_id: int) -> User | None:
        with read_only(self.engine) as conn:
            row = conn.execute(select(self.users).where(self.users.c.id == user_id)).first()
        return user_of(row) if row is not None else None

    def list(self, *, unit_prefix: str = "", role: str | None = None) -> list[User]:
        q = select(self.users).order_by(self.users.c.unit_code, self.users.c.username)
        if unit_prefix:
            q = q.where(self.users.c.unit_code.startswith(unit_prefix))
        with read_only(self.engine) as conn:
            users = [user_of(r) for r in conn.execute(q)]
        return [u for u in users if role is None or Role(role) in u.roles] if role else users

    def disable(self, username: str, *, now_ms: int) -> User:
        """Disable the account and end its sessions at once."""
        user = self._require(username)
        with self.engine.begin() as conn:
            conn.execute(update(self.users).where(self.users.c.id == user.id).values(status="disabled"))
            conn.execute(
                update(self.sessions)
                .where(self.sessions.c.user_id == user.id, self.sessions.c.ended_at.is_(None))
                .values(ended_at=now_ms, end_reason="disabled")
            )
        return self._require(username)

    def enable(self, username: str) -> User:
        user = self._require(username)
        with self.engine.begin() as conn:
            conn.execute(
                update(self.users)
                .where(self.users.c.id == user.id)
                .values(status="active", failed_sign_ins=0, locked_until=0)
            )
        return self._require(username)

    def reset(self, username: str, *, now_ms: int) -> Credentials:
        """New initial password and TOTP secret; unlocks; ends every session of the account."""
        user = self._require(username)
        initial = passwords.generate_password()
        secret = totp.new_secret()
        with self.engine.begin() as conn:
            conn.execute(
                update(self.users)
                .where(self.users.c.id == user.id)
                .values(
                    password_hash=passwords.hash_password(initial),
                    totp_enc=self.cipher.encrypt("user.totp", secret),
                    totp_last_step=0,
                    failed_sign_ins=0,
                    locked_until=0,
                    must_change_password=1,
                )
            )
            conn.execute(
                update(self.sessions)
                .where(self.sessions.c.user_id == user.id, self.sessions.c.ended_at.is_(None))
                .values(ended_at=now_ms, end_reason="reset")
            )
        return Credentials(username, initial, secret)

    def change_password(self, username: str, old: str, new: str) -> None:
        user = self._require(username)
        with read_only(self.engine) as conn:
            stored = conn.execute(select(self.users.c.password_hash).where(self.users.c.id == user.id)).scalar_one()
        if not passwords.verify_password(stored, old):
            raise DirectoryError("the current password is wrong")
        if old == new:
            raise DirectoryError("the new password must differ from the current one")
        try:
            passwords.check_rule(new, username)
        except passwords.WeakPassword as exc:
            raise DirectoryError(str(exc)) from None
        with self.engine.begin() as conn:
            conn.execute(
                update(self.users)
                .where(self.users.c.id == user.id)
                .values(password_hash=passwords.hash_password(new), must_change_password=0)
            )

    def set_identity(self, username: str, blind: BlindIndex, *, citizen_id: str, name: str, address: str) -> None:
        """Record the blind indexes of the user's own ID and family (surname + address), never the values.

        ``citizen_id`` must already be normalised (18 digits); it is digested exactly as
        person records' citizen IDs are, so looking oneself up is recognised.
        """
        user = self._require(username)
        with self.engine.begin() as conn:
            conn.execute(
                update(self.users)
                .where(self.users.c.id == user.id)
                .values(person_bidx=blind.digest("citizen_id", citizen_id),
                        family_bidx=family_digest(blind, name, address))
            )

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise DirectoryError(f"no user {username!r}")
        return user


__all__ = ["Credentials", "Directory", "DirectoryError", "User"]
