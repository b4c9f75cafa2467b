"""A serving process settles its heap once started: full collections stop walking what start-up made.

Each check runs in a process of its own: freezing the heap is process-wide, and the test
process must keep its collector as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from lianfang.platform import Platform

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


def _serve(platform: Platform, mode: str) -> dict[str, int]:
    s = platform.settings
    env = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url(),
           "LIANFANG_KEY_FILE": str(s.resolved_key_file())}
    out = subprocess.run([sys.executable, "-c", _SERVE, mode], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    seen: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return seen


def test_a_settled_server_leaves_the_collector_only_what_came_after_start_up(platform: Platform) -> None:
    settled = _serve(platform, "settle")
    assert settled["started"]
    # the start-up heap (standard, policy, pinyin dictionaries, the frameworks' models) is out of sight …
    assert settled["frozen"] > 100_000
    # … so a full collection walks a small fraction of what it walked before
    assert settled["tracked"] < settled["frozen"] // 10


def test_a_server_in_someone_elses_process_leaves_its_collector_alone(platform: Platform) -> None:
    plain = _serve(platform, "plain")
    assert plain["started"]
    assert plain["frozen"] == 0
    assert plain["tracked"] > 100_000
