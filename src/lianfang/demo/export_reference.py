"""The provincial system's reference exports: jurisdictions, police units and devices.

Clean by contract: no defects, no duplicates.
"""

from __future__ import annotations

from dataclasses import asdict

from lianfang.demo.systems import provincial_installation
from lianfang.demo.units import jurisdictions, units
from lianfang.demo.world import World


def export_reference(world: World) -> None:
    province = world.province
    inst = provincial_installation(province.code)
    rows = {
        "jurisdiction": jurisdictions(province),
        "unit": [asdict(u) for u in units(province)],
        "device": [{"device_id": d.id, "name": d.name, "device_kind": d.kind, "longitude": d.lon,
                    "latitude": d.lat, "division_code": d.division, "road_name": d.road,
                    "city_code": province.city(d.city).code} for d in world.net.devices],
    }
    total = sum(len(r) for r in rows.values())
    done = 0
    for category, records in rows.items():
        sink = world.sink(inst, category, clean=True)
        for rec in records:
            sink.emit(rec)
        sink.close()
        done += len(records)
        world.report("reference", done, total)
