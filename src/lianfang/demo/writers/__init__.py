"""File writers, one per source format. Every writer streams: memory does not grow with the file.

A writer takes rows already rendered by a layout (one value per column, ``None`` for
missing) and knows the format's framing: CSV lines, JSON lines, XML elements, sheet
rows, GA/T 1400 envelopes. Two formats can also damage a record on purpose: GBK CSV
(bytes that are not GBK) and JSON lines (a truncated line).
"""

from __future__ import annotations

from pathlib import Path

from lianfang.demo.writers.base import RowWriter
from lianfang.demo.writers.csv import CsvWriter
from lianfang.demo.writers.gat1400 import Gat1400Writer
from lianfang.demo.writers.jsonl import JsonLinesWriter
from lianfang.demo.writers.xlsx import XlsxWriter
from lianfang.demo.writers.xml import XmlWriter


def open_writer(path: Path, fmt: str, names: tuple[str, ...], *, encoding: str = "utf-8",
                delimiter: str = ",", bom: bool = False, sheet: str | None = None,
                root_attrs: str = "") -> RowWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return CsvWriter(path, names, encoding=encoding, delimiter=delimiter, bom=bom)
    if fmt == "jsonl":
        return JsonLinesWriter(path, names)
    if fmt == "xml":
        return XmlWriter(path, names, root_attrs=root_attrs)
    if fmt == "xlsx":
        return XlsxWriter(path, names, sheet or "Sheet1")
    if fmt == "gat1400":
        return Gat1400Writer(path, names)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["RowWriter", "open_writer"]
