"""The writer contract, and the line buffer the text writers share."""

from __future__ import annotations

from typing import IO, Any, Protocol

Row = list[Any]
FLUSH_LINES = 512


class RowWriter(Protocol):
    def write(self, row: Row) -> None: ...

    def write_damaged(self, row: Row, column: int) -> None:
        """Write ``row`` with bytes that cannot be decoded in ``column`` (GBK CSV only)."""
        ...

    def write_truncated(self, row: Row) -> None:
        """Write ``row`` cut short so that it does not parse (JSON lines only)."""
        ...

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        """A %-template for rows shaped like ``row`` and the columns its slots take, in
        order; None when there is none. Checked: filled with ``row``'s own values it gives
        exactly what :meth:`write` writes. Values put in it later must need no escaping."""
        ...

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        """Write a line from a :meth:`row_template` template."""
        ...

    def close(self) -> None: ...


class CannotDamage:
    """Mixin for formats where a damaged record would spoil the whole file."""

    def write_damaged(self, row: Row, column: int) -> None:
        raise NotImplementedError("only GBK CSV files carry undecodable bytes")

    def write_truncated(self, row: Row) -> None:
        raise NotImplementedError("only JSON lines files carry truncated records")


class Lines:
    """Text collected line by line and encoded in blocks of :data:`FLUSH_LINES`: one
    encode and one write per block instead of one per record (``add`` is ``list.append``)."""

    def __init__(self, out: IO[bytes], encoding: str) -> None:
        self._out = out
        self._encoding = encoding
        self._lines: list[str] = []
        self.add = self._lines.append
        self.write = self._lines.append  # so that csv.writer can write into it

    def full(self) -> bool:
        return len(self._lines) >= FLUSH_LINES

    def flush(self) -> None:
        if self._lines:
            self._out.write("".join(self._lines).encode(self._encoding))
            self._lines.clear()

    def raw(self, data: bytes) -> None:
        """Bytes written as they are, after everything collected so far."""
        self.flush()
        self._out.write(data)

    def close(self) -> None:
        self.flush()
        self._out.close()
