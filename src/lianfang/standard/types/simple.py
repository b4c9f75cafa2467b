"""Small value types: text, numbers, coordinates, codes and identifiers of fixed shape."""

from __future__ import annotations

import math
import re
import unicodedata

from lianfang.standard.model import CodeTable, Field
from lianfang.standard.types.base import Context, InvalidValue, Normaliser


def to_halfwidth(value: str) -> str:
    """NFKC folds full-width digits and letters (common in legacy exports) to ASCII."""
    if value.isascii():  # ASCII is NFKC-stable; isascii() is O(1), normalize() a call
        return value
    return unicodedata.normalize("NFKC", value)


class TextType:
    name = "text"

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        limit = field.max_length

        def normalise(raw: str) -> str:
            value = " ".join(raw.split())
            if limit is not None and len(value) > limit:
                raise InvalidValue("text.too_long", f"longer than {limit} characters")
            return value

        return normalise


_NAME_NOISE = re.compile(r"[\s\u3000]+")
# CJK Extension A, the basic block, compatibility ideographs and Extensions B-G:
# rare characters (生僻字) in real names are outside the basic block.
_NAME_OK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u00b7A-Za-z\.\-]+$")


class PersonNameType:
    """Chinese names: inner spaces removed, middle dot kept (minority and foreign names)."""

    name = "person_name"

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        def normalise(raw: str) -> str:
            value = _NAME_NOISE.sub("", to_halfwidth(raw)).replace("•", "·").replace(".", "·")
            if not 1 < len(value) <= 40 or not _NAME_OK.match(value):
                raise InvalidValue("name.format", "not a plausible person name")
            return value

        return normalise


class CodeType:
    """A value from a code table. Source spellings are mapped to codes by the mapping."""

    name = "code"

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        if table is None:
            raise ValueError(f"field {field.name} has no code table")
        codes = table.codes
        table_name = table.name
        # codes that the folding below leaves as they are: a raw value equal to one is it
        stable = frozenset(c for c in codes if to_halfwidth(c).strip() == c)

        def normalise(raw: str) -> str:
            if raw in stable:
                return raw
            value = to_halfwidth(raw).strip()
            if value in codes:
                return value
            # numeric codes written without their leading zero ("2" for "02")
            if value.isdigit():
                for width in (2, 4):
                    padded = value.zfill(width)
                    if padded in codes:
                        return padded
            raise InvalidValue("code.unknown", f"not a code of table {table_name}")

        return normalise


class NumberType:
    name = "number"
    integer = False

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        low, high = field.min, field.max
        integer = self.integer

        def normalise(raw: str) -> object:
            text = to_halfwidth(raw).replace(",", "")
            try:
                value: float = int(text) if integer else float(text)
            except ValueError:
                raise InvalidValue("number.format", "not a number") from None
            if (
                (not integer and not math.isfinite(value))  # nan, inf, 1e999
                or (low is not None and value < low)
                or (high is not None and value > high)
            ):
                raise InvalidValue("number.range", f"outside {low}..{high}")
            return value

        return normalise


class IntegerType(NumberType):
    name = "integer"
    integer = True


class _BoundedCoordinate:
    name = ""
    low = 0.0
    high = 0.0

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        low, high = self.low, self.high
        code = self.name

        def normalise(raw: str) -> float:
            try:
                value = float(to_halfwidth(raw))
            except ValueError:
                raise InvalidValue(f"{code}.format", "not a number") from None
            if not low <= value <= high:
                raise InvalidValue(f"{code}.range", f"outside {low}..{high}")
            return round(value, 7)

        return normalise


class LongitudeType(_BoundedCoordinate):
    name = "longitude"
    low, high = 73.0, 136.0  # China's extent; a swapped lat/lon fails here


class LatitudeType(_BoundedCoordinate):
    name = "latitude"
    low, high = 3.0, 54.0


class _DigitsType:
    """Identifiers made of a fixed number of digits."""

    name = ""
    lengths: tuple[int, ...] = ()

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        lengths = self.lengths
        code = self.name

        def normalise(raw: str) -> str:
            value = to_halfwidth(raw).replace(" ", "").replace("-", "")
            if not value.isascii() or not value.isdigit() or len(value) not in lengths:
                raise InvalidValue(
                    f"{code}.format", f"expected {' or '.join(map(str, lengths))} digits"
                )
            return value

        return normalise


class DivisionCodeType(_DigitsType):
    """GB/T 2260 six-digit administrative division code."""

    name = "division_code"
    lengths = (6,)


class JurisdictionCodeType(_DigitsType):
    """Division code (6) or police-station area code (9 or 12 digits)."""

    name = "jurisdiction_code"
    lengths = (6, 9, 12)


class UnitCodeType(_DigitsType):
    """Public-security organ code: 12 digits (division code + 6)."""

    name = "unit_code"
    lengths = (12,)


class DeviceIdType(_DigitsType):
    """GA/T 1400 device / tollgate ID: 20 digits."""

    name = "device_id"
    lengths = (20,)


_CASE_NO = re.compile(r"^[A-Z]\d{22}$|^[A-Z]{1,3}\d{8,22}$", re.ASCII)


class CaseNoType:
    """Case numbers: a letter prefix plus digits (e.g. ``A3601005000002026110001``)."""

    name = "case_no"

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser:
        def normalise(raw: str) -> str:
            value = to_halfwidth(raw).replace(" ", "").replace("-", "").upper()
            if not _CASE_NO.match(value):
                raise InvalidValue("case_no.format", "not a case number")
            return value

        return normalise
