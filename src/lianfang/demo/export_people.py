"""Person files: each city's own people, a few of its neighbours' people typed in again
(homophones, new phones, 15-digit numbers), and — in 云州 — the story's suspect."""

from __future__ import annotations

from typing import Any

from lianfang.demo.draws import keyed, stage_random
from lianfang.demo.geography import City
from lianfang.demo.people import Person
from lianfang.demo.sink import Sink
from lianfang.demo.story import StoryPlan
from lianfang.demo.world import PROGRESS_EVERY, World

_KEY_RENDER = 0x5052


def person_record(person: Person, serial: str, *, legacy15: bool, fullwidth: bool) -> dict[str, Any]:
    return {
        "citizen_id": person.citizen_id, "name": person.name, "sex": person.sex,
        "ethnicity": person.ethnicity, "birth_date": person.birth, "phone": person.phone,
        "household_address": person.household_address, "current_address": person.current_address,
        "person_tag": person.person_tag, "_src": serial, "_id15": legacy15, "_fw": fullwidth,
    }


class _CityFile:
    """One city's person file being written."""

    def __init__(self, world: World, city: City, done: int) -> None:
        self.world, self.city = world, city
        self.sink: Sink = world.sink(world.own(city), "person")
        self.random = stage_random(world.seed, f"persons/{city.code}").random
        self.serial = 0
        self.done = done

    def emit(self, person: Person, legacy15: bool, protected: bool = False) -> int:
        self.serial += 1
        rec = person_record(person, f"R{self.city.code}{self.serial:08d}", legacy15=legacy15,
                            fullwidth=self.random() < 0.05)
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.world.report("persons", self.done, self.world.people.per_city * 16 + 1)  # + the suspect
        return self.sink.emit(rec, protected=protected, identity=person.id)


def export_people(world: World, story: StoryPlan) -> None:
    people = world.people
    done = 0
    for city in world.province.cities:
        out = _CityFile(world, city, done)
        cross = people.cross_appearances(city)
        every = max(2, people.home // max(1, len(cross))) if cross else 0
        suspect_at = people.home // 2 if city.index == story.suspect.city else -1
        next_cross = 0
        for j in range(people.home):
            if j == suspect_at:
                s = story.suspect
                position = out.emit(s, legacy15=False, protected=True)
                story.record["suspect"] = {
                    "identity": s.id, "name": s.name, "citizen_id": s.citizen_id, "sex": s.sex,
                    "birth_date": "{:04d}-{:02d}-{:02d}".format(*s.birth), "city": city.code,
                    "person_tag": "04", "file": out.sink.file, "position": position}
            own = people.person(city.index, j)
            out.emit(own, legacy15=own.legacy15)
            if every and j % every == every - 1 and next_cross < len(cross):
                home, index = cross[next_cross]
                next_cross += 1
                original = people.person(home, index)
                born_1900s = original.citizen_id[6:8] == "19"
                # the pinyin systems typed half of the older visitors in with their 15 digits
                out.emit(people.variant(original, city.index), legacy15=original.legacy15 or (
                    born_1900s and keyed(world.seed, _KEY_RENDER, home, index).chance(50)))
        for home, index in cross[next_cross:]:
            out.emit(people.variant(people.person(home, index), city.index), legacy15=False)
        out.sink.close()
        done = out.done
    world.report("persons", done, done)
