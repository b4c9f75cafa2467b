"""岚江省: 16 fictional cities on a jittered 4×4 grid, their districts and station areas.

The geography is fixed (it does not depend on the seed) so that names, codes and
borders stay the same in every generated province; devices, people and events are
seeded. Cities are numbered row by row from the north-west, so city N and N+1 in
the same row (滨江 1 and 云州 2) share a border.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from functools import cache

Point = tuple[float, float]  # (longitude, latitude)

PROVINCE_CODE = "360000"
PROVINCE_NAME = "岚江省"
PLATE_PROVINCE = "赣"
WEST, NORTH, CELL = 113.5, 29.5, 1.25  # degrees; 4 cells make 113.5–118.5°E, 24.5–29.5°N

_CITIES = (  # name, slug, telephone area code
    ("滨江市", "binjiang", "0791"), ("云州市", "yunzhou", "0792"), ("临川市", "linchuan", "0793"),
    ("青岚市", "qinglan", "0794"), ("江陵市", "jiangling", "0795"), ("石门市", "shimen", "0796"),
    ("桐城市", "tongcheng", "0797"), ("白沙市", "baisha", "0798"), ("南屏市", "nanping", "0799"),
    ("丰原市", "fengyuan", "0790"), ("宁远市", "ningyuan", "0701"), ("长汀市", "changting", "0702"),
    ("玉山市", "yushan", "0703"), ("安澜市", "anlan", "0704"), ("清河市", "qinghe", "0705"),
    ("望海市", "wanghai", "0706"),
)
PLATE_LETTERS = "ABCDEFGHJKLMNPQR"  # I and O are never used on plates

_DISTRICT_STEMS = (
    "东湖 西湖 青山 新建 湾里 江北 江南 城关 河西 河东 北塔 南岭 高新 临江 望江 白石 金山 银湖 "
    "龙泉 凤凰 桃源 梅岭 松溪 竹山 柳林 石桥 清溪 安平 永和 长乐 太平 兴隆 丰泽 鹤山 云岭 双峰 "
    "三江 九龙 六合 月湖 紫阳 碧水 翠屏 黄岗 红旗 胜利 和平 前进 光明 朝阳 向阳 莲花 荷塘 芙蓉 "
    "玉泉 天心 雨花 望城 桂阳 临武 嘉禾 宜章 资兴 安仁 茶陵 醴陵 韶峰 双清 大祥 武陵 鼎城 汉寿 "
    "澧水 桑植 慈利 沅陵 辰溪 溆浦 会同 麻阳 新晃 芷江 靖州 通道 洪江 冷水 涟源 新化 双牌 道林 "
    "江永 宁乡 蓝山 新田 祁阳 东安 零陵 冷滩"
).split()
_STATION_STEMS = (
    "城关", "东街", "西街", "南门", "北门", "新村", "江滨", "湖滨", "站前", "城南", "城北", "工业园",
)


@dataclass(frozen=True)
class StationArea:
    code: str  # 9 digits: district code + 3
    name: str  # the police station (派出所) that polices the area
    centre: Point


@dataclass(frozen=True)
class District:
    code: str  # 6 digits: 36NN01…
    name: str
    centre: Point
    stations: tuple[StationArea, ...]


@dataclass(frozen=True)
class City:
    index: int  # 1..16
    code: str  # 36NN00
    name: str
    slug: str
    abbr: str  # pinyin initials, used in system names (bj, yz …)
    plate_letter: str
    area_code: str
    polygon: tuple[Point, ...]  # closed ring, counter-clockwise
    districts: tuple[District, ...]
    neighbours: tuple[int, ...]  # indices of cities sharing a border

    @property
    def folder(self) -> str:
        return f"{self.code}-{self.slug}"

    @property
    def short(self) -> str:
        return self.name[:-1]

    def contains(self, p: Point) -> bool:
        return point_in_polygon(p, self.polygon)

    def district_at(self, p: Point) -> District:
        return min(self.districts, key=lambda d: distance_km(p, d.centre))


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    plate_char: str
    cities: tuple[City, ...]
    borders: dict[tuple[int, int], tuple[Point, ...]]  # (a, b) with a < b -> shared polyline

    def city(self, index: int) -> City:
        return self.cities[index - 1]

    def border(self, a: int, b: int) -> tuple[Point, ...]:
        return self.borders[(min(a, b), max(a, b))]


def distance_km(a: Point, b: Point) -> float:
    """Equirectangular distance: within a province it is as good as great-circle."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111.32 * math.cos(mean_lat)
    dy = (b[1] - a[1]) * 110.57
    return math.hypot(dx, dy)


def point_in_polygon(p: Point, ring: tuple[Point, ...]) -> bool:
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _initials(slug: str) -> str:
    # binjiang -> bj: the first letter of each syllable (the slugs are two syllables)
    syllables = {"binjiang": "bj", "yunzhou": "yz", "linchuan": "lc", "qinglan": "ql",
                 "jiangling": "jl", "shimen": "sm", "tongcheng": "tc", "baisha": "bs",
                 "nanping": "np", "fengyuan": "fy", "ningyuan": "ny", "changting": "ct",
                 "yushan": "ys", "anlan": "al", "qinghe": "qh", "wanghai": "wh"}
    return syllables[slug]


def _lattice(rng: random.Random) -> list[list[Point]]:
    return [[(WEST + CELL * i + rng.uniform(-0.22, 0.22), NORTH - CELL * j + rng.uniform(-0.22, 0.22))
             for j in range(5)] for i in range(5)]


def _edge(a: Point, b: Point, rng: random.Random) -> tuple[Point, ...]:
    """Two jittered inner points between a and b (shared by the two cells of the edge)."""
    nx, ny = b[1] - a[1], a[0] - b[0]
    norm = math.hypot(nx, ny) or 1.0
    inner = []
    for f in (1 / 3, 2 / 3):
        off = rng.uniform(-0.12, 0.12)
        inner.append((a[0] + (b[0] - a[0]) * f + nx / norm * off, a[1] + (b[1] - a[1]) * f + ny / norm * off))
    return (a, *inner, b)


def _rounded(points: tuple[Point, ...]) -> tuple[Point, ...]:
    return tuple((round(x, 6), round(y, 6)) for x, y in points)


@cache
def province() -> Province:
    rng = random.Random("lianfang-demo/geography/1")
    v = _lattice(rng)
    horizontal = {(i, j): _rounded(_edge(v[i][j], v[i + 1][j], rng)) for i in range(4) for j in range(5)}
    vertical = {(i, j): _rounded(_edge(v[i][j], v[i][j + 1], rng)) for i in range(5) for j in range(4)}
    stems = list(_DISTRICT_STEMS)
    rng.shuffle(stems)
    cities: list[City] = []
    borders: dict[tuple[int, int], tuple[Point, ...]] = {}
    for n, (name, slug, area) in enumerate(_CITIES, start=1):
        row, col = divmod(n - 1, 4)
        left, bottom = vertical[(col, row)], horizontal[(col, row + 1)]
        right, top = vertical[(col + 1, row)], horizontal[(col, row)]
        ring = (*left, *bottom[1:], *reversed(right[:-1]), *reversed(top[:-1]))
        ring = (*ring[:-1], ring[0]) if ring[-1] != ring[0] else ring
        neighbours = []
        if col < 3:
            neighbours.append(n + 1)
            borders[(n, n + 1)] = right
        if col > 0:
            neighbours.append(n - 1)
        if row < 3:
            neighbours.append(n + 4)
            borders[(n, n + 4)] = bottom
        if row > 0:
            neighbours.append(n - 4)
        code = f"36{n:02d}00"
        count = 3 + rng.randrange(4)
        districts = _districts(code, ring, count, [stems.pop() for _ in range(count)], rng)
        cities.append(City(
            index=n, code=code, name=name, slug=slug, abbr=_initials(slug),
            plate_letter=PLATE_LETTERS[n - 1], area_code=area, polygon=ring, districts=districts,
            neighbours=tuple(sorted(neighbours))))
    return Province(PROVINCE_CODE, PROVINCE_NAME, PLATE_PROVINCE, tuple(cities), borders)


def sample_point(ring: tuple[Point, ...], rng: random.Random, near: Point | None = None,
                 spread: float = 0.15) -> Point:
    """A point inside ``ring`` (gaussian around ``near`` when given), rounded to 6 decimals."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    for _ in range(1000):
        if near is None:
            p = (rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys)))
        else:
            p = (rng.gauss(near[0], spread), rng.gauss(near[1], spread))
        p = (round(p[0], 6), round(p[1], 6))
        if point_in_polygon(p, ring):
            return p
    return sample_point(ring, rng) if near is not None else near_centre(ring)


def near_centre(ring: tuple[Point, ...]) -> Point:
    xs, ys = [p[0] for p in ring[:-1]], [p[1] for p in ring[:-1]]
    return (round(sum(xs) / len(xs), 6), round(sum(ys) / len(ys), 6))


def _districts(code: str, ring: tuple[Point, ...], count: int, stems: list[str],
               rng: random.Random) -> tuple[District, ...]:
    centres: list[Point] = []
    while len(centres) < count:
        p = sample_point(ring, rng)
        if all(distance_km(p, c) > 30 for c in centres) or rng.random() < 0.02:
            centres.append(p)
    districts = []
    for k, (stem, centre) in enumerate(zip(stems, centres, strict=True), start=1):
        dcode = f"{code[:4]}{k:02d}"
        suffix = "区" if k <= 2 or rng.random() < 0.5 else "县"
        station_stems = rng.sample(_STATION_STEMS, 2 + rng.randrange(3))
        stations = tuple(
            StationArea(code=f"{dcode}{s:03d}", name=f"{stem}{suffix}{st}派出所",
                        centre=sample_point(ring, rng, centre, 0.08))
            for s, st in enumerate(station_stems, start=1))
        districts.append(District(code=dcode, name=f"{stem}{suffix}", centre=centre, stations=stations))
    return tuple(districts)
