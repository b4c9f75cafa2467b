"""Shared fixtures: a platform on a real store (SQLite always, PostgreSQL when reachable).

Tests that take the ``platform`` fixture run once per backend. PostgreSQL runs
against ``LIANFANG_TEST_PG_URL`` (default: the local server, user postgres);
each test gets a fresh database cloned from a migrated template. Set
``LIANFANG_TEST_BACKENDS=sqlite`` to run only the embedded store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lianfang.platform import Platform
from lianfang.settings import Settings
from lianfang.store.engine import make_engine, migrate

PG_URL = os.environ.get(
    "LIANFANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b.strip() for b in os.environ.get("LIANFANG_TEST_BACKENDS", "sqlite,postgres").split(",")
]
_TEMPLATE = f"lianfang_tmpl_{os.getpid()}"
_pg_state: dict[str, object] = {}


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_available() -> str | None:
    if "error" not in _pg_state:
        try:
            with _pg_admin().connect() as conn:
                conn.execute(text("SELECT 1"))
            _pg_state["error"] = None
        except Exception as exc:
            _pg_state["error"] = (
                f"PostgreSQL not reachable at {make_url(PG_URL).host}: {exc.__class__.__name__}"
            )
    return _pg_state["error"]  # type: ignore[return-value]


def _pg_template() -> None:
    if _pg_state.get("template"):
        return
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{_TEMPLATE}"'))
    engine = make_engine(
        make_url(PG_URL).set(database=_TEMPLATE).render_as_string(hide_password=False)
    )
    migrate(engine)
    engine.dispose()
    _pg_state["template"] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _pg_state.get("template"):
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'var' / 'lianfang.db').as_posix()}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    _pg_template()
    name = f"lianfang_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=database_url, ingest_chunk_size=500)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    plat = Platform(settings)
    plat.ensure_key()
    plat.migrate()
    yield plat
    plat.close()
