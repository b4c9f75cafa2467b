"""A serving process settles its heap once started: full collections stop walking what start-up made.

Each check runs in a process of its own: freezing the heap is process-wide, and the test
process must keep its collector as it was.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

FreshProcess = Callable[..., dict[str, object]]  # the fixture in tests/api/conftest.py

_SERVE = textwrap.dedent("""
    import asyncio, gc, json, sys, threading, time
    from lianfang.api.app import create_app
    from lianfang.api.server import make_server
    from lianfang.platform import Platform
    from lianfang.settings import Settings

    app = create_app(Platform(Settings()))
    server = make_server(app, settle=sys.argv[1] == "settle", host="127.0.0.1", port=0, log_level="warning")
    loop = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    loop.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    # the heap is settled just after the server has started (within a second; 20 s for a loaded machine)
    settle_by = time.monotonic() + (20 if sys.argv[1] == "settle" else 1)
    while gc.get_freeze_count() == 0 and time.monotonic() < settle_by:
        time.sleep(0.05)
    seen = {"started": server.started, "frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
    server.should_exit = True
    loop.join(30)
    print(json.dumps(seen))
""")


def test_a_settled_server_leaves_the_collector_only_what_came_after_start_up(fresh_process: FreshProcess) -> None:
    settled: dict[str, Any] = fresh_process(_SERVE, "settle")
    assert settled["started"]
    # the start-up heap (standard, policy, pinyin dictionaries, the frameworks' models) is out of sight …
    assert settled["frozen"] > 100_000
    # … so a full collection walks a small fraction of what it walked before
    assert settled["tracked"] < settled["frozen"] // 10


def test_a_server_in_someone_elses_process_leaves_its_collector_alone(fresh_process: FreshProcess) -> None:
    plain: dict[str, Any] = fresh_process(_SERVE, "plain")
    assert plain["started"]
    assert plain["frozen"] == 0
    assert plain["tracked"] > 100_000
