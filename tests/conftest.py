"""Shared fixtures: a platform on a real store (SQLite always, PostgreSQL when reachable).

Tests that take the ``platform`` fixture run once per backend. PostgreSQL runs
against ``LIANFANG_TEST_PG_URL`` (default: the local server, user postgres);
each test gets a fresh database cloned from a migrated template. Set
``LIANFANG_TEST_BACKENDS=sqlite`` to run only the embedded store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

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
    # no pool: each admin connection closes when its block ends (a pooled one stayed open until the
    # engine was garbage collected, and psycopg warned of it in whichever test that happened)
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


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


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database URL for ``backend`` (skips when PostgreSQL is unreachable)."""
    if backend == "sqlite":
        yield f"sqlite:///{(folder / 'var' / 'lianfang.db').as_posix()}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    _pg_template()
    name = f"lianfang_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


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


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo province (with the 滨江 → 云州 story), generated once per test run."""
    from lianfang.demo import generate

    out = tmp_path_factory.mktemp("tiny-demo")
    generate(out, seed=7, scale="tiny")
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def province(request: pytest.FixtureRequest, tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Platform]:
    """A platform with the tiny demo province ingested, shared by one module's tests (per backend).

    Tests using it must not change what others in the module read: add their own users,
    grants and records rather than edit the demo's.
    """
    from lianfang.ingest.pipeline import Ingestor

    folder = tmp_path_factory.mktemp(f"province-{request.param}")
    with fresh_database(str(request.param), folder) as url:
        plat = Platform(Settings(var_dir=folder / "var", database_url=url))
        plat.ensure_key()
        plat.migrate()
        ingestor = Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring,
                            settings=plat.settings, mappings=plat.mappings)
        result = ingestor.ingest([tiny_demo])
        assert result.total("accepted") > 1000
        try:
            yield plat
        finally:
            plat.close()


@contextmanager
def live_server(plat: Platform) -> Iterator[str]:
    """The real app served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import socket
    import threading
    import time as _time

    import uvicorn

    from lianfang.api.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(plat), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = _time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or _time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        _time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def serve() -> Iterator[object]:
    """``with serve(platform) as url:`` — a live server for tests that need real HTTP (CLI, streams)."""
    yield live_server


#: ``server_errors(operations, mode, send)``: see the fixture
ServerErrors = Callable[[Sequence[Any], Any, Callable[[Any], Any]], list[str]]


@pytest.fixture
def server_errors() -> ServerErrors:
    """For the fuzz tests: send each schemathesis operation's generated requests (``mode``: valid or invalid)
    with ``send(case)``; answer the operations that drew a 5xx, each with its first such request."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as examples
    from hypothesis.errors import Unsatisfiable

    def run(operations: Sequence[Any], mode: Any, send: Callable[[Any], Any]) -> list[str]:
        failures: list[str] = []
        for op in operations:

            @given(case=op.as_strategy(generation_mode=mode))
            @examples(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def call(case: Any) -> None:
                response = send(case)
                assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

            try:
                call()
            except Unsatisfiable:  # nothing to make invalid: an operation without parameters or body
                pass
            except Exception as exc:  # every operation's failure, not only the first
                failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:400]}")
        return failures

    return run
