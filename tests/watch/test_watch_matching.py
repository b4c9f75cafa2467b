"""Every newly stored sighting is matched against the live watch lists as it is stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from watch_world import (  # registered by conftest.py
    BINJIANG,
    CASE,
    DAY,
    OTHER_PLATE,
    PERSON_ID,
    PLATE,
    PURPOSE,
    YUNZHOU,
    add_plate,
    grant,
    hits,
    ingest,
    now_ms,
    passed,
    user,
)

from lianfang.identity.directory import User
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.quarantine import list_items, retry
from lianfang.platform import Platform
from lianfang.policy.decision import ScopeKind


def sighting_ids(platform: Platform, plate: str) -> list[int]:
    with platform.engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(text("SELECT id FROM rec_sighting WHERE plate_no = :p ORDER BY id"),
                                                {"p": plate})]


def test_a_file_of_sightings_makes_one_hit_per_watched_pass(platform: Platform, inv: User, ing: Ingestor,
                                                           tmp_path: Path) -> None:
    entry = add_plate(platform, inv)
    rows = [{"plate": OTHER_PLATE}] * 3 + [{"plate": "赣A·7q777"}] + [{"plate": f"赣A{n:05d}"} for n in range(10, 600)]
    result = ingest(ing, tmp_path, BINJIANG, rows)
    assert result.total("accepted") == 594  # two chunks of the test settings' 500
    (hit,) = hits(platform)
    (sid,) = sighting_ids(platform, PLATE)
    assert (hit["entry_id"], hit["owner_id"], hit["record_id"]) == (entry.id, inv.id, sid)
    assert hit["city_code"] == BINJIANG and hit["category"] == "sighting" and hit["seen_at"] is None
    with platform.engine.connect() as conn:
        passed_at, stamp = conn.execute(text("SELECT passed_at, ingested_at FROM rec_sighting WHERE id = :i"),
                                        {"i": sid}).one()
    assert hit["at_ms"] == passed_at and hit["ingested_at"] == stamp and hit["created_at"] >= stamp


def test_a_sighting_outside_the_scope_makes_no_hit(platform: Platform, inv: User, appr: User, ing: Ingestor,
                                                  tmp_path: Path) -> None:
    grant(platform, inv, appr, YUNZHOU, ScopeKind.VEHICLE, [PLATE])
    add_plate(platform, inv, scope=[YUNZHOU])
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    assert hits(platform) == []
    ingest(ing, tmp_path, YUNZHOU, [{"plate": PLATE}])
    assert [h["city_code"] for h in hits(platform)] == [YUNZHOU]


def test_expired_and_removed_entries_make_no_hits(platform: Platform, inv: User, ing: Ingestor,
                                                  tmp_path: Path) -> None:
    expiring = add_plate(platform, inv, days=1)
    removed = add_plate(platform, inv, plate=OTHER_PLATE)
    platform.watch.entries.remove(inv, removed.id, now_ms=now_ms())
    later = now_ms() + 2 * DAY
    platform.watch.matcher.clock = lambda: later  # two days on: the first entry has expired
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}, {"plate": OTHER_PLATE}])
    assert hits(platform) == []
    platform.watch.matcher.clock = now_ms
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE, "at": passed(30)}])
    assert [h["entry_id"] for h in hits(platform)] == [expiring.id]


def test_each_owner_of_a_matching_entry_gets_a_hit(platform: Platform, inv: User, ing: Ingestor,
                                                   tmp_path: Path) -> None:
    other = user(platform, "bj_inv2", unit="360103")
    mine, theirs = add_plate(platform, inv), add_plate(platform, other)
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    assert sorted((h["entry_id"], h["owner_id"]) for h in hits(platform)) == [(mine.id, inv.id),
                                                                               (theirs.id, other.id)]


def test_a_watched_person_is_matched_by_blind_index_on_face_captures(platform: Platform, ing: Ingestor,
                                                                    tmp_path: Path) -> None:
    yz = user(platform, "yz_inv", unit="360202")
    entry = platform.watch.entries.add(yz, kind="person", subject=PERSON_ID, reason="在逃人员", purpose=PURPOSE,
                                       scope=[YUNZHOU], expires_at=now_ms() + DAY, now_ms=now_ms())
    ingest(ing, tmp_path, YUNZHOU, [{"kind": "face", "citizen_id": "360202199001010056"},
                                    {"kind": "face", "citizen_id": PERSON_ID}])
    (hit,) = hits(platform)
    assert hit["entry_id"] == entry.id
    with platform.engine.connect() as conn:
        face = conn.execute(text("SELECT kind FROM rec_sighting WHERE id = :i"), {"i": hit["record_id"]}).scalar()
    assert face == "face"


def test_entries_added_by_another_process_are_matched_from_the_next_chunk(
        platform: Platform, inv: User, ing: Ingestor, tmp_path: Path) -> None:
    ingest(ing, tmp_path, BINJIANG, [{"plate": OTHER_PLATE}])  # the matcher has loaded its (empty) index
    elsewhere = type(platform)(platform.settings)  # the web server, say: same database, its own memory
    try:
        add_plate(elsewhere, inv)
    finally:
        elsewhere.close()
    ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE}])
    assert len(hits(platform)) == 1


def test_a_sighting_stored_from_quarantine_is_matched_too(platform: Platform, inv: User, ing: Ingestor,
                                                          tmp_path: Path) -> None:
    add_plate(platform, inv)
    result = ingest(ing, tmp_path, BINJIANG, [{"plate": PLATE, "device": "123"}])  # a device ID of 3 digits
    assert result.total("quarantined") == 1 and hits(platform) == []
    _, items = list_items(ing)
    outcome = retry(ing, [items[0].id], overrides={"KKBH": "36010200001190000001"})
    assert outcome.resolved == 1
    (hit,) = hits(platform)
    assert hit["record_id"] == sighting_ids(platform, PLATE)[0]


def test_a_duplicate_sighting_makes_no_second_hit(platform: Platform, inv: User, ing: Ingestor,
                                                  tmp_path: Path) -> None:
    add_plate(platform, inv)
    row = {"plate": PLATE, "at": "20261120101010"}
    ingest(ing, tmp_path, BINJIANG, [row])
    result = ingest(ing, tmp_path, BINJIANG, [row])
    assert result.total("duplicates") == 1 and len(hits(platform)) == 1
    assert CASE  # the entry's case travels with the hit at delivery (see the API tests)
