"""Registered vehicles: plate, colours, make and owner, all keyed by (city, index)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lianfang.demo.draws import keyed
from lianfang.demo.people import People, Person
from lianfang.demo.plates import NE_LARGE, NE_SMALL, TRAILER, registered_plate

_KEY_VEHICLES: Final = 0x5645
_COLOURS: Final = (("2", 30), ("1", 20), ("3", 16), ("4", 8), ("5", 8), ("6", 4), ("8", 4), ("9", 3),
                   ("10", 2), ("11", 2), ("7", 2), ("99", 1))
_CARS: Final = ("大众朗逸", "丰田卡罗拉", "本田雅阁", "日产轩逸", "别克英朗", "吉利帝豪", "长安CS75",
                "哈弗H6", "五菱宏光", "宝马3系", "奥迪A4L", "奔驰C级", "大众帕萨特", "比亚迪宋")
_ELECTRIC: Final = ("比亚迪秦PLUS", "比亚迪汉", "特斯拉Model 3", "蔚来ES6", "理想L7", "小鹏P7",
                    "五菱宏光MINIEV", "广汽埃安S")
_TRUCKS: Final = ("解放J6", "东风天龙", "重汽豪沃", "宇通客车", "福田欧曼")


@dataclass(frozen=True, slots=True)
class Vehicle:
    city: int
    index: int
    plate_no: str
    plate_type: str
    plate_color: str
    vehicle_color: str
    brand: str


def colour(roll: int) -> str:
    for code, weight in _COLOURS:
        if roll < weight:
            return code
        roll -= weight
    return "99"


def vehicle(seed: int, city: int, letter: str, index: int) -> Vehicle:
    d = keyed(seed, _KEY_VEHICLES, city, index)
    plate, cls = registered_plate(seed, city, letter, index, d)
    if cls in (NE_SMALL, NE_LARGE):
        brand = d.pick(_ELECTRIC)
    elif cls.plate_type in ("01", TRAILER.plate_type):
        brand = d.pick(_TRUCKS)
    else:
        brand = d.pick(_CARS)
    return Vehicle(city, index, plate, cls.plate_type, cls.plate_color, colour(d.below(100)), brand)


def owner_of(people: People, v: Vehicle) -> Person:
    """Vehicles are registered to people of their city (some own two)."""
    return people.person(v.city, (v.index * 7919 + 13) % people.home_count(v.city))
