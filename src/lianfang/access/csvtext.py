"""CSV text of projected data, safe to open in a spreadsheet.

Every export (trajectories, search results) writes its rows through :func:`csv_text`:
a byte-order mark so that spreadsheets read the Chinese correctly, CRLF line ends, and
text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR at
the start) quoted with a leading apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """One cell: None as empty, booleans as 1/0, formula-like text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole file as text: BOM, header, then the rows with every cell through :func:`safe_cell`."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


__all__ = ["csv_text", "safe_cell"]
