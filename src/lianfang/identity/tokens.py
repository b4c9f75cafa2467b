"""API tokens for system-to-system calls: scoped, expiring, revocable, hashed at rest.

A token is shown once at creation (``lf_`` + 43 random URL-safe characters);
the database keeps its SM3 only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, Table, bindparam, insert, select, update

from lianfang.identity.auth import token_hash
from lianfang.identity.directory import USER_COLUMNS, Directory, DirectoryError, User, user_from
from lianfang.store.engine import RawRead

DAY_MS = 86_400_000
LAST_USED_MS = 60_000  # how stale a token's last_used may get before it is written again
MAX_DAYS = 365

#: What a token may be used for.
SCOPES = {
    "ingest:write": "push files for ingestion",
    "viid:push": "GA/T 1400 checkpoint pushes",
    "data:read": "search and read records (policy still applies to the token's user)",
    "audit:read": "read the audit trail",
}


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    user: User
    scopes: frozenset[str]
    expires_at: int


class Tokens:
    def __init__(self, engine: Engine, directory: Directory, table: Table):
        self.engine = engine
        self.directory = directory
        self.table = table
        t, u = table, directory.users
        # the token and its user in one statement, built once (every API request asks it)
        self._lookup = RawRead(engine, (
            select(t.c.id.label("t_id"), t.c.name.label("t_name"), t.c.scopes.label("t_scopes"),
                   t.c.expires_at.label("t_expires_at"), t.c.revoked_at.label("t_revoked_at"),
                   t.c.last_used.label("t_last_used"), *(u.c[name] for name in USER_COLUMNS))
            .join_from(t, u, u.c.id == t.c.user_id)
            .where(t.c.token_hash == bindparam("token_hash"))
        ))  # fmt: skip

    def create(self, username: str, name: str, scopes: set[str], *, days: int, now_ms: int) -> tuple[ApiToken, str]:
        user = self.directory.get(username)
        if user is None or not user.active:
            raise DirectoryError(f"no active user {username!r}")
        unknown = scopes - set(SCOPES)
        if unknown or not scopes:
            raise DirectoryError(f"scopes must be some of {sorted(SCOPES)}; unknown: {sorted(unknown)}")
        if not 1 <= days <= MAX_DAYS:
            raise DirectoryError(f"a token expires within 1–{MAX_DAYS} days")
        token = "lf_" + secrets.token_urlsafe(32)
        expires = now_ms + days * DAY_MS
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(self.table).values(
                    name=name[:64], user_id=user.id, token_hash=token_hash(token), scopes=",".join(sorted(scopes)),
                    created_at=now_ms, expires_at=expires,
                )
            )
        tid = int(res.inserted_primary_key[0])  # type: ignore[index]
        return ApiToken(tid, name, user, frozenset(scopes), expires), token

    def authenticate(self, token: str, scope: str, *, now_ms: int) -> ApiToken | None:
        """The token's grant for ``scope``; None when unknown, revoked, expired, out of scope or its user inactive."""
        found, stale = self.check(token, scope, now_ms=now_ms)
        if found is not None and stale and not self.touch(found.id, now_ms=now_ms):
            return None
        return found

    def check(self, token: str, scope: str, *, now_ms: int) -> tuple[ApiToken | None, bool]:
        """:meth:`authenticate` without its write: the token (or None) and whether its ``last_used`` is due
        to be written (:meth:`touch`). Reads only, so it may run where a wait for the write lock may not."""
        if not token.startswith("lf_"):
            return None, False
        row = self._lookup.first({"token_hash": token_hash(token)})
        if row is None or row["t_revoked_at"] is not None or now_ms >= int(row["t_expires_at"]):
            return None, False
        scopes = frozenset(s for s in row["t_scopes"].split(",") if s)
        if scope not in scopes:
            return None, False
        user = user_from(row)
        if not user.active:
            return None, False
        # last_used is kept to the minute: a durable write on every call would serialise all
        # system-to-system requests on one commit each
        last = row["t_last_used"]
        stale = last is None or not 0 <= now_ms - int(last) < LAST_USED_MS
        return ApiToken(int(row["t_id"]), row["t_name"], user, scopes, int(row["t_expires_at"])), stale

    def touch(self, token_id: int, *, now_ms: int) -> bool:
        """Write the token's ``last_used``; False if it was revoked meanwhile."""
        with self.engine.begin() as conn:
            return bool(conn.execute(
                update(self.table).where(self.table.c.id == token_id, self.table.c.revoked_at.is_(None))
                .values(last_used=now_ms)
            ).rowcount)  # fmt: skip

    def revoke(self, token_id: int, *, now_ms: int) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(self.table)
                .where(self.table.c.id == token_id, self.table.c.revoked_at.is_(None))
                .values(revoked_at=now_ms)
            )
        return bool(res.rowcount)


__all__ = ["SCOPES", "ApiToken", "Tokens"]
