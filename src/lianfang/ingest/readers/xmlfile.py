"""XML reader: one record per ``record_tag`` element, streamed with element clearing.

The text is decoded with the spec's encoding (the file's own encoding declaration
is ignored) and first checked in full by a hardened expat pass without building
any tree, so DOCTYPE/entities (``xml_entities``) and malformed XML
(``xml_malformed``, with its line) refuse the file before any record is yielded.
The records are then read with ``defusedxml.ElementTree.iterparse``; every element
is cleared and detached once used, so memory stays bounded by one record.

Fields of a record: its attributes, then one field per child element (local
names). A leaf child gives its text (``None`` when empty) and its attributes as
``child@attr``; a child with children of its own gives its XML; a repeated child
gives a JSON array of its values; an attribute clashing with a child is renamed
``@attr``. ``raw`` is the record element serialized as UTF-8 XML.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from lianfang.ingest.readers.base import (
    PRIMED,
    HostileInput,
    Limits,
    RawRecord,
    ReaderSpec,
    new_record,
)
from lianfang.ingest.readers.jsonvalues import compact
from lianfang.ingest.readers.safety import (
    check_encoding,
    check_text_sample,
    check_xml_stream,
    safe_open,
)

CHUNK_BYTES = 64 * 1024


class DecodedReader:
    """A ``read(n) -> str`` view of a binary file, decoded strictly, BOM dropped.

    A decoding error becomes ``xml_malformed`` naming the line near the bad bytes.
    """

    def __init__(self, f: IO[bytes], encoding: str) -> None:
        self._f = f
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._lines = 1
        self._first = True
        self._done = False

    def read(self, size: int = CHUNK_BYTES) -> str:
        while not self._done:
            data = self._f.read(size if size > 0 else CHUNK_BYTES)
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                line = self._lines + data[: max(exc.start, 0)].count(b"\n")
                raise HostileInput(
                    "xml_malformed",
                    f"XML is not valid {self._encoding} text near line {line} ({exc.reason}); "
                    "check the source encoding",
                ) from None
            self._done = not data
            self._lines += text.count("\n")
            if self._first and text:
                self._first = False
                text = text.removeprefix("\ufeff")
            if text:
                return text
        return ""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _serialize(elem: Element) -> bytes:
    tail, elem.tail = elem.tail, None
    try:
        return tostring(elem, encoding="unicode").encode("utf-8")
    finally:
        elem.tail = tail


def _fields(record: Element) -> dict[str, str | None]:
    fields: dict[str, str | None] = {_local(k): v for k, v in record.attrib.items()}
    values: dict[str, list[str | None]] = {}
    for child in record:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        if len(child):
            value: str | None = _serialize(child).decode("utf-8")
        else:
            value = child.text
            for attr, attr_value in child.attrib.items():
                fields[f"{name}@{_local(attr)}"] = attr_value
        values.setdefault(name, []).append(value)
    for name, found in values.items():
        if name in fields:
            fields["@" + name] = fields.pop(name)
        fields[name] = found[0] if len(found) == 1 else compact(found)
    return fields


def _size(elem: Element) -> int:
    """Rough serialized size of one element without its children."""
    size = 2 * len(elem.tag) + 5 + len(elem.text or "") + len(elem.tail or "")
    if elem.attrib:
        size += sum(len(k) + len(v) + 4 for k, v in elem.attrib.items())
    return size


class XmlReader:
    def __init__(self, f: IO[bytes], spec: ReaderSpec, limits: Limits, encoding: str) -> None:
        self._f = f
        self._encoding = encoding
        self._record_tag = spec.record_tag
        self._limit = limits.max_record_bytes
        check_xml_stream(iter(DecodedReader(f, encoding).read, ""))
        f.seek(0)

    def _is_record(self, elem: Element, depth: int) -> bool:
        if self._record_tag is None:
            return depth == 1
        return isinstance(elem.tag, str) and _local(elem.tag) == self._record_tag

    def _record(self, position: int, elem: Element, size: int) -> RawRecord:
        locator = f"record {position}"
        too_large = f"record too large: element over {self._limit} bytes"
        if size > self._limit:
            return new_record(position, locator, {}, _serialize(elem)[: self._limit], too_large)
        try:
            raw = _serialize(elem)
            fields = _fields(elem)
        except RecursionError:
            return new_record(position, locator, {}, b"", "xml: element nested too deeply")
        if len(raw) > self._limit:
            return new_record(position, locator, fields, raw[: self._limit], too_large)
        return new_record(position, locator, fields, raw)

    def records(self) -> Iterator[RawRecord]:
        source = DecodedReader(self._f, self._encoding)
        stack: list[Element] = []
        record: Element | None = None
        size = 0
        position = 0
        try:
            for event, elem in iterparse(source, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    if record is None and self._is_record(elem, len(stack)):
                        record, size = elem, 0
                    stack.append(elem)
                    continue
                stack.pop()
                if record is not None and elem is record:
                    position += 1
                    yield self._record(position, record, size + _size(record))
                    record = None
                elif record is not None:
                    size += _size(elem)
                    if size <= self._limit:
                        continue
                    elem.clear()  # over the limit: keep nothing more of this record
                    continue
                elem.clear()
                if stack and len(stack[-1]) and stack[-1][-1] is elem:
                    del stack[-1][-1]
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            raise HostileInput("xml_malformed", f"XML not well-formed at line {line}, column {column + 1}") from None
        except DefusedXmlException:
            raise HostileInput("xml_entities", "DOCTYPE/entity declarations are not accepted") from None


def read_xml(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """Generator: whole-file checks (a full hardened parse), ``PRIMED``, then records."""
    encoding = check_encoding(spec.encoding)
    f = safe_open(path, limits)
    try:
        check_text_sample(f)
        reader = XmlReader(f, spec, limits, encoding)
        yield PRIMED
        yield from reader.records()
    finally:
        f.close()
