"""``lianfang serve --workers 2``: several processes on one port, one store.

A hit reaches every open stream of its owner whichever process holds the stream and
whichever took the push, and on SIGINT each worker ends its streams with
``server_stopping`` instead of holding them until the graceful-shutdown timeout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from watch_world import (  # registered by conftest.py
    BOUND,
    PASSWORD,
    PLATE,
    YUNZHOU,
    Listener,
    add_plate,
    bearer,
    now_ms,
    passed,
)

from lianfang.platform import Platform


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor ``pid`` spawned (not multiprocessing's resource tracker)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            spawned = "spawn_main" in (stat.parent / "cmdline").read_text()
        except OSError:
            continue
        if int(fields[1]) == pid and spawned:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.slow
def test_two_workers_share_the_port_deliver_hits_and_end_their_streams_on_stop(platform: Platform) -> None:
    headers, _ = bearer(platform, "yz_inv", unit="360202")
    yz = platform.directory.get("yz_inv")
    assert yz is not None
    add_plate(platform, yz, scope=[YUNZHOU])
    platform.directory.add("yz_kakou", display_name="卡口", unit_code="360202", unit_name="云州", roles=["steward"],
                           now_ms=now_ms(), password=PASSWORD)
    push_token = platform.tokens.create("yz_kakou", "kakou", {"viid:push"}, days=1, now_ms=now_ms())[1]
    s = platform.settings
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url(),
           "LIANFANG_WATCH_HEARTBEAT_S": "0.5"}
    proc = subprocess.Popen([sys.executable, "-m", "lianfang", "serve", "--workers", "2", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 2 * BOUND
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200 and len(workers_of(proc.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "lianfang serve --workers 2 did not come up"
            time.sleep(0.2)
        workers = workers_of(proc.pid)
        assert len(workers) == 2
        # several streams: the kernel hands connections to either worker
        listeners = [Listener(url, headers).start() for _ in range(4)]
        obj = {"MotorVehicleID": "360202000011900000010220261130100000000010200001", "TollgateID":
               "36020200001190000001", "PlateNo": PLATE, "PlateClass": "02", "PassTime": passed(1)}
        res = httpx.post(f"{url}/VIID/MotorVehicles", timeout=BOUND,
                         json={"MotorVehicleListObject": {"MotorVehicleObject": [obj]}},
                         headers={"Authorization": f"Bearer {push_token}"})
        assert res.json()["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"] == 0, res.text
        for listener in listeners:
            hit = json.loads(listener.next("hit")["data"])
            assert hit["city_code"] == YUNZHOU and hit["sighting"]["values"]["plate_no"] == PLATE
        proc.send_signal(signal.SIGINT)
        for listener in listeners:
            assert json.loads(listener.next("end")["data"]) == {"reason": "server_stopping"}
        assert proc.wait(BOUND) == 0
        assert not any(Path(f"/proc/{p}").exists() for p in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_second_supervisor_starting_on_the_same_port_is_refused(platform: Platform) -> None:
    """Workers share their port (SO_REUSEPORT): while another supervisor is starting on it, a second one
    refuses to start rather than take half of the first one's connections."""
    import fcntl

    from lianfang.api.server import port_lock_path

    s = platform.settings
    port = free_port()
    env = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url()}
    with port_lock_path("127.0.0.1", port).open("a") as held:  # as a supervisor that has not bound yet
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        out = subprocess.run([sys.executable, "-m", "lianfang", "serve", "--workers", "2", "--port", str(port)],
                             env=env, capture_output=True, text=True, timeout=2 * BOUND)
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stdout + out.stderr
