"""Fixtures for the watch-list tests; the helpers live in ``world.py``.

``world.py`` is registered as the module ``watch_world``: with ``--import-mode=importlib``
test files cannot import a sibling module by name, but they can import one already in
``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("watch_world", Path(__file__).with_name("world.py"))
assert _spec is not None and _spec.loader is not None
world = importlib.util.module_from_spec(_spec)
sys.modules["watch_world"] = world
_spec.loader.exec_module(world)

from lianfang.api.app import create_app  # noqa: E402
from lianfang.api.server import make_server  # noqa: E402
from lianfang.identity.directory import User  # noqa: E402
from lianfang.ingest.pipeline import Ingestor  # noqa: E402
from lianfang.platform import Platform  # noqa: E402


@pytest.fixture
def ing(platform: Platform, tmp_path: Path) -> Ingestor:
    return world.ingestor(platform, tmp_path)  # type: ignore[no-any-return]


@pytest.fixture
def inv(platform: Platform) -> User:
    """A 滨江 investigator: reads 滨江's sightings, other cities' only as masked hits without a grant."""
    return world.user(platform, "bj_inv")  # type: ignore[no-any-return]


@pytest.fixture
def appr(platform: Platform) -> User:
    """A 滨江 city approver: may grant 滨江's investigators sensitive access to other cities' data."""
    return world.user(platform, "bj_appr", role="city_approver")  # type: ignore[no-any-return]


@pytest.fixture
def server(platform: Platform) -> Iterator[world.Running]:
    """The app under uvicorn on 127.0.0.1, a free port, in a thread; stopped (bounded) after the test."""
    platform.settings.watch_heartbeat_s = 0.5
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = make_server(create_app(platform), log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + world.BOUND
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield world.Running(f"http://127.0.0.1:{port}", srv, thread)
    srv.should_exit = True
    thread.join(world.BOUND)
    sock.close()
    assert not thread.is_alive(), "the server did not stop"
