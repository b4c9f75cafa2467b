"""Engines for the embedded default (SQLite) and the production store (PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from lianfang.settings import Settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers work during ingestion; FULL makes every commit durable, which
    # the resume-after-kill guarantee relies on.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


#: A pooled PostgreSQL connection that has been idle longer than this is pinged before use.
IDLE_PING_S = 5.0


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and takes (or makes) another
            raise DisconnectionError("a pooled connection was closed while it sat idle") from exc

    return on_checkout


def make_engine(url: str, *, pool_size: int = 20, max_overflow: int = 20) -> Engine:
    """An engine whose pool holds a connection for every concurrent request the server runs.

    (SQLAlchemy's default of 5 + 10 made the 16th concurrent request wait for a connection.)

    PostgreSQL connections that sat idle in the pool for :data:`IDLE_PING_S` are pinged
    before use, so one the server closed meanwhile (a restart, an idle timeout) is replaced
    instead of failing a request. A busy pool hands out connections that were in use a
    moment ago: pinging each of those (``pool_pre_ping``) cost a round trip per checkout,
    a quarter of the search throughput at 20 concurrent clients. A connection that breaks
    while in use still fails its statement, and SQLAlchemy then replaces the whole pool.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        else:
            engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url(), pool_size=settings.db_pool_size,
                       max_overflow=settings.db_max_overflow)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "lianfang.store:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def pending_revisions(engine: Engine) -> list[tuple[str, str]]:
    """(revision, its one-line title) of each migration the database still lacks, oldest first."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    pending = list(script.iterate_revisions("head", current))  # newest first
    return [(rev.revision, next(iter((rev.doc or "").strip().splitlines()), "")) for rev in reversed(pending)]


def migrate(engine: Engine, on_revision: Callable[[str, str], None] | None = None) -> None:
    """Bring the schema to the newest Alembic revision (idempotent).

    With ``on_revision``, each pending migration runs in a transaction of its own and
    ``on_revision(revision, title)`` is told before it starts (some rewrite every row of
    a big table: the command line says which one it is waiting for). Without it, all
    run in one transaction.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    steps = [("head", "")] if on_revision is None else pending_revisions(engine)
    for revision, title in steps:
        if on_revision is not None:
            on_revision(revision, title)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


def read_only(engine: Engine) -> Connection:
    """A connection for reads only, used as ``with read_only(engine) as conn:``.

    On PostgreSQL it runs in autocommit, so a read costs one round trip instead of three
    (``BEGIN``, the query, and the ``ROLLBACK`` when the connection goes back to the pool);
    every statement sees what was committed when it started, as it would inside a READ
    COMMITTED transaction. Back in the pool the connection is transactional again. SQLite's
    driver begins no transaction for a read in any case. Nothing may be written through it:
    each statement would commit on its own.
    """
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


class RawRow:
    """A row :class:`RawRead` fetched, read as an SQLAlchemy row is: ``row._mapping[name]`` or ``row.name``."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]):
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


class RawRead:
    """A read compiled once for the engine's dialect and run on a pooled DBAPI connection, without
    SQLAlchemy's per-statement work (building the statement, its cache key, the result's processing).

    For the few statements every request asks (the API token's lookup, the reader's grants): there
    that work cost several times the query. Values come back as the driver gives them, so the
    statement should select plain columns (numbers, text); on PostgreSQL the read runs in
    autocommit, like :func:`read_only`.
    """

    def __init__(self, engine: Engine, statement: Any):
        compiled = statement.compile(dialect=engine.dialect)
        self.engine = engine
        self.sql = str(compiled)
        self.order: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positiontup else None
        self.autocommit = engine.dialect.name == "postgresql"
        # values the statement carries itself (SQLite writes a LIMIT as ``LIMIT ? OFFSET ?``, the offset 0)
        self.fixed = {k: v for k, v in compiled.params.items() if v is not None}

    def first(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict by column label, or None."""
        names, rows = self._run(params, many=False)
        return dict(zip(names, rows[0], strict=True)) if rows else None

    def all(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row, each as a dict by column label."""
        names, rows = self._run(params, many=True)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def rows(self, params: dict[str, Any]) -> list[RawRow]:
        """Every row, each readable as an SQLAlchemy row is (``row._mapping[name]``, ``row.name``)."""
        names, rows = self._run(params, many=True)
        return [RawRow(dict(zip(names, row, strict=True))) for row in rows]

    def _run(self, params: dict[str, Any], *, many: bool) -> tuple[list[str], list[Any]]:
        if self.fixed:
            params = {**self.fixed, **params}
        args: Any = [params[name] for name in self.order] if self.order is not None else params
        conn = self.engine.raw_connection()
        try:
            dbapi = conn.dbapi_connection
            if self.autocommit:
                dbapi.autocommit = True  # type: ignore[union-attr]
            cur = dbapi.cursor()  # type: ignore[union-attr]
            try:
                cur.execute(self.sql, args)
                if many:
                    rows = list(cur.fetchall())
                else:
                    row = cur.fetchone()
                    rows = [] if row is None else [row]
                names = [d[0] for d in cur.description]
            finally:
                cur.close()
            if self.autocommit:
                dbapi.autocommit = False  # type: ignore[union-attr]
        except Exception:
            conn.invalidate()  # whatever broke, this connection does not go back to the pool
            raise
        finally:
            conn.close()
        return names, rows

