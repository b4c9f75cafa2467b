"""JSON Lines reader: one JSON object per line, each line parsed on its own.

A line that cannot be decoded or parsed, or that holds something other than an
object, becomes a problem record; the rest of the file reads on. ``raw`` is the
line's bytes without its terminator. Blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from lianfang.ingest.readers.base import PRIMED, Limits, RawRecord, ReaderSpec, new_record
from lianfang.ingest.readers.jsonvalues import DECODER, fields_of, kind
from lianfang.ingest.readers.safety import check_encoding, check_text_sample, safe_open
from lianfang.ingest.readers.textlines import UTF8_BOM, Lines, decode_problem, strict_decoder


def parse_object(text: str) -> tuple[dict[str, str | None], str | None]:
    """``fields`` and problem of one JSON text that should hold an object."""
    try:
        value = DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return {}, f"json: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return {}, "json: nested too deeply"
    except ValueError:  # an integer beyond Python's digit limit
        return {}, "json: number too long"
    if not isinstance(value, dict):
        return {}, f"json: line holds {kind(value)}, expected an object"
    return fields_of(value)


def read_jsonl(path: Path, spec: ReaderSpec, limits: Limits) -> Iterator[RawRecord]:
    """Generator: whole-file checks, then ``PRIMED``, then records."""
    encoding = check_encoding(spec.encoding)
    decode = strict_decoder(encoding)
    f = safe_open(path, limits)
    try:
        check_text_sample(f)
        yield PRIMED
        lines = Lines(f, limits.max_record_bytes)
        position = 0
        for lineno, line in enumerate(lines.it, 1):
            if len(line) >= lines.limit:
                position += 1
                size = lines.drain(line)
                yield new_record(position, f"line {lineno}", {}, line[: lines.max_line], lines.too_long(size))
                continue
            raw = line.rstrip(b"\r\n")
            if lineno == 1 and encoding == "utf-8" and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            if not raw.strip():
                continue
            position += 1
            try:
                text = decode(raw)
            except UnicodeDecodeError as exc:
                fields, _ = parse_object(raw.decode(encoding, "replace"))
                problem: str | None = decode_problem(encoding, exc)
            else:
                fields, problem = parse_object(text)
            yield new_record(position, f"line {lineno}", fields, raw, problem)
    finally:
        f.close()
