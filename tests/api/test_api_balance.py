"""Workers of ``lianfang serve --workers N`` even out their shares of keep-alive connections."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lianfang.api.balance import SETTLE_S, STALE_S, Balancer, LoadTable
from lianfang.api.server import load_table_path
from lianfang.platform import Platform


class Cycle:
    def __init__(self, complete: bool):
        self.response_complete = complete


class Protocol:
    """What the balancer sees of a uvicorn connection: its request cycle, and shutdown()."""

    def __init__(self, busy: bool):
        self.cycle: Cycle | None = Cycle(complete=False) if busy else None
        self.closing = False

    def shutdown(self) -> None:
        self.closing = True


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_table_counts_live_workers_only(tmp_path: Path) -> None:
    a, b = LoadTable(tmp_path / "t.load"), LoadTable(tmp_path / "t.load")
    now = time.time()
    sa, sb = a.claim(os.getpid(), now), b.claim(os.getppid(), now)
    assert sa != sb
    a.publish(sa, os.getpid(), 13, now)
    b.publish(sb, os.getppid(), 7, now)
    assert a.totals(now) == (20, 2) == b.totals(now)
    assert a.totals(now + STALE_S + 1) == (0, 0)  # nobody refreshed their slot: gone
    b.release(sb)
    assert a.totals(now) == (13, 1)


def test_a_slot_of_a_worker_that_died_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    table = LoadTable(tmp_path / "t.load")
    now = time.time()
    first = table.claim(dead.pid, now)
    table.publish(first, dead.pid, 5, now)
    assert table.claim(os.getpid(), now) == first  # its process is gone, though its beat is fresh
    assert table.claim(os.getppid(), now) != first


def test_a_worker_above_its_share_asks_that_many_busy_clients_to_reconnect(tmp_path: Path) -> None:
    path = tmp_path / "t.load"
    other = LoadTable(path)
    slot = other.claim(os.getppid(), time.time())
    other.publish(slot, os.getppid(), 7, time.time())
    clock = Clock()
    me = Balancer(LoadTable(path), clock=clock)
    idle = [Protocol(busy=False) for _ in range(8)]
    busy = [Protocol(busy=True) for _ in range(5)]
    assert me.tick(idle + busy) == 3  # 13 of 20 on two workers: 3 above the share of 10
    assert sum(p.closing for p in busy) == 3 and not any(p.closing for p in idle)  # idle ones are never cut
    other.publish(slot, os.getppid(), 7, time.time())
    assert me.tick(idle + busy) == 0  # waiting for the reconnections to show in the table
    clock.t += SETTLE_S
    other.publish(slot, os.getppid(), 10, time.time())
    assert me.tick(idle + busy[:2]) == 0  # 10 and 10: even
    me.close()
    assert other.totals(time.time()) == (10, 1)


def test_a_worker_alone_never_sheds(tmp_path: Path) -> None:
    me = Balancer(LoadTable(tmp_path / "t.load"))
    assert me.tick([Protocol(busy=True) for _ in range(20)]) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shares(table: LoadTable) -> list[int]:
    return sorted(table.shares(time.time()))


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the balance is the server's: one store is enough
def test_twenty_keep_alive_clients_end_up_ten_and_ten_without_a_failed_request(platform: Platform) -> None:
    s = platform.settings
    port = _free_port()
    env = {**os.environ, "LIANFANG_VAR_DIR": str(s.var_dir), "LIANFANG_DATABASE_URL": s.resolved_database_url()}
    proc = subprocess.Popen([sys.executable, "-m", "lianfang", "serve", "--workers", "2", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()
    statuses: list[int] = []
    errors: list[BaseException] = []
    try:
        table = LoadTable(load_table_path("127.0.0.1", port))
        deadline = time.monotonic() + 60
        while len(_shares(table)) < 2 or not _answers(port):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the two workers did not start"
            time.sleep(0.2)

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # reconnects after a close
            try:
                while not stop.is_set():
                    conn.request("GET", "/ready")
                    res: Any = conn.getresponse()
                    res.read()
                    statuses.append(res.status)
            except BaseException as exc:
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=client) for _ in range(20)]
        for t in threads:
            t.start()
        while _shares(table) != [10, 10] and time.monotonic() < deadline + 30 and not errors:
            time.sleep(0.1)
        shares = _shares(table)
        stop.set()
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not errors, errors[:3]
    assert shares == [10, 10], shares
    assert statuses and set(statuses) == {200}  # clients asked to reconnect were answered first, in full
