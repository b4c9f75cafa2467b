"""Reader contract: the record a reader yields, how a source is described, and refusals.

Every reader streams: memory stays bounded whatever the file size. A file that must
be refused as a whole raises :class:`HostileInput` from :func:`open_reader` itself,
before any record is yielded; a single record that cannot be decoded or parsed is
yielded with ``problem`` set so that the pipeline quarantines it and moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Format = Literal["csv", "jsonl", "xml", "xlsx", "gat1400"]

#: Machine codes carried by :attr:`HostileInput.reason`.
REASONS: Final = frozenset(
    {
        "too_large",  # file (or an xlsx archive's content) exceeds a size limit
        "not_a_regular_file",  # symlink, directory, FIFO, device, socket
        "path_unsafe",  # NUL/control character or '..' in the path; file swapped while open
        "binary_garbage",  # NUL bytes or many control bytes at the start of a text format
        "xml_entities",  # DOCTYPE / entity declarations (billion laughs, external entities)
        "xml_malformed",  # not well-formed XML, or text not valid in the declared encoding
        "zip_bomb",  # xlsx archive too large uncompressed, too compressed, too many members
        "not_xlsx",  # not a zip / not an Office Open XML workbook / unreadable workbook
        "bad_envelope",  # GA/T 1400 file without a usable list envelope
        "encoding_unknown",  # unknown or unsupported (not ASCII-compatible) encoding name
        "bad_header",  # csv/xlsx header row missing, undecodable, empty or duplicate names
        "sheet_missing",  # xlsx: the named sheet does not exist (or is not a worksheet)
    }
)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One source record, before any mapping.

    ``position`` is the 1-based ordinal of the record within the file, stable across
    runs (resume skips ``position <= checkpoint``). ``locator`` tells a person where
    to look ("line 17", "sheet 人员 row 5", "record 3"). ``fields`` maps source
    column/key to the raw string value (``None`` for missing/null). ``raw`` holds the
    record's original bytes for hashing and quarantine. ``problem`` is set when this
    one record could not be decoded or parsed.
    """

    position: int
    locator: str
    fields: dict[str, str | None]
    raw: bytes
    problem: str | None = None


_new = object.__new__
_set_position = RawRecord.__dict__["position"].__set__
_set_locator = RawRecord.__dict__["locator"].__set__
_set_fields = RawRecord.__dict__["fields"].__set__
_set_raw = RawRecord.__dict__["raw"].__set__
_set_problem = RawRecord.__dict__["problem"].__set__


def new_record(
    position: int,
    locator: str,
    fields: dict[str, str | None],
    raw: bytes,
    problem: str | None = None,
) -> RawRecord:
    """Build a :class:`RawRecord` about twice as fast as its frozen ``__init__``.

    A frozen dataclass initialises each slot through ``object.__setattr__``; the hot
    CSV path cannot afford that per record, so this writes the slots through their
    descriptors directly. The result is an ordinary, equal, immutable ``RawRecord``.
    """
    record: RawRecord = _new(RawRecord)
    _set_position(record, position)
    _set_locator(record, locator)
    _set_fields(record, fields)
    _set_raw(record, raw)
    _set_problem(record, problem)
    return record


@dataclass(frozen=True)
class ReaderSpec:
    """How to read one source file (comes from the city's mapping YAML)."""

    format: Format
    encoding: str = "utf-8"  # csv/jsonl/xml/gat1400 text encoding ("gbk", "gb18030", "utf-8"; BOM accepted)
    delimiter: str = ","  # csv
    record_tag: str | None = None  # xml: local tag of each record element (None: children of the root)
    sheet: str | None = None  # xlsx: sheet name (None: the first sheet)
    header_row: int = 1  # csv/xlsx: 1-based header row (csv: physical line)
    object_list: str = "MotorVehicleListObject"  # gat1400 envelope key


@dataclass(frozen=True)
class Limits:
    """Size limits that make a file hostile (mirrors the ``max_*`` settings)."""

    max_file_bytes: int = 2 * 1024**3
    max_xlsx_uncompressed_bytes: int = 512 * 1024**2
    max_xlsx_ratio: int = 200
    max_record_bytes: int = 1024 * 1024  # a bigger line/element is a per-record problem


class HostileInput(Exception):
    """The whole file is refused. ``reason`` is a short machine code (see :data:`REASONS`).

    Messages carry positions and reasons only, never values from the file.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)  # args kept as given: the exception pickles
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


#: Yielded once by every reader generator after its whole-file checks passed;
#: :func:`lianfang.ingest.readers.open_reader` consumes it (see ``_prime``).
PRIMED: Final = RawRecord(0, "", {}, b"")
