"""Sensing devices: plate checkpoints (卡口), CCTV cameras and face-capture cameras.

IDs follow GA/T 1400's 20 digits: an 8-digit centre code (the district's 6-digit
division code + ``00``), a 2-digit industry code (``00``, public-security road
network), a 3-digit type and a 7-digit serial. Types used here: ``121`` plate
checkpoint, ``132`` network CCTV camera, ``131`` face-capture camera.

Every pair of neighbouring cities has a checkpoint on each side of their shared
border (~1.5 km from it, on the same road), which is where vehicles cross.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from lianfang.demo.geography import City, Point, Province, distance_km, point_in_polygon, sample_point
from lianfang.demo.places import HIGHWAYS, ROADS

TYPE_CODES = {"checkpoint": "121", "camera": "132", "face": "131"}
INDUSTRY = "00"
LINKS = 4  # a checkpoint's next hops: its nearest checkpoints in the same city


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    city: int
    kind: str  # checkpoint | camera | face (standard device_kind codes)
    name: str
    lon: float
    lat: float
    division: str
    road: str
    border_to: int | None = None


@dataclass
class DeviceNet:
    devices: list[Device] = field(default_factory=list)
    checkpoints: dict[int, list[int]] = field(default_factory=dict)  # city -> device indices
    faces: dict[int, list[int]] = field(default_factory=dict)
    links: dict[int, tuple[tuple[int, float, str], ...]] = field(default_factory=dict)
    border: dict[tuple[int, int], int] = field(default_factory=dict)  # (city, towards) -> device

    def city_devices(self, city: int) -> list[Device]:
        return [d for d in self.devices if d.city == city]


def direction(a: Device | Point, b: Device | Point) -> str:
    """GA/T 1400 direction code of travel from a to b: 1 E→W, 2 W→E, 3 S→N, 4 N→S."""
    ax, ay = (a.lon, a.lat) if isinstance(a, Device) else a
    bx, by = (b.lon, b.lat) if isinstance(b, Device) else b
    dx, dy = (bx - ax) * math.cos(math.radians(ay)), by - ay
    if abs(dx) >= abs(dy):
        return "2" if dx > 0 else "1"
    return "3" if dy > 0 else "4"


def _crossing(province: Province, a: int, b: int, rng: random.Random) -> tuple[Point, Point, str]:
    """Points ~1.5 km either side of the a–b border (inside a, inside b) and the road."""
    line = province.border(a, b)
    (x1, y1), (x2, y2) = line[1], line[2]
    f = rng.uniform(0.3, 0.7)
    x, y = x1 + (x2 - x1) * f, y1 + (y2 - y1) * f
    nx, ny = y2 - y1, x1 - x2
    norm = math.hypot(nx, ny)
    nx, ny = nx / norm * 0.014, ny / norm * 0.014
    p, q = (round(x + nx, 6), round(y + ny, 6)), (round(x - nx, 6), round(y - ny, 6))
    if not point_in_polygon(p, province.city(a).polygon):
        p, q = q, p
    return p, q, rng.choice(HIGHWAYS)


def build_devices(province: Province, per_city: int, seed: int) -> DeviceNet:
    rng = random.Random(f"lianfang-demo/{seed}/devices")
    crossings = {(a, b): _crossing(province, a, b, rng) for (a, b) in sorted(province.borders)}
    net = DeviceNet()
    for city in province.cities:
        serial = 0

        def add(kind: str, p: Point, road: str, name: str, border_to: int | None = None,
                city: City = city) -> int:
            nonlocal serial
            serial += 1
            district = city.district_at(p)
            device_id = f"{district.code}00{INDUSTRY}{TYPE_CODES[kind]}{serial:07d}"
            net.devices.append(Device(device_id, city.index, kind, name, p[0], p[1], district.code,
                                      road, border_to))
            return len(net.devices) - 1

        cps: list[int] = []
        for other in city.neighbours:
            key = (min(city.index, other), max(city.index, other))
            p_low, p_high, road = crossings[key]
            p = p_low if city.index == key[0] else p_high
            name = f"{road}{city.short}{province.city(other).short}界卡口"
            net.border[(city.index, other)] = add("checkpoint", p, road, name, other)
            cps.append(net.border[(city.index, other)])
        faces = max(2, round(per_city * 0.25))
        cameras = max(1, round(per_city * 0.15))
        interior = max(4, per_city - len(city.neighbours) - faces - cameras)
        face_ids: list[int] = []
        for kind, count in (("checkpoint", interior), ("camera", cameras), ("face", faces)):
            for _ in range(count):
                district = rng.choice(city.districts)
                p = sample_point(city.polygon, rng, district.centre, 0.2)
                road = rng.choice(ROADS)
                label = {"checkpoint": "卡口", "camera": "视频监控", "face": "人脸抓拍"}[kind]
                idx = add(kind, p, road, f"{city.district_at(p).name}{road}{label}{serial + 1}号")
                (cps if kind == "checkpoint" else face_ids if kind == "face" else []).append(idx)
        net.checkpoints[city.index] = cps
        net.faces[city.index] = face_ids
        for i in cps:
            a = net.devices[i]
            near = sorted((distance_km((a.lon, a.lat), (net.devices[j].lon, net.devices[j].lat)), j)
                          for j in cps if j != i)[:LINKS]
            net.links[i] = tuple((j, km, direction(a, net.devices[j])) for km, j in near)
    return net
