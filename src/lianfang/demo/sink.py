"""One export file (or a series of parts) being written: clean records, injected defects
and duplicates, positions, and the ledger entries that describe them.

One random draw per record decides its fate: damaged (``defect_rate``), clean, or
clean and copied again (exactly, or re-spelt: a near duplicate) up to
:data:`RECENT` records later in the same file. Only the records waiting for their
copy are kept, so memory does not grow with the file. Protected records (the
story's) are never damaged nor duplicated. Sightings arrive in batches through
:meth:`Sink.emit_passes`, whose clean records skip rendering (see
:mod:`lianfang.demo.chains`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from lianfang.demo.chains import PassLane
from lianfang.demo.defects import catalogue_for, near_variant
from lianfang.demo.manifest import FileEntry, Ledger
from lianfang.demo.systems import Installation
from lianfang.demo.systems.base import Record
from lianfang.demo.writers import RowWriter, open_writer

RECENT = 32  # a duplicate follows its original within this many records
_NEVER = 1 << 62


class Sink:
    def __init__(self, out: Path, inst: Installation, category: str, ledger: Ledger, *,
                 defect_rate: float, duplicate_rate: float, rng: random.Random) -> None:
        self.out = out
        self.inst = inst
        self.category = category
        self.ledger = ledger
        self.layout = inst.layout(category)
        self.format = inst.format_of(category)
        self.render = self.layout.renderer()
        self.defects = catalogue_for(self.layout, self.format, inst.system.encoding)
        self.defect_rate = defect_rate if self.defects else 0.0
        self.duplicate_rate = duplicate_rate
        self.copy_above = 1.0 - duplicate_rate  # a draw above this: the record gets a duplicate
        self.rng = rng
        self.random = rng.random
        self.limit = inst.system.rows_per_file
        self.part = 0
        self.entry: FileEntry
        self.writer: RowWriter
        self.expected: dict[str, int] = {}  # records that name their own city (reference data)
        self.clean = 0  # the others: the installation's city
        self._carried: float | None = None  # a draw made by emit_pass, for emit to use
        self.lanes: dict[object, PassLane] = {}
        self._open()

    def _open(self) -> None:
        self.part += 1
        path = self.inst.file_name(self.category, self.part)
        self.entry = FileEntry(path, self.inst.city_code, self.category, self.inst.mapping_id)
        self.ledger.files.append(self.entry)
        self.writer = open_writer(
            self.out / path, self.format, self.layout.names, encoding=self.inst.system.encoding,
            delimiter=self.inst.system.source.get("delimiter", ","), bom=self.inst.system.bom,
            sheet=self.layout.sheet, root_attrs=f' system="{self.inst.code}"')
        self.write = self.writer.write
        self.fast_write = self.writer.fast_write
        self.position = 0
        # (due position, original position, record, row, identity), soonest first
        self.waiting: list[tuple[int, int, Record, list[object], str | None]] = []
        self.next_due = _NEVER

    def _close_part(self) -> None:
        while self.waiting:
            self._duplicate()
        self.writer.close()
        e = self.entry
        e.records = self.position
        e.clean = e.records - e.defects - e.duplicates

    def close(self) -> None:
        self._close_part()
        if self.clean:
            self.expected[self.inst.city_code] = self.expected.get(self.inst.city_code, 0) + self.clean
        for city, count in self.expected.items():
            self.ledger.expect(city, self.category, count)

    @property
    def file(self) -> str:
        return self.entry.path

    def emit(self, rec: Record, *, protected: bool = False, identity: str | None = None) -> int:
        """Write one record (maybe damaged, maybe copied again later); its position."""
        if self.position >= self.next_due:
            self._duplicate()
        if self.position >= self.limit:
            self._close_part()
            self._open()
        if protected:
            draw = 0.5
        elif self._carried is not None:
            draw, self._carried = self._carried, None
        else:
            draw = self.random()
        if draw < self.defect_rate and not protected:
            return self._defect(rec, identity)
        row = self.render(rec)
        self.write(row)
        self.position += 1
        position = self.position
        city = rec.get("city_code")
        if city is None:
            self.clean += 1
        else:
            self.expected[city] = self.expected.get(city, 0) + 1
        if identity is not None:
            self.ledger.identity(self.entry.path, position, identity)
        if draw > self.copy_above and not protected:
            due = position + 1 + int(self.random() * RECENT)
            self.waiting.append((due, position, rec, row, identity))
            self.waiting.sort(key=_due)
            self.next_due = self.waiting[0][0]
        return position

    def lane(self, fields: tuple[str, ...], shape: object = None) -> PassLane:
        """This feed's fast lane for records whose ``fields`` change (see
        :mod:`lianfang.demo.chains`); ``shape`` tells apart records that render differently
        (a face with or without a matched ID)."""
        lane = self.lanes.get((fields, shape))
        if lane is None:
            lane = self.lanes[(fields, shape)] = PassLane(self.layout, self.render, fields)
        return lane

    def open_lane(self, lane: PassLane, base: Record, first: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The constants of a vehicle (``base``) in ``lane``, or None: use :meth:`emit`."""
        return lane.open(base, first, self.writer)

    def emit_passes(self, lane: PassLane, consts: tuple[Any, ...] | None, base: Record,
                    batch: list[tuple[Any, ...]]) -> None:
        """Write a vehicle's passes (or a run of face captures) through this feed: clean ones
        through the fast lane, those to be damaged or duplicated — and all of them when the
        vehicle has no lane (``consts`` None) — through :meth:`emit`, which then uses the
        draw already made here."""
        template, values, fields = lane.template, lane.values, lane.fields
        fast, draw, limit = self.fast_write, self.random, self.limit
        low, high = self.defect_rate, self.copy_above
        position, clean = self.position, self.clean
        for v in batch:
            if consts is not None and position < self.next_due and position < limit:
                d = draw()
                if low <= d <= high:
                    fast(template, values(v, consts))  # type: ignore[arg-type,misc]
                    position += 1
                    clean += 1
                    continue
                self._carried = d
            self.position, self.clean = position, clean
            self.emit({**base, **dict(zip(fields, v, strict=True))})
            position, clean, fast = self.position, self.clean, self.fast_write
        self.position, self.clean = position, clean

    def _defect(self, rec: Record, identity: str | None) -> int:
        specs = [s for s in self.defects if s.field is None or rec.get(s.field) is not None]
        spec = specs[self.rng.randrange(len(specs))]
        if spec.reason == "parse.encoding":
            column = next(i for i, c in enumerate(self.layout.columns)
                          if isinstance(rec.get(c.field), str) and not rec[c.field].isascii())
            self.writer.write_damaged(self.render(rec), column)
        elif spec.reason == "parse.record":
            self.writer.write_truncated(self.render(rec))
        else:
            assert spec.field is not None and spec.make is not None
            damaged = dict(rec)
            codec = self.layout.codec_of(spec.field)
            assert codec is not None
            damaged[spec.field] = spec.make(rec[spec.field], codec, self.rng)
            self.write(self.layout.render_forced(damaged, base=rec))
        self.position += 1
        self.entry.defects += 1
        self.ledger.defect(self.entry.path, self.position, spec.kind, spec.field, spec.reason)
        if identity is not None:
            self.ledger.identity(self.entry.path, self.position, identity)
        return self.position

    def _duplicate(self) -> None:
        _, original, rec, row, identity = self.waiting.pop(0)
        self.next_due = self.waiting[0][0] if self.waiting else _NEVER
        kind = "exact"
        if self.random() < 0.5:
            variant = near_variant(self.layout, self.format, rec)
            if variant is not None:
                forced = self.layout.render_forced(variant)
                if forced != row:
                    row, kind = forced, "near"
        self.write(row)
        self.position += 1
        self.entry.duplicates += 1
        self.ledger.duplicate(self.entry.path, self.position, original, kind)
        if identity is not None:
            self.ledger.identity(self.entry.path, self.position, identity)


def _due(item: tuple[int, int, Record, list[object], str | None]) -> int:
    return item[0]


__all__ = ["Sink"]
