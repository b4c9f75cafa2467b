"""GA/T 1400 reader: both layouts, nested values, broken lines, refused envelopes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lianfang.ingest.readers import HostileInput, Limits, RawRecord, ReaderSpec, open_reader

GAT = ReaderSpec(format="gat1400")


def read(path: Path, spec: ReaderSpec = GAT, limits: Limits = Limits()) -> list[RawRecord]:
    return list(open_reader(path, spec, limits))


def vehicle(n: int) -> dict[str, Any]:
    return {
        "MotorVehicleID": f"33010000001190000001{n:02d}",
        "PlateNo": f"浙A1234{n}",
        "PassTime": "20240501120000",
        "Speed": 60 + n,
        "SubImageList": {"SubImageInfoObject": [{"ImageID": f"img{n}", "Type": "14"}]},
    }


def envelope(*items: dict[str, Any]) -> dict[str, Any]:
    return {"MotorVehicleListObject": {"MotorVehicleObject": list(items)}}


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "gat.json"
    path.write_bytes(text.encode(encoding))
    return path


def test_one_pretty_printed_envelope(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(envelope(vehicle(1), vehicle(2)), ensure_ascii=False, indent=2))
    records = read(path)
    assert [(r.position, r.locator) for r in records] == [
        (1, "record 1 (line 4)"),
        (2, "record 2 (line 18)"),
    ]
    assert records[0].fields == {
        "MotorVehicleID": "3301000000119000000101",
        "PlateNo": "浙A12341",
        "PassTime": "20240501120000",
        "Speed": "61",
        "SubImageList": '{"SubImageInfoObject":[{"ImageID":"img1","Type":"14"}]}',
    }
    assert json.loads(records[0].raw) == vehicle(1)
    assert records[0].raw == json.dumps(vehicle(1), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert all(r.problem is None for r in records)


def test_one_envelope_per_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(envelope(vehicle(1), vehicle(2)), ensure_ascii=False),
        "",
        json.dumps(envelope(vehicle(3)), ensure_ascii=False),
    ]
    records = read(write(tmp_path, "\n".join(lines) + "\n"))
    assert [(r.position, r.locator) for r in records] == [
        (1, "line 1 record 1"),
        (2, "line 1 record 2"),
        (3, "line 3 record 1"),
    ]
    assert [r.fields["PlateNo"] for r in records] == ["浙A12341", "浙A12342", "浙A12343"]


def test_broken_line_is_a_problem_and_the_rest_reads(tmp_path: Path) -> None:
    good = [json.dumps(envelope(vehicle(n)), ensure_ascii=False) for n in range(1, 5)]
    truncated = good[1][: len(good[1]) // 2]
    text = "\n".join([good[0], truncated, good[2], "not json at all", good[3]]) + "\n"
    records = read(write(tmp_path, text))
    assert [(r.position, r.locator, r.problem is None) for r in records] == [
        (1, "line 1 record 1", True),
        (2, "line 2", False),
        (3, "line 3 record 1", True),
        (4, "line 4", False),
        (5, "line 5 record 1", True),
    ]
    assert records[1].raw == truncated.encode()
    assert records[1].problem is not None and records[1].problem.startswith("gat1400: ")
    assert "浙A" not in records[1].problem


def test_lines_layout_whose_first_line_is_broken(tmp_path: Path) -> None:
    good = json.dumps(envelope(vehicle(1)), ensure_ascii=False)
    records = read(write(tmp_path, good[:20] + "\n" + good + "\n"))
    assert [(r.locator, r.problem is None) for r in records] == [
        ("line 1", False),
        ("line 2 record 1", True),
    ]


def test_several_list_shapes(tmp_path: Path) -> None:
    text = (
        '{"Other": [1, {"x": 2}], "MotorVehicleListObject": {"Count": 2,'
        ' "MotorVehicleObject": [{"A": 1.50, "B": null, "C": true}, "oops"]}}'
        '  {"MotorVehicleListObject": {}}'
        '{"MotorVehicleListObject": {"MotorVehicleObject": []}}'
    )
    records = read(write(tmp_path, text))
    assert records[0].fields == {"A": "1.50", "B": None, "C": "true"}
    assert records[1].problem == "gat1400: item is a string, expected an object"
    assert len(records) == 2


def test_other_object_list_and_gbk(tmp_path: Path) -> None:
    text = json.dumps({"FaceListObject": {"FaceObject": [{"Name": "张三"}]}}, ensure_ascii=False, indent=1)
    records = read(
        write(tmp_path, text, "gbk"),
        ReaderSpec(format="gat1400", encoding="gbk", object_list="FaceListObject"),
    )
    assert [r.fields for r in records] == [{"Name": "张三"}]


def test_damaged_bytes_make_one_item_a_problem(tmp_path: Path) -> None:
    items = [{"Name": "张三"}, {"Name": "李四"}, {"Name": "王五"}]
    data = json.dumps(envelope(*items), ensure_ascii=False, indent=1).encode("gbk")
    bad = data.replace("李四".encode("gbk"), b"\xff\xff\xff\xff")
    records = read(write_bytes(tmp_path, bad), ReaderSpec(format="gat1400", encoding="gbk"))
    assert [r.problem for r in records] == [
        None,
        "encoding: invalid gbk byte sequence in the item",
        None,
    ]
    assert b"\xff\xff\xff\xff" in records[1].raw
    assert records[2].fields == {"Name": "王五"}


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "gat.json"
    path.write_bytes(data)
    return path


def test_oversize_item_is_a_problem_in_both_layouts(tmp_path: Path) -> None:
    big = {"Name": "x" * 5000, "Nested": [{"a": ']}\\"{['}] * 50}
    doc = json.dumps(envelope(vehicle(1), big, vehicle(2)), indent=1)
    records = read(write(tmp_path, doc), GAT, Limits(max_record_bytes=2000))
    assert [r.problem for r in records] == [
        None,
        "record too large: item over 2000 characters",
        None,
    ]
    assert len(records[1].raw) == 2000
    line = json.dumps(envelope(vehicle(1), big, vehicle(2)))
    records = read(write(tmp_path, line + "\n" + line + "\n"), GAT, Limits(max_record_bytes=2000))
    assert [(r.locator, r.problem is None) for r in records] == [
        ("line 1 record 1", True),
        ("line 1 record 2", False),
        ("line 1 record 3", True),
        ("line 2 record 1", True),
        ("line 2 record 2", False),
        ("line 2 record 3", True),
    ]


def test_large_document_streams_across_chunks(tmp_path: Path) -> None:
    items = [vehicle(n % 100) | {"Seq": n, "Pad": "填充" * (n % 300)} for n in range(3000)]
    path = write(tmp_path, json.dumps(envelope(*items), ensure_ascii=False))
    records = read(path, GAT, Limits(max_record_bytes=4000))
    assert [r.fields["Seq"] for r in records] == [str(n) for n in range(3000)]
    assert all(r.problem is None for r in records)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "[1, 2, 3]",
        '{"SomethingElse": {"X": []}}',
        '{"MotorVehicleListObject": []}',
        '{"MotorVehicleListObject": {"A": [], "B": []}}',
        '{\n "MotorVehicleListObject": {\n  "MotorVehicleObject": [\n   {"a": 1},\n   {"a": 2\n  ]\n }\n}',
        '{"MotorVehicleListObject": {"MotorVehicleObject": [{"a": 1}]}',
    ],
)
def test_bad_envelopes_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(HostileInput) as caught:
        open_reader(write(tmp_path, text), GAT)
    assert caught.value.reason == "bad_envelope"


def test_lines_layout_with_two_broken_lines_first(tmp_path: Path) -> None:
    good = json.dumps(envelope(vehicle(1)), ensure_ascii=False)
    cut = good[: good.index("[") + 1]  # ends right inside the item list
    records = read(write(tmp_path, f"{cut}\n{cut}\n{good}\n"))
    assert [(r.locator, r.problem is None) for r in records] == [
        ("line 1", False),
        ("line 2", False),
        ("line 3 record 1", True),
    ]
    records = read(write(tmp_path, f"{cut}\n{good}\n"))
    assert [(r.locator, r.problem is None) for r in records] == [("line 1", False), ("line 2 record 1", True)]
