"""xlsx reader: exact cell strings, sheets, headers, and refused archives (zip bombs)."""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from lianfang.ingest.readers import HostileInput, Limits, RawRecord, ReaderSpec, open_reader

XLSX = ReaderSpec(format="xlsx")


def read(path: Path, spec: ReaderSpec = XLSX, limits: Limits = Limits()) -> list[RawRecord]:
    return list(open_reader(path, spec, limits))


def make_workbook(path: Path) -> Path:
    """A workbook as the cities send them. Cell A2's ID is an 18-digit number stored
    with all its digits (``<v>110101199003071234</v>``, as Excel/WPS write integers;
    openpyxl itself would write only 16 significant digits)."""
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "人员"
    people.append(["姓名", "GMSFHM", "CSRQ", "SG", "HY", "BZ"])
    people.append(["张三", 110101199003071234, dt.datetime(1990, 3, 7, 8, 30, 5), 1.75, True, None])
    people.append([None, None, None, None, None, None])  # an empty row: skipped
    people.append(["李四", "11010119900307123X", dt.date(2001, 12, 31), 0.1 + 0.2, False, "备注"])
    people.append(["王五", 110101199003071234, dt.datetime(2024, 5, 1, 23, 59, 59, 999_999), 60.0])
    people.append(["赵六", 7, None, None, None, None, "extra"])
    other = book.create_sheet("车辆")
    other.append(["HPHM"])
    other.append(["浙A12345"])
    book.save(path)
    patched = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<c r="B2" t="n"><v>1.101011990030712e+17</v>',
                    b'<c r="B2" t="n"><v>110101199003071234</v>',
                )
                assert b"<v>110101199003071234</v>" in data
            dst.writestr(info, data)
    patched.replace(path)
    return path


def test_cells_become_exact_strings(tmp_path: Path) -> None:
    records = read(make_workbook(tmp_path / "people.xlsx"))
    assert [(r.position, r.locator) for r in records] == [
        (1, "sheet 人员 row 2"),
        (2, "sheet 人员 row 4"),
        (3, "sheet 人员 row 5"),
        (4, "sheet 人员 row 6"),
    ]
    assert records[0].fields == {
        "姓名": "张三",
        "GMSFHM": "110101199003071234",
        "CSRQ": "1990-03-07 08:30:05",
        "SG": "1.75",
        "HY": "TRUE",
        "BZ": None,
    }
    assert records[1].fields == {
        "姓名": "李四",
        "GMSFHM": "11010119900307123X",
        "CSRQ": "2001-12-31 00:00:00",
        "SG": "0.3",
        "HY": "FALSE",
        "BZ": "备注",
    }
    # written by openpyxl as 1.101011990030712e+17: those digits, never "1.1e17"
    assert records[2].fields["GMSFHM"] == "110101199003071200"
    assert records[2].fields["CSRQ"] == "2024-05-02 00:00:00"
    assert records[2].fields["SG"] == "60"
    assert records[3].problem == "xlsx: 7 columns, header has 6"
    assert records[3].fields["#7"] == "extra"
    assert json.loads(records[0].raw) == records[0].fields
    assert all(r.problem is None for r in records[:3])


def test_named_sheet_and_header_row(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "book.xlsx")
    (record,) = read(path, ReaderSpec(format="xlsx", sheet="车辆"))
    assert record.fields == {"HPHM": "浙A12345"} and record.locator == "sheet 车辆 row 2"
    shifted = read(path, ReaderSpec(format="xlsx", header_row=2))
    assert shifted[0].fields["张三"] == "李四"


def test_missing_sheet_and_bad_header(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "book.xlsx")
    with pytest.raises(HostileInput) as caught:
        open_reader(path, ReaderSpec(format="xlsx", sheet="不存在"))
    assert caught.value.reason == "sheet_missing"
    with pytest.raises(HostileInput) as caught:
        open_reader(path, ReaderSpec(format="xlsx", header_row=3))  # the empty row
    assert caught.value.reason == "bad_header"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["A", "B", "A"])
    book.save(tmp_path / "dup.xlsx")
    with pytest.raises(HostileInput) as caught:
        open_reader(tmp_path / "dup.xlsx", XLSX)
    assert caught.value.reason == "bad_header"


def test_zip_bomb_member_is_refused_before_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    with pytest.raises(HostileInput) as caught:
        open_reader(path, XLSX)
    assert caught.value.reason == "zip_bomb"
    assert "compresses" in caught.value.message


def test_total_size_and_member_count_limits(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "book.xlsx")
    with pytest.raises(HostileInput) as caught:
        open_reader(path, XLSX, Limits(max_xlsx_uncompressed_bytes=1000))
    assert caught.value.reason == "zip_bomb" and "expands to" in caught.value.message
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as zf:
        for i in range(10_001):
            zf.writestr(f"m/{i}", b"")
    with pytest.raises(HostileInput) as caught:
        open_reader(many, XLSX)
    assert caught.value.reason == "zip_bomb" and "members" in caught.value.message


def test_not_xlsx(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(HostileInput) as caught:
        open_reader(garbage, XLSX)
    assert caught.value.reason == "not_xlsx"
    plain_zip = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(HostileInput) as caught:
        open_reader(plain_zip, XLSX)
    assert caught.value.reason == "not_xlsx"


def test_entities_inside_a_sheet_are_refused(tmp_path: Path) -> None:
    good = make_workbook(tmp_path / "good.xlsx")
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + data
            dst.writestr(info, data)
    with pytest.raises(HostileInput) as caught:
        open_reader(evil, XLSX)
    assert caught.value.reason == "xml_entities"


def test_forged_directory_claiming_many_members_is_refused_before_zipfile(tmp_path: Path) -> None:
    forged = tmp_path / "forged.xlsx"
    end_record = b"PK\x05\x06" + bytes(4) + (60_000).to_bytes(2, "little") * 2 + bytes(10)
    forged.write_bytes(b"PK\x03\x04" + bytes(100) + end_record)
    with pytest.raises(HostileInput) as caught:
        open_reader(forged, XLSX)
    assert caught.value.reason == "zip_bomb" and "60000 members" in caught.value.message


def test_unreadable_cell_deep_in_the_sheet_refuses_the_file(tmp_path: Path) -> None:
    good = make_workbook(tmp_path / "good.xlsx")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>7</v>", b"<v>seven</v>")
            dst.writestr(info, data)
    records = open_reader(broken, XLSX)
    assert next(records).position == 1
    with pytest.raises(HostileInput) as caught:
        list(records)
    assert caught.value.reason == "not_xlsx"
    assert "seven" not in caught.value.message
