"""Small hand-written sources and mappings for pipeline tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lianfang.ingest.lease import current_owner
from lianfang.ingest.mapping import Mapping, load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.platform import Platform

PERSON_MAPPING = """
mapping: test.binjiang.rk
version: 1
city: "360100"
system: BJ-RK
source: {format: csv, encoding: gbk}
formats: ["%Y%m%d"]
value_maps:
  sex: {"男": "1", "女": "2"}
feeds:
  - category: person
    match: "rk*.csv"
    source_id: RYBH
    fields:
      citizen_id: GMSFHM
      name: XM
      sex: {from: XB, map: sex}
      birth_date: CSRQ
      phone: LXDH
"""

SIGHTING_MAPPING = """
mapping: test.yunzhou.kk
version: 1
city: "360200"
system: YZ-KK
source: {format: csv, encoding: utf-8}
formats: ["%Y-%m-%d %H:%M:%S"]
feeds:
  - category: sighting
    match: "kk*.csv"
    fields:
      kind: {const: vehicle}
      device_id: SBBH
      passed_at: GCSJ
      plate_no: HPHM
      plate_type: HPZL
      speed_kmh: CS
"""

PERSON_ROWS = [
    # RYBH, GMSFHM, XM, XB, CSRQ, LXDH
    ("R1", "11010519491231002X", "张三", "男", "19491231", "13812345678"),
    ("R2", "360102198506120031", "李四", "男", "19850612", "0791-88886666"),
    (
        "R3",
        "110105491231002",
        "张三",
        "男",
        "19491231",
        "13812345678",
    ),  # 15-digit form of R1: duplicate
    ("R4", "11010519491231002Y", "王五", "女", "19491231", "13812345678"),  # bad ID
    ("R5", "36010219900307123X", "赵六", "女", "19900307", "12345"),  # bad check digit and phone
]


def person_csv(path: Path, rows: list[tuple[str, ...]] = PERSON_ROWS) -> Path:
    lines = ["RYBH,GMSFHM,XM,XB,CSRQ,LXDH", *(",".join(r) for r in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


def sighting_csv(path: Path, n: int, *, bad_every: int = 0, start: int = 0) -> Path:
    """n sightings of a few plates at a few devices, one per second; every k-th with a bad plate."""
    out = ["SBBH,GCSJ,HPHM,HPZL,CS"]
    for i in range(start, start + n):
        plate = f"赣B{i % 1000:05d}" if not (bad_every and i % bad_every == 0) else "赣BIO123"
        sec = i % 60
        minute = (i // 60) % 60
        hour = (i // 3600) % 24
        day = 1 + i // 86400
        when = f"2026-10-{day:02d} {hour:02d}:{minute:02d}:{sec:02d}"
        out.append(f"36020000001210{i % 7:06d},{when},{plate},02,{40 + i % 50}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def dead_owner() -> str:
    """A lease owner on this host whose process has ended (what ``kill -9`` leaves behind)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{current_owner().rpartition(':')[0]}:{proc.pid}"


def write_mapping(tmp_path: Path, platform: Platform, text: str, name: str) -> Mapping:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_mapping(path, platform.standard)


@pytest.fixture
def person_mapping(tmp_path: Path, platform: Platform) -> Mapping:
    return write_mapping(tmp_path, platform, PERSON_MAPPING, "person-mapping.yaml")


@pytest.fixture
def sighting_mapping(tmp_path: Path, platform: Platform) -> Mapping:
    return write_mapping(tmp_path, platform, SIGHTING_MAPPING, "sighting-mapping.yaml")


@pytest.fixture
def ingestor(platform: Platform, person_mapping: Mapping, sighting_mapping: Mapping) -> Ingestor:
    return Ingestor(
        engine=platform.engine,
        standard=platform.standard,
        keyring=platform.keyring,
        settings=platform.settings,
        mappings=[person_mapping, sighting_mapping],
    )
