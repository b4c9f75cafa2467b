"""GA/T 1400 motor-vehicle envelopes, one per line, at most 1,000 objects each.

Missing values are left out of the object (VIID platforms omit empty fields).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lianfang.demo.systems.gat1400 import ENVELOPE_SIZE
from lianfang.demo.writers.base import CannotDamage, Row
from lianfang.demo.writers.jsonl import json_template

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_HEAD = '{"MotorVehicleListObject":{"MotorVehicleObject":['


class Gat1400Writer(CannotDamage):
    def __init__(self, path: Path, names: tuple[str, ...]):
        self._file = path.open("wb")
        self._names = names
        self._batch: list[str] = []  # objects as JSON text
        self._fast = json_template(names, omit_missing=True)  # VIID leaves empty fields out

    def write(self, row: Row) -> None:
        self._batch.append(self._fast.fill(row) or _encode(
            {k: v for k, v in zip(self._names, row, strict=True) if v is not None}))
        if len(self._batch) >= ENVELOPE_SIZE:
            self._flush()

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        shape = self._fast.shape(row)
        if shape is None:
            return None
        template, order = shape
        careful = _encode({k: v for k, v in zip(self._names, row, strict=True) if v is not None})
        return (template, order) if template % tuple(row[i] for i in order) == careful else None

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        self._batch.append(template % values)
        if len(self._batch) >= ENVELOPE_SIZE:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._file.write(f'{_HEAD}{",".join(self._batch)}]}}}}\n'.encode())
            self._batch = []

    def close(self) -> None:
        self._flush()
        self._file.close()
