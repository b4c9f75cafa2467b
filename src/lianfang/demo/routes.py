"""How vehicles move: time-ordered chains of checkpoint passes at plausible speeds.

A vehicle makes a few trips over the window; a trip starts near its home checkpoint
and hops along each checkpoint's nearest neighbours. Travel time is distance over a
speed of 35–85 km/h plus a short stop, so consecutive passes are always physically
possible (and always at least 20 s apart: a vehicle never passes one device twice in
the same second). Travellers sometimes cross into a neighbouring city through the
border checkpoint pair and come back the same way.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator

from lianfang.demo.devices import DeviceNet

Pass = tuple[int, int, int, str, int]  # (device index, local time, speed km/h, direction, lane)
_COS = math.cos(math.radians(27.0))
CROSS_SHARE = 0.25  # share of a traveller's trips that cross a border
MEAN_TRIP = 4.0  # passes per trip, on average


class Roads:
    """Device coordinates, links and border checkpoints, flattened into lists for speed."""

    def __init__(self, net: DeviceNet) -> None:
        self.ids = [d.id for d in net.devices]
        self.city = [d.city for d in net.devices]
        self.x = [d.lon * 111.32 * _COS for d in net.devices]
        self.y = [d.lat * 110.57 for d in net.devices]
        self.links = [net.links.get(i, ()) for i in range(len(net.devices))]
        self.checkpoints = net.checkpoints
        self.faces = net.faces
        self.border = net.border

    def km(self, a: int, b: int) -> float:
        return math.hypot(self.x[b] - self.x[a], self.y[b] - self.y[a])

    def direction(self, a: int, b: int) -> str:
        dx, dy = self.x[b] - self.x[a], self.y[b] - self.y[a]
        if abs(dx) >= abs(dy):
            return "2" if dx > 0 else "1"
        return "3" if dy > 0 else "4"


def drive(roads: Roads, rng: random.Random, city: int, home: int, t0: int, t1: int,
          mean_passes: float, neighbours: tuple[int, ...] = (),
          can_enter: Callable[[int], bool] | None = None) -> Iterator[Pass]:
    """The passes of one vehicle over [t0, t1), in time order."""
    # int(rand() * n) rather than randrange(n): a third of the cost, and as deterministic
    rand, expo = rng.random, rng.expovariate
    links, km, heading, checkpoints = roads.links, roads.km, roads.direction, roads.checkpoints[city]
    rate = max(1.0, mean_passes / MEAN_TRIP) / (t1 - t0)
    t = t0 + int(expo(rate))
    last, last_t = -1, t0
    while t < t1:
        node = home if rand() < 0.6 else checkpoints[int(rand() * len(checkpoints))]
        if last >= 0:  # unseen between trips, but never faster than 60 km/h from where it was
            t = max(t, last_t + int(km(last, node) * 60.0) + 60)
            if t >= t1:
                return
        kmh = 35.0 + rand() * 50.0
        lane = 1 + int(rand() * 3)
        yield node, t, int(kmh), "1234"[int(rand() * 4)], lane
        target = neighbours[int(rand() * len(neighbours))] if neighbours and rand() < CROSS_SHARE else 0
        # the trip as hops (next device, km, direction): link hops are precomputed
        path: list[tuple[int, float, str]] = []
        step = node
        if target and can_enter is not None and can_enter(target):
            out, back = roads.border[(city, target)], roads.border[(target, city)]
            for nxt in (out, back):
                if nxt != step:
                    path.append((nxt, km(step, nxt), heading(step, nxt)))
                    step = nxt
            for _ in range(1 + int(rand() * 3)):
                hop = links[step][int(rand() * len(links[step]))]
                path.append(hop)
                step = hop[0]
            for nxt in (back, out):
                if nxt != step:
                    path.append((nxt, km(step, nxt), heading(step, nxt)))
                    step = nxt
        else:
            for _ in range(1 + int(rand() * 5)):
                hop = links[step][int(rand() * len(links[step]))]
                path.append(hop)
                step = hop[0]
        for nxt, dist, way in path:
            t += int(dist / kmh * 3600.0) + 20 + int(rand() * 220)
            if t >= t1:
                return
            speed = int(kmh + rand() * 20.0 - 10.0)
            yield nxt, t, speed if speed > 5 else 5, way, lane
            node = nxt
        last, last_t = node, t
        t += int(expo(rate)) + 60
