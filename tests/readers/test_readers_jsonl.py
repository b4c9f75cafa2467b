"""JSON Lines reader: per-line parsing, exact numbers, nested values, broken lines."""

from __future__ import annotations

import json
from pathlib import Path

from lianfang.ingest.readers import Limits, RawRecord, ReaderSpec, open_reader

JSONL = ReaderSpec(format="jsonl")


def read(path: Path, spec: ReaderSpec = JSONL, limits: Limits = Limits()) -> list[RawRecord]:
    return list(open_reader(path, spec, limits))


def test_round_trip_with_a_broken_line_in_the_middle(tmp_path: Path) -> None:
    lines = [
        json.dumps({"XM": "张三", "GMSFHM": "110101199003071234"}, ensure_ascii=False),
        json.dumps({"XM": "李四", "NL": 34}, ensure_ascii=False),
        '{"XM": "王五" "NL": 1}',
        json.dumps({"XM": "赵六", "BZ": None}, ensure_ascii=False),
    ]
    path = tmp_path / "people.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = read(path)
    assert [r.position for r in records] == [1, 2, 3, 4]
    assert [r.locator for r in records] == ["line 1", "line 2", "line 3", "line 4"]
    assert [r.problem for r in records] == [
        None,
        None,
        "json: Expecting ',' delimiter (column 13)",
        None,
    ]
    assert records[0].fields == {"XM": "张三", "GMSFHM": "110101199003071234"}
    assert records[1].fields == {"XM": "李四", "NL": "34"}
    assert records[3].fields == {"XM": "赵六", "BZ": None}
    assert records[2].raw == lines[2].encode()


def test_numbers_keep_their_digits_and_nested_values_are_compact_json(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text(
        '{"id": 110101199003071234, "price": 1.10, "big": 1e400, "ok": true,'
        ' "tags": ["a", 2.50], "addr": {"city": "北京", "no": 7}}\n',
        encoding="utf-8",
    )
    (record,) = read(path)
    assert record.fields == {
        "id": "110101199003071234",
        "price": "1.10",
        "big": "1e400",
        "ok": "true",
        "tags": '["a",2.50]',
        "addr": '{"city":"北京","no":7}',
    }


def test_non_object_lines_blank_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": "1"}\n\n   \n[1, 2]\n"text"\n{"a": "2"}\r\n')
    records = read(path)
    assert [(r.position, r.locator, r.problem) for r in records] == [
        (1, "line 1", None),
        (2, "line 4", "json: line holds an array, expected an object"),
        (3, "line 5", "json: line holds a string, expected an object"),
        (4, "line 6", None),
    ]
    assert records[0].raw == b'{"a": "1"}' and records[3].raw == b'{"a": "2"}'


def test_gbk_line_with_damaged_bytes(tmp_path: Path) -> None:
    good = '{"XM": "张三"}'.encode("gbk")
    bad = b'{"XM": "\xff\xff"}'
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(good + b"\n" + bad + b"\n" + good + b"\n")
    records = read(path, ReaderSpec(format="jsonl", encoding="gbk"))
    assert [r.problem for r in records] == [
        None,
        "encoding: invalid gbk byte sequence at byte 8",
        None,
    ]
    assert records[1].raw == bad
    assert records[2].fields == {"XM": "张三"}


def test_unpaired_surrogate_escape_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"a": "x\\ud800y"}\n{"a": "\\ud83d\\ude00"}\n', encoding="utf-8")
    records = read(path)
    assert records[0].problem == "json: string with an unpaired surrogate escape"
    assert records[0].fields == {"a": "x\ufffdy"}
    assert records[1].problem is None and records[1].fields == {"a": "😀"}


def test_overlong_line_and_deep_nesting_are_per_record(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(
        '{"a": "' + "x" * 3000 + '"}\n' + "[" * 100_000 + "\n" + '{"a": "ok"}\n',
        encoding="utf-8",
    )
    records = read(path, JSONL, Limits(max_record_bytes=200_000))
    assert records[0].problem is None
    assert records[1].problem is not None and records[1].problem.startswith("json: ")
    assert records[2].fields == {"a": "ok"}
    small = read(path, JSONL, Limits(max_record_bytes=1000))
    assert small[0].problem == "record too large: line is 3010 bytes, limit is 1000"
    assert small[2].fields == {"a": "ok"} and small[2].locator == "line 3"
