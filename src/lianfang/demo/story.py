"""The acceptance story: a serial thief steals in 滨江 and drives to 云州.

Planned before anything is written, so that each export stage can place its part:
the suspect's person file in 云州 (person_tag 04), the car registered in 滨江 under
the memorable plate 赣A7Q777, four thefts in 滨江 over a week near the 云州 border
(``suspect_plate_no`` on two of them), sightings of the plate at 滨江 checkpoints
after each theft and finally across the border into 云州's GA/T 1400 feed. Times
follow from distances at plausible speeds. Story records are never damaged or
duplicated; the manifest's ``story`` section says where each one ended up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lianfang.demo.devices import direction
from lianfang.demo.geography import distance_km, sample_point
from lianfang.demo.people import Person
from lianfang.demo.timefmt import DAY, iso
from lianfang.demo.units import station_unit
from lianfang.demo.world import World

THIEF_CITY, HOME_CITY = 1, 2  # 滨江 (where the thefts are), 云州 (the suspect's person file)
PLATE = "赣A7Q777"  # digit-letter-digits: a serial pattern no generated plate uses
_THEFT_DAYS = (7, 8, 10, 12)


@dataclass
class Sighting:
    city: int
    device: int
    t: int
    speed: int
    direction: str
    lane: int
    after_case: int


@dataclass
class StoryPlan:
    suspect: Person
    vehicle: dict[str, Any]
    cases: list[dict[str, Any]]
    sightings: list[Sighting]
    record: dict[str, Any] = field(default_factory=dict)

    def sightings_in(self, city: int) -> list[Sighting]:
        return [s for s in self.sightings if s.city == city]


def _travel(km: float, kmh: float, rng: random.Random) -> int:
    return int(km / kmh * 3600) + rng.randrange(30, 180)


def plan_story(world: World) -> StoryPlan:
    rng = random.Random(f"lianfang-demo/{world.seed}/story")
    net, province = world.net, world.province
    city = province.city(THIEF_CITY)
    suspect = world.people.suspect(HOME_CITY)
    vehicle = {"plate_no": PLATE, "plate_type": "02", "plate_color": "5", "vehicle_color": "1",
               "brand": "大众帕萨特", "owner_citizen_id": suspect.citizen_id, "owner_name": suspect.name,
               "owner_phone": suspect.phone, "_src": 0, "_id15": False}
    exit_cp = net.border[(THIEF_CITY, HOME_CITY)]
    entry_cp = net.border[(HOME_CITY, THIEF_CITY)]

    def where(i: int) -> tuple[float, float]:
        return net.devices[i].lon, net.devices[i].lat

    interior = [i for i in net.checkpoints[THIEF_CITY] if net.devices[i].border_to is None]
    interior.sort(key=lambda i: distance_km(where(i), where(exit_cp)))
    anchors = rng.sample(interior[:6], len(_THEFT_DAYS))
    days = (world.t1 - world.t0) // DAY
    cases: list[dict[str, Any]] = []
    sightings: list[Sighting] = []
    for n, (anchor, offset) in enumerate(zip(anchors, _THEFT_DAYS, strict=True)):
        day = min(offset, max(0, days - 2))
        hour = rng.choice((1, 2, 3, 21, 22, 23))
        t = world.t0 + day * DAY + hour * 3600 + rng.randrange(60) * 60
        place = sample_point(city.polygon, rng, where(anchor), 0.012)
        district = city.district_at(place)
        station = min(range(len(district.stations)),
                      key=lambda s: distance_km(place, district.stations[s].centre))
        category = "0102" if n % 2 == 0 else "0101"
        road = net.devices[anchor].road
        what = "入室盗窃" if category == "0102" else "盗窃"
        cases.append({
            "category": category, "title": f"{district.name}{road}{what}案",
            "summary": (f"{iso(t)[:16].replace('T', ' ')}许，{district.name}{road}附近发生{what}案，"
                        "现场监控见一黑色轿车停留后驶离。"),
            "occurred_at": t, "reported_at": t + rng.randrange(2, 7) * 3600, "status": "20",
            "division_code": district.code, "address": f"{city.name}{district.name}{road}附近",
            "longitude": place[0], "latitude": place[1], "loss_amount": rng.randrange(3, 60) * 500,
            "suspect_citizen_id": None, "suspect_plate_no": PLATE if n % 2 == 1 else None,
            "_unit": station_unit(district, station + 1)})
        # after the theft: the car passes the nearest checkpoint, then drives on
        kmh = rng.uniform(35, 60)
        t += _travel(distance_km(place, where(anchor)), kmh, rng)
        route = [anchor]
        last = n == len(_THEFT_DAYS) - 1
        if last:
            route += [exit_cp, entry_cp]
            nxt = net.links[entry_cp][0][0]
            route += [nxt, next(j for j, _, _ in net.links[nxt] if j != entry_cp)]
        else:
            route.append(next(j for j, _, _ in net.links[anchor] if net.devices[j].border_to is None))
        previous: tuple[float, float] = place
        for k, dev in enumerate(route):
            if k:
                t += _travel(distance_km(where(route[k - 1]), where(dev)), kmh, rng)
            sightings.append(Sighting(net.devices[dev].city, dev, t, int(kmh) + rng.randrange(-5, 6),
                                      direction(previous, where(dev)), rng.randrange(1, 4), n))
            previous = where(dev)
            kmh = rng.uniform(45, 80)
    if sightings[-1].t >= world.t1:
        raise ValueError("the window is too short for the story (it needs about two weeks)")
    return StoryPlan(suspect, vehicle, cases, sightings)
