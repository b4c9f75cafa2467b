"""Codecs for the value types whose spellings differ most between systems."""

from __future__ import annotations

from typing import Any

from lianfang.demo.identity import to_15
from lianfang.demo.systems.base import Codec, Raw

_FULLWIDTH = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                           "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ")


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


class PlateCodec(Codec):
    """Styles: plain ``赣A12345``, dot ``赣A·12345``, lower_hyphen ``赣a-12345``, and the two
    halves of a plate split over two columns (province ``赣`` / number ``A12345``)."""

    def __init__(self, style: str = "plain") -> None:
        self.style = style

    def convert(self, value: Any) -> Any:
        if value is None:
            return None
        style = self.style
        if style == "plain":
            return value
        if style == "dot":
            return f"{value[:2]}·{value[2:]}"
        if style == "lower_hyphen":
            return f"{value[0]}{value[1:2].lower()}-{value[2:].lower()}"
        if style == "province":
            return value[:1]
        return value[1:]  # number

    def raw(self, text: Raw) -> Any:
        if self.style == "province":
            return str(text)[:1]
        if self.style == "number":
            return str(text)[1:]
        return str(text)


class PhoneCodec(Codec):
    """Styles: plain ``13812345678``; hyphen ``138-1234-5678``; intl ``+86 138 1234 5678``.
    Landlines are written ``0791-88888888`` (intl: ``+86 791 88888888``)."""

    def __init__(self, style: str = "plain") -> None:
        self.style = style

    def convert(self, value: Any) -> Any:
        if value is None or self.style == "plain":
            return value
        if "-" in value:  # landline
            return "+86 " + value[1:].replace("-", " ") if self.style == "intl" else value
        if self.style == "hyphen":
            return f"{value[:3]}-{value[3:7]}-{value[7:]}"
        return f"+86 {value[:3]} {value[3:7]} {value[7:]}"


class CitizenIdCodec(Codec):
    """Styles: plain; legacy15 (the 15-digit number where the record's ``_id15`` hint says
    the system still holds it); fullwidth (full-width digits where ``_fw`` is set)."""

    whole = True

    def __init__(self, field: str, style: str = "plain") -> None:
        self.field = field
        self.style = style
        self.reads = frozenset({field, "_id15", "_fw"})

    def convert(self, value: Any) -> Any:
        rec = value
        number = rec.get(self.field)
        if number is None or self.style == "plain":
            return number
        if self.style == "legacy15":
            return to_15(number) if rec.get("_id15") else number
        return fullwidth(number) if rec.get("_fw") else number


class CopyOf(Codec):
    """Another field's value again (GA/T 1400 repeats the tollgate as the capturing device)."""

    whole = True

    def __init__(self, field: str) -> None:
        self.field = field
        self.reads = frozenset({field})

    def convert(self, value: Any) -> Any:
        return value.get(self.field)


class IntCell(Codec):
    """A numeric code written as a number cell (spreadsheets): ``"5"`` -> ``5``."""

    def convert(self, value: Any) -> Any:
        return None if value is None else int(value)


class FullwidthPlateCodec(PlateCodec):
    """``赣A·12345`` with the serial in full-width characters where ``_fw`` is set."""

    whole = True

    def __init__(self, field: str) -> None:
        super().__init__("dot")
        self.field = field
        self.reads = frozenset({field, "_fw"})

    def convert(self, value: Any) -> Any:
        rec = value
        plate = rec.get(self.field)
        if plate is None:
            return None
        return f"{plate[:2]}·{fullwidth(plate[2:]) if rec.get('_fw') else plate[2:]}"
