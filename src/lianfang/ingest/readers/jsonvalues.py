"""JSON values as raw strings: numbers keep their source digits (jsonl, gat1400).

The decoder keeps every number as :class:`NumberText`, the exact text of the number
in the source, so an 18-digit ID written as a JSON number stays those 18 digits and
``1.10`` stays ``1.10``. Nested objects and arrays become their compact JSON text.
"""

from __future__ import annotations

import json
import re
from typing import Any


class NumberText(str):
    """A JSON number (or NaN/Infinity) kept as its source text."""

    __slots__ = ()


DECODER = json.JSONDecoder(parse_float=NumberText, parse_int=NumberText, parse_constant=NumberText)
_dump_str = json.JSONEncoder(ensure_ascii=False).encode


def compact(value: Any, sort_keys: bool = False) -> str:
    """Compact JSON text of a decoded value, numbers written as in the source."""
    if isinstance(value, str):
        return str.__str__(value) if isinstance(value, NumberText) else _dump_str(value)
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return "{" + ",".join(f"{_dump_str(k)}:{compact(v, sort_keys)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact(v, sort_keys) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise TypeError(f"not a decoded JSON value: {type(value).__name__}")


def stringify(value: Any) -> str | None:
    """The raw string of one field: text as is, numbers as in the source, nested as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return str.__str__(value)
    return compact(value)


_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_PROBLEM = "json: string with an unpaired surrogate escape"


def _clean(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def fields_of(obj: dict[str, Any]) -> tuple[dict[str, str | None], str | None]:
    """``fields`` of a JSON object, and a problem when a string holds a lone surrogate
    (it could not be stored as UTF-8; such strings are replaced with U+FFFD)."""
    fields = {key: stringify(value) for key, value in obj.items()}
    if not _SURROGATE.search("".join([*fields, *(v for v in fields.values() if v)])):
        return fields, None
    cleaned = {_clean(k): None if v is None else _clean(v) for k, v in fields.items()}
    return cleaned, SURROGATE_PROBLEM


def canonical(value: Any) -> bytes:
    """Canonical UTF-8 JSON (sorted keys, compact) used as ``raw`` for hashing."""
    return compact(value, sort_keys=True).encode("utf-8", "surrogatepass")


def kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a number" if isinstance(value, NumberText) else "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__
