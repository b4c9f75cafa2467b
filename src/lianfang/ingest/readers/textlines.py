"""Bounded physical lines of a binary file, and fast strict decoders (csv, jsonl)."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO

UTF8_BOM = b"\xef\xbb\xbf"


def strict_decoder(encoding: str) -> Callable[[bytes], str]:
    """A strict bytes -> str decoder without the per-call codec registry lookup.

    ``bytes.decode("gbk")`` looks the codec up on every call, which costs more than
    the decoding of a typical line; the codec's own function does not.
    """
    if encoding == "utf-8":
        return bytes.decode  # C fast path, strict UTF-8
    decode = codecs.lookup(encoding).decode

    def decode_strict(data: bytes) -> str:
        text: str = decode(data)[0]
        return text

    return decode_strict


def decode_problem(encoding: str, exc: UnicodeDecodeError, offset: int = 0) -> str:
    """Problem text for undecodable bytes; the byte offset is 0-based within ``raw``."""
    return f"encoding: invalid {encoding} byte sequence at byte {offset + exc.start}"


class Lines:
    """Physical lines of ``f`` (terminator included), each cut at ``max_line + 1`` bytes.

    Iterate over ``it``. A piece of ``limit`` bytes or more is an overlong line:
    call :meth:`drain` to skip the rest of it, so memory stays bounded.
    """

    def __init__(self, f: IO[bytes], max_line: int) -> None:
        self._f = f
        self.max_line = max_line
        self.limit = max_line + 1
        self.it: Iterator[bytes] = iter(partial(f.readline, self.limit), b"")

    def drain(self, head: bytes) -> int:
        """``head`` was cut at the limit: skip the rest of its line; return its length."""
        total = len(head)
        piece = head
        while piece and not piece.endswith(b"\n"):
            piece = self._f.readline(self.limit)
            total += len(piece)
        return total

    def too_long(self, size: int) -> str:
        return f"record too large: line is {size} bytes, limit is {self.max_line}"
