"""Injected defects and near-duplicate spellings, each tied to the exact reason code the
ingestion pipeline emits for it.

A defect record has exactly one thing wrong, so its expected reason is unambiguous;
the catalogue lists, per category, which field is spoilt and how. A near duplicate
re-spells a record so that it normalises to the same standard key (another spelling
of the same instant, plate or ID number).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lianfang.demo.identity import impossible_birth, to_15, wrong_check
from lianfang.demo.systems.base import Codec, DateCodec, DateTimeCodec, Layout, Raw, Record
from lianfang.demo.systems.codecs import CitizenIdCodec
from lianfang.demo.timefmt import parts

#: Every reason code a demo defect can carry (the pipeline's contract).
REASONS = frozenset({
    "required.missing", "citizen_id.check_digit", "citizen_id.birth_date", "datetime.impossible",
    "date.impossible", "datetime.format", "plate.format", "phone.format", "code.unknown",
    "parse.encoding", "parse.record",
})

Make = Callable[[Any, Codec, random.Random], Raw]


@dataclass(frozen=True)
class DefectSpec:
    kind: str
    field: str | None  # None: the record as a whole (undecodable bytes, truncated line)
    reason: str
    make: Make | None = None
    needs_text_time: bool = False


def _garble(text: str) -> str:
    """Letter O for the first digit after the year: ``2026-1O-03``, ``2026100O…``."""
    for i in range(5, len(text)):
        if text[i].isdigit():
            return text[:i] + "O" + text[i + 1:]
    return text + "O"


def _impossible_time(value: Any, codec: Codec, rng: random.Random) -> Raw:
    assert isinstance(codec, DateTimeCodec)
    y, mo, d, h, mi, s = parts(value)
    choice = rng.randrange(3)
    if choice == 0:
        return Raw(codec.style.compose(y, 2, 30, h, mi, s))  # 30 February
    if choice == 1:
        return Raw(codec.style.compose(y, mo, d, 25, mi, s))  # hour 25
    return Raw(codec.style.compose(1850, mo, d, h, mi, s))  # before 1900


def _impossible_date(value: Any, codec: Codec, rng: random.Random) -> Raw:
    assert isinstance(codec, DateCodec)
    return Raw(codec.style.compose(value[0], 2, 30))


def _garbled_time(value: Any, codec: Codec, rng: random.Random) -> Raw:
    assert isinstance(codec, DateTimeCodec)
    return Raw(_garble(str(codec.style.render(value))))


def _bad_plate(value: Any, codec: Codec, rng: random.Random) -> Raw:
    if rng.random() < 0.5:
        return Raw(value[:6])  # six characters: no GA 36 scheme is that short
    return Raw(value[:2] + "I" + value[3:])  # I never appears in a serial


def _bad_phone(value: Any, codec: Codec, rng: random.Random) -> Raw:
    return Raw(f"12{rng.randrange(10**9):09d}")  # no mobile starts 12, no landline starts 1


def _const(text: str) -> Make:
    return lambda value, codec, rng: Raw(text)


def _missing(field: str) -> DefectSpec:
    return DefectSpec("missing_required", field, "required.missing", _const(""))


def _unknown(field: str, code: str) -> DefectSpec:
    return DefectSpec("unknown_code", field, "code.unknown", _const(code))


def _time(field: str, garbled: bool = False) -> DefectSpec:
    if garbled:
        return DefectSpec("garbled_datetime", field, "datetime.format", _garbled_time, True)
    return DefectSpec("impossible_datetime", field, "datetime.impossible", _impossible_time, True)


CATALOGUE: dict[str, tuple[DefectSpec, ...]] = {
    "person": (
        _missing("name"),
        DefectSpec("wrong_check_character", "citizen_id", "citizen_id.check_digit",
                   lambda v, c, r: Raw(wrong_check(v))),
        DefectSpec("birth_month_13", "citizen_id", "citizen_id.birth_date",
                   lambda v, c, r: Raw(impossible_birth(v))),
        DefectSpec("impossible_date", "birth_date", "date.impossible", _impossible_date, True),
        DefectSpec("bad_phone", "phone", "phone.format", _bad_phone),
        _unknown("sex", "7"),
    ),
    "vehicle": (
        _missing("plate_no"),
        DefectSpec("bad_plate", "plate_no", "plate.format", _bad_plate),
        _unknown("plate_type", "88"),
        DefectSpec("bad_phone", "owner_phone", "phone.format", _bad_phone),
        DefectSpec("wrong_check_character", "owner_citizen_id", "citizen_id.check_digit",
                   lambda v, c, r: Raw(wrong_check(v))),
    ),
    "sighting": (
        _missing("device_id"), _time("passed_at"), _time("passed_at", garbled=True),
        DefectSpec("bad_plate", "plate_no", "plate.format", _bad_plate),
        _unknown("plate_color", "77"),
    ),
    "case": (
        _missing("title"), _time("occurred_at"), _time("occurred_at", garbled=True),
        _time("reported_at"), _unknown("category", "88"),
    ),
    "alert": (
        _missing("title"), _time("issued_at", garbled=True), _time("valid_until"),
        _unknown("severity", "7"),
    ),
    "help_request": (
        _missing("category"), _time("received_at"), _time("received_at", garbled=True),
        DefectSpec("bad_phone", "caller_phone", "phone.format", _bad_phone),
        _unknown("category", "88"),
    ),
}
UNDECODABLE = DefectSpec("undecodable_bytes", None, "parse.encoding")
TRUNCATED = DefectSpec("truncated_line", None, "parse.record")


def catalogue_for(layout: Layout, fmt: str, encoding: str) -> tuple[DefectSpec, ...]:
    """The defects a layout can carry: its fields, textual times only, plus the format's own."""
    specs = []
    for spec in CATALOGUE.get(layout.category, ()):
        codec = layout.codec_of(spec.field) if spec.field else None
        if codec is None:
            continue
        style = getattr(codec, "style", None)
        if spec.needs_text_time and (style is None or not style.textual):
            continue
        specs.append(spec)
    if fmt == "csv" and encoding.lower() in ("gbk", "gb18030"):
        specs.append(UNDECODABLE)
    if fmt == "jsonl":
        specs.append(TRUNCATED)
    return tuple(specs)


# --- near duplicates ---------------------------------------------------------------


def _plate_spelling(plate: str) -> Raw:
    return Raw(f"{plate[0]}{plate[1].lower()} {plate[2:].lower()}")


def _id_spelling(layout: Layout, rec: Record, field: str) -> Raw:
    number: str = rec[field]
    codec = layout.codec_of(field)
    if isinstance(codec, CitizenIdCodec) and codec.style == "legacy15":
        if rec.get("_id15"):
            return Raw(number)
        if number[6:8] == "19":
            return Raw(to_15(number))
    return Raw(f"{number[:6]} {number[6:14]} {number[14:]}")


def near_variant(layout: Layout, fmt: str, rec: Record) -> Record | None:
    """The record re-exported with a cosmetic difference, or None if the layout has none."""
    out = dict(rec)
    category = layout.category
    if fmt == "gat1400":
        out["_src"] = rec["_src"] + 7  # re-sent pass: same content, new MotorVehicleID
    elif category == "person":
        out["citizen_id"] = _id_spelling(layout, rec, "citizen_id")
    elif category == "vehicle":
        out["plate_no"] = _plate_spelling(rec["plate_no"])
    elif category == "sighting":
        codec = layout.codec_of("passed_at")
        if isinstance(codec, DateTimeCodec) and codec.style.textual:
            out["passed_at"] = Raw(codec.style.alternative(rec["passed_at"]))
        elif rec.get("plate_no"):
            out["plate_no"] = _plate_spelling(rec["plate_no"])
        else:
            return None
    elif category == "case":
        out["case_no"] = Raw(rec["case_no"].lower())
    elif category == "alert":
        out["alert_no"] = Raw(f" {rec['alert_no']} ")
    elif category == "help_request":
        out["request_no"] = Raw(f" {rec['request_no']} ")
    else:
        return None
    return out
