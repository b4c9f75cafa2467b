"""Streaming walk over GA/T 1400 list envelopes in bounded memory.

:class:`Text` holds the decoded file in a sliding buffer; :class:`Walker` walks
``{"<object_list>": {"<Xxx>": [item, ...]}}`` envelopes and decodes one item at a
time with ``json.JSONDecoder.raw_decode``. In the lines layout no envelope may span
a line break, which lets a broken line be skipped without losing the next one.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from lianfang.ingest.readers.jsonvalues import DECODER

CHUNK_CHARS = 64 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_WS_IN_LINE = re.compile(r"[ \t\r]*")
BAD_BYTE = re.compile("[\udc80-\udcff]")  # undecodable bytes under surrogateescape
_IN_STRING = {False: re.compile(r'[\\"]'), True: re.compile(r'[\\"\n]')}
_STRUCTURE = {False: re.compile(r'["{}\[\]]'), True: re.compile(r'["{}\[\]\n]')}


class Oversize:
    """Stands for an item over the size limit that was skipped, not decoded."""

    def __init__(self, head: str) -> None:
        self.head = head


class Bad(Exception):
    """A structural error; ``str(exc)`` carries no file content."""


class Text:
    """Decoded text of a binary file in a sliding buffer, with line numbers.

    Undecodable bytes become lone surrogates (``surrogateescape``) so that they can
    be found per item and re-encoded to the original bytes.
    """

    def __init__(self, f: IO[bytes], encoding: str, cap: int) -> None:
        self._f = f
        self.encoding = encoding
        self._cap = cap
        self._decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.keep = -1  # buffer index to keep on refill (a line start), -1: none
        self._line = 1  # line number at buffer index ``_counted``
        self._counted = 0
        self._started = False

    def fill(self) -> bool:
        """Read more text; False once at end of file and nothing changed."""
        if self.eof:
            return False
        if self.keep >= 0 and self.pos - self.keep > self._cap:
            self.keep = -1  # the line is too long to keep for a problem record
        drop = self.pos if self.keep < 0 else min(self.pos, self.keep)
        self.line_at(max(drop, self._counted))
        data = self._f.read(max(CHUNK_CHARS, len(self.buf) - drop))
        if data:
            text = self._decoder.decode(data)
        else:
            text = self._decoder.decode(b"", True)
            self.eof = True
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        self.buf = self.buf[drop:] + text
        self.pos -= drop
        self._counted -= drop
        if self.keep >= 0:
            self.keep -= drop
        return True

    def line_at(self, index: int) -> int:
        """Line number of buffer ``index`` (indices must not go backwards)."""
        if index > self._counted:
            self._line += self.buf.count("\n", self._counted, index)
            self._counted = index
        return self._line

    def line_start(self) -> int:
        return self.buf.rfind("\n", 0, self.pos) + 1

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding, "surrogateescape")

    def rest_of_line(self, cap: int) -> str:
        """Skip to just after the next line break; return the skipped text (from
        ``keep`` if set), at most ``cap`` characters of it."""
        start = self.keep if self.keep >= 0 else self.pos
        taken: list[str] = []
        size = 0
        while True:
            newline = self.buf.find("\n", self.pos)
            end = len(self.buf) if newline < 0 else newline
            if size < cap:
                piece = self.buf[start : min(end, start + cap - size)]
                taken.append(piece)
                size += len(piece)
            if newline >= 0:
                self.pos = newline + 1
                break
            self.pos = len(self.buf)
            self.keep = -1
            if not self.fill():
                break
            start = self.pos
        self.keep = -1
        return "".join(taken)


class Walker:
    """Walks envelopes; yields ``(item, start, end)`` with buffer indices of the item."""

    def __init__(self, text: Text, object_list: str, lines: bool, limit: int) -> None:
        self.t = text
        self.object_list = object_list
        self.lines = lines
        self.limit = limit

    def skip_ws(self, inside: bool) -> str:
        """Skip whitespace (not line breaks inside a lines-layout envelope); next char or ''."""
        t = self.t
        pattern = _WS_IN_LINE if inside and self.lines else _WS
        while True:
            t.pos = pattern.match(t.buf, t.pos).end()  # type: ignore[union-attr]
            if t.pos < len(t.buf):
                return t.buf[t.pos]
            if not t.fill():
                return ""

    def token(self) -> str:
        c = self.skip_ws(inside=True)
        if c == "":
            raise Bad("file ends inside an envelope")
        if c == "\n":
            raise Bad("line ends inside an envelope")
        return c

    def expect(self, chars: str, what: str) -> str:
        c = self.token()
        if c not in chars:
            line = self.t.line_at(self.t.pos)
            raise Bad(f"expected {what} at line {line}")
        self.t.pos += 1
        return c

    def value(self, item: bool = False) -> tuple[Any, int, int]:
        """Decode the JSON value at the current position; return it with its buffer span.

        An item over the size limit is skipped and returned as :class:`Oversize`.
        """
        t = self.t
        self.token()
        while True:
            buf, start = t.buf, t.pos
            newline = buf.find("\n", start) if self.lines else -1
            try:
                value, end = DECODER.raw_decode(buf, start)
            except (ValueError, RecursionError) as exc:
                if item and len(buf) - start > self.limit and (newline < 0 or newline > start + self.limit):
                    return self._skip_oversize(), start, start
                if (self.lines and newline >= 0) or t.eof or len(buf) - start > self.limit:
                    raise Bad(self._describe(exc, start)) from None
                t.fill()
                continue
            if end == len(buf) and not t.eof:  # a number may go on in the next chunk
                t.fill()
                continue
            if 0 <= newline < end:
                raise Bad(f"line ends inside a value at line {t.line_at(start)}")
            if item and end - start > self.limit:
                return self._skip_oversize(), start, start
            t.pos = end
            return value, start, end

    def _skip_oversize(self) -> Oversize:
        """Skip the container or string at the position without decoding it.

        Only strings and brackets are followed, in bounded memory, so the walk stays
        in step with the envelope after an item too large to decode.
        """
        t = self.t
        if t.buf[t.pos] not in '"{[':
            raise Bad(f"value at line {t.line_at(t.pos)} is larger than {self.limit} characters")
        head = Oversize(t.buf[t.pos : t.pos + self.limit])
        t.keep = -1
        structure, in_string = _STRUCTURE[self.lines], _IN_STRING[self.lines]
        depth = 0
        inside = False
        while True:
            if t.pos >= len(t.buf):
                if not t.fill():
                    raise Bad("file ends inside an item")
                continue
            match = (in_string if inside else structure).search(t.buf, t.pos)
            if match is None:
                t.pos = len(t.buf)
                continue
            c = match.group()
            if c == "\n":
                raise Bad("line ends inside an item")
            if c == "\\":
                if match.end() >= len(t.buf):  # the escaped character is in the next chunk
                    t.pos = match.start()
                    if not t.fill():
                        raise Bad("file ends inside an item")
                    continue
                t.pos = match.end() + 1
                continue
            t.pos = match.end()
            if c == '"':
                inside = not inside
            elif c in "{[":
                depth += 1
            else:
                depth -= 1
            if depth == 0 and not inside:
                return head
            if depth < 0:
                raise Bad("unbalanced brackets in an item")

    def _describe(self, exc: Exception, start: int) -> str:
        t = self.t
        if len(t.buf) - start > self.limit:
            return f"value at line {t.line_at(start)} is larger than {self.limit} characters"
        if isinstance(exc, json.JSONDecodeError):
            return f"json: {exc.msg} at line {t.line_at(exc.pos)}"
        if isinstance(exc, RecursionError):
            return f"json: nested too deeply at line {t.line_at(start)}"
        return f"json: invalid value at line {t.line_at(start)}"

    def key(self) -> str:
        c = self.token()
        key, start, _ = self.value() if c == '"' else (None, self.t.pos, 0)
        if not isinstance(key, str):
            raise Bad(f"expected an object key at line {self.t.line_at(start)}")
        self.expect(":", "':'")
        return key

    def envelope(self) -> Iterator[tuple[Any, int, int]]:
        self.expect("{", "an envelope object")
        found = False
        if self.token() == "}":
            self.t.pos += 1
        else:
            while True:
                if self.key() == self.object_list:
                    if found:
                        raise Bad(f"envelope repeats {self.object_list}")
                    found = True
                    yield from self._list_object()
                else:
                    self.value()
                if self.expect(",}", "',' or '}'") == "}":
                    break
        if not found:
            raise Bad(f"envelope has no {self.object_list} key")

    def _list_object(self) -> Iterator[tuple[Any, int, int]]:
        self.expect("{", f"an object under {self.object_list}")
        if self.token() == "}":
            self.t.pos += 1
            return
        lists = 0
        while True:
            self.key()
            if self.token() == "[":
                lists += 1
                if lists > 1:
                    raise Bad(f"{self.object_list} holds more than one list")
                self.t.pos += 1
                if self.token() == "]":
                    self.t.pos += 1
                else:
                    while True:
                        yield self.value(item=True)
                        if self.expect(",]", "',' or ']'") == "]":
                            break
            else:
                self.value()
            if self.expect(",}", "',' or '}'") == "}":
                return

    def rest_is_blank(self) -> None:
        """Lines layout: nothing but whitespace may follow the envelope on its line."""
        if self.skip_ws(inside=True) not in ("", "\n"):
            raise Bad(f"text after the envelope at line {self.t.line_at(self.t.pos)}")
