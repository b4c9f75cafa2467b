"""%-format templates per *pattern of value types*, the writers' fast path.

Building JSON, XML or sheet XML value by value costs microseconds per record; a
template such as ``{"plate":"%s","speed":%s}`` filled by one ``%`` is several times
faster. A row's template depends on which values are text, numbers, booleans or
missing, so templates are built once per type pattern and cached (a feed has only a
handful). Text goes in unescaped: the filled line is then checked — its counts of
quotes or angle brackets must be the template's, and it may hold no backslash or
ampersand — and when the check fails the writer falls back to its careful encoder.
Generated values never need escaping, so that is rare. Control characters are not
checked for (a scan of every line costs as much as the rest): the generator never
produces them, and ``tests/demo`` checks every generated file for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: A row's value types (booleans: the value itself) -> (template, indices of the values
#: that fill its slots), or None when the pattern has no fast path.
Build = Callable[[tuple[Any, ...]], tuple[str, tuple[int, ...]] | None]
_Entry = tuple[str, tuple[int, ...] | None, tuple[int, ...]] | None


class Templates:
    def __init__(self, build: Build, counted: str) -> None:
        self._build = build
        self._counted = counted
        self._cache: dict[tuple[Any, ...], _Entry] = {}

    def _entry(self, types: tuple[Any, ...]) -> _Entry:
        made = self._build(types)
        if made is None:
            return None
        template, slots = made
        every = slots == tuple(range(len(types)))
        return template, None if every else slots, tuple(template.count(ch) for ch in self._counted)

    def _lookup(self, row: list[Any]) -> _Entry:
        types: tuple[Any, ...] = tuple(map(type, row))
        if bool in types:  # a boolean is a constant of the template: key on its value
            types = tuple(v if t is bool else t for v, t in zip(row, types, strict=True))
        try:
            return self._cache[types]
        except KeyError:
            entry = self._cache[types] = self._entry(types)
            return entry

    def shape(self, row: list[Any]) -> tuple[str, tuple[int, ...]] | None:
        """The template for ``row``'s type pattern and the columns its slots take, in order."""
        entry = self._lookup(row)
        if entry is None:
            return None
        template, slots, _ = entry
        return template, tuple(range(len(row))) if slots is None else slots

    def fill(self, row: list[Any]) -> str | None:
        """The filled template, or None when there is none or the check fails."""
        entry = self._lookup(row)
        if entry is None:
            return None
        template, slots, counts = entry
        line = template % (tuple(row) if slots is None else tuple([row[i] for i in slots]))
        for ch, count in zip(self._counted, counts, strict=True):
            if line.count(ch) != count:
                return None
        if "\\" in line or "&" in line:
            return None
        return line


def is_number(kind: Any) -> bool:
    return kind is int or kind is float
