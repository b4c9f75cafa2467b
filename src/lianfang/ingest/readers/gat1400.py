"""GA/T 1400 reader: items of ``{"<object_list>": {"<XxxObject>": [item, ...]}}`` envelopes.

Two layouts are accepted and told apart automatically:

* **document** — the file is one envelope (or several), compact or pretty-printed;
* **lines** — one envelope per line (JSON lines of envelopes).

The text is streamed through a sliding buffer and items are decoded one at a time
with ``json.JSONDecoder.raw_decode``, so memory is bounded by the largest item
(``max_record_bytes``), never by the file or the envelope.

Before any record is yielded the layout is settled: if the first line is a whole
envelope the file is read as lines; otherwise the whole file is walked once as a
document and any structural error refuses it (``bad_envelope``), unless some later
line is a whole envelope (a lines file whose first line is broken). In the lines
layout a broken line is one problem record and reading resumes on the next line.

An item that is not an object, holds bytes invalid in the encoding, or exceeds the
size limit is a problem record. Each item's ``raw`` is its canonical UTF-8 JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lianfang.ingest.readers.base import (
    PRIMED,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
    new_record,
)
from lianfang.ingest.readers.jsonstream import BAD_BYTE, Bad, Oversize, Text, Walker
from lianfang.ingest.readers.jsonvalues import DECODER, canonical, fields_of, kind
from lianfang.ingest.readers.safety import check_encoding, check_text_sample, safe_open


class Gat1400Reader:
    def __init__(self, f: IO[bytes], spec: ReaderSpec, limits: Limits, encoding: str) -> None:
        self._f = f
        self._encoding = encoding
        self._object_list = spec.object_list
        self._limit = limits.max_record_bytes
        self.lines = self._layout()

    def _walker(self, lines: bool) -> Walker:
        self._f.seek(0)
        text = Text(self._f, self._encoding, self._limit)
        return Walker(text, self._object_list, lines, self._limit)

    def _first_line_is_envelope(self, w: Walker) -> bool:
        try:
            w.skip_ws(inside=False)
            for _ in w.envelope():
                pass
            w.rest_is_blank()
        except Bad:
            return False
        return True

    def _layout(self) -> bool:
        """True for the lines layout; refuses the file when neither layout fits."""
        if self._first_line_is_envelope(self._walker(lines=True)):
            return True
        w = self._walker(lines=False)
        try:
            envelopes = 0
            while w.skip_ws(inside=False):
                envelopes += 1
                for _ in w.envelope():
                    pass
            if envelopes == 0:
                raise Bad("file holds no envelope")
            return False
        except Bad as bad:
            error = str(bad)
        # A lines file whose first line is broken: is any later line a whole envelope?
        w = self._walker(lines=True)
        if w.skip_ws(inside=False):
            w.t.rest_of_line(0)  # the first line, tried above
        while w.skip_ws(inside=False):
            if self._first_line_is_envelope(w):
                return True
            w.t.rest_of_line(0)
        raise HostileInput("bad_envelope", f"not a GA/T 1400 {self._object_list} file: {error}")

    def _item(self, position: int, locator: str, t: Text, item: Any, start: int, end: int) -> RawRecord:
        if isinstance(item, Oversize):
            problem = f"record too large: item over {self._limit} characters"
            return new_record(position, locator, {}, t.encode(item.head), problem)
        if BAD_BYTE.search(t.buf, start, end):
            original = t.encode(t.buf[start:end])
            problem = f"encoding: invalid {self._encoding} byte sequence in the item"
            try:
                item = DECODER.decode(original.decode(self._encoding, "replace"))
            except (ValueError, RecursionError):
                item = None
            fields = fields_of(item)[0] if isinstance(item, dict) else {}
            return new_record(position, locator, fields, original, problem)
        if not isinstance(item, dict):
            return new_record(
                position,
                locator,
                {},
                canonical(item),
                f"gat1400: item is {kind(item)}, expected an object",
            )
        fields, surrogate = fields_of(item)
        return new_record(position, locator, fields, canonical(item), surrogate)

    def records(self) -> Iterator[RawRecord]:
        return self._lines_records() if self.lines else self._document_records()

    def _document_records(self) -> Iterator[RawRecord]:
        w = self._walker(lines=False)
        position = 0
        try:
            while w.skip_ws(inside=False):
                for item, start, end in w.envelope():
                    position += 1
                    locator = f"record {position} (line {w.t.line_at(start)})"
                    yield self._item(position, locator, w.t, item, start, end)
        except Bad as bad:  # the file changed after it was checked
            raise HostileInput("bad_envelope", f"GA/T 1400 envelope broke while reading: {bad}") from None

    def _lines_records(self) -> Iterator[RawRecord]:
        w = self._walker(lines=True)
        t = w.t
        position = 0
        while w.skip_ws(inside=False):
            t.keep = t.line_start()
            line = t.line_at(t.pos)
            index = 0
            try:
                for item, start, end in w.envelope():
                    position += 1
                    index += 1
                    yield self._item(position, f"line {line} record {index}", t, item, start, end)
                w.rest_is_blank()
                t.keep = -1
            except Bad as bad:
                position += 1
                raw = t.encode(t.rest_of_line(self._limit))
                yield new_record(position, f"line {line}", {}, raw, f"gat1400: {bad}")


def read_gat1400(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """Generator: whole-file checks and the layout, then ``PRIMED``, then records."""
    encoding = check_encoding(spec.encoding)
    f = safe_open(path, limits)
    try:
        check_text_sample(f)
        reader = Gat1400Reader(f, spec, limits, encoding)
        yield PRIMED
        yield from reader.records()
    finally:
        f.close()
