"""The time window of a trajectory query: parsed, defaulted and bounded.

Times are ISO 8601; a time without an offset is read in the platform's zone
(Asia/Shanghai by default), a date alone as its midnight. ``until`` defaults to
now and ``since`` to ``default_days`` before ``until``. A reversed window or one
wider than ``max_days`` is refused with :class:`WindowError` (the API answers 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000


class WindowError(ValueError):
    """A window that cannot be used; the message says why and never echoes more than the input's shape.

    ``code`` names the reason (``window.format``, ``window.reversed``, ``window.too_wide``) so
    that the web UI can say it in the reader's language; ``max_days`` goes with ``too_wide``.
    """

    def __init__(self, message: str, code: str, max_days: int | None = None):
        super().__init__(message)
        self.code = code
        self.max_days = max_days


@dataclass(frozen=True)
class Window:
    since_ms: int
    until_ms: int

    @property
    def days(self) -> float:
        return (self.until_ms - self.since_ms) / DAY_MS


def parse_time(text: str, tz: ZoneInfo) -> int:
    """Epoch milliseconds of an ISO 8601 time (naive: in ``tz``)."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise WindowError("times are ISO 8601, e.g. 2026-03-01T08:00:00 (read in the platform's zone)",
                          "window.format") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return int(value.timestamp() * 1000)


def check_window(since_ms: int, until_ms: int, max_days: int) -> Window:
    if until_ms < since_ms:
        raise WindowError("the window is reversed: since must be before until", "window.reversed")
    if until_ms - since_ms > max_days * DAY_MS:
        raise WindowError(f"the window is wider than {max_days} days; narrow it", "window.too_wide", max_days)
    return Window(since_ms, until_ms)


def resolve_window(
    since: str | None, until: str | None, *, now_ms: int, tz: ZoneInfo, default_days: int, max_days: int
) -> Window:
    """The window a request asks for, with defaults filled in and the limits checked."""
    until_ms = parse_time(until, tz) if until and until.strip() else now_ms
    since_ms = parse_time(since, tz) if since and since.strip() else until_ms - default_days * DAY_MS
    return check_window(since_ms, until_ms, max_days)


__all__ = ["DAY_MS", "Window", "WindowError", "check_window", "parse_time", "resolve_window"]
