"""The value-type contract: a type compiles, per field, into a fast normaliser.

A normaliser takes a non-empty, already stripped source string and returns the
canonical value (``str``, ``int``, ``float``, ``date`` or an aware ``datetime``),
or raises :class:`InvalidValue` with a stable machine code such as
``citizen_id.check_digit``. Messages never repeat the offending value: it may be
personal data, and messages end up in logs and in the quarantine list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from lianfang.standard.model import CodeTable, Field

Normaliser = Callable[[str], object]

SHANGHAI = ZoneInfo("Asia/Shanghai")


class InvalidValue(ValueError):
    """A value that cannot be made standard. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    """What a normaliser may know about the source: its formats, zone and 'now'."""

    tz: ZoneInfo = SHANGHAI
    formats: tuple[str, ...] = ()  # source date/time formats (strptime syntax), tried first
    now: datetime | None = None  # reference time for "not in the future" checks; None = wall clock
    extra: dict[str, str] = field(default_factory=dict)


class ValueType(Protocol):
    name: str

    def compile(self, field: Field, table: CodeTable | None, ctx: Context) -> Normaliser: ...
