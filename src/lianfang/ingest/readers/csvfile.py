"""CSV (and other delimited text) reader: fast, streaming, per-line decoding.

The file is read as binary physical lines (each at most ``max_record_bytes``). Every
line is decoded on its own, strictly, so one line with damaged bytes becomes one
problem record while the rest of the file reads fine. A line that decodes and has
no quote character is split directly (the hot path); a line with a quote goes
through the ``csv`` module, which also joins quoted fields that span lines.

``raw`` is the record's bytes without the final line terminator (multi-line records
keep their inner line breaks). Blank lines are skipped and take no position.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from lianfang.ingest.readers import base
from lianfang.ingest.readers.base import (
    PRIMED,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
    new_record,
)
from lianfang.ingest.readers.safety import check_encoding, check_text_sample, safe_open
from lianfang.ingest.readers.textlines import UTF8_BOM, Lines, decode_problem, strict_decoder

_QUOTE = '"'
_EOL = "\r\n"
_BEOL = b"\r\n"
_SENTINEL = object()
_MAX_GENERATED_COLUMNS = 1000


def _builder(header: list[str]) -> Callable[[int, str, list[str], bytes], RawRecord]:
    """A function building the record of a row that has exactly ``len(header)`` cells.

    A dict display with one key per column is about twice as fast as
    ``dict(zip(header, row))``, which is the bulk of the per-record cost, so the
    function is generated for the column count. The generated source holds only
    identifiers and indices; the header names are bound as default values and never
    become code.
    """
    n = len(header)
    if n > _MAX_GENERATED_COLUMNS:

        def build_zip(position: int, locator: str, row: list[str], raw: bytes) -> RawRecord:
            return new_record(position, locator, dict(zip(header, row, strict=False)), raw)

        return build_zip
    keys = ", ".join(f"k{i}=_header[{i}]" for i in range(n))
    display = ", ".join(f"k{i}: row[{i}]" for i in range(n))
    source = (
        f"def build(position, locator, row, raw, {keys}, _new=_new, _cls=_cls):\n"
        "    record = _new(_cls)\n"
        "    _set_position(record, position)\n"
        "    _set_locator(record, locator)\n"
        f"    _set_fields(record, {{{display}}})\n"
        "    _set_raw(record, raw)\n"
        "    _set_problem(record, None)\n"
        "    return record\n"
    )
    namespace: dict[str, Any] = {
        "_header": tuple(header),
        "_new": object.__new__,
        "_cls": RawRecord,
        "_set_position": base._set_position,
        "_set_locator": base._set_locator,
        "_set_fields": base._set_fields,
        "_set_raw": base._set_raw,
        "_set_problem": base._set_problem,
    }
    exec(compile(source, "<csv record builder>", "exec"), namespace)
    build: Callable[[int, str, list[str], bytes], RawRecord] = namespace["build"]
    return build


class _TooLarge(Exception):
    pass


def _width_problem(got: int, want: int) -> str:
    return f"csv: {got} columns, header has {want}"


class _MultiLineFeed:
    """Iterator for ``csv.reader`` over one record that continues on later lines.

    Pulls further physical lines on demand, decoding each on its own, and keeps the
    record's bytes; raises :class:`_TooLarge` past ``max_line`` bytes in all.
    """

    def __init__(self, first_text: str, first_raw: bytes, lines: Lines, encoding: str) -> None:
        self._pending: str | None = first_text
        self._lines = lines
        self._encoding = encoding
        self.raws = [first_raw]
        self.size = len(first_raw)
        self.count = 1
        self.problem: str | None = None
        self.eof = False

    def __iter__(self) -> _MultiLineFeed:
        return self

    def __next__(self) -> str:
        if self._pending is not None:
            text, self._pending = self._pending, None
            return text
        line = next(self._lines.it, None)
        if line is None:
            self.eof = True
            raise StopIteration
        self.count += 1
        if len(line) >= self._lines.limit:
            self.size += self._lines.drain(line)
            raise _TooLarge
        offset = self.size
        self.size += len(line)
        if self.size > self._lines.max_line:
            raise _TooLarge
        self.raws.append(line)
        try:
            return line.decode(self._encoding)
        except UnicodeDecodeError as exc:
            if self.problem is None:
                self.problem = decode_problem(self._encoding, exc, offset)
            return line.decode(self._encoding, "replace")


class CsvReader:
    """Reads the header eagerly (refusing bad ones), then yields records."""

    def __init__(self, f: IO[bytes], spec: ReaderSpec, limits: Limits) -> None:
        if len(spec.delimiter) != 1 or spec.delimiter in '"\r\n':
            raise ValueError("csv delimiter must be one character other than quote or newline")
        if spec.header_row < 1:
            raise ValueError("header_row is 1-based")
        self._encoding = check_encoding(spec.encoding)
        self._delimiter = spec.delimiter
        self._lines = Lines(f, limits.max_record_bytes)
        if csv.field_size_limit() < limits.max_record_bytes:
            # csv's process-wide cap (128 KiB) would refuse quoted fields our own
            # per-record limit allows; it is only ever raised, never lowered.
            csv.field_size_limit(limits.max_record_bytes)
        self.lineno = 0
        self.header = self._read_header(spec.header_row)

    def _csv(self, lines: Iterable[str]) -> Iterator[list[str]]:
        return csv.reader(lines, delimiter=self._delimiter, quotechar=_QUOTE, strict=False)

    # ------------------------------------------------------------------ header

    def _read_header(self, header_row: int) -> list[str]:
        line = b""
        while self.lineno < header_row:
            line = next(self._lines.it, b"")
            if not line:
                raise HostileInput("bad_header", f"no header row: file has {self.lineno} lines")
            self.lineno += 1
            if len(line) >= self._lines.limit:
                if self.lineno == header_row:
                    raise HostileInput("bad_header", f"header row (line {self.lineno}) is too long")
                self._lines.drain(line)
        if self.lineno == 1 and line.startswith(UTF8_BOM) and self._encoding == "utf-8":
            line = line[3:]
        try:
            text = line.decode(self._encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise HostileInput(
                "bad_header",
                f"header row (line {self.lineno}) is not valid {self._encoding} text (byte {exc.start})",
            ) from None
        if _QUOTE in text:
            try:
                names = next(self._csv([text]), [])
            except csv.Error:
                raise HostileInput("bad_header", f"header row (line {self.lineno}) is not CSV") from None
        else:
            names = text.rstrip(_EOL).split(self._delimiter)
        names = [name.strip() for name in names]
        seen: dict[str, int] = {}
        for column, name in enumerate(names, 1):
            if not name:
                raise HostileInput("bad_header", f"header row (line {self.lineno}) column {column} has no name")
            if name in seen:
                raise HostileInput(
                    "bad_header",
                    f"header row (line {self.lineno}) columns {seen[name]} and {column} have the same name",
                )
            seen[name] = column
        return names

    # ----------------------------------------------------------------- records

    def _fields(self, row: list[str]) -> dict[str, str | None]:
        fields: dict[str, str | None] = dict(zip(self.header, row, strict=False))
        for name in self.header[len(row) :]:
            fields[name] = None
        return fields

    def _split(self, text: str) -> list[str]:
        if _QUOTE not in text:
            return text.rstrip(_EOL).split(self._delimiter)
        try:
            return next(self._csv([text]), [])
        except csv.Error:
            return [text.rstrip(_EOL)]

    def _undecodable(self, position: int, line: bytes, exc: UnicodeDecodeError) -> RawRecord:
        text = line.decode(self._encoding, "replace")
        return new_record(
            position,
            f"line {self.lineno}",
            self._fields(self._split(text)),
            line.rstrip(_BEOL),
            decode_problem(self._encoding, exc),
        )

    def _too_long(self, position: int, line: bytes) -> RawRecord:
        size = self._lines.drain(line)
        return new_record(
            position,
            f"line {self.lineno}",
            {},
            line[: self._lines.max_line],
            self._lines.too_long(size),
        )

    def _multiline(self, position: int, text: str, line: bytes) -> RawRecord:
        """A quoted field continues past this line: parse the record with its own reader."""
        start = self.lineno
        feed = _MultiLineFeed(text, line, self._lines, self._encoding)
        row: list[str] = []
        problem: str | None = None
        try:
            row = next(self._csv(feed), [])
        except _TooLarge:
            problem = f"record too large: more than {self._lines.max_line} bytes (unclosed quote?)"
        except csv.Error as exc:
            problem = f"csv: {exc}"
        self.lineno = start + feed.count - 1
        if problem is None and feed.eof:
            problem = "csv: quoted field not closed at end of file"
        if problem is None:
            problem = feed.problem
        if problem is None and len(row) != len(self.header):
            problem = _width_problem(len(row), len(self.header))
        raw = b"".join(feed.raws)
        if problem is None or not problem.startswith("record too large"):
            raw = raw.rstrip(_BEOL)
        locator = f"lines {start}-{self.lineno}" if self.lineno > start else f"line {start}"
        return new_record(position, locator, self._fields(row), raw, problem)

    def records(self) -> Iterator[RawRecord]:
        ncols = len(self.header)
        decode = strict_decoder(self._encoding)
        delimiter = self._delimiter
        limit = self._lines.limit
        build = _builder(self.header)
        pending: deque[str] = deque()
        # The quoted-line reader pulls from ``pending``; an empty deque raises
        # IndexError, which tells us the record continues on the next line.
        quoted = self._csv(iter(pending.popleft, _SENTINEL))
        position = 0
        lineno = self.lineno
        for line in self._lines.it:
            lineno += 1
            if len(line) >= limit:
                position += 1
                self.lineno = lineno
                yield self._too_long(position, line)
                continue
            raw = line.rstrip(_BEOL)
            if not raw:
                continue
            try:
                text = decode(raw)
            except UnicodeDecodeError as exc:
                position += 1
                self.lineno = lineno
                yield self._undecodable(position, line, exc)
                continue
            position += 1
            if _QUOTE in text:
                # csv needs the line break to keep it inside a quoted field
                text += line[len(raw) :].decode("ascii")
                pending.append(text)
                try:
                    row = next(quoted)
                except IndexError:
                    self.lineno = lineno
                    yield self._multiline(position, text, line)
                    lineno = self.lineno
                    continue
                except csv.Error as exc:
                    pending.clear()
                    yield new_record(position, f"line {lineno}", {}, raw, f"csv: {exc}")
                    continue
            else:
                row = text.split(delimiter)
            if len(row) == ncols:
                yield build(position, f"line {lineno}", row, raw)
            else:
                yield new_record(
                    position,
                    f"line {lineno}",
                    self._fields(row),
                    raw,
                    _width_problem(len(row), ncols),
                )


def read_csv(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """Generator: whole-file checks and the header, then ``PRIMED``, then records."""
    check_encoding(spec.encoding)
    f = safe_open(path, limits)
    try:
        check_text_sample(f)
        reader = CsvReader(f, spec, limits)
        yield PRIMED
        yield from reader.records()
    finally:
        f.close()
