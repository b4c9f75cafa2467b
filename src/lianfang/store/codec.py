"""Turn standard values into table rows and back: time encoding, SM4 fields, blind indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.standard import Category


def to_epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def from_epoch_ms(value: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC).astimezone(tz)


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class RecordCodec:
    """Encodes one category's standard values as columns (and decodes them for reading)."""

    def __init__(self, category: Category, cipher: FieldCipher, blind: BlindIndex):
        self.category = category
        self.cipher = cipher
        self.blind = blind
        self._plain = [f.name for f in category.fields.values() if not f.encrypted]
        self._times = {
            f.name for f in category.fields.values() if f.type == "datetime" and not f.encrypted
        }
        self._dates = {
            f.name for f in category.fields.values() if f.type == "date" and not f.encrypted
        }
        self._secret = [(f.name, f.searchable) for f in category.fields.values() if f.encrypted]
        self._key_fields = category.key
        self._key_purpose = f"key:{category.name}"

    def dedup_key(self, values: Mapping[str, object]) -> bytes:
        """Keyed digest of the category's key fields (keyed: keys contain personal data)."""
        joined = "\x1f".join(
            "" if values.get(k) is None else _text(values[k]) for k in self._key_fields
        )
        return self.blind.digest(self._key_purpose, joined)

    def encode(self, values_list: Sequence[Mapping[str, object]]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        times, dates = self._times, self._dates
        for values in values_list:
            row: dict[str, Any] = {}
            for name in self._plain:
                v = values.get(name)
                if v is not None and name in times:
                    v = to_epoch_ms(v)  # type: ignore[arg-type]
                elif v is not None and name in dates:
                    v = v.isoformat()  # type: ignore[attr-defined]
                row[name] = v
            rows.append(row)
        for name, searchable in self._secret:
            column = [values.get(name) for values in values_list]
            texts = [None if v is None else _text(v) for v in column]
            blobs = self.cipher.encrypt_many(name, texts)
            for row, blob in zip(rows, blobs, strict=True):
                row[f"{name}_enc"] = blob
            if searchable:
                for row, text in zip(rows, texts, strict=True):
                    row[f"{name}_bidx"] = None if text is None else self.blind.digest(name, text)
        return rows

    def decode(self, row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, object]:
        """Standard values from a stored row (decrypting what this process may decrypt)."""
        out: dict[str, object] = {}
        for name in self._plain:
            v = row.get(name)
            if v is not None and name in self._times:
                v = from_epoch_ms(int(v), tz)
            out[name] = v
        for name, _ in self._secret:
            blob = row.get(f"{name}_enc")
            out[name] = None if blob is None else self.cipher.decrypt(name, bytes(blob))
        return out
