"""Dates and date-times: built-in shapes, declared formats, impossible values, round trips."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lianfang.standard.types.base import SHANGHAI


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-05 10:20:30",
        "2024-01-05T10:20:30",
        "20240105102030",  # GA/T 1400
        "2024-01-05T10:20:30+08:00",
        "2024-01-05T10:20:30+0800",
        "2024-01-05T02:20:30Z",
        "2024-01-05 03:20:30+01:00",
        "2024-01-04T21:20:30-05:00",
        "2024/1/5 10:20:30",
        "2024/01/05 10:20:30",
        "2024年1月5日 10时20分30秒",
        "2024年01月05日10时20分30秒",
        "2024.01.05 10:20:30",
        "２０２４－０１－０５　１０：２０：３０",  # full width
        "２０２４年１月５日 １０时２０分３０秒",
    ],
)
def test_builtin_datetime_shapes(compile_type, raw):
    value = compile_type("datetime")(raw)
    assert value == sh(2024, 1, 5, 10, 20, 30)
    assert value.tzinfo is SHANGHAI


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-05 10:20", sh(2024, 1, 5, 10, 20)),
        ("2024-01-05T10:20Z", sh(2024, 1, 5, 18, 20)),
        ("2024/1/5 9:05", sh(2024, 1, 5, 9, 5)),
        ("2024年1月5日 9时5分", sh(2024, 1, 5, 9, 5)),
        ("2024-01-05T10:20:30.5", sh(2024, 1, 5, 10, 20, 30, 500000)),
        ("2024-01-05T10:20:30.123456789+08:00", sh(2024, 1, 5, 10, 20, 30, 123456)),
    ],
)
def test_builtin_datetime_variants(compile_type, raw, expected):
    assert compile_type("datetime")(raw) == expected


@pytest.mark.parametrize(
    ("formats", "raw", "expected"),
    [
        (("%d/%m/%Y %H:%M",), "05/01/2024 10:20", sh(2024, 1, 5, 10, 20)),
        (("%d/%m/%Y %H:%M",), "5/1/2024 10:20", sh(2024, 1, 5, 10, 20)),  # strptime fallback
        (("%m-%d-%Y %H:%M:%S",), "01-05-2024 10:20:30", sh(2024, 1, 5, 10, 20, 30)),
        (("%Y%m%d%H%M",), "202401051020", sh(2024, 1, 5, 10, 20)),
        (("%Y年%m月%d日%H:%M",), "2024年01月05日10:20", sh(2024, 1, 5, 10, 20)),
        (("%Y-%m-%dT%H:%M:%S%z",), "2024-01-05T03:20:30+0100", sh(2024, 1, 5, 10, 20, 30)),
        (("%d-%b-%Y %H:%M",), "05-Jan-2024 10:20", sh(2024, 1, 5, 10, 20)),
        (("epoch",), "1704421230", sh(2024, 1, 5, 10, 20, 30)),
        (("epoch",), "1704421230.25", sh(2024, 1, 5, 10, 20, 30, 250000)),
        (("epoch_ms",), "1704421230123", sh(2024, 1, 5, 10, 20, 30, 123000)),
        (("%Y-%m-%d",), "2024-01-05", sh(2024, 1, 5)),  # a declared date-only format
        (("%d%m%Y%H%M%S", "%Y%m%d%H%M%S"), "20240105102030", sh(2024, 1, 5, 10, 20, 30)),
    ],
)
def test_declared_formats(compile_type, formats, raw, expected):
    assert compile_type("datetime", formats=formats)(raw) == expected


def test_declared_formats_come_before_builtins(compile_type):
    # 01/02/2024: 1 February to a source that declares day first
    assert compile_type("datetime", formats=("%d/%m/%Y %H:%M",))("01/02/2024 10:00") == sh(
        2024, 2, 1, 10
    )
    assert compile_type("datetime", formats=("%m/%d/%Y %H:%M",))("01/02/2024 10:00") == sh(
        2024, 1, 2, 10
    )
    # builtins still apply after the declared formats
    assert compile_type("datetime", formats=("epoch",))("2024-01-05 10:20:30") == sh(
        2024, 1, 5, 10, 20, 30
    )


def test_bad_declared_format_fails_at_compile_time(compile_type):
    with pytest.raises(ValueError, match="bad directive"):
        compile_type("datetime", formats=("%Y-%Q",))


@pytest.mark.parametrize(
    "raw",
    [
        "hello",
        "2024",
        "2024-01-05",
        "20240105",
        "2024-01-05 1020",
        "2024-01-05 10:20:30 PM x",
        "10:20:30",
        "2024-01-05 10:20:3",
        "202401051020301",
        "2024-1-05T10:20:30Q",
        "1704421230",
    ],
)
def test_datetime_format_errors(compile_type, reject, raw):
    assert reject(compile_type("datetime"), raw).code == "datetime.format"


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30 10:00:00",
        "2023-02-29 10:00:00",
        "2024-13-01 10:00:00",
        "2024-00-10 10:00:00",
        "2024-01-05 24:00:00",
        "2024-01-05 10:60:00",
        "2024-01-05 10:20:60",
        "20240230102030",
        "20241301102030",
        "2024/2/30 10:00",
        "2024年2月30日 10时0分",
        "2024-01-05T10:20:30+25:00",
        "1899-12-31 23:59:59",
        "1900-01-01T00:00:00+09:00",  # 23:00 on 31 December 1899 in Shanghai
        "2026-03-02 12:00:01",  # more than a day after NOW (2026-03-01 12:00)
        "2099-01-01 00:00:00",
    ],
)
def test_datetime_impossible(compile_type, reject, raw):
    assert reject(compile_type("datetime"), raw).code == "datetime.impossible"


def test_declared_format_impossible(compile_type, reject):
    normalise = compile_type("datetime", formats=("%d/%m/%Y %H:%M",))
    assert reject(normalise, "30/02/2024 10:00").code == "datetime.impossible"


def test_up_to_a_day_ahead_is_accepted(compile_type):
    assert compile_type("datetime")("2026-03-02 12:00:00") == sh(2026, 3, 2, 12)


def test_wall_clock_when_no_now_is_given(compile_type, reject):
    normalise = compile_type("datetime", now=None)
    now = datetime.now(SHANGHAI).replace(microsecond=0)
    assert normalise(now.strftime("%Y-%m-%d %H:%M:%S")) == now
    later = now + timedelta(days=3)
    assert reject(normalise, later.strftime("%Y%m%d%H%M%S")).code == "datetime.impossible"


def test_naive_now_is_read_in_the_context_zone(compile_type):
    normalise = compile_type("datetime", now=datetime(2026, 3, 1, 12))
    assert normalise("2026-03-02 12:00:00") == sh(2026, 3, 2, 12)


def test_other_zones(compile_type):
    from zoneinfo import ZoneInfo

    urumqi = ZoneInfo("Asia/Urumqi")
    value = compile_type("datetime", tz=urumqi)("2024-01-05 10:20:30")
    assert value == datetime(2024, 1, 5, 10, 20, 30, tzinfo=urumqi)
    assert value.utcoffset() == timedelta(hours=6)
    assert compile_type("datetime", tz=urumqi)("2024-01-05T10:20:30+08:00").hour == 8


def test_earliest_year_is_configurable(compile_type, reject):
    normalise = compile_type("date", extra={"date_min_year": "1850"})
    assert normalise("1880-01-01") == date(1880, 1, 1)
    assert reject(compile_type("date"), "1880-01-01").code == "date.impossible"


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-05",
        "20240105",
        "2024/1/5",
        "2024/01/05",
        "2024年1月5日",
        "2024.01.05",
        "2024-1-5",
        "2024-01-05 10:20:30",
        "2024-01-05T10:20:30",
        "20240105102030",
        "2024年1月5日 10时20分",
        "2024-01-05T10:20:30+08:00",
        "２０２４年１月５日",
    ],
)
def test_date_shapes(compile_type, raw):
    assert compile_type("date")(raw) == date(2024, 1, 5)


def test_date_of_an_offset_datetime_is_taken_in_the_context_zone(compile_type):
    assert compile_type("date")("2024-01-05T23:30:00Z") == date(2024, 1, 6)


@pytest.mark.parametrize(
    ("formats", "raw"),
    [
        (("%d%m%Y",), "05012024"),
        (("%d/%m/%Y",), "5/1/2024"),
        (("%d.%m.%Y %H:%M",), "05.01.2024 23:00"),
        (("epoch",), "1704421230"),
        (("epoch_ms",), "1704421230123"),
    ],
)
def test_declared_date_formats(compile_type, formats, raw):
    assert compile_type("date", formats=formats)(raw) == date(2024, 1, 5)


def test_a_wrong_reading_does_not_hide_a_right_one(compile_type):
    # %d%m%Y reads 20240105 as month 24; the built-in %Y%m%d then reads it right.
    assert compile_type("date", formats=("%d%m%Y",))("20240105") == date(2024, 1, 5)


@pytest.mark.parametrize("raw", ["hello", "2024-01", "240105", "2024-01-05x", "05/01/24"])
def test_date_format_errors(compile_type, reject, raw):
    assert reject(compile_type("date"), raw).code == "date.format"


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30",
        "20230229",
        "2024/13/1",
        "2024年2月30日",
        "1899-12-31",
        "2026-03-03",
        "05012024",
    ],
)
def test_date_impossible(compile_type, reject, raw):
    # 05012024 is the built-in YYYYMMDD shape: year 501
    assert reject(compile_type("date"), raw).code == "date.impossible"


def test_a_date_one_day_ahead_is_accepted(compile_type):
    assert compile_type("date")("2026-03-02") == date(2026, 3, 2)


# --- round trips -------------------------------------------------------------------

Writer = Callable[[datetime], str]


def _local(fmt: str) -> Writer:
    return lambda dt: dt.astimezone(SHANGHAI).strftime(fmt)


def _unpadded(dt: datetime) -> str:
    d = dt.astimezone(SHANGHAI)
    return f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}"


def _chinese(dt: datetime) -> str:
    d = dt.astimezone(SHANGHAI)
    return f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分{d.second}秒"


def _with_offset(sep: str, colon: bool) -> Writer:
    def write(dt: datetime) -> str:
        offset = dt.strftime("%z")
        return dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (
            f"{offset[:3]}:{offset[3:]}" if colon else offset
        )

    return write


BUILTIN_WRITERS: dict[str, Writer] = {
    "iso T": _local("%Y-%m-%dT%H:%M:%S"),
    "iso space": _local("%Y-%m-%d %H:%M:%S"),
    "GA/T 1400": _local("%Y%m%d%H%M%S"),
    "slashes": _unpadded,
    "chinese": _chinese,
    "dots": _local("%Y.%m.%d %H:%M:%S"),
    "iso +08:00": _with_offset("T", colon=True),
    "iso +0800": _with_offset(" ", colon=False),
    "iso Z": lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
}
DECLARED_WRITERS: dict[str, Writer] = {
    "%d/%m/%Y %H:%M:%S": _local("%d/%m/%Y %H:%M:%S"),
    "%Y%m%d %H%M%S": _local("%Y%m%d %H%M%S"),
    "%Y-%m-%dT%H:%M:%S%z": lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "epoch": lambda dt: str(int(dt.timestamp())),
    "epoch_ms": lambda dt: str(int(dt.timestamp()) * 1000),
}

zones = st.sampled_from(
    [SHANGHAI, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9, minutes=30))]
)
instants = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2026, 3, 1), timezones=zones
).map(lambda dt: dt.replace(microsecond=0))


def _unambiguous(dt: datetime) -> bool:
    """Shanghai kept summer time 1986-1991: a repeated local hour cannot round-trip naively."""
    local = dt.astimezone(SHANGHAI)
    return local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset()


def _whole_minute_offset(dt: datetime) -> bool:
    offset = dt.utcoffset()
    return offset is not None and offset.seconds % 60 == 0  # not Shanghai's LMT before 1901


@given(dt=instants, writer=st.sampled_from(sorted(BUILTIN_WRITERS)))
def test_builtin_shapes_round_trip_to_the_same_instant(compile_type, dt, writer):
    assume(_unambiguous(dt) and _whole_minute_offset(dt))
    assume(dt.astimezone(SHANGHAI) <= datetime(2026, 3, 1, 12, tzinfo=SHANGHAI))
    parsed = compile_type("datetime")(BUILTIN_WRITERS[writer](dt))
    assert parsed == dt
    assert parsed.tzinfo is SHANGHAI


@given(dt=instants, fmt=st.sampled_from(sorted(DECLARED_WRITERS)))
def test_declared_formats_round_trip_to_the_same_instant(compile_type, dt, fmt):
    assume(_unambiguous(dt) and _whole_minute_offset(dt))
    parsed = compile_type("datetime", formats=(fmt,))(DECLARED_WRITERS[fmt](dt))
    assert parsed == dt


DATE_WRITERS = ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d"]


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 3, 1)),
    fmt=st.sampled_from(DATE_WRITERS),
)
def test_date_shapes_round_trip(compile_type, day, fmt):
    assert compile_type("date")(day.strftime(fmt)) == day
    unpadded = f"{day.year}/{day.month}/{day.day}"
    assert compile_type("date")(unpadded) == day


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024年1月5日 10点20分", sh(2024, 1, 5, 10, 20)),
        ("2024年1月5日 10:20:30", sh(2024, 1, 5, 10, 20, 30)),
    ],
)
def test_chinese_date_with_other_time_spellings(compile_type, raw, expected):
    assert compile_type("datetime")(raw) == expected


@pytest.mark.parametrize(
    "raw", ["2024年1月5日 10时2030", "2024年1月5日 10时20分30", "2024年1月5日 10:2030"]
)
def test_chinese_shapes_are_not_guessed_at(compile_type, reject, raw):
    assert reject(compile_type("datetime"), raw).code == "datetime.format"
