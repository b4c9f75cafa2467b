"""Citizen ID numbers (GB 11643-1999) built, checked and spelled the legacy way.

IDs must never collide, yet the generator cannot remember millions of them. Each
person's ID is therefore a *slot* — (division, birth date, sequence) — chosen by a
keyed permutation of the person's index (:class:`~lianfang.demo.draws.Permutation`),
a bijection: different indices, different slots, no memory needed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from operator import mul
from typing import Final

WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS: Final = "10X98765432"
BIRTH_FIRST: Final = date(1940, 1, 1)
BIRTH_LAST: Final = date(2008, 12, 31)
BIRTH_DAYS: Final = (BIRTH_LAST - BIRTH_FIRST).days + 1

#: Division codes (GB/T 2260) of people born outside 岚江省, with the place names
#: used in their registered addresses and the province character of their plates.
OUTSIDE: Final = (
    ("110105", "北京市朝阳区", "京"), ("310115", "上海市浦东新区", "沪"),
    ("440305", "广东省深圳市南山区", "粤"), ("330106", "浙江省杭州市西湖区", "浙"),
    ("430102", "湖南省长沙市芙蓉区", "湘"), ("350203", "福建省厦门市思明区", "闽"),
    ("420106", "湖北省武汉市武昌区", "鄂"), ("510107", "四川省成都市武侯区", "川"),
    ("320106", "江苏省南京市鼓楼区", "苏"), ("340104", "安徽省合肥市蜀山区", "皖"),
    ("410105", "河南省郑州市金水区", "豫"), ("450103", "广西壮族自治区南宁市青秀区", "桂"),
)
OUTSIDE_SEQUENCES: Final = 62  # sequence numbers per city in the shared outside slot space


_ZERO_SUM: Final = ord("0") * sum(WEIGHTS)  # the ASCII offset of 17 digits, weighted


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 over the ASCII bytes (no int() per digit: this runs per person)."""
    return CHECK_CHARS[(sum(map(mul, first17.encode(), WEIGHTS)) - _ZERO_SUM) % 11]


def is_valid(id18: str) -> bool:
    return (len(id18) == 18 and id18[:17].isdigit() and id18[17] in CHECK_CHARS
            and check_char(id18[:17]) == id18[17])


def make_id(division: str, birth: date, sequence: int) -> str:
    first17 = f"{division}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + check_char(first17)


def to_15(id18: str) -> str:
    """Legacy 15-digit form (only for people born 1900–1999)."""
    if id18[6:8] != "19":
        raise ValueError("only IDs of people born in the 1900s have a 15-digit form")
    return id18[:6] + id18[8:17]


def upgrade_15(id15: str) -> str:
    first17 = f"{id15[:6]}19{id15[6:]}"
    return first17 + check_char(first17)


def wrong_check(id18: str) -> str:
    """Same first 17 digits, a different (wrong) check character."""
    right = id18[17]
    return id18[:17] + CHECK_CHARS[(CHECK_CHARS.index(right) + 3) % 11]


def impossible_birth(id18: str) -> str:
    """Month 13 in the birth date, with a *correct* check character for those digits."""
    first17 = id18[:10] + "13" + id18[12:17]
    return first17 + check_char(first17)


def sex_of(id18: str) -> str:
    return "1" if int(id18[16]) % 2 else "2"


def home_space(districts: int) -> int:
    return districts * BIRTH_DAYS * 1000


def outside_space() -> int:
    return len(OUTSIDE) * BIRTH_DAYS * OUTSIDE_SEQUENCES


def home_slot(index: int, districts: tuple[str, ...], perm: Callable[[int], int]) -> tuple[str, date, int]:
    """Division, birth date and sequence of the index-th person born in the city;
    ``perm`` permutes ``range(home_space(len(districts)))``."""
    slot, sequence = divmod(perm(index), 1000)
    district, day = divmod(slot, BIRTH_DAYS)
    return districts[district], BIRTH_FIRST + timedelta(days=day), sequence


def outside_slot(index: int, city_number: int, perm: Callable[[int], int]) -> tuple[str, date, int, int]:
    """Like :func:`home_slot` for people born outside the province (``perm`` permutes
    ``range(outside_space())``); also returns the index into :data:`OUTSIDE`. Each city
    owns 62 sequence numbers, so cities never clash."""
    slot, sequence = divmod(perm(index), OUTSIDE_SEQUENCES)
    place, day = divmod(slot, BIRTH_DAYS)
    return (OUTSIDE[place][0], BIRTH_FIRST + timedelta(days=day),
            (city_number - 1) * OUTSIDE_SEQUENCES + sequence, place)
