"""A small two-city province for trajectories: checkpoints, sightings, a person and their vehicles.

Registered as the module ``track_province`` by conftest.py.

Seeded by ingesting CSV files through test mappings, as a city's system would send
them. 滨江 (360100) and 云州 (360200):

* checkpoints BJ1, BJ2 (滨江, 4.8 km apart), YZ1 (云州, ~50 km from BJ1) and YZ_FAR
  (云州, ~300 km from BJ1);
* the story plate 赣A7Q777: 滨江 BJ1 → 滨江 BJ2 (+10 min) → 云州 YZ1 (+60 min) →
  云州 YZ1 (+120 min), all two days ago;
* a cloned plate 赣A12345: 滨江 BJ1, then 云州 YZ_FAR ten minutes later;
* 钱七, a person filed in 云州, owns 赣A7Q777 (registered in 滨江) and 赣B55555
  (registered in 云州); a second, top-secret person file in 云州.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from lianfang.ingest.mapping import load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

BINJIANG, YUNZHOU = "360100", "360200"
CASE = "A3601002026110001"
PASSWORD = "Test-Password-2026"
STORY, CLONED, YZ_PLATE = "赣A7Q777", "赣A12345", "赣B55555"
OWNER_ID = "360202199001010013"
TZ = ZoneInfo("Asia/Shanghai")
PARAMS = {"purpose": "case_investigation", "case_no": CASE}

DEVICES = {  # id: (name, lon, lat, city)
    "36010000001190000001": ("八一大道卡口", 115.8600, 28.6800, BINJIANG),
    "36010000001190000002": ("洪都大道卡口", 115.9000, 28.7000, BINJIANG),
    "36020000001190000001": ("云州东卡口", 116.3500, 28.8500, YUNZHOU),
    "36020000001190000009": ("云州远郊卡口", 118.9000, 28.9000, YUNZHOU),
}
BJ1, BJ2, YZ1, YZ_FAR = DEVICES

MAPPING = """
mapping: test.track.{slug}
version: 1
city: "{city}"
system: TRACK
source: {{format: csv, encoding: utf-8}}
formats: ["%Y%m%d%H%M%S", "%Y%m%d"]
feeds:
  - category: device
    match: "{slug}_device*.csv"
    fields: {{device_id: SBBH, name: SBMC, device_kind: {{const: checkpoint}}, longitude: JD, latitude: WD,
              city_code: SSS}}
  - category: sighting
    match: "{slug}_sighting*.csv"
    fields: {{device_id: KKBH, passed_at: GCSJ, plate_no: HPHM, speed_kmh: CLSD, direction: XSFX,
              kind: {{const: vehicle}}}}
  - category: person
    match: "{slug}_person*.csv"
    fields: {{citizen_id: GMSFHM, name: XM}}
  - category: vehicle
    match: "{slug}_vehicle*.csv"
    fields: {{plate_no: HPHM, plate_type: {{const: "02"}}, owner_citizen_id: SFZMHM, owner_name: SYR}}
"""


@dataclass
class World:
    base: datetime  # the story's first sighting, local time
    sightings: dict[str, list[int]]  # plate -> sighting ids in time order
    owner: int  # 钱七's person record (云州)
    secret_person: int  # a top-secret person record (云州)


def _write(tmp: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def seed(platform: Platform, tmp: Path) -> World:
    base = (datetime.now(TZ) - timedelta(days=2)).replace(second=0, microsecond=0)
    minutes = {STORY: [(BJ1, 0, BINJIANG), (BJ2, 10, BINJIANG), (YZ1, 60, YUNZHOU), (YZ1, 120, YUNZHOU)],
               CLONED: [(BJ1, 200, BINJIANG), (YZ_FAR, 210, YUNZHOU)]}
    files: dict[str, list[Path]] = {BINJIANG: [], YUNZHOU: []}
    slug = {BINJIANG: "bj", YUNZHOU: "yz"}
    files[BINJIANG].append(_write(tmp, "bj_device_1.csv", "SBBH,SBMC,JD,WD,SSS",
                                  [f"{d},{n},{lon},{lat},{c}" for d, (n, lon, lat, c) in DEVICES.items()]))
    for city in (BINJIANG, YUNZHOU):
        rows = [f"{dev},{_stamp(base + timedelta(minutes=m))},{plate},60,2"
                for plate, seq in minutes.items() for dev, m, c in seq if c == city]
        files[city].append(_write(tmp, f"{slug[city]}_sighting_1.csv", "KKBH,GCSJ,HPHM,CLSD,XSFX", rows))
    files[YUNZHOU].append(_write(tmp, "yz_person_1.csv", "GMSFHM,XM", [f"{OWNER_ID},钱七", "36020219900101003X,孙八"]))
    files[BINJIANG].append(_write(tmp, "bj_vehicle_1.csv", "HPHM,SFZMHM,SYR", [f"赣A·7Q777,{OWNER_ID},钱七"]))
    files[YUNZHOU].append(_write(tmp, "yz_vehicle_1.csv", "HPHM,SFZMHM,SYR", [f"{YZ_PLATE},{OWNER_ID},钱七"]))
    for city, paths in files.items():
        (tmp / f"{slug[city]}.yaml").write_text(MAPPING.format(slug=slug[city], city=city), encoding="utf-8")
        mapping = load_mapping(tmp / f"{slug[city]}.yaml", platform.standard)
        ing = Ingestor(engine=platform.engine, standard=platform.standard, keyring=platform.keyring,
                       settings=platform.settings, mappings=[mapping])
        result = ing.ingest(paths, mapping=mapping)
        assert result.total("quarantined") == 0 and result.total("accepted") > 0
    with platform.engine.begin() as conn:
        sightings = {
            plate: [int(r[0]) for r in conn.execute(text(
                "SELECT id FROM rec_sighting WHERE plate_no = :p ORDER BY passed_at"), {"p": plate})]
            for plate in (STORY, CLONED)
        }
        persons = [int(r[0]) for r in conn.execute(text("SELECT id FROM rec_person ORDER BY position"))]
        conn.execute(text("UPDATE rec_person SET classification = 'top_secret' WHERE id = :i"), {"i": persons[1]})
    assert [len(v) for v in sightings.values()] == [4, 2]
    return World(base, sightings, persons[0], persons[1])


def last_event(platform: Platform) -> dict[str, object]:
    with platform.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_event ORDER BY seq DESC")).first()
    assert row is not None
    return dict(row._mapping)
