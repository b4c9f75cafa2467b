"""JSON values as raw strings: numbers keep their source digits (jsonl, gat1400).

Integers decode to ``int`` (exact at any length the decoder accepts, so an 18-digit
ID stays those 18 digits); every other number (``1.10``, ``1e400``, ``NaN``) is kept
as :class:`NumberText`, the exact text of the number in the source. Nested objects
and arrays become their compact JSON text, numbers written as in the source.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable
from typing import Any


class NumberText:
    """A non-integer JSON number (or NaN/Infinity) kept as its source text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NumberText) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"NumberText({self.text!r})"


DECODER = json.JSONDecoder(parse_float=NumberText, parse_constant=NumberText)
_quote: Callable[[str], str] = json.encoder.encode_basestring


class _HasNumberText(Exception):
    pass


def _refuse(value: Any) -> Any:
    raise _HasNumberText


def _c_encoder(sort_keys: bool) -> Callable[[Any], str]:
    """Compact JSON through the C encoder; raises :class:`_HasNumberText` for those."""
    make = getattr(json.encoder, "c_make_encoder", None)  # the C encoder, not in typeshed
    if make is None:  # pragma: no cover - CPython always has _json
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, default=_refuse)
        return encoder.encode
    encode = make(None, _refuse, _quote, None, ":", ",", sort_keys, False, True)

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps


_FAST = {False: _c_encoder(False), True: _c_encoder(True)}


def _slow(value: Any, sort_keys: bool) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, NumberText):
        return value.text
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return "{" + ",".join(f"{_quote(k)}:{_slow(v, sort_keys)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_slow(v, sort_keys) for v in value) + "]"
    return _FAST[sort_keys](value)  # None, bool, int


def compact(value: Any, sort_keys: bool = False) -> str:
    """Compact JSON text of a decoded value, numbers written as in the source."""
    try:
        return _FAST[sort_keys](value)
    except _HasNumberText:
        return _slow(value, sort_keys)


def stringify(value: Any) -> str | None:
    """The raw string of one field: text as is, numbers as in the source, nested as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, NumberText):
        return value.text
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
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | NumberText):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__
