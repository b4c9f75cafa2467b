"""What was typed into the one search box: a citizen ID, plate, phone, case number, device ID or name.

Recognition uses the standard's own value types, so a query is normalised exactly
as stored values were at ingestion (15-digit IDs become 18 digits, plates lose
separators and full-width characters, case numbers are upper-cased). A name may be
followed by words that narrow it: a city (``滨江``, ``滨江市`` or its division code)
and a birth year (``1985``).

The order matters where shapes overlap: 18/15 characters of digits (and a final X)
are an ID, 20 digits a device, 11 digits starting 1[3-9] a mobile number, a letter
prefix and at least 8 digits a case number; what the plate type accepts is a plate;
two to forty CJK characters (with a middle dot) are a name. Anything else is not
understood and the caller gets a message saying what was expected — never the
query echoed back, since it may be personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from lianfang.standard import Standard
from lianfang.standard.levels import Level
from lianfang.standard.model import Field, Label
from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue
from lianfang.standard.types.simple import to_halfwidth


class QueryKind(StrEnum):
    CITIZEN_ID = "citizen_id"
    PLATE = "plate"
    PHONE = "phone"
    CASE_NO = "case_no"
    DEVICE_ID = "device_id"
    NAME = "name"

    @property
    def value_type(self) -> str:
        """The standard value type searched for this kind."""
        return "person_name" if self is QueryKind.NAME else self.value


#: Kinds whose values are personal data: never in clear in URLs of results, logs or audit targets.
PERSONAL_KINDS = frozenset({QueryKind.CITIZEN_ID, QueryKind.PHONE, QueryKind.NAME})


class Unrecognised(ValueError):
    """The query matched no kind; ``code`` says what was closest (for a precise message)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str = field(repr=False)  # normalised as the standard stores it; personal for some kinds
    city_code: str | None = None  # narrowing, names only
    birth_year: int | None = None  # narrowing, names only

    @property
    def personal(self) -> bool:
        return self.kind in PERSONAL_KINDS


_ID_SHAPE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_DEVICE_SHAPE = re.compile(r"^\d{20}$")
_MOBILE_SHAPE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_LANDLINE_SHAPE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_CASE_SHAPE = re.compile(r"^[A-Z]{1,3}\d{8,22}$")
_NAME_SHAPE = re.compile(r"^[\u3400-\u9fff\u00b7]{2,40}$")
_YEAR = re.compile(r"^(19|20)\d\d$")
_CITY_CODE = re.compile(r"^\d{4}00$")


def _normaliser(kind: str):  # type: ignore[no-untyped-def]
    fld = Field(name=kind, type=kind, label=Label("", ""), level=Level.INTERNAL)
    return VALUE_TYPES[kind].compile(fld, None, Context())


class Recogniser:
    """Recognises queries; built once (normalisers compiled, city names known)."""

    def __init__(self, cities: dict[str, str]):
        """``cities``: city name (with and without 市) → 6-digit division code."""
        self.cities = dict(cities)
        self._id = _normaliser("citizen_id")
        self._plate = _normaliser("plate")
        self._phone = _normaliser("phone")
        self._case = _normaliser("case_no")
        self._name = _normaliser("person_name")

    @classmethod
    def for_standard(cls, standard: Standard, city_names: dict[str, str] | None = None) -> Recogniser:
        del standard  # value types are the standard's; the city list comes from reference data
        return cls(city_names or {})

    def recognise(self, text: str, kind: QueryKind | None = None) -> Query:
        raw = to_halfwidth(text or "").strip()
        if not raw:
            raise Unrecognised("query.empty", "请输入查询内容 type a citizen ID, plate, phone, case number, "
                                              "device ID or name")
        if len(raw) > 80:
            raise Unrecognised("query.too_long", "查询内容过长 the query is too long (80 characters at most)")
        if kind is not None:
            return self._as(kind, raw)
        words = raw.split()
        if len(words) > 1 and _NAME_SHAPE.match(words[0]):
            return self._name_query(words)
        compact = raw.replace(" ", "").replace("-", "") if not _LANDLINE_SHAPE.match(raw) else raw
        upper = compact.upper()
        if _ID_SHAPE.match(upper):
            return self._as(QueryKind.CITIZEN_ID, upper)
        if _DEVICE_SHAPE.match(compact):
            return Query(QueryKind.DEVICE_ID, compact)
        if _MOBILE_SHAPE.match(compact) or _LANDLINE_SHAPE.match(raw):
            return self._as(QueryKind.PHONE, raw)
        if _CASE_SHAPE.match(upper):
            return self._as(QueryKind.CASE_NO, upper)
        try:
            return Query(QueryKind.PLATE, self._plate(raw))
        except InvalidValue:
            pass
        if _NAME_SHAPE.match(compact):
            return self._name_query([compact])
        if compact.isdigit():
            raise Unrecognised("query.digits", "数字位数不符 digits that are not an 18/15-digit ID, an 11-digit "
                                               "mobile or a 20-digit device ID")
        raise Unrecognised("query.unknown", "无法识别 not a citizen ID, plate, phone, case number, device ID or "
                                            "name")

    def _as(self, kind: QueryKind, raw: str) -> Query:
        try:
            if kind is QueryKind.CITIZEN_ID:
                return Query(kind, self._id(raw.upper()))
            if kind is QueryKind.PLATE:
                return Query(kind, self._plate(raw))
            if kind is QueryKind.PHONE:
                return Query(kind, self._phone(raw))
            if kind is QueryKind.CASE_NO:
                return Query(kind, self._case(raw))
            if kind is QueryKind.DEVICE_ID:
                value = raw.replace(" ", "")
                if not _DEVICE_SHAPE.match(value):
                    raise InvalidValue("device_id.format", "a device ID is 20 digits")
                return Query(kind, value)
            return self._name_query(raw.split())
        except InvalidValue as exc:
            raise Unrecognised(exc.code, f"不是有效的{_KIND_ZH[kind]} not a valid {kind.value}: {exc.code}") from None

    def _name_query(self, words: list[str]) -> Query:
        try:
            name = self._name(words[0])
        except InvalidValue as exc:
            raise Unrecognised(exc.code, "不是有效的姓名 not a plausible name") from None
        city: str | None = None
        year: int | None = None
        for word in words[1:]:
            if _YEAR.match(word) and year is None:
                year = int(word)
            elif _CITY_CODE.match(word) and city is None:
                city = word
            elif word in self.cities and city is None:
                city = self.cities[word]
            else:
                raise Unrecognised("query.narrowing", "姓名后只能跟城市和出生年份 after a name, only a city and a "
                                                      "birth year may follow")
        return Query(QueryKind.NAME, name, city, year)


_KIND_ZH = {
    QueryKind.CITIZEN_ID: "身份号码",
    QueryKind.PLATE: "号牌",
    QueryKind.PHONE: "电话号码",
    QueryKind.CASE_NO: "案件编号",
    QueryKind.DEVICE_ID: "设备编号",
    QueryKind.NAME: "姓名",
}

__all__ = ["PERSONAL_KINDS", "Query", "QueryKind", "Recogniser", "Unrecognised"]
