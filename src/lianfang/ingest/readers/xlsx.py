"""xlsx reader: rows of one worksheet via openpyxl's streaming ``read_only`` mode.

The archive is inspected with ``zipfile`` before openpyxl sees it (see
:func:`~lianfang.ingest.readers.safety.check_xlsx_archive`). Cell values become
strings without losing digits: integers exactly (an 18-digit ID stays 18 digits),
floats with the digits stored in the file (never in exponent notation: a long ID
that a writer stored as ``1.101011990030712e+17`` reads ``110101199003071200``),
dates and times as ISO ``YYYY-MM-DD HH:MM:SS``, booleans as ``TRUE``/``FALSE``.
Formula cells give their cached value. Empty rows are skipped and take no
position. ``raw`` is the canonical UTF-8 JSON of ``fields``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from lianfang.ingest.readers.archive import check_xlsx_archive
from lianfang.ingest.readers.base import (
    PRIMED,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
    new_record,
)
from lianfang.ingest.readers.safety import safe_open

#: What openpyxl raises on a damaged workbook (ParseError is a SyntaxError).
_OPENPYXL_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    SyntaxError,
    EOFError,
    zipfile.BadZipFile,
)


def cell_text(value: Any) -> str | None:
    """The raw string of one cell value."""
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        stamp: dt.datetime = value
        if stamp.microsecond >= 500_000:
            stamp += dt.timedelta(microseconds=1_000_000 - stamp.microsecond)
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    """Shortest digits that give back the stored double, in plain notation.

    The digits are those of the cell's XML text (``1.101011990030712e+17`` ->
    ``110101199003071200``); integral values lose their ``.0``.
    """
    if not math.isfinite(value):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _canonical(fields: dict[str, str | None]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class XlsxReader:
    def __init__(self, f: IO[bytes], spec: ReaderSpec, limits: Limits) -> None:
        if spec.header_row < 1:
            raise ValueError("header_row is 1-based")
        check_xlsx_archive(f, limits)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._book = load_workbook(f, read_only=True, data_only=True, keep_links=False)
        except HostileInput:
            raise
        except (*_OPENPYXL_ERRORS, OSError) as exc:
            raise HostileInput("not_xlsx", f"workbook cannot be opened: {type(exc).__name__}") from None
        if spec.sheet is None:
            sheet = self._book.worksheets[0] if self._book.worksheets else None
        else:
            sheet = self._book[spec.sheet] if spec.sheet in self._book.sheetnames else None
        if not isinstance(sheet, ReadOnlyWorksheet):
            self._book.close()
            raise HostileInput("sheet_missing", f"no worksheet named {spec.sheet!r}")
        sheet.reset_dimensions()  # do not trust the stored <dimension>
        self._sheet = sheet
        self._title = sheet.title
        self._header_row = spec.header_row
        self._limit = limits.max_record_bytes
        self._rows = sheet.iter_rows(min_row=spec.header_row, values_only=True)
        try:
            self.header = self._read_header()
        except BaseException:
            self._book.close()
            raise

    def _read_header(self) -> list[str]:
        row = next(self._rows, None)
        where = f"header row (sheet {self._title} row {self._header_row})"
        if row is None:
            raise HostileInput("bad_header", f"no {where}: the sheet is shorter")
        names = [(cell_text(v) or "").strip() for v in row]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise HostileInput("bad_header", f"{where} is empty")
        seen: dict[str, int] = {}
        for column, name in enumerate(names, 1):
            if not name:
                raise HostileInput("bad_header", f"{where} column {column} has no name")
            if name in seen:
                raise HostileInput("bad_header", f"{where} columns {seen[name]} and {column} have the same name")
            seen[name] = column
        return names

    def records(self) -> Iterator[RawRecord]:
        position = 0
        number = self._header_row
        try:
            for number, row in enumerate(self._rows, self._header_row + 1):
                record = self._record(position + 1, number, row)
                if record is not None:
                    position += 1
                    yield record
        except _OPENPYXL_ERRORS as exc:
            # openpyxl parses the sheet lazily; a cell it cannot read ends the sheet
            raise HostileInput(
                "not_xlsx", f"sheet {self._title} unreadable after row {number}: {type(exc).__name__}"
            ) from None
        finally:
            self._book.close()

    def _record(self, position: int, number: int, row: tuple[Any, ...]) -> RawRecord | None:
        header = self.header
        width = len(header)
        values = [cell_text(v) for v in row]
        while values and values[-1] is None:
            values.pop()
        if not values:
            return None
        fields: dict[str, str | None] = dict(zip(header, values, strict=False))
        for name in header[len(values) :]:
            fields[name] = None
        problem = None
        if len(values) > width:
            problem = f"xlsx: {len(values)} columns, header has {width}"
            for column, value in enumerate(values[width:], width + 1):
                fields[f"#{column}"] = value
        raw = _canonical(fields)
        if len(raw) > self._limit:
            problem = f"record too large: row over {self._limit} bytes"
            raw = raw[: self._limit]
        return new_record(position, f"sheet {self._title} row {number}", fields, raw, problem)


def read_xlsx(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """Generator: archive and workbook checks and the header, ``PRIMED``, then rows."""
    f = safe_open(path, limits)
    try:
        reader = XlsxReader(f, spec, limits)
        yield PRIMED
        yield from reader.records()
    finally:
        f.close()
