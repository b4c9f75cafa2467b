"""The manifest tells the truth about the files: counts, positions, mappings, identities."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import demo_support as support

CONTRACT = {"required.missing", "citizen_id.check_digit", "citizen_id.birth_date", "datetime.impossible",
            "date.impossible", "datetime.format", "plate.format", "phone.format", "code.unknown",
            "parse.encoding", "parse.record"}


def test_the_generator_and_this_test_agree_on_the_reason_codes() -> None:
    from lianfang.demo.defects import REASONS

    assert REASONS == CONTRACT


def test_every_file_is_listed_and_every_listed_file_exists(small: Any) -> None:
    on_disk = {p.relative_to(small.root).as_posix() for p in small.root.rglob("*") if p.is_file()}
    listed = {f["path"] for f in small.manifest["files"]}
    extra = {p for p in on_disk - listed if not p.startswith("geo/") and p not in support.COMPANIONS}
    assert not extra, sorted(extra)[:5]
    assert listed <= on_disk
    assert {"geo/cities.geojson", "geo/devices.geojson", "manifest.json"} <= on_disk


def test_each_file_matches_exactly_one_feed_of_the_mapping_the_manifest_names(small: Any) -> None:
    for entry in small.manifest["files"]:
        hits = support.feeds_for(entry["path"])
        assert len(hits) == 1, (entry["path"], [m["mapping"] for m, _ in hits])
        mapping, feed = hits[0]
        assert mapping["mapping"] == entry["mapping"]
        assert feed["category"] == entry["category"]
        assert mapping["city"] == entry["city"]
    # nothing else in the tree is claimed by a mapping (the manifest, geo files …)
    for path in ("manifest.json", "geo/cities.geojson", "geo/devices.geojson", "defects.jsonl"):
        assert not support.feeds_for(path)


def test_counts_equal_the_records_in_the_files(small: Any) -> None:
    defects, dups = small.defects(), small.duplicates()
    per_file_defects = Counter(f for f, _ in defects)
    per_file_dups = Counter(f for f, _ in dups)
    for entry in small.manifest["files"]:
        records = small.files[entry["path"]].records
        assert entry["records"] == len(records), entry["path"]
        assert [r.position for r in records] == list(range(1, len(records) + 1))
        assert entry["defects"] == per_file_defects[entry["path"]]
        assert entry["duplicates"] == per_file_dups[entry["path"]]
        assert entry["clean"] == entry["records"] - entry["defects"] - entry["duplicates"]


def test_expected_counts_add_up(small: Any) -> None:
    expected: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in small.manifest["files"]:
        if entry["city"] != "360000":
            expected[entry["city"]][entry["category"]] += entry["clean"]
    for city, cats in expected.items():
        for category, count in cats.items():
            assert small.manifest["expected"][city][category] == count, (city, category)
    reference = sum(e["clean"] for e in small.manifest["files"] if e["city"] == "360000")
    stored = sum(n for cats in small.manifest["expected"].values()
                 for c, n in cats.items() if c in ("jurisdiction", "unit", "device"))
    assert reference == stored


def test_defects_and_duplicates_point_at_real_records(small: Any) -> None:
    defects, dups = small.defects(), small.duplicates()
    assert not set(defects) & set(dups)
    for (path, position), d in defects.items():
        assert 1 <= position <= len(small.files[path].records)
        assert d["reason"] in CONTRACT
    for (path, position), d in dups.items():
        assert 1 <= d["of_position"] < position <= len(small.files[path].records)
        assert (path, d["of_position"]) not in defects and (path, d["of_position"]) not in dups
        assert d["kind"] in ("exact", "near")
    reasons = Counter(d["reason"] for d in defects.values())
    assert set(reasons) == CONTRACT, f"missing reasons at small scale: {CONTRACT - set(reasons)}"
    kinds = Counter(d["kind"] for d in dups.values())
    assert kinds["exact"] and kinds["near"]
    records = sum(e["records"] for e in small.manifest["files"])
    assert 0.01 < len(defects) / records < 0.03
    assert 0.005 < len(dups) / records < 0.015


def test_exact_duplicates_repeat_the_bytes_and_near_ones_do_not(small: Any) -> None:
    for (path, position), d in small.duplicates().items():
        records = small.files[path].records
        same = records[position - 1].raw == records[d["of_position"] - 1].raw
        assert same == (d["kind"] == "exact"), (path, position)


def test_identities_cover_every_person_record(small: Any) -> None:
    identities = {e["record"]: e["identity"] for e in small.list("identities")}
    person_files = [e for e in small.manifest["files"] if e["category"] == "person"]
    assert sum(e["records"] for e in person_files) == len(identities)
    for entry in person_files:
        seen: dict[str, int] = {}
        for position in range(1, entry["records"] + 1):
            identity = identities[f"{entry['path']}#{position}"]
            assert identity.startswith("P36")
            seen[identity] = seen.get(identity, 0) + 1
        # nobody twice in one city's file, except as a listed duplicate
        dups = sum(1 for (f, _) in small.duplicates() if f == entry["path"])
        assert sum(seen.values()) - len(seen) == dups
    # people appear in several cities' files
    by_identity: dict[str, set[str]] = defaultdict(set)
    for record, identity in identities.items():
        by_identity[identity].add(record.split("/")[0])
    assert sum(1 for cities in by_identity.values() if len(cities) > 1) > 100


def test_manifest_lists_the_cities_and_their_systems(small: Any) -> None:
    cities = small.manifest["cities"]
    assert [c["code"] for c in cities] == [f"36{n:02d}00" for n in range(1, 17)]
    assert cities[0]["name"] == "滨江市" and cities[1]["name"] == "云州市"
    assert "360200" in cities[0]["neighbours"] and "360100" in cities[1]["neighbours"]
    assert [c["plate_letter"] for c in cities] == list("ABCDEFGHJKLMNPQR")
    kinds = Counter(c["system_kind"] for c in cities)
    assert len(kinds) >= 5 and min(kinds.values()) >= 2
    assert cities[1]["sightings_via"].endswith("viid")
    assert small.manifest["format"] == "lianfang-demo-manifest/1"


def test_folding_the_lists_into_the_manifest_closes_every_file(tmp_path: Any) -> None:
    """The short lists are read back and removed; no file handle is left for the collector to find."""
    import warnings

    from lianfang.demo.manifest import Ledger

    ledger = Ledger(tmp_path)
    ledger.defect("a.csv", 3, "bad_check_digit", "citizen_id", "citizen_id.check_digit")
    ledger.duplicate("a.csv", 5, 4, "exact")
    ledger.identity("a.csv", 1, "P1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        inline, external = ledger.finish()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert inline["identities"] == {"a.csv#1": "P1"} and len(inline["defects"]) == 1 and external == {}
    assert not list(tmp_path.glob("*.jsonl"))
