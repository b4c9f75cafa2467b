"""Whole-file refusals: file types, paths, sizes, binary content, encodings; the API contract."""

from __future__ import annotations

import gc
import os
import pickle
import random
import warnings
from pathlib import Path

import pytest

from lianfang.ingest.readers import (
    REASONS,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
    check_file,
    open_reader,
)

CSV = ReaderSpec(format="csv")
TEXT_FORMATS = ["csv", "jsonl", "xml", "gat1400"]
ALL_FORMATS = [*TEXT_FORMATS, "xlsx"]


def reason_of(path: Path, spec: ReaderSpec = CSV, limits: Limits = Limits()) -> str:
    with pytest.raises(HostileInput) as caught:
        open_reader(path, spec, limits)
    assert caught.value.reason in REASONS
    return caught.value.reason


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text("XM,GMSFHM\n张三,110101199003071234\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_symlink_is_refused_even_to_a_good_file(tmp_path: Path, good_csv: Path, fmt: str) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(good_csv)
    assert reason_of(link, ReaderSpec(format=fmt)) == "not_a_regular_file"  # type: ignore[arg-type]


def test_fifo_and_directory_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert reason_of(fifo) == "not_a_regular_file"
    assert reason_of(tmp_path) == "not_a_regular_file"
    assert reason_of(Path("/dev/null")) == "not_a_regular_file"
    with pytest.raises(HostileInput, match="FIFO"):
        check_file(fifo, Limits())


def test_path_tricks_are_refused(tmp_path: Path, good_csv: Path) -> None:
    sneaky = tmp_path / "sub" / ".." / good_csv.name
    (tmp_path / "sub").mkdir()
    assert sneaky.exists()
    assert reason_of(sneaky) == "path_unsafe"
    assert reason_of(tmp_path / "bad\x00name.csv") == "path_unsafe"
    assert reason_of(tmp_path / "bad\nname.csv") == "path_unsafe"
    assert reason_of(Path("../etc/passwd")) == "path_unsafe"


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_random_binary_bytes_are_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"random.{fmt}"
    path.write_bytes(random.Random(1400).randbytes(8192))
    assert reason_of(path, ReaderSpec(format=fmt)) == "binary_garbage"  # type: ignore[arg-type]


def test_control_bytes_without_nul_and_utf16_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "ctl.csv"
    path.write_bytes(b"A,B\n" + b"\x01\x02\x03,\x1b\x1c\n" * 100)
    assert reason_of(path) == "binary_garbage"
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("XM,GMSFHM\n张三,1\n".encode("utf-16"))
    with pytest.raises(HostileInput, match="UTF-16"):
        open_reader(utf16, CSV)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_file_over_the_size_limit(tmp_path: Path, good_csv: Path, fmt: str) -> None:
    assert reason_of(good_csv, ReaderSpec(format=fmt), Limits(max_file_bytes=10)) == "too_large"  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["no-such-codec", "utf-16", "utf-32-le", "cp037", "rot13"])
def test_unknown_or_unsupported_encoding(good_csv: Path, encoding: str) -> None:
    assert reason_of(good_csv, ReaderSpec(format="csv", encoding=encoding)) == "encoding_unknown"


def test_encoding_aliases_are_accepted(good_csv: Path) -> None:
    for encoding in ["UTF-8", "utf8", "utf-8-sig", "U8"]:
        (record,) = open_reader(good_csv, ReaderSpec(format="csv", encoding=encoding))
        assert record.fields["XM"] == "张三"
    gbk = good_csv.with_name("gbk.csv")
    gbk.write_bytes(good_csv.read_text(encoding="utf-8").encode("gbk"))
    for encoding in ["GBK", "cp936", "GB18030", "gb2312"]:
        (record,) = open_reader(gbk, ReaderSpec(format="csv", encoding=encoding))
        assert record.fields["XM"] == "张三"


def test_missing_file_is_an_os_error_not_hostile(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_reader(tmp_path / "absent.csv", CSV)


def test_messages_carry_no_file_content(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("110101199003071234,110101199003071234\n", encoding="utf-8")
    with pytest.raises(HostileInput) as caught:
        open_reader(path, CSV)
    assert caught.value.reason == "bad_header"
    assert "1101011990" not in str(caught.value)


def test_open_reader_checks_before_returning_and_closing_releases_the_file(good_csv: Path) -> None:
    records = open_reader(good_csv, CSV)
    first = next(records)
    assert isinstance(first, RawRecord) and first.position == 1
    records.close()  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        abandoned = open_reader(good_csv, CSV)
        del abandoned
        gc.collect()


def test_records_are_immutable_and_comparable(good_csv: Path) -> None:
    (record,) = open_reader(good_csv, CSV)
    assert record == RawRecord(
        1,
        "line 2",
        {"XM": "张三", "GMSFHM": "110101199003071234"},
        "张三,110101199003071234".encode(),
    )
    with pytest.raises(AttributeError):
        record.position = 5  # type: ignore[misc]


def test_unknown_format_is_a_value_error(good_csv: Path) -> None:
    with pytest.raises(ValueError, match="unknown reader format"):
        open_reader(good_csv, ReaderSpec(format="pdf"))  # type: ignore[arg-type]


def test_records_and_refusals_pickle(good_csv: Path) -> None:
    (record,) = open_reader(good_csv, CSV)
    assert pickle.loads(pickle.dumps(record)) == record
    refusal = HostileInput("too_large", "file is 9 bytes, limit is 1")
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.reason, copy.message, str(copy)) == ("too_large", refusal.message, str(refusal))
