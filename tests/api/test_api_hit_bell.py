"""The hit bell: one look for new watch-list hits per interval for a whole process, however many
streams wait on it; a new hit wakes them all at once."""

from __future__ import annotations

import asyncio
import time

from lianfang.api.hit_bell import HitBell

INTERVAL = 0.05


class Store:
    """The newest hit id, as the database would answer it; counts the reads."""

    def __init__(self, newest: int = 7, fail_first: int = 0):
        self.newest = newest
        self.reads = 0
        self.fail_first = fail_first

    def __call__(self) -> int:
        self.reads += 1
        if self.reads <= self.fail_first:
            raise ConnectionError("database away")
        return self.newest


def test_many_streams_cost_one_look_per_interval() -> None:
    store = Store()
    bell = HitBell(store, INTERVAL)

    async def main() -> list[int]:
        return await asyncio.gather(*(bell.wait(7, 0.5) for _ in range(200)))

    t0 = time.monotonic()
    seen = asyncio.run(main())
    assert seen == [7] * 200  # nothing new: every waiter back at its timeout
    assert time.monotonic() - t0 >= 0.45
    # 200 streams polling on their own would have read about 2,000 times
    assert 1 <= store.reads <= 0.5 / INTERVAL + 3


def test_a_new_hit_wakes_every_waiter_within_an_interval() -> None:
    store = Store()
    bell = HitBell(store, INTERVAL)

    async def main() -> tuple[list[int], float]:
        await bell.wait(-1, 1)  # the first look: 7
        waiters = [asyncio.ensure_future(bell.wait(7, 5)) for _ in range(50)]
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in waiters)
        t0 = time.monotonic()
        store.newest = 8
        seen = await asyncio.gather(*waiters)
        return seen, time.monotonic() - t0

    seen, waited = asyncio.run(main())
    assert seen == [8] * 50
    assert waited < 1.0  # an interval and a little, not the 5 s timeout


def test_the_bell_stops_looking_when_nobody_waits() -> None:
    store = Store()
    bell = HitBell(store, INTERVAL)

    async def main() -> tuple[int, int]:
        await bell.wait(7, 0.2)
        await asyncio.sleep(INTERVAL * 2)  # its last sleep ends, it finds no waiter and stops
        idle = store.reads
        await asyncio.sleep(0.3)
        return idle, store.reads

    idle, later = asyncio.run(main())
    assert later == idle


def test_a_failed_look_is_retried_and_the_streams_wait_on() -> None:
    store = Store(newest=3, fail_first=2)
    bell = HitBell(store, INTERVAL)

    async def main() -> int:
        return await bell.wait(0, 2)

    assert asyncio.run(main()) == 3
    assert store.reads == 3


def test_a_server_started_later_in_the_same_process_gets_a_working_bell() -> None:
    store = Store()
    bell = HitBell(store, INTERVAL)
    assert asyncio.run(bell.wait(0, 1)) == 7  # the first server's loop, now closed
    store.newest = 9
    assert asyncio.run(bell.wait(7, 1)) == 9  # the next one's
