"""The row builder's per-minute shortcut for times gives exactly what the reference path gives.

A time of the declared format's shape is read as its minute (normalised once) plus
its seconds. Whatever the text — any second of any minute since 1900 in Asia/Shanghai
(whose 1986–1991 summer time shifts the offset), leap seconds, one-digit seconds,
other shapes, offsets, full-width digits, minutes without seconds, the horizon's
edge — the built row must equal the Transformer's, or both must turn the record down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lianfang.crypto import BlindIndex, FieldCipher, KeyRing
from lianfang.ingest.mapping import parse_mapping
from lianfang.ingest.rows import BuildRow, compile_row_builder
from lianfang.ingest.transform import Transformer
from lianfang.standard import load_standard
from lianfang.store.codec import RecordCodec

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=TZ)  # the horizon: one day after this
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y/%m/%d %H:%M:%S")

MAPPING = """
mapping: test.times
version: 1
city: "360200"
system: T
source: {format: csv, encoding: utf-8}
formats: [FORMAT]
feeds:
  - category: sighting
    match: "kk*.csv"
    fields: {kind: {const: vehicle}, device_id: SBBH, passed_at: GCSJ, plate_no: HPHM}
"""


@cache
def _builders(fmt: str) -> tuple[BuildRow, Any]:
    """(fused builder, reference) for one declared format; cached so the minute memo is shared across examples."""
    standard = load_standard()
    mapping = parse_mapping(yaml.safe_load(MAPPING.replace("FORMAT", f'"{fmt}"')), standard, origin="t")
    ring = KeyRing(current=1, masters={1: bytes(range(32))})
    transformer = Transformer(mapping.feeds[0], standard, tz=TZ, now=NOW)
    codec = RecordCodec(standard.category("sighting"), FieldCipher(ring), BlindIndex(ring))

    def reference(raw: dict[str, str | None]) -> object:
        values, problems = transformer(raw)
        if problems:
            return None
        return codec.plain_row(values), codec.secret_texts(values), codec.dedup_text(values)

    return compile_row_builder(transformer, codec), reference


def _same(fmt: str, text: str) -> None:
    build, reference = _builders(fmt)
    raw = {"SBBH": "36020000001210000001", "GCSJ": text, "HPHM": "赣B12345"}
    assert build(raw) == reference(raw), text


instants = st.datetimes(min_value=datetime(1899, 12, 31), max_value=datetime(2026, 12, 2))
second_texts = st.sampled_from(["00", "07", "30", "59", "60", "61", "99", "5", "", "５９", ":0"])


@settings(max_examples=400, deadline=None)
@given(fmt=st.sampled_from(FORMATS), when=instants)
def test_any_time_of_the_declared_shape(fmt: str, when: datetime) -> None:
    _same(fmt, when.strftime(fmt))


@settings(max_examples=400, deadline=None)
@given(fmt=st.sampled_from(FORMATS), when=instants, seconds=second_texts)
def test_any_last_two_characters(fmt: str, when: datetime, seconds: str) -> None:
    _same(fmt, when.strftime(fmt)[:-2] + seconds)


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(FORMATS), when=instants,
       shape=st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M", "%Y-%m-%d %H:%M:%S+08:00",
                              "%Y-%m-%d %H:%M:%S+0000", "%Y/%-m/%-d %-H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒"]))
def test_other_shapes(fmt: str, when: datetime, shape: str) -> None:
    _same(fmt, when.strftime(shape))


def test_summer_time_and_the_horizon() -> None:
    for fmt in FORMATS:
        # Asia/Shanghai summer time: 1986-05-04 02:00 → 03:00, 1986-09-14 02:00 → 01:00 (twice)
        for start in (datetime(1986, 5, 4, 1, 58), datetime(1986, 9, 14, 0, 58), datetime(1991, 9, 15, 0, 58)):
            for s in range(0, 4 * 3600, 29):
                _same(fmt, (start + timedelta(seconds=s)).strftime(fmt))
        edge = (NOW + timedelta(days=1)).replace(tzinfo=None)  # the last accepted second, and past it
        for s in range(-90, 90):
            _same(fmt, (edge + timedelta(seconds=s)).strftime(fmt))
        for s in range(-90, 90):  # the first accepted day (1900) and before
            _same(fmt, (datetime(1900, 1, 1) + timedelta(seconds=s)).strftime(fmt))


def test_a_minute_is_plain_only_with_the_shape_and_59_seconds_between_its_ends() -> None:
    """Each guard on its own: a reading that is not linear in the seconds, and a text of another shape."""
    from lianfang.ingest.rows import _BAD, _minute_resolver
    from lianfang.standard.types import InvalidValue

    def reading(minutes_last: bool) -> Any:
        def normalise(text: str) -> datetime:
            if not text[-2:].isdigit():
                raise InvalidValue("datetime.format", "not a time")
            base = datetime(2026, 1, 1, 10, 0, tzinfo=TZ)
            step = timedelta(minutes=1) if minutes_last else timedelta(seconds=1)
            return base + int(text[-2:]) * step

        return normalise

    digits = lambda text: text.isdigit()  # noqa: E731
    memo: dict[str, object] = {}
    assert _minute_resolver(reading(False), digits, memo)("2026010110") == int(
        datetime(2026, 1, 1, 10, 0, tzinfo=TZ).timestamp() * 1000)
    assert _minute_resolver(reading(True), digits, memo)("2026010111") is _BAD  # 59 minutes apart, not seconds
    assert _minute_resolver(reading(False), lambda text: False, memo)("2026010112") is _BAD  # not the shape
    assert _minute_resolver(reading(False), digits, memo)("2026-01") is _BAD  # the shape fails on "-"
    assert set(memo) == {"2026010110", "2026010111", "2026010112", "2026-01"}
