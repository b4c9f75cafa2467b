"""Joining points into a track: order, crossings, segments and the cloned-plate rule (pure, property-based)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianfang.track.build import CloneRule, Point, build_track, haversine_km, ordered
from lianfang.track.window import WindowError, resolve_window

CITIES = ["360100", "360200", "360300"]
TZ = ZoneInfo("Asia/Shanghai")


@st.composite
def points(draw: st.DrawFn) -> list[Point]:
    n = draw(st.integers(0, 25))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    out = []
    for sid in ids:
        readable = draw(st.booleans())
        placed = readable and draw(st.integers(0, 9)) > 0
        out.append(Point(
            sid, draw(st.sampled_from(CITIES)), draw(st.integers(0, 6 * 3_600_000)), readable,
            draw(st.floats(113.5, 118.5)) if placed else None, draw(st.floats(24.5, 30.0)) if placed else None,
        ))  # fmt: skip
    return out


rules = st.builds(CloneRule, st.floats(20, 400), st.floats(1, 600))


@given(points(), rules, st.randoms())
@settings(max_examples=200)
def test_order_is_by_time_then_id_and_input_order_does_not_matter(pts: list[Point], rule: CloneRule,
                                                                  rnd: object) -> None:
    track = build_track(pts, rule)
    keys = [(p.at_ms, p.sighting_id) for p in track.points]
    assert keys == sorted(keys) and len(track.points) == len(pts)
    shuffled = list(pts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert build_track(shuffled, rule) == track


@given(points(), rules)
@settings(max_examples=200)
def test_crossings_are_exactly_the_city_changes(pts: list[Point], rule: CloneRule) -> None:
    track = build_track(pts, rule)
    cities = [p.city_code for p in track.points]
    changes = sum(1 for a, b in pairwise(cities) if a != b)
    assert len(track.crossings) == changes
    for c in track.crossings:
        assert c.after == c.before + 1 and c.from_city != c.to_city
        assert (track.points[c.before].city_code, track.points[c.after].city_code) == (c.from_city, c.to_city)


@given(points(), rules)
@settings(max_examples=200)
def test_segments_join_consecutive_readable_points_only(pts: list[Point], rule: CloneRule) -> None:
    track = build_track(pts, rule)
    readable = [i for i, p in enumerate(track.points) if p.readable]
    assert [(s.start, s.end) for s in track.segments] == list(pairwise(readable))
    for s in track.segments:
        a, b = track.points[s.start], track.points[s.end]
        assert s.elapsed_s == (b.at_ms - a.at_ms) / 1000 >= 0
        assert (s.distance_km is None) == (not (a.located and b.located))


@given(points(), rules)
@settings(max_examples=300)
def test_flagged_exactly_when_the_implied_speed_is_above_the_threshold(pts: list[Point], rule: CloneRule) -> None:
    track = build_track(pts, rule)
    for s in track.segments:
        if s.implied_kmh is None:
            assert not s.clone_suspect
            continue
        assert s.clone_suspect == (s.implied_kmh > rule.max_kmh)
        # the tolerance only ever lowers the implied speed below distance / elapsed time
        if s.elapsed_s > 0 and s.distance_km is not None:
            assert s.implied_kmh <= s.distance_km / (s.elapsed_s / 3600) + 1e-9
    assert all(track.points[s.start].readable and track.points[s.end].readable for s in track.clone_suspects)


@given(st.floats(113, 119), st.floats(24, 30), st.integers(0, 3_600_000), rules)
def test_the_same_checkpoint_twice_is_never_a_jump(lon: float, lat: float, gap: int, rule: CloneRule) -> None:
    track = build_track([Point(1, "360100", 0, True, lon, lat), Point(2, "360100", gap, True, lon, lat)], rule)
    assert track.segments[0].distance_km == 0 and not track.clone_suspects


def test_the_clone_rule_on_the_cases_it_is_for() -> None:
    rule = CloneRule(200, 60)
    bj, bj_next, far = (115.86, 28.68), (115.8703, 28.68), (118.9, 28.9)  # ~1 km apart; ~300 km apart

    def flagged(a: tuple[float, float], b: tuple[float, float], seconds: int) -> bool:
        return bool(build_track([Point(1, "360100", 0, True, *a), Point(2, "360200", seconds * 1000, True, *b)],
                                rule).clone_suspects)

    assert 295 < haversine_km(*bj, *far) < 305
    assert not flagged(bj, bj_next, 5)  # two checkpoints on one road, clocks seconds apart: 1 km / 65 s
    assert not flagged(bj, bj_next, 0)
    assert flagged(bj, far, 600)  # 300 km in 10 minutes: one plate, two cars
    assert not flagged(bj, far, 3 * 3600)  # 300 km in three hours: a fast drive, not a clone


def test_masked_points_cross_cities_but_never_carry_a_flag() -> None:
    rule = CloneRule(200, 60)
    pts = [Point(1, "360100", 0, True, 115.86, 28.68), Point(2, "360200", 600_000, False),
           Point(3, "360200", 1_200_000, True, 118.9, 28.9)]
    track = build_track(pts, rule)
    assert [(c.from_city, c.to_city) for c in track.crossings] == [("360100", "360200")]
    assert [(s.start, s.end) for s in track.segments] == [(0, 2)]  # passes over the masked point
    assert track.segments[0].clone_suspect  # 300 km in 20 minutes between the two readable points
    assert not build_track(pts[:2], rule).segments


def test_ties_in_time_are_broken_by_sighting_id() -> None:
    pts = [Point(9, "360100", 5, True), Point(3, "360200", 5, True), Point(4, "360100", 1, False)]
    assert [p.sighting_id for p in ordered(pts)] == [4, 3, 9]


@pytest.mark.parametrize(("kmh", "tol"), [(0, 60), (-5, 60), (200, 0), (200, -1)])
def test_a_clone_rule_needs_a_positive_threshold_and_tolerance(kmh: float, tol: float) -> None:
    with pytest.raises(ValueError):
        CloneRule(kmh, tol)


@given(st.floats(-180, 180), st.floats(-89, 89), st.floats(-180, 180), st.floats(-89, 89))
def test_haversine_is_a_symmetric_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> None:
    d = haversine_km(lon1, lat1, lon2, lat2)
    assert d == pytest.approx(haversine_km(lon2, lat2, lon1, lat1), abs=1e-6)
    assert 0 <= d <= 20_016  # half the circumference
    assert haversine_km(lon1, lat1, lon1, lat1) == 0


# -- the window -----------------------------------------------------------------------------

NOW = int(datetime(2026, 3, 10, 12, 0, tzinfo=TZ).timestamp() * 1000)
DAY = 86_400_000


def window(since: str | None, until: str | None) -> tuple[int, int]:
    w = resolve_window(since, until, now_ms=NOW, tz=TZ, default_days=30, max_days=92)
    return w.since_ms, w.until_ms


def test_the_default_window_is_the_last_thirty_days() -> None:
    assert window(None, None) == (NOW - 30 * DAY, NOW)
    assert window("", "2026-03-01") == (int(datetime(2026, 1, 30, tzinfo=TZ).timestamp() * 1000),
                                        int(datetime(2026, 3, 1, tzinfo=TZ).timestamp() * 1000))


def test_naive_times_are_read_in_shanghai_and_offsets_are_honoured() -> None:
    since, until = window("2026-03-01T08:00:00", "2026-03-01T00:00:00Z")
    assert since == until  # 08:00 in Shanghai is midnight UTC


@pytest.mark.parametrize(("since", "until", "message"), [
    ("2026-03-02", "2026-03-01", "reversed"),
    ("2025-11-01", "2026-03-01", "wider than 92 days"),
    ("yesterday", None, "ISO 8601"),
    ("2026-13-01", None, "ISO 8601"),
])
def test_unusable_windows_are_refused_with_a_reason(since: str, until: str | None, message: str) -> None:
    with pytest.raises(WindowError, match=message):
        window(since, until)
