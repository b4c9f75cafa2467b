"""Plate and face sightings for every city, streamed with exact per-city counts.

Cities take turns: each turn drives one vehicle of the city for the whole window
(its passes land in whichever city's feed owns the device, so travellers show up in
their neighbours' files). Registered vehicles come first — sized so they use about
85 % of the budget — then cars from other provinces fill the rest; a city stops when
its budget is used, and nobody drives into a city that has stopped. Face captures
are spread along. A vehicle's passes are handed to each feed as one batch, which
writes the clean ones through its fast lane (:mod:`lianfang.demo.chains`). Memory
stays flat: nothing is kept but counters and the current vehicle's passes.

Cloned plates (套牌) are planted on the first vehicles of a few cities: the genuine
car's first pass, and minutes later the same plate at a checkpoint in the city
farthest away.
"""

from __future__ import annotations

import random
from typing import Any

from lianfang.demo.chains import FACE_FIELDS, PASS_FIELDS
from lianfang.demo.draws import stage_random
from lianfang.demo.geography import distance_km, near_centre
from lianfang.demo.plates import visitor_plate
from lianfang.demo.routes import Roads, drive
from lianfang.demo.sink import Sink
from lianfang.demo.story import StoryPlan
from lianfang.demo.systems import FACE_SYSTEMS
from lianfang.demo.timefmt import COMPACT, iso
from lianfang.demo.vehicles import vehicle
from lianfang.demo.world import PROGRESS_EVERY, World

FACE_SHARE = 0.2  # of a face-capable city's sightings
REGISTERED_SHARE = 0.85
TRAVELLERS = 0.3  # share of registered vehicles that sometimes cross a border


class _Feeds:
    """The sinks, budgets and serials of every city's sighting feeds."""

    def __init__(self, world: World, story: StoryPlan) -> None:
        self.world = world
        self.vehicle: dict[int, Sink] = {}
        self.face: dict[int, Sink | None] = {}
        self.budget: dict[int, int] = {}
        self.face_budget: dict[int, int] = {}
        for city in world.province.cities:
            own, viid = world.own(city), world.viid(city)
            own_sink = world.sink(own, "sighting") if "sighting" in own.categories else None
            self.vehicle[city.index] = world.sink(viid, "sighting") if viid else own_sink  # type: ignore[assignment]
            self.face[city.index] = own_sink if own.system.key in FACE_SYSTEMS else None
            faces = round(world.scale.sightings * FACE_SHARE) if self.face[city.index] else 0
            self.face_budget[city.index] = faces
            self.budget[city.index] = world.scale.sightings - faces
        self.remaining = dict(self.budget)
        for s in story.sightings:
            self.remaining[s.city] -= 1
        self.serial = dict.fromkeys(self.budget, 0)
        self.faces_done = dict.fromkeys(self.budget, 0)
        self.done = 0
        self.total = world.scale.sightings * len(self.budget)
        self._faces_seen: dict[int, list[str]] = {}

    def count(self, n: int = 1) -> None:
        before = self.done
        self.done += n
        if self.done // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self.world.report("sightings", self.done, self.total)

    def known_faces(self, city: int) -> list[str]:
        """Citizen IDs a face camera in ``city`` can match: 256 people of the city and its
        neighbours, drawn once (computing a person costs microseconds)."""
        pool = self._faces_seen.get(city)
        if pool is None:
            world, people = self.world, self.world.people
            rng = stage_random(world.seed, f"faces/{city}")
            neighbours = world.province.city(city).neighbours
            pool = self._faces_seen[city] = [
                people.person(city if i % 5 else neighbours[i % len(neighbours)],
                              rng.randrange(people.home)).citizen_id for i in range(256)]
        return pool

    def close(self) -> None:
        for sink in {id(s): s for s in [*self.vehicle.values(), *self.face.values()] if s}.values():
            sink.close()


def export_sightings(world: World, story: StoryPlan) -> list[dict[str, Any]]:
    """Write every sighting feed; returns the manifest's ``clones``."""
    rng = stage_random(world.seed, "sightings")
    feeds = _Feeds(world, story)
    roads = Roads(world.net)
    province, t0, t1 = world.province, world.t0, world.t1
    vehicles = world.scale.vehicles
    clones = _clone_plan(world)
    pending = {c.index: story.sightings_in(c.index) for c in province.cities}
    record: list[dict[str, Any]] = []
    clone_record: list[dict[str, Any]] = []
    next_vehicle = dict.fromkeys(feeds.budget, 0)
    remaining = feeds.remaining
    rand = rng.random
    owner_of, ids, serial, sinks = roads.city, roads.ids, feeds.serial, feeds.vehicle
    lanes = {city: sink.lane(PASS_FIELDS) for city, sink in sinks.items()}

    def can_enter(city: int) -> bool:
        return remaining[city] > 20

    def emit_pass(city: int, p: tuple[int, int, int, str, int], plate: str, ptype: str, pcolor: str,
                  vcolor: str, protected: bool = False) -> tuple[str, int]:
        feeds.serial[city] += 1
        sink = feeds.vehicle[city]
        position = sink.emit({
            "kind": "vehicle", "device_id": roads.ids[p[0]], "passed_at": p[1], "plate_no": plate,
            "plate_type": ptype, "plate_color": pcolor, "vehicle_color": vcolor, "speed_kmh": p[2],
            "direction": p[3], "lane_no": p[4], "_src": feeds.serial[city], "_fw": rand() < 0.03,
        }, protected=protected)
        remaining[city] -= 1
        feeds.count()
        return sink.file, position

    active = [c.index for c in province.cities if remaining[c.index] > 0]
    while active:
        for c in active:
            if remaining[c] <= 0:
                continue
            city = province.city(c)
            cps = roads.checkpoints[c]
            k = next_vehicle[c]
            next_vehicle[c] += 1
            if k < vehicles:
                v = vehicle(world.seed, c, city.plate_letter, k)
                plate, ptype, pcolor, vcolor = v.plate_no, v.plate_type, v.plate_color, v.vehicle_color
                mean = max(2.0, REGISTERED_SHARE * feeds.budget[c] / vehicles)
                travels = city.neighbours if rand() < TRAVELLERS else ()
            else:
                plate = visitor_plate(world.seed, (k - vehicles) * 16 + c - 1)
                ptype, pcolor, vcolor, mean, travels = "02", "5", "2" if rand() < 0.5 else "1", 6.0, ()
            passes = drive(roads, rng, c, cps[rng.randrange(len(cps))], t0, t1, mean, travels, can_enter)
            # a city's planned clone goes on its first registered vehicle (after the first)
            # that is seen early enough; it stays planned until then
            clone_to = clones[c][0] if clones.get(c) and 0 < k < vehicles else None
            emitted = 0
            base = {"kind": "vehicle", "plate_no": plate, "plate_type": ptype, "plate_color": pcolor,
                    "vehicle_color": vcolor, "_fw": rand() < 0.03}
            batches: dict[int, list[tuple[Any, ...]]] = {}  # feed city -> this vehicle's passes there
            for p in passes:  # the hot loop
                owner = owner_of[p[0]]
                if remaining[owner] <= 0:
                    if owner == c:
                        break
                    continue
                if clone_to is not None and remaining[clone_to] >= 3 and p[1] + 1200 < t1:
                    where = emit_pass(owner, p, plate, ptype, pcolor, vcolor, protected=True)
                    clone_record.append(_plant_clone(world, roads, rng, p, where, clone_to, plate, ptype,
                                                     pcolor, vcolor, emit_pass))
                    clones[c].pop(0)
                    clone_to = None
                    continue
                number = serial[owner] = serial[owner] + 1
                values = (ids[p[0]], p[1], p[2], p[3], p[4], number)
                if owner in batches:
                    batches[owner].append(values)
                else:
                    batches[owner] = [values]
                remaining[owner] -= 1
                emitted += 1
            for owner, batch in batches.items():
                sink, lane = sinks[owner], lanes[owner]
                sink.emit_passes(lane, sink.open_lane(lane, base, batch[0]), base, batch)
            feeds.count(emitted)
            _faces(world, feeds, rng, c, roads, final=False)
            if pending[c] and remaining[c] <= feeds.budget[c] // 2:
                record += _story_passes(feeds, roads, story, pending, c, emit_pass)
        active = [c for c in active if remaining[c] > 0]
    for c in feeds.budget:
        _faces(world, feeds, rng, c, roads, final=True)
        if pending[c]:
            record += _story_passes(feeds, roads, story, pending, c, emit_pass)
    feeds.close()
    world.report("sightings", feeds.done, feeds.total)
    record.sort(key=lambda s: s["passed_at"])
    story.record["sightings"] = record
    return clone_record


def _story_passes(feeds: _Feeds, roads: Roads, story: StoryPlan, pending: dict[int, list[Any]], city: int,
                  emit_pass: Any) -> list[dict[str, Any]]:
    out = []
    v = story.vehicle
    for s in pending[city]:
        feeds.remaining[city] += 1  # reserved up front
        file, position = emit_pass(city, (s.device, s.t, s.speed, s.direction, s.lane), v["plate_no"],
                                   v["plate_type"], v["plate_color"], v["vehicle_color"], protected=True)
        d = feeds.world.net.devices[s.device]
        out.append({"city": feeds.world.province.city(city).code, "device_id": d.id, "device_name": d.name,
                    "longitude": d.lon, "latitude": d.lat, "passed_at": iso(s.t), "after_case": s.after_case,
                    "file": file, "position": position})
    pending[city] = []
    return out


def _faces(world: World, feeds: _Feeds, rng: random.Random, city: int, roads: Roads, *, final: bool) -> None:
    sink = feeds.face[city]
    budget = feeds.face_budget[city]
    if sink is None or not budget:
        return
    used = feeds.budget[city] - max(feeds.remaining[city], 0)
    due = budget if final or not feeds.budget[city] else budget * used // feeds.budget[city]
    cameras = roads.faces[city]
    known = feeds.known_faces(city)
    rand, start, span = rng.random, world.t0, world.t1 - world.t0
    base = {"kind": "face"}
    batches: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}  # matched or not
    while feeds.faces_done[city] < due:
        feeds.faces_done[city] += 1
        feeds.serial[city] += 1
        serial = feeds.serial[city]
        device = roads.ids[cameras[int(rand() * len(cameras))]]
        t = start + int(rand() * span)
        matched = known[int(rand() * len(known))] if rand() < 0.3 else None
        face_id = f"{device}02{COMPACT.render(t)}{serial // 100_000 % 100_000:05d}06{serial % 100_000:05d}"
        batches[matched is not None].append((device, t, face_id, matched, serial))
        feeds.count()
    for shape, batch in batches.items():
        if batch:
            lane = sink.lane(FACE_FIELDS, shape)
            sink.emit_passes(lane, sink.open_lane(lane, base, batch[0]), base, batch)


def _clone_plan(world: World) -> dict[int, list[int]]:
    """City -> the far cities where plates of its vehicles are cloned (one vehicle each)."""
    province = world.province
    count = max(3, min(20, world.scale.vehicles * 16 // 10_000))
    centres = {c.index: near_centre(c.polygon) for c in province.cities}
    plan: dict[int, list[int]] = {}
    for i in range(count):
        c = 1 + (i * 5) % 16
        far = max((x for x in centres if x != c and x not in province.city(c).neighbours),
                  key=lambda x: (distance_km(centres[c], centres[x]), -x))
        plan.setdefault(c, []).append(far)
    return plan


def _plant_clone(world: World, roads: Roads, rng: random.Random, genuine: tuple[int, int, int, str, int],
                 where: tuple[str, int], far: int, plate: str, ptype: str, pcolor: str, vcolor: str,
                 emit_pass: Any) -> dict[str, Any]:
    province = world.province
    cps = roads.checkpoints[far]
    first = cps[rng.randrange(len(cps))]
    t = genuine[1] + rng.randrange(240, 720)
    second = roads.links[first][0][0]
    t2 = t + int(roads.km(first, second) / 50 * 3600) + 60
    seen = []
    for device, when in ((first, t), (second, t2)):
        file, position = emit_pass(far, (device, when, 40 + rng.randrange(30), roads.direction(first, second),
                                         1 + rng.randrange(3)), plate, ptype, pcolor, vcolor, protected=True)
        seen.append({"city": province.city(far).code, "device_id": roads.ids[device], "passed_at": iso(when),
                     "file": file, "position": position})
    g = world.net.devices[genuine[0]]
    c = world.net.devices[first]
    return {"plate_no": plate, "plate_type": ptype,
            "genuine": {"city": province.city(g.city).code, "device_id": g.id, "passed_at": iso(genuine[1]),
                        "file": where[0], "position": where[1]},
            "clone": seen, "distance_km": round(distance_km((g.lon, g.lat), (c.lon, c.lat)), 1),
            "minutes_apart": round((t - genuine[1]) / 60, 1)}
