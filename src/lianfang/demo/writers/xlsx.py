"""Excel workbooks: the sheet streamed straight into the archive, the rest from openpyxl.

openpyxl's write-only mode manages about 13,000 rows/s — too slow for millions of
person records and sightings — so the worksheet XML is written here, row by row
from cached templates (inline strings, as openpyxl writes them), while every other
part of the package (content types, workbook, styles with a date format …) comes
from an openpyxl write-only workbook holding one date cell. Date-times become real
Excel date cells in that style. Members carry a fixed timestamp and the document
properties a fixed date, so the same rows always give the same bytes; nothing but
a block of pending rows is held in memory.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils.datetime import to_excel
from openpyxl.writer.excel import ExcelWriter

from lianfang.demo.writers.base import FLUSH_LINES, CannotDamage, Row
from lianfang.demo.writers.templates import Templates, is_number

FIXED_TIME = (2026, 11, 1, 0, 0, 0)
_SHEET_PART = "xl/worksheets/sheet1.xml"
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


class ExcelSerial(float):
    """A date-time as an Excel serial number, written with the package's date style."""


class _StableZip(zipfile.ZipFile):
    """A ZipFile whose members all carry :data:`FIXED_TIME` instead of the wall clock."""

    def member(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: Any,
                 compress_type: int | None = None, compresslevel: int | None = None) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self.member(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


@cache
def _package(sheet: str) -> tuple[tuple[tuple[str, bytes], ...], str]:
    """Every part but the worksheet of a write-only openpyxl workbook named ``sheet``, and
    the style index openpyxl gave its date cell."""
    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = datetime(*FIXED_TIME)
    wb.properties.creator = "lianfang demo"
    wb.create_sheet(sheet).append([datetime(2000, 1, 1)])
    buffer = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(buffer) as parts:
        found = re.search(rb'<c r="A1" s="(\d+)"', parts.read(_SHEET_PART))
        assert found is not None, "openpyxl no longer styles date cells"
        return (tuple((i.filename, parts.read(i)) for i in parts.infolist() if i.filename != _SHEET_PART),
                found.group(1).decode())


def _cell(value: Any, date_style: str) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, datetime):
        return f'<c s="{date_style}"><v>{to_excel(value)}</v></c>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<c><v>{value}</v></c>"
    text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class XlsxWriter(CannotDamage):
    def __init__(self, path: Path, names: tuple[str, ...], sheet: str):
        self._parts, self._date_style = _package(sheet)
        self._zip = _StableZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        member = self._zip.open(self._zip.member(_SHEET_PART), "w", force_zip64=True)
        self._out = io.TextIOWrapper(io.BufferedWriter(member, 1 << 16), encoding="utf-8")
        self._row = 0
        self._pending: list[str] = []
        self._fast = Templates(self._template, counted="<>")
        self._out.write(_SHEET_HEAD)
        self.write(list(names))

    def _template(self, types: tuple[Any, ...]) -> tuple[str, tuple[int, ...]] | None:
        """Cells without references (readers count them): ``<c/>`` for an empty one. The last
        value is the row number."""
        cells, slots = ['<row r="%s">'], [len(types) - 1]
        for i, kind in enumerate(types[:-1]):
            if kind is type(None):
                cells.append("<c/>")
            elif kind is ExcelSerial:
                cells.append(f'<c s="{self._date_style}"><v>%s</v></c>')
                slots.append(i)
            elif is_number(kind):
                cells.append("<c><v>%s</v></c>")
                slots.append(i)
            elif kind is str:
                cells.append('<c t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>')
                slots.append(i)
            else:
                return None
        cells.append("</row>")
        return "".join(cells), tuple(slots)

    def _careful(self, row: Row, number: int) -> str:
        return f'<row r="{number}">{"".join(_cell(v, self._date_style) for v in row)}</row>'

    def write(self, row: Row) -> None:
        self._row += 1
        values = [ExcelSerial(to_excel(v)) if type(v) is datetime else v for v in row]
        values.append(self._row)  # the last slot: the row number
        self._pending.append(self._fast.fill(values) or self._careful(row, self._row))
        if len(self._pending) >= FLUSH_LINES:
            self._out.write("".join(self._pending))
            self._pending.clear()

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        if any(type(v) is datetime for v in row):
            return None  # the fast lane carries text and numbers only
        shape = self._fast.shape([*row, 1])
        if shape is None:
            return None
        template, order = shape  # the row number's slot comes first
        ok = template % (1, *(row[i] for i in order[1:])) == self._careful(row, 1)
        return (template, order[1:]) if ok else None

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        self._row += 1
        self._pending.append(template % (self._row, *values))
        if len(self._pending) >= FLUSH_LINES:
            self._out.write("".join(self._pending))
            self._pending.clear()

    def close(self) -> None:
        self._out.write("".join(self._pending) + _SHEET_TAIL)
        self._out.close()
        for name, data in self._parts:
            self._zip.writestr(name, data)
        self._zip.close()
