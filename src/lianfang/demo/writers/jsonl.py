"""JSON lines (UTF-8): one object per line, keys in layout order, ``null`` for missing values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lianfang.demo.writers.base import Lines, Row
from lianfang.demo.writers.templates import Templates, is_number

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_template(names: tuple[str, ...], omit_missing: bool = False) -> Templates:
    """``{"name":"%s","n":%s,"x":null}`` per type pattern (``omit_missing``: no ``null``
    members, as GA/T 1400 platforms write)."""
    keys = [_encode(n) + ":" for n in names]

    def build(types: tuple[Any, ...]) -> tuple[str, tuple[int, ...]] | None:
        pieces, slots = [], []
        for i, (key, kind) in enumerate(zip(keys, types, strict=True)):
            if kind is str:
                pieces.append(key + '"%s"')
                slots.append(i)
            elif is_number(kind):
                pieces.append(key + "%s")
                slots.append(i)
            elif kind is type(None):
                if not omit_missing:
                    pieces.append(key + "null")
            elif kind is True or kind is False:
                pieces.append(key + ("true" if kind else "false"))
            else:
                return None
        return "{" + ",".join(pieces) + "}", tuple(slots)

    return Templates(build, counted='"')


class JsonLinesWriter:
    def __init__(self, path: Path, names: tuple[str, ...]):
        self._lines = Lines(path.open("wb"), "utf-8")
        self._names = names
        self._fast = json_template(names)

    def _line(self, row: Row) -> str:
        return self._fast.fill(row) or _encode(dict(zip(self._names, row, strict=True)))

    def write(self, row: Row) -> None:
        self._lines.add(self._line(row) + "\n")
        if self._lines.full():
            self._lines.flush()

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        shape = self._fast.shape(row)
        if shape is None:
            return None
        template, order = shape
        careful = _encode(dict(zip(self._names, row, strict=True)))
        return (template + "\n", order) if template % tuple(row[i] for i in order) == careful else None

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        self._lines.add(template % values)
        if self._lines.full():
            self._lines.flush()

    def write_damaged(self, row: Row, column: int) -> None:
        raise NotImplementedError("JSON lines files are UTF-8; damage is a truncated line")

    def write_truncated(self, row: Row) -> None:
        """The line cut at two thirds of its *characters* (never inside a UTF-8 sequence),
        so the record fails to parse as JSON, not to decode."""
        line = self._line(row)
        self._lines.add(line[: len(line) * 2 // 3] + "\n")

    def close(self) -> None:
        self._lines.close()
