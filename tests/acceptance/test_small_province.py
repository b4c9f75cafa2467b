"""Acceptance: the `small` demo province, ingested whole, matches its manifest.

- stored counts per city and category equal the manifest's expectation;
- at least 99% of injected defects are quarantined with the right reason;
- no clean record is quarantined;
- accepted + quarantined + duplicates = read for every file, and read equals the
  records the generator wrote.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lianfang import demo
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.results import BatchResult
from lianfang.platform import Platform
from lianfang.store.schema import record_table_name


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("province")
    demo.generate(out, seed=7, scale="small")
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def ingested(platform: Platform, province: tuple[Path, dict[str, Any]]) -> tuple[Ingestor, BatchResult, dict[str, Any]]:
    root, manifest = province
    ing = Ingestor(
        engine=platform.engine,
        standard=platform.standard,
        keyring=platform.keyring,
        settings=platform.settings,
        mappings=platform.mappings,
    )
    return ing, ing.ingest([root]), manifest


@pytest.mark.slow
def test_small_province_matches_manifest(ingested: tuple[Ingestor, BatchResult, dict[str, Any]]) -> None:
    ing, result, manifest = ingested
    by_name = {f.name: f for f in result.files}
    problems = [f"{f.name}: {f.status} {f.error}" for f in result.files if f.status != "done"]
    assert not problems, problems[:5]

    # every file of the manifest was ingested, and each balances
    for mf in manifest["files"]:
        got = by_name.get(mf["path"])
        assert got is not None, f"{mf['path']} was not ingested"
        assert got.balanced, got.as_dict()
        assert got.read == mf["records"], (mf["path"], got.read, mf["records"])
        assert got.duplicates == mf["duplicates"], (mf["path"], got.duplicates, mf["duplicates"])
        assert got.mapping.startswith(mf["mapping"] + "@"), (got.mapping, mf["mapping"])

    # stored counts per city and category
    stored: dict[str, Counter[str]] = defaultdict(Counter)
    with ing.engine.connect() as conn:
        for category in ing.standard.categories:
            table = ing.table(record_table_name(category))
            for city, n in conn.execute(select(table.c.city_code, func.count()).group_by(table.c.city_code)):
                stored[city][category] = n
    expected = {city: {c: n for c, n in cats.items() if n} for city, cats in manifest["expected"].items()}
    actual = {city: dict(c) for city, c in stored.items()}
    assert actual == expected

    # defects: quarantined with the right reason (≥ 99%), and nothing clean in quarantine
    q, files = ing.table("quarantine"), ing.table("ingest_file")
    with ing.engine.connect() as conn:
        rows = conn.execute(
            select(files.c.name, q.c.position, q.c.reason_codes).join(files, files.c.id == q.c.file_id)
        ).all()
    quarantined = {(name, pos): set(codes.split(",")) for name, pos, codes in rows}
    defects = {(d["file"], d["position"]): d for d in manifest["defects"]}
    right = sum(1 for key, d in defects.items() if d["reason"] in quarantined.get(key, set()))
    missed = [
        (k, d["reason"], sorted(quarantined.get(k, set())))
        for k, d in defects.items()
        if d["reason"] not in quarantined.get(k, set())
    ]
    assert defects, "the manifest lists no defects"
    assert right / len(defects) >= 0.99, f"{right}/{len(defects)} right; first misses: {missed[:10]}"
    clean_in_quarantine = sorted(set(quarantined) - set(defects))
    assert not clean_in_quarantine, f"clean records quarantined: {clean_in_quarantine[:10]}"


@pytest.mark.slow
def test_binjiang_to_yunzhou_story_is_stored(ingested: tuple[Ingestor, BatchResult, dict[str, Any]]) -> None:
    """The story's records are all there: the plate crosses from 滨江 into 云州, the suspect's file is in 云州."""
    ing, _, manifest = ingested
    story = manifest["story"]
    plate = story["vehicle"]["plate_no"]
    sightings = ing.table("rec_sighting")
    with ing.engine.connect() as conn:
        rows = conn.execute(
            select(sightings.c.city_code, sightings.c.device_id, sightings.c.passed_at)
            .where(sightings.c.plate_no == plate)
            .order_by(sightings.c.passed_at)
        ).all()
    expected = [(s["city"], s["device_id"]) for s in story["sightings"]]
    assert [(r.city_code, r.device_id) for r in rows] == expected
    assert (rows[0].city_code, rows[-1].city_code) == ("360100", "360200")

    persons = ing.table("rec_person")
    digest = ing.blind.digest("citizen_id", story["suspect"]["citizen_id"])
    with ing.engine.connect() as conn:
        files = conn.execute(select(persons).where(persons.c.citizen_id_bidx == digest)).mappings().all()
    yunzhou = [ing.codec("person").decode(row, ing.tz) for row in files if row["city_code"] == "360200"]
    assert len(yunzhou) == 1 and yunzhou[0]["person_tag"] == "04"
    assert yunzhou[0]["name"] == story["suspect"]["name"]
