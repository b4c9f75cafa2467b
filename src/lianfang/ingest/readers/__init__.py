"""Streaming, hostile-input-safe readers for the cities' export files.

Usage::

    for record in open_reader(path, ReaderSpec(format="csv", encoding="gbk")):
        if record.problem:
            quarantine(record)
        ...

:func:`open_reader` runs every whole-file check before it returns (for XML and
GA/T 1400 documents that is a full hardened parse; for xlsx the archive and every XML
part), so a refused file raises :class:`HostileInput` there, before any record. Two
cases can still raise while iterating: an xlsx cell openpyxl cannot read (it parses
the sheet lazily), and a file changed on disk after it was checked. The returned
iterator is a generator: call ``close()`` on it (or drop it) to release the file.

A record that cannot be decoded or parsed on its own comes back with ``problem``
set; ``problem`` starts with ``"encoding:"`` for undecodable bytes and with
``"record too large"`` for records over ``Limits.max_record_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from lianfang.ingest.readers.base import (
    PRIMED,
    REASONS,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
)
from lianfang.ingest.readers.csvfile import read_csv
from lianfang.ingest.readers.gat1400 import read_gat1400
from lianfang.ingest.readers.jsonl import read_jsonl
from lianfang.ingest.readers.safety import check_file
from lianfang.ingest.readers.xmlfile import read_xml

__all__ = [
    "REASONS",
    "HostileInput",
    "Limits",
    "RawRecord",
    "ReaderSpec",
    "check_file",
    "open_reader",
]



def _read_xlsx(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """The xlsx reader, imported when first used: openpyxl alone takes a tenth of a second to import,
    which every command and every ingestion worker paid whether it read a workbook or not."""
    from lianfang.ingest.readers.xlsx import read_xlsx

    return read_xlsx(path, spec, limits)


_READERS: dict[str, Callable[[Path, ReaderSpec, Limits], Iterator[RawRecord]]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "xml": read_xml,
    "xlsx": _read_xlsx,
    "gat1400": read_gat1400,
}


def open_reader(path: Path, spec: ReaderSpec, limits: Limits = Limits()) -> Iterator[RawRecord]:
    """Check ``path`` and return an iterator over its records.

    Raises :class:`HostileInput` (before returning) when the file is refused as a
    whole; ``ValueError`` for an unknown format or an invalid spec.
    """
    try:
        reader = _READERS[spec.format]
    except KeyError:
        raise ValueError(f"unknown reader format {spec.format!r}") from None
    check_file(path, limits)
    records = reader(path, spec, limits)
    first = next(records)  # runs the whole-file checks up to the PRIMED marker
    if first is not PRIMED:  # pragma: no cover - every reader yields PRIMED first
        raise AssertionError("reader did not prime")
    return records
