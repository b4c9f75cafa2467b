"""Vehicle registers: each city's vehicles with their owners; 滨江's includes the story car."""

from __future__ import annotations

from lianfang.demo.draws import stage_random
from lianfang.demo.story import THIEF_CITY, StoryPlan
from lianfang.demo.vehicles import owner_of, vehicle
from lianfang.demo.world import PROGRESS_EVERY, World


def export_vehicles(world: World, story: StoryPlan) -> None:
    count = world.scale.vehicles
    total = count * len(world.province.cities)
    done = 0
    for city in world.province.cities:
        sink = world.sink(world.own(city), "vehicle")
        rand = stage_random(world.seed, f"vehicles/{city.code}").random
        for k in range(count):
            if city.index == THIEF_CITY and k == count // 2:
                position = sink.emit(story.vehicle, protected=True)
                story.record["vehicle"] = {
                    **{f: story.vehicle[f] for f in ("plate_no", "plate_type", "plate_color",
                                                     "vehicle_color", "brand", "owner_citizen_id")},
                    "city": city.code, "file": sink.file, "position": position}
            v = vehicle(world.seed, city.index, city.plate_letter, k)
            owner = owner_of(world.people, v)
            sink.emit({
                "plate_no": v.plate_no, "plate_type": v.plate_type, "plate_color": v.plate_color,
                "vehicle_color": v.vehicle_color, "brand": v.brand, "owner_citizen_id": owner.citizen_id,
                "owner_name": owner.name, "owner_phone": owner.phone, "_src": k + 1,
                "_id15": owner.legacy15, "_fw": rand() < 0.05,
            })
            done += 1
            if done % PROGRESS_EVERY == 0:
                world.report("vehicles", done, total)
        sink.close()
    world.report("vehicles", done, total)
