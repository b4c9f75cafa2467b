"""Times as integers and the spellings legacy systems use for them.

Every event time is a *local epoch*: seconds since 1970-01-01 00:00 in Asia/Shanghai
(UTC+8 all year, no daylight saving), so formatting needs only integer arithmetic.
A style renders such a time, composes arbitrary (even impossible) components for
injected defects, and offers a second spelling of the same instant for near
duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

SHANGHAI_OFFSET = timedelta(hours=8)
TZ = timezone(SHANGHAI_OFFSET, "Asia/Shanghai")
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAYS: dict[int, tuple[int, int, int]] = {}

Parts = tuple[int, int, int, int, int, int]


def local_epoch(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY + hour * 3600 + minute * 60 + second


def parts(t: int) -> Parts:
    day, sec = divmod(t, DAY)
    ymd = _DAYS.get(day)
    if ymd is None:
        d = date.fromordinal(day + _EPOCH_ORDINAL)
        ymd = _DAYS[day] = (d.year, d.month, d.day)
    hour, rest = divmod(sec, 3600)
    minute, second = divmod(rest, 60)
    return ymd[0], ymd[1], ymd[2], hour, minute, second


def to_datetime(t: int) -> datetime:
    """Aware datetime of a local epoch (for the manifest)."""
    y, mo, d, h, mi, s = parts(t)
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


def iso(t: int) -> str:
    return to_datetime(t).isoformat()


class DateTimeStyle:
    """A spelling of date-times, built from three parts: date, hour, minutes-and-seconds.

    ``render`` is on the hot path (every sighting), so each part is cached: one string
    per day seen, 24 hour strings and 3,600 minute-second strings; a time then costs
    two divmods and two concatenations. ``compose`` formats any components, even
    impossible ones (30 February, hour 25), for injected defects.
    """

    def __init__(self, name: str, date_part: Callable[[int, int, int], str], hour_part: Callable[[int], str],
                 rest_part: Callable[[int, int], str], alternative: Callable[[int], str],
                 strptime: str | None = None) -> None:
        self.name = name
        self.strptime = strptime  # declared in the mapping's formats (None: a built-in shape)
        self.textual = True
        self.alternative = alternative  # the same instant spelt another accepted way
        self._date_part, self._hour_part, self._rest_part = date_part, hour_part, rest_part
        self._days: dict[int, str] = {}
        self._last_t, self._last_text = -1, ""
        self._hours = [hour_part(h) for h in range(24)]
        self._rests = [rest_part(*divmod(r, 60)) for r in range(3600)]

    def compose(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> object:
        return self._date_part(y, mo, d) + self._hour_part(h) + self._rest_part(mi, s)

    def render(self, t: int) -> object:
        if t == self._last_t:  # GA/T 1400 spells one pass's time twice (SourceID, PassTime)
            return self._last_text
        day, sec = divmod(t, DAY)
        prefix = self._days.get(day)
        if prefix is None:
            y, mo, d, *_ = parts(t)
            prefix = self._days[day] = self._date_part(y, mo, d)
        hour, rest = divmod(sec, 3600)
        self._last_t, self._last_text = t, prefix + self._hours[hour] + self._rests[rest]
        return self._last_text


class ExcelDateTime(DateTimeStyle):
    """A real spreadsheet date-time cell: no text, so no text defects either."""

    def __init__(self) -> None:
        super().__init__("excel", lambda y, mo, d: "", lambda h: "", lambda mi, s: "", _dash)
        self.textual = False

    def compose(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> object:
        return datetime(y, mo, d, h, mi, s)

    def render(self, t: int) -> object:
        return datetime(*parts(t))


@dataclass(frozen=True)
class DateStyle:
    name: str
    compose: Callable[[int, int, int], object]
    strptime: str | None = None
    textual: bool = True

    def render(self, ymd: tuple[int, int, int]) -> object:
        return self.compose(*ymd)


def _dash(t: int) -> str:
    y, mo, d, h, mi, s = parts(t)
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"


def _dash_minute(t: int) -> str:
    y, mo, d, h, mi, _ = parts(t)
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}"


def _utc_z(t: int) -> str:
    y, mo, d, h, mi, s = parts(t - 8 * 3600)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def _ymd(sep: str) -> Callable[[int, int, int], str]:
    return lambda y, mo, d: f"{y:04d}{sep}{mo:02d}{sep}{d:02d}"


COMPACT = DateTimeStyle("compact", _ymd(""), lambda h: f"{h:02d}", lambda mi, s: f"{mi:02d}{s:02d}",
                        _dash, "%Y%m%d%H%M%S")
ISO_OFFSET = DateTimeStyle("iso_offset", lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}T", lambda h: f"{h:02d}:",
                           lambda mi, s: f"{mi:02d}:{s:02d}+08:00", _utc_z)
ISO_LOCAL = DateTimeStyle("iso_local", lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}T", lambda h: f"{h:02d}:",
                          lambda mi, s: f"{mi:02d}:{s:02d}", _dash, "%Y-%m-%dT%H:%M:%S")
CN_MINUTE = DateTimeStyle("cn_minute", lambda y, mo, d: f"{y}年{mo}月{d}日 ", lambda h: f"{h}时",
                          lambda mi, s: f"{mi}分", _dash_minute, "%Y年%m月%d日 %H时%M分")
CN_SECOND = DateTimeStyle("cn_second", lambda y, mo, d: f"{y}年{mo}月{d}日 ", lambda h: f"{h}时",
                          lambda mi, s: f"{mi}分{s}秒", _dash, "%Y年%m月%d日 %H时%M分%S秒")
SLASH = DateTimeStyle("slash", lambda y, mo, d: f"{y}/{mo}/{d} ", lambda h: f"{h}:",
                      lambda mi, s: f"{mi:02d}:{s:02d}", _dash, "%Y/%m/%d %H:%M:%S")
EXCEL: DateTimeStyle = ExcelDateTime()

DATE_COMPACT = DateStyle("compact", lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", "%Y%m%d")
DATE_SLASH = DateStyle("slash", lambda y, m, d: f"{y}/{m}/{d}", "%Y/%m/%d")
DATE_ISO = DateStyle("iso", lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}")
DATE_EXCEL = DateStyle("excel", lambda y, m, d: datetime(y, m, d), textual=False)
