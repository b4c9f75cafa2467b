"""Licence plates (GA 36): every registered vehicle gets a unique plate without a lookup table.

A vehicle's plate class is drawn from its key; its serial is a keyed permutation of
its index over that class's serial space (a bijection, so no two vehicles of a city
share a plate). Serials never contain I or O. The story's plate uses a serial pattern
(digit, letter, three digits) that no generated plate has, so it is unique too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from lianfang.demo.draws import Draws, Permutation, key_of, keyed
from lianfang.demo.identity import OUTSIDE

LETTERS: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24: no I, no O
SERIAL34: Final = "0123456789" + LETTERS
_KEY_PLATES: Final = 0x504C

REGULAR_SPACE: Final = 100_000 + 24 * 10_000 + 24 * 24 * 1_000
NE_SMALL_SPACE: Final = 2 * 34 * 10_000
NE_LARGE_SPACE: Final = 2 * 100_000
SUFFIXED_SPACE: Final = 34**4


@dataclass(frozen=True, slots=True)
class PlateClass:
    plate_type: str  # GA 24.7
    plate_color: str  # GA/T 1400 colour code
    weight: int  # per thousand vehicles
    space: int


SMALL = PlateClass("02", "5", 870, REGULAR_SPACE)
LARGE = PlateClass("01", "6", 30, REGULAR_SPACE)
TRAILER = PlateClass("15", "6", 10, SUFFIXED_SPACE)
COACH = PlateClass("16", "6", 10, SUFFIXED_SPACE)
NE_SMALL = PlateClass("52", "9", 70, NE_SMALL_SPACE)
NE_LARGE = PlateClass("51", "9", 10, NE_LARGE_SPACE)
CLASSES: Final = (SMALL, LARGE, TRAILER, COACH, NE_SMALL, NE_LARGE)
MAX_PER_CITY: Final = min(c.space for c in CLASSES)


def regular_serial(s: int) -> str:
    if s < 100_000:
        return f"{s:05d}"
    s -= 100_000
    if s < 240_000:
        letter, n = divmod(s, 10_000)
        return f"{LETTERS[letter]}{n:04d}"
    s -= 240_000
    pair, n = divmod(s, 1_000)
    return f"{LETTERS[pair // 24]}{LETTERS[pair % 24]}{n:03d}"


def _base34(s: int) -> str:
    out = ""
    for _ in range(4):
        s, r = divmod(s, 34)
        out = SERIAL34[r] + out
    return out


def serial(cls: PlateClass, s: int) -> str:
    if cls.space == REGULAR_SPACE:
        return regular_serial(s)
    if cls is NE_SMALL:
        return f"{'DF'[s // 340_000]}{SERIAL34[(s // 10_000) % 34]}{s % 10_000:04d}"
    if cls is NE_LARGE:
        return f"{s % 100_000:05d}{'DF'[s // 100_000]}"
    return _base34(s) + ("挂" if cls is TRAILER else "学")


def plate_class(d: Draws) -> PlateClass:
    roll = d.below(1000)
    for cls in CLASSES:
        if roll < cls.weight:
            return cls
        roll -= cls.weight
    return SMALL


def registered_plate(seed: int, city: int, letter: str, index: int,
                     draws: Draws | None = None) -> tuple[str, PlateClass]:
    """Plate of the index-th vehicle registered in ``city`` (plate letter ``letter``);
    ``draws``: the vehicle's own stream, when the caller has one already."""
    cls = plate_class(draws or keyed(seed, _KEY_PLATES, city, index))
    # keyed by the space, not the class: 01 and 02 share serials, so they share the bijection
    return f"赣{letter}{serial(cls, _permutation(seed, city, cls.space)(index))}", cls


@cache
def _permutation(seed: int, city: int, space: int) -> Permutation:
    return Permutation(space, key_of(seed, _KEY_PLATES, city, space))


VISITOR_SPACE: Final = len(OUTSIDE) * 24 * REGULAR_SPACE


def visitor_plate(seed: int, number: int) -> str:
    """A small car from another province; ``number`` is unique across the province."""
    s, province = divmod(_permutation(seed, 0, VISITOR_SPACE)(number), len(OUTSIDE))
    s, letter = divmod(s, 24)
    return f"{OUTSIDE[province][2]}{LETTERS[letter]}{regular_serial(s)}"
