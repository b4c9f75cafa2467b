"""Read every generated record back through its mapping and check it independently.

Clean records are truly clean (valid IDs, GA 36 plates, phones, codes of the
standard, times inside the window, required fields present) and never collide on a
category key; every defect fails for exactly its recorded reason; every duplicate
normalises to its original's key.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import demo_support as support
import pytest


def _validated(small: Any) -> dict[str, list[tuple[int, dict[str, object] | None, Exception | None]]]:
    out = {}
    for path, file in small.files.items():
        rows = []
        for record in file.records:
            if record.fields is None:
                rows.append((record.position, None, ValueError("unreadable")))
                continue
            values = support.apply(file.mapping, file.feed, record.fields)
            try:
                rows.append((record.position, support.validate(file.category, values), None))
            except ValueError as exc:
                rows.append((record.position, None, exc))
        out[path] = rows
    return out


@pytest.fixture(scope="module")
def checked(small: Any) -> dict[str, list[tuple[int, dict[str, object] | None, Exception | None]]]:
    return _validated(small)


def test_clean_records_are_clean(small: Any, checked: Any) -> None:
    defects = small.defects()
    start = date.fromisoformat(small.manifest["window"][0])
    end = date.fromisoformat(small.manifest["window"][1])
    for path, rows in checked.items():
        for position, values, error in rows:
            if (path, position) in defects:
                continue
            assert error is None, (path, position, error)
            assert values is not None
            for name, value in values.items():
                if isinstance(value, datetime):
                    assert start <= value.date() <= end, (path, position, name, value)


def test_defects_fail_for_exactly_their_reason(small: Any, checked: Any) -> None:
    for (path, position), defect in small.defects().items():
        _, _values, error = checked[path][position - 1]
        assert error is not None, (path, position, defect)
        if defect["reason"].startswith("parse."):
            assert small.files[path].records[position - 1].fields is None, (path, position)
            continue
        assert error.args == (defect["reason"], defect["field"]), (path, position, defect, error.args)


def test_keys_never_collide_except_for_listed_duplicates(small: Any, checked: Any) -> None:
    defects, dups = small.defects(), small.duplicates()
    keys: dict[str, dict[tuple[object, ...], tuple[str, int]]] = defaultdict(dict)
    for path, rows in checked.items():
        category = small.files[path].category
        for position, values, _ in rows:
            if (path, position) in defects or values is None:
                continue
            key = support.key_of(category, values)
            if (path, position) in dups:
                original = (path, dups[(path, position)]["of_position"])
                assert keys[category].get(key) == original, (path, position, key)
                continue
            assert key not in keys[category], (path, position, key, keys[category][key])
            keys[category][key] = (path, position)


def test_clean_plates_and_ids_meet_the_standards(small: Any, checked: Any) -> None:
    plate_fields = {"plate_no", "suspect_plate_no", "target_plate_no"}
    id_fields = {"citizen_id", "owner_citizen_id", "suspect_citizen_id", "target_citizen_id",
                 "matched_citizen_id"}
    seen_plates = seen_ids = 0
    defects = small.defects()
    for path, rows in checked.items():
        for position, values, _ in rows:
            if values is None or (path, position) in defects:
                continue
            for name in plate_fields & values.keys():
                if values[name] is not None:
                    assert support.PLATE.match(str(values[name])), (path, position, values[name])
                    seen_plates += 1
            for name in id_fields & values.keys():
                if values[name] is not None:
                    number = str(values[name])
                    assert support.check_char(number[:17]) == number[17], (path, position)
                    seen_ids += 1
    assert seen_plates > 10_000 and seen_ids > 5_000


def test_legacy_spellings_are_present(small: Any) -> None:
    def values(path_part: str, column: str) -> list[str]:
        return [r.fields[column] for p, f in small.files.items() if path_part in p for r in f.records
                if r.fields and r.fields.get(column)]

    ids = values("bj-zhxt/RYXX", "GMSFHM")
    assert any(len(i) == 15 for i in ids) and any(len(i) == 18 for i in ids)
    assert any(not i.isascii() for i in values("lc-jwpt/人员信息", "公民身份号码"))  # full width
    def mostly(items: list[str], test: Any) -> bool:  # defects and near duplicates re-spell some
        return bool(items) and sum(1 for i in items if test(i)) > 0.9 * len(items)

    assert mostly(values("lc-jwpt/过车记录", "号牌号码"), lambda p: "·" in p)
    assert mostly(values("yz-zhjw/vehicles", "plate"), lambda p: "-" in p and p[1].islower())
    assert any(m.startswith("+86 ") for m in values("yz-zhjw/persons", "mobile"))
    assert any("年" in t for t in values("lc-jwpt/案件信息", "发案时间"))
    assert any(t.endswith("+08:00") for t in values("yz-zhjw/cases", "occurredAt"))
    kinds = {v for v in values("zhjw/sightings", "captureType")} | {v for v in values("sjjh/Captures", "CaptureType")}
    assert {"car", "face", "1", "2"} <= kinds
    assert values("yz-zhjw/sightings", "faceId") and values("ql-sjjh/Captures", "FaceNo")
    assert values("yz-zhjw/sightings", "matchedIdNumber")


def test_encodings_are_as_declared(small: Any) -> None:
    for path, file in small.files.items():
        data = (small.root / path).read_bytes()
        source = support.source_of(file.mapping, file.feed)
        if source.get("encoding") == "gbk":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert not data.startswith(b"\xef\xbb\xbf")
        elif source["format"] == "xlsx":
            assert data[:2] == b"PK"
        else:
            data.decode("utf-8")
        if "-jwpt/" in path:
            assert data.startswith(b"\xef\xbb\xbf"), "the Chinese-header CSV vendor writes a BOM"
        if source["format"] != "xlsx":
            text = data.decode(source.get("encoding", "utf-8"), errors="replace")
            assert not any(ch < " " and ch not in "\n" for ch in text), f"control character in {path}"
        if path.startswith("reference/"):
            assert not data.startswith(b"\xef\xbb\xbf")


def test_damaged_gbk_lines_keep_their_columns(small: Any) -> None:
    for (path, position), defect in small.defects().items():
        if defect["reason"] != "parse.encoding":
            continue
        raw = small.files[path].records[position - 1].raw
        header = small.files[path].columns
        assert b"\r" not in raw and raw.count(b",") == len(header) - 1
        raw.decode("gbk", errors="replace")
