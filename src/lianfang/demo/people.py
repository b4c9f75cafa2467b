"""The people of 岚江省: one pure function from (city, index) to a person.

Person *j* of city *c* is the same wherever it appears (the city's person file, a
vehicle's owner, a face match, another city's file) because every attribute is
drawn from a stream keyed by (seed, c, j). Indices ``0 .. home_count(c)-1`` are the
city's people; ``home_count(c)`` is reserved for the story's suspect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lianfang.demo.draws import Draws, Permutation, key_of, keyed
from lianfang.demo.geography import PROVINCE_NAME, City, Province
from lianfang.demo.identity import (
    OUTSIDE,
    home_slot,
    home_space,
    make_id,
    outside_slot,
    outside_space,
    sex_of,
)
from lianfang.demo.names import NamePools, misspelt
from lianfang.demo.places import home_address, street

CROSS_SHARE = 0.05  # share of a city's person records that are people of neighbouring cities
_ETHNIC = ("02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "97")
_TAGS = ((40, None), (20, "02"), (20, "03"), (5, "01"), (10, "04"), (2, "05"), (3, "99"))
_KEY_PEOPLE = 0x5045


@dataclass(frozen=True, slots=True)
class Person:
    id: str  # true identity, e.g. P360100-0000123
    city: int
    index: int
    citizen_id: str
    name: str
    sex: str
    birth: tuple[int, int, int]
    ethnicity: str
    phone: str
    household_address: str
    current_address: str
    person_tag: str | None
    legacy15: bool  # the pinyin systems still hold this person's 15-digit number


def mobile(d: Draws) -> str:
    return f"1{'3456789'[d.below(7)]}{d.below(1_000_000_000):09d}"


def landline(d: Draws, area: str) -> str:
    return f"{area}-{2 + d.below(7)}{d.below(10_000_000):07d}"


def _tag(d: Draws) -> str | None:
    roll = d.below(100)
    for weight, tag in _TAGS:
        if roll < weight:
            return tag
        roll -= weight
    return None


class People:
    def __init__(self, seed: int, province: Province, pools: NamePools, persons_per_city: int):
        self.seed = seed
        self.province = province
        self.pools = pools
        self.per_city = persons_per_city
        self.cross = round(persons_per_city * CROSS_SHARE)
        self.home = persons_per_city - self.cross
        self._districts = {c.index: tuple(d.code for d in c.districts) for c in province.cities}
        self._home_perm = {c.index: Permutation(home_space(len(c.districts)), key_of(seed, 1, c.index))
                           for c in province.cities}
        self._outside_perm = {c.index: Permutation(outside_space(), key_of(seed, 2, c.index))
                              for c in province.cities}

    def home_count(self, city: int) -> int:
        return self.home

    def person(self, city: int, index: int) -> Person:
        c = self.province.city(city)
        d = keyed(self.seed, _KEY_PEOPLE, city, index)
        if d.chance(10):
            division, birth, sequence, place = outside_slot(index, city, self._outside_perm[city])
            citizen_id = make_id(division, birth, sequence)
            household = f"{OUTSIDE[place][1]}{street(d)}"
        else:
            division, birth, sequence = home_slot(index, self._districts[city], self._home_perm[city])
            citizen_id = make_id(division, birth, sequence)
            home_district = next(x for x in c.districts if x.code == division)
            household = f"{PROVINCE_NAME}{c.name}{home_district.name}{street(d)}"
        sex = sex_of(citizen_id)
        name = self.pools.name(d.below(1 << 20), d.below(1 << 20), sex)
        ethnicity = "01" if d.chance(93) else d.pick(_ETHNIC)
        phone = mobile(d) if d.chance(95) else landline(d, c.area_code)
        current = home_address(d, c, d.pick(c.districts))
        return Person(
            id=f"P{c.code}-{index:07d}", city=city, index=index, citizen_id=citizen_id, name=name,
            sex=sex, birth=(birth.year, birth.month, birth.day), ethnicity=ethnicity, phone=phone,
            household_address=household, current_address=current, person_tag=_tag(d),
            legacy15=birth.year < 2000 and d.chance(10))

    def suspect(self, city: int) -> Person:
        return replace(self.person(city, self.home), person_tag="04")

    def cross_appearances(self, city: City) -> list[tuple[int, int]]:
        """(home city, index) of the neighbours' people that also appear in ``city``'s file.

        An arithmetic progression with a step coprime to the home count never repeats,
        so nobody appears twice in one city's file.
        """
        neighbours = city.neighbours
        out = []
        for t in range(self.cross):
            home = neighbours[t % len(neighbours)]
            step = 7919 if self.home % 7919 else 7927
            out.append((home, (city.index * 104_729 + (t // len(neighbours)) * step) % self.home))
        return out

    def variant(self, person: Person, city: int) -> Person:
        """How ``person`` was typed into another city's system: a homophone in the name, a
        new phone number, or no change."""
        d = keyed(self.seed, _KEY_PEOPLE + 1, city, person.city, person.index)
        roll = d.below(100)
        if roll < 35:
            other = misspelt(person.name)
            if other:
                return replace(person, name=other)
        if roll < 70:
            return replace(person, phone=mobile(d))
        return person
