"""Same seed, same bytes; another seed, other bytes; tiny is fast."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from lianfang import demo
from lianfang.demo import Scale, Window


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tiny_root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    started = time.perf_counter()
    demo.generate(again, seed=7, scale="tiny")
    assert time.perf_counter() - started < 2.0, "tiny must generate in under 2 s"
    assert digests(again) == digests(tiny_root)


def test_another_seed_gives_other_data(tiny_root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    demo.generate(other, seed=8, scale="tiny")
    mine, theirs = digests(tiny_root), digests(other)
    assert mine.keys() == theirs.keys()  # same layout: same systems, same files
    changed = [name for name in mine if mine[name] != theirs[name]]
    assert len(changed) > len(mine) * 0.9
    assert mine["geo/cities.geojson"] == theirs["geo/cities.geojson"]  # geography is fixed


def test_explicit_counts_and_window(tmp_path: Path) -> None:
    scale = Scale(persons=10, vehicles=5, sightings=60, cases=3, alerts=2, help_requests=3, devices=12,
                  defect_rate=0.0, duplicate_rate=0.0)
    from datetime import date

    manifest = demo.generate(tmp_path, seed=1, scale=scale, window=Window(date(2025, 3, 1), date(2025, 3, 20)))
    assert manifest.window == ["2025-03-01", "2025-03-20"]
    assert not manifest.defects and not manifest.duplicates
    per_city = {c: cats for c, cats in manifest.expected.items() if c != "360000"}
    for code, cats in per_city.items():
        assert cats["sighting"] == 60  # vehicles and faces, story passes included
        assert cats["case"] == 3 + (4 if code == "360100" else 0)
        assert cats["person"] == 10 + (1 if code == "360200" else 0)
    story = manifest.story["sightings"]
    assert all(s["passed_at"].startswith("2025-03") for s in story)


def test_scales_meet_their_promises() -> None:
    cities = 16
    medium, large = demo.SCALES["medium"], demo.SCALES["large"]
    assert medium.sightings * cities >= 10_000_000 and large.sightings * cities >= 50_000_000
    assert medium.persons * cities * 0.95 >= 1_000_000 and large.persons * cities * 0.95 >= 5_000_000
    small = demo.SCALES["small"]
    assert (small.persons, small.sightings, small.cases, small.alerts, small.help_requests) == (
        300, 3_000, 100, 20, 100)
    with pytest.raises(ValueError):
        Scale(persons=1, vehicles=1, sightings=1, cases=1, alerts=1, help_requests=1, devices=12)
    with pytest.raises(ValueError):
        demo.generate(Path("unused"), seed=1, scale="huge")
