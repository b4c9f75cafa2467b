"""CSV reader: encodings, quoting, positions, damaged lines, headers, and a round-trip property."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianfang.ingest.readers import HostileInput, Limits, RawRecord, ReaderSpec, open_reader

GBK = ReaderSpec(format="csv", encoding="gbk")
UTF8 = ReaderSpec(format="csv")


def read(path: Path, spec: ReaderSpec = UTF8, limits: Limits = Limits()) -> list[RawRecord]:
    return list(open_reader(path, spec, limits))


def write(tmp_path: Path, data: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_gbk_with_chinese_and_pinyin_headers(tmp_path: Path) -> None:
    text = (
        "姓名,XM,GMSFHM,住址\r\n"
        "张三,ZHANGSAN,110101199003071234,北京市东城区\r\n"
        "李四,LISI,11010119900307123X,上海市\r\n"
    )
    records = read(write(tmp_path, text.encode("gbk")), GBK)
    assert [r.fields for r in records] == [
        {"姓名": "张三", "XM": "ZHANGSAN", "GMSFHM": "110101199003071234", "住址": "北京市东城区"},
        {"姓名": "李四", "XM": "LISI", "GMSFHM": "11010119900307123X", "住址": "上海市"},
    ]
    assert [(r.position, r.locator) for r in records] == [(1, "line 2"), (2, "line 3")]
    assert records[0].raw == "张三,ZHANGSAN,110101199003071234,北京市东城区".encode("gbk")
    assert all(r.problem is None for r in records)


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfXM,GMSFHM\n" + "王五,110101199003071234\n".encode())
    (record,) = read(path)
    assert record.fields == {"XM": "王五", "GMSFHM": "110101199003071234"}


def test_quoted_fields_with_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    buffer = io.StringIO(newline="")
    rows = [
        ["XM", "BZ", "DZ"],
        ["张三", "a,b", 'say "hi"'],
        ["李四", "line one\nline two", "x"],
        ["王五", "crlf\r\ninside", ""],
        ["赵六", "plain", "end"],
    ]
    csv.writer(buffer).writerows(rows)
    records = read(write(tmp_path, buffer.getvalue().encode()))
    assert [list(r.fields.values()) for r in records] == rows[1:]
    assert [r.locator for r in records] == ["line 2", "lines 3-4", "lines 5-6", "line 7"]
    assert [r.position for r in records] == [1, 2, 3, 4]
    assert records[1].raw == b'\xe6\x9d\x8e\xe5\x9b\x9b,"line one\nline two",x'
    assert all(r.problem is None for r in records)


def test_damaged_gbk_line_is_one_problem_record(tmp_path: Path) -> None:
    lines = ["XM,GMSFHM,ZZ"] + [f"张{i},11010119900307{i:04d},地址{i}" for i in range(1, 8)]
    data = [line.encode("gbk") for line in lines]
    data[4] = data[4][:2] + b"\xff\xfe" + data[4][2:]  # record 4 (line 5): invalid GBK bytes
    records = read(write(tmp_path, b"\n".join(data) + b"\n"), GBK)
    assert len(records) == 7
    bad = [r for r in records if r.problem]
    assert len(bad) == 1
    assert bad[0].position == 4 and bad[0].locator == "line 5"
    assert bad[0].problem == "encoding: invalid gbk byte sequence at byte 2"
    assert bad[0].raw == data[4]
    assert bad[0].fields["GMSFHM"] == "110101199003070004"  # the rest still decoded with replacement
    good = [r for r in records if not r.problem]
    assert [r.fields["XM"] for r in good] == ["张1", "张2", "张3", "张5", "张6", "张7"]


def test_positions_are_stable_and_blank_lines_take_none(tmp_path: Path) -> None:
    path = write(tmp_path, b"A,B\n1,2\n\n3,4\r\n\r\n5,6")
    first = read(path)
    second = read(path)
    assert first == second
    assert [(r.position, r.locator, r.fields["A"]) for r in first] == [
        (1, "line 2", "1"),
        (2, "line 4", "3"),
        (3, "line 6", "5"),
    ]
    resumed = [r for r in open_reader(path, UTF8) if r.position > 1]
    assert [r.fields["A"] for r in resumed] == ["3", "5"]


def test_wrong_column_count_is_a_problem_record(tmp_path: Path) -> None:
    path = write(tmp_path, b'A,B,C\n1,2,3\n1,2\n1,2,3,4\n"q",2\n')
    records = read(path)
    assert [r.problem for r in records] == [
        None,
        "csv: 2 columns, header has 3",
        "csv: 4 columns, header has 3",
        "csv: 2 columns, header has 3",
    ]
    assert records[1].fields == {"A": "1", "B": "2", "C": None}


def test_header_row_and_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "导出时间 2024-05-01\n\nXM\tSJHM\n张三\t13800138000\n".encode("gb18030"))
    spec = ReaderSpec(format="csv", encoding="gb18030", delimiter="\t", header_row=3)
    (record,) = read(path, spec)
    assert record.fields == {"XM": "张三", "SJHM": "13800138000"}
    assert record.locator == "line 4" and record.position == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"A,B,A\n", "columns 1 and 3 have the same name"),
        (b"A,,C\n", "column 2 has no name"),
        (b"A,B, \n", "column 3 has no name"),
        (b"", "no header row"),
        (b"\xff\xfeA,B\n", "is not valid utf-8 text"),
    ],
)
def test_bad_header_is_refused(tmp_path: Path, header: bytes, message: str) -> None:
    with pytest.raises(HostileInput) as caught:
        open_reader(write(tmp_path, header + b"1,2,3\n" if header else b""), UTF8)
    assert caught.value.reason == "bad_header"
    assert message in caught.value.message


def test_overlong_line_is_a_problem_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, b"A,B\n1,2\n" + b"x" * 5000 + b",y\n3,4\n")
    records = read(path, UTF8, Limits(max_record_bytes=1000))
    assert [r.problem is None for r in records] == [True, False, True]
    assert records[1].problem == "record too large: line is 5003 bytes, limit is 1000"
    assert len(records[1].raw) == 1000
    assert records[2].fields == {"A": "3", "B": "4"} and records[2].locator == "line 4"


def test_unclosed_quote_is_bounded_by_the_record_limit(tmp_path: Path) -> None:
    body = b"".join(b"%d,row\n" % i for i in range(200))
    path = write(tmp_path, b'A,B\n1,"never closed\n' + body)
    records = read(path, UTF8, Limits(max_record_bytes=300))
    assert records[0].problem is not None and records[0].problem.startswith("record too large")
    assert records[0].locator.startswith("lines 2-")
    assert len(records) > 150  # the rest of the file is read again as records
    assert all(r.problem is None for r in records[1:])


def test_unclosed_quote_at_end_of_file(tmp_path: Path) -> None:
    (record,) = read(write(tmp_path, b'A,B\n1,"open\nstill open\n'))
    assert record.problem == "csv: quoted field not closed at end of file"
    assert record.fields == {"A": "1", "B": "open\nstill open\n"}


def test_damaged_bytes_inside_a_multiline_record(tmp_path: Path) -> None:
    data = 'XM,BZ\n张三,"第一行\n'.encode("gbk") + b"\x81\x20bad\n" + '"\n李四,好\n'.encode("gbk")
    records = read(write(tmp_path, data), GBK)
    assert records[0].problem is not None and records[0].problem.startswith("encoding: invalid gbk")
    assert records[0].locator == "lines 2-4"
    assert records[1].fields == {"XM": "李四", "BZ": "好"} and records[1].problem is None


row_text = st.text(
    alphabet=st.one_of(
        # a bare carriage return inside a quoted field is a known limitation (docs/ingestion.md)
        st.sampled_from(list(',"\n \t;') + list("张三李四姓名住址ÄÖ")),
        st.characters(codec="gb18030", exclude_categories=("Cs", "Cc")),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(row_text, min_size=3, max_size=3), max_size=12),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_property_rows_written_by_csv_writer_come_back(
    tmp_path: Path, rows: list[list[str]], encoding: str, terminator: str
) -> None:
    # A row of empty cells is written as ",," and a row whose only content is an
    # empty first cell as "" - both are rows; csv.writer never writes a blank line
    # for a 3-column row, so every row must come back.
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=terminator)
    writer.writerow(["c1", "c2", "c3"])
    writer.writerows(rows)
    path = tmp_path / f"prop-{encoding}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    records = read(path, ReaderSpec(format="csv", encoding=encoding))
    assert [r.problem for r in records] == [None] * len(rows)
    assert [[r.fields["c1"], r.fields["c2"], r.fields["c3"]] for r in records] == rows
    assert [r.position for r in records] == list(range(1, len(rows) + 1))


def test_quoted_field_over_csv_module_default_limit(tmp_path: Path) -> None:
    photo = "QUJD" * 60_000  # 240,000 characters, like a base64 photo column
    path = write(tmp_path, f'XM,ZP\n"张三","{photo}"\n'.encode())
    (record,) = read(path)
    assert record.problem is None and record.fields["ZP"] == photo
