"""The fast lane for vehicle passes: one %-template per feed, constants per vehicle.

Of a plate sighting's fields only six change from one pass of a vehicle to the next
(:data:`PASS_FIELDS`); plate, plate type, colours and the like do not. A feed's
:class:`PassLane` asks its writer once for a template of its rows
(:meth:`~lianfang.demo.writers.base.RowWriter.row_template`, checked against the
writer's careful output), renders each vehicle's constant columns once
(:meth:`PassLane.constants`), and per pass renders only the changing columns and
fills the template: one ``%`` and an append instead of a full render and format.
Defects, duplicates and anything the lane cannot carry go the ordinary way
(:meth:`~lianfang.demo.sink.Sink.emit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lianfang.demo.systems.base import Codec, DateTimeCodec, Layout, Record, Renderer
from lianfang.demo.writers import RowWriter

#: What changes between the passes of one vehicle, in the order of a pass tuple.
PASS_FIELDS = ("device_id", "passed_at", "speed_kmh", "direction", "lane_no", "_src")
#: What changes between face captures (everything but the kind).
FACE_FIELDS = ("device_id", "passed_at", "face_id", "matched_citizen_id", "_src")
#: Characters a constant may not hold in any format (they would need quoting or escaping).
_UNSAFE = re.compile(r'[\x00-\x1f"\\,<>&]')

Values = Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]]
Constants = Callable[[Record], tuple[Any, ...]]


def varying_columns(layout: Layout, fields: tuple[str, ...]) -> frozenset[int]:
    """Columns whose text depends on ``fields`` (what changes from one record to the next)."""
    varying = frozenset(fields)
    out = set()
    for i, col in enumerate(layout.columns):
        codec = col.codec
        if codec.whole:
            if codec.reads is None or codec.reads & varying:
                out.add(i)
        elif col.field in varying:
            out.add(i)
    return frozenset(out)


def _compile(name: str, args: str, body: str, namespace: dict[str, Any]) -> Any:
    """Generated code, as in :meth:`Layout.renderer`: indices and field names only."""
    exec(f"def {name}({args}):\n{body}", namespace)
    return namespace[name]


class PassLane:
    """The fast lane of one feed (a sink) for records of one shape, built on its first record.

    ``fields`` are the fields that change from record to record (:data:`PASS_FIELDS`,
    :data:`FACE_FIELDS`); the rest are a vehicle's (or a capture's) constants.
    """

    def __init__(self, layout: Layout, render: Renderer, fields: tuple[str, ...]) -> None:
        self.layout = layout
        self.render = render
        self.fields = fields
        self.varying = varying_columns(layout, fields)
        self.built = False
        self.template: str | None = None
        self.values: Values | None = None
        self.constants: Constants | None = None
        self._kinds: tuple[type, ...] = ()

    def open(self, base: Record, first: tuple[Any, ...], writer: RowWriter) -> tuple[Any, ...] | None:
        """A vehicle's rendered constants (the lane's key for its passes), or None when the
        vehicle cannot use the lane (its constants would need escaping)."""
        if not self.built:
            self._build(base, first, writer)
        if self.constants is None:
            return None
        consts = self.constants(base)
        if tuple(map(type, consts)) != self._kinds:
            return None
        if _UNSAFE.search("".join(c for c in consts if type(c) is str)):
            return None
        return consts

    def _build(self, base: Record, first: tuple[Any, ...], writer: RowWriter) -> None:
        self.built = True
        row = self.render({**base, **dict(zip(self.fields, first, strict=True))})
        made = writer.row_template(row)
        if made is None:
            return
        self.template, order = made
        ns: dict[str, Any] = {}
        const_parts: list[str] = []
        value_parts: list[str] = []
        whole_reads: set[str] = set()
        for i in order:
            col = self.layout.columns[i]
            codec = col.codec
            if i not in self.varying:
                if codec.whole:
                    ns[f"c{i}"] = codec.convert
                    const_parts.append(f"c{i}(b)")
                elif type(codec) is Codec:
                    const_parts.append(f"b.get({col.field!r})")
                else:
                    ns[f"c{i}"] = codec.convert
                    const_parts.append(f"c{i}(b.get({col.field!r}))")
                value_parts.append(f"k[{len(const_parts) - 1}]")
            elif codec.whole:
                if codec.reads is None:
                    return  # a codec that may read anything: leave this feed to the ordinary way
                whole_reads |= codec.reads
                ns[f"c{i}"] = codec.convert
                value_parts.append(f"c{i}(r)")
            else:
                slot = f"v[{self.fields.index(col.field)}]"
                if type(codec) is Codec:
                    value_parts.append(slot)
                else:  # a pass's values are never missing: a time renders without the None check
                    ns[f"c{i}"] = codec.style.render if isinstance(codec, DateTimeCodec) else codec.convert
                    value_parts.append(f"c{i}({slot})")
        head = ""
        if whole_reads:
            if not whole_reads <= set(self.fields):
                return
            pairs = ", ".join(f"{f!r}: v[{self.fields.index(f)}]" for f in sorted(whole_reads))
            head = f"    r = {{{pairs}}}\n"
        self.constants = _compile("constants", "b", f"    return ({', '.join(const_parts)},)\n", ns)
        self.values = _compile("values", "v, k", f"{head}    return ({', '.join(value_parts)},)\n", ns)
        self._kinds = tuple(map(type, self.constants(base)))
        assert self.values is not None
        if self.values(first, self.constants(base)) != tuple(row[i] for i in order):
            self.template = self.constants = None  # the lane would not write what write() writes
