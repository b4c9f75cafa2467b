"""CSV in any ASCII-compatible encoding, optionally with a UTF-8 byte-order mark."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

from lianfang.demo.writers.base import Lines, Row

#: Lead byte 0x81 followed by a space: illegal in GBK and GB18030, yet free of the
#: delimiter, quotes, CR and LF, so the damaged line still splits into the right columns.
BAD_GBK = b"\x81\x20"
_MARK = "\ue000"  # a private-use character that never occurs in generated values


class _Line:
    """Receives the one string ``csv.writer.writerow`` produces."""

    text = ""

    def write(self, text: str) -> None:
        self.text = text


class CsvWriter:
    def __init__(self, path: Path, names: tuple[str, ...], *, encoding: str, delimiter: str = ",",
                 bom: bool = False):
        self.encoding = encoding
        out = path.open("wb")
        if bom:
            out.write(codecs.BOM_UTF8)
        self._lines = Lines(out, encoding)
        self._writerow = csv.writer(self._lines, delimiter=delimiter, lineterminator="\n").writerow
        self._line = _Line()
        self._one = csv.writer(self._line, delimiter=delimiter, lineterminator="\n")
        self._delimiter = delimiter
        self._writerow(names)

    def write(self, row: Row) -> None:
        self._writerow(row)
        if self._lines.full():
            self._lines.flush()

    def write_damaged(self, row: Row, column: int) -> None:
        value = "" if row[column] is None else str(row[column])
        if any(ch in value for ch in ',"\r\n'):
            raise ValueError("damage a column whose value needs no quoting")
        marked = list(row)
        marked[column] = _MARK
        self._one.writerow(marked)
        before, after = self._line.text.split(_MARK, 1)
        enc = self.encoding
        self._lines.raw(before.encode(enc) + BAD_GBK + value.encode(enc) + after.encode(enc))

    def write_truncated(self, row: Row) -> None:
        raise NotImplementedError("CSV records are not truncated")

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        order = tuple(i for i, value in enumerate(row) if value is not None and value != "")
        template = self._delimiter.join("" if i not in order else "%s" for i in range(len(row))) + "\n"
        self._one.writerow(row)
        return (template, order) if template % tuple(row[i] for i in order) == self._line.text else None

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        self._lines.add(template % values)
        if self._lines.full():
            self._lines.flush()

    def close(self) -> None:
        self._lines.close()
