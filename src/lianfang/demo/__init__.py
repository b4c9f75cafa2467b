"""A deterministic, scalable synthetic province (岚江省) for demos, tests and benchmarks.

``generate(out, seed=7, scale="small")`` writes what the 16 cities' legacy systems
would export — six vendor layouts, GBK and UTF-8, CSV, JSON lines, XML, Excel and
GA/T 1400 — with defects and duplicates injected at known rates, plus
``manifest.json``: the ground truth an ingestion run is checked against (expected
counts, every defect with its reason code, every duplicate, the true identity
behind every person record, the 滨江 → 云州 story, cloned plates). The same seed gives
the same bytes. See ``docs/demo-province.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from lianfang.demo.devices import build_devices
from lianfang.demo.export_events import export_alerts, export_cases, export_help_requests
from lianfang.demo.export_people import export_people
from lianfang.demo.export_reference import export_reference
from lianfang.demo.export_sightings import export_sightings
from lianfang.demo.export_vehicles import export_vehicles
from lianfang.demo.geography import province as build_province
from lianfang.demo.geojson import write_geojson
from lianfang.demo.manifest import Ledger, Manifest, iter_entries
from lianfang.demo.names import NamePools
from lianfang.demo.people import People
from lianfang.demo.scales import DEFAULT_WINDOW, SCALES, Scale, Window, resolve_scale
from lianfang.demo.story import plan_story
from lianfang.demo.world import World

__all__ = ["DEFAULT_WINDOW", "SCALES", "Manifest", "Scale", "Window", "generate", "iter_entries"]


def generate(out: Path, *, seed: int, scale: str | Scale,
             progress: Callable[[str, int, int], None] | None = None,
             window: Window = DEFAULT_WINDOW) -> Manifest:
    """Write the province under ``out`` (created if needed) and return its manifest.

    ``progress(stage, done, total)`` is called as each stage advances. Memory stays
    bounded whatever the scale: records stream to disk as they are made.
    """
    counts = resolve_scale(scale)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    province = build_province()
    net = build_devices(province, counts.devices, seed)
    people = People(seed, province, NamePools.build(seed), counts.persons)
    world = World(out=out, seed=seed, scale=counts, window=window, province=province, net=net,
                  people=people, ledger=Ledger(out), progress=progress)
    write_geojson(out, province, net)
    story = plan_story(world)
    export_reference(world)
    export_people(world, story)
    export_vehicles(world, story)
    clones = export_sightings(world, story)
    export_cases(world, story)
    export_alerts(world)
    export_help_requests(world)
    inline, external = world.ledger.finish()
    story.record["crossing"] = _crossing(story.record["sightings"])
    manifest = Manifest(
        seed=seed, scale=counts.as_dict(), window=[window.start.isoformat(), window.end.isoformat()],
        province={"code": province.code, "name": province.name, "plate_char": province.plate_char,
                  "timezone": "Asia/Shanghai"},
        cities=[_city(world, c.index) for c in province.cities],
        files=world.ledger.files, expected=_sorted(world.ledger.expected),
        defects=inline["defects"], duplicates=inline["duplicates"], identities=inline["identities"],
        external=external, story={"summary": _SUMMARY, **story.record}, clones=clones)
    manifest.write(out)
    world.report("manifest", 1, 1)
    return manifest


_SUMMARY = ("A serial thief steals in 滨江市 over a week and drives the car registered in 滨江 "
            "across the border into 云州市, where the suspect's person file lives.")


def _city(world: World, index: int) -> dict[str, object]:
    city = world.province.city(index)
    own, viid = world.installs[index]
    return {"code": city.code, "name": city.name, "slug": city.slug, "plate_letter": city.plate_letter,
            "system": own.name, "system_kind": own.system.key, "sightings_via": (viid or own).name,
            "mappings": [i.mapping_id for i in (own, viid) if i],
            "neighbours": [world.province.city(n).code for n in city.neighbours]}


def _sorted(expected: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {city: dict(sorted(cats.items())) for city, cats in sorted(expected.items())}


def _crossing(sightings: list[dict[str, object]]) -> dict[str, object]:
    for before, after in itertools.pairwise(sightings):
        if before["city"] != after["city"]:
            return {"from_city": before["city"], "to_city": after["city"],
                    "exit": {k: before[k] for k in ("device_id", "passed_at", "file", "position")},
                    "entry": {k: after[k] for k in ("device_id", "passed_at", "file", "position")}}
    return {}
