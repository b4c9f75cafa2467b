"""Joining sightings into a track: segments, city-boundary crossings, cloned-plate suspicion.

Pure functions over points already decided by the policy; no database, no clock.

* **Order**: points are taken in time order, ties broken by sighting ID, so the
  same sightings always give the same track.
* **Crossings**: every pair of consecutive points (readable or masked) whose
  owning cities differ is a crossing from the first city into the second.
* **Segments** join consecutive *readable* points (masked points have no time or
  place for the reader, so a segment may pass over them): the great-circle
  distance between the two checkpoints and the speed that distance implies.
* **Cloned plates (套牌)**: the implied speed is the distance over the elapsed
  time *plus a clock tolerance* (checkpoint clocks drift by seconds, so two
  checkpoints a few seconds apart on one road must not look like a jump). A
  segment is suspect exactly when that implied speed is above ``max_kmh``. Only
  readable points take part: a flag never rests on a value the reader may not see.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


@dataclass(frozen=True)
class CloneRule:
    """When a jump between two sightings is implausible: faster than ``max_kmh`` with ``tolerance_s`` of slack."""

    max_kmh: float = 200.0
    tolerance_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.max_kmh > 0:
            raise ValueError("the clone speed threshold must be above 0 km/h")
        if not self.tolerance_s > 0:
            raise ValueError("the clock tolerance must be above 0 seconds")

    def implied_kmh(self, distance_km: float, elapsed_s: float) -> float:
        """The speed the jump implies, with the clock tolerance added to the elapsed time."""
        return distance_km / ((max(elapsed_s, 0.0) + self.tolerance_s) / 3600.0)


@dataclass(frozen=True)
class Point:
    """One sighting as the track builder sees it.

    ``at_ms`` orders every point; the caller shows it only for readable points.
    Masked points (``readable`` false) take part in crossings only.
    """

    sighting_id: int
    city_code: str
    at_ms: int
    readable: bool
    lon: float | None = None
    lat: float | None = None

    @property
    def located(self) -> bool:
        return self.readable and self.lon is not None and self.lat is not None


@dataclass(frozen=True)
class Segment:
    """Two consecutive readable points (indexes into the ordered points)."""

    start: int
    end: int
    elapsed_s: float
    distance_km: float | None  # None when either checkpoint's place is unknown to the reader
    implied_kmh: float | None
    clone_suspect: bool


@dataclass(frozen=True)
class Crossing:
    """Consecutive points ``before`` → ``after`` (indexes) owned by different cities."""

    before: int
    after: int
    from_city: str
    to_city: str


@dataclass(frozen=True)
class Track:
    points: tuple[Point, ...]
    segments: tuple[Segment, ...]
    crossings: tuple[Crossing, ...]

    @property
    def clone_suspects(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.clone_suspect)


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two WGS-84 positions, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def ordered(points: Iterable[Point]) -> tuple[Point, ...]:
    """Points in time order, ties by sighting ID."""
    return tuple(sorted(points, key=lambda p: (p.at_ms, p.sighting_id)))


def crossings(points: Sequence[Point]) -> tuple[Crossing, ...]:
    """Every change of owning city between consecutive points."""
    return tuple(
        Crossing(i - 1, i, points[i - 1].city_code, points[i].city_code)
        for i in range(1, len(points))
        if points[i - 1].city_code != points[i].city_code
    )


def segments(points: Sequence[Point], rule: CloneRule) -> tuple[Segment, ...]:
    """Consecutive readable points joined, with distance, implied speed and the clone flag."""
    out: list[Segment] = []
    prev: int | None = None
    for i, p in enumerate(points):
        if not p.readable:
            continue
        if prev is not None:
            out.append(_segment(points, prev, i, rule))
        prev = i
    return tuple(out)


def _segment(points: Sequence[Point], i: int, j: int, rule: CloneRule) -> Segment:
    a, b = points[i], points[j]
    elapsed = (b.at_ms - a.at_ms) / 1000.0
    if not (a.located and b.located):
        return Segment(i, j, elapsed, None, None, False)
    assert a.lon is not None and a.lat is not None and b.lon is not None and b.lat is not None
    distance = haversine_km(a.lon, a.lat, b.lon, b.lat)
    implied = rule.implied_kmh(distance, elapsed)
    return Segment(i, j, elapsed, distance, implied, implied > rule.max_kmh)


def build_track(points: Iterable[Point], rule: CloneRule) -> Track:
    """Order the points and join them into a track."""
    pts = ordered(points)
    return Track(pts, segments(pts, rule), crossings(pts))


__all__ = [
    "EARTH_RADIUS_KM",
    "CloneRule",
    "Crossing",
    "Point",
    "Segment",
    "Track",
    "build_track",
    "crossings",
    "haversine_km",
    "ordered",
    "segments",
]
