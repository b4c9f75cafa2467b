"""Turn standard values into table rows and back: time encoding, SM4 fields, blind indexes.

Encoding is on the ingestion hot path, so it produces positional tuples in a fixed
column order (``columns``) that go straight to the driver's ``executemany``.
"""

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
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class RecordCodec:
    """Encodes one category's standard values as columns (and decodes them for reading)."""

    def __init__(self, category: Category, cipher: FieldCipher, blind: BlindIndex):
        self.category = category
        self.cipher = cipher
        self.blind = blind
        fields = list(category.fields.values())
        self._plain = [(f.name, f.type) for f in fields if not f.encrypted]
        self._times = {f.name for f in fields if f.type == "datetime" and not f.encrypted}
        self._secret = [(f.name, f.searchable) for f in fields if f.encrypted]
        self.columns: tuple[str, ...] = tuple(
            [name for name, _ in self._plain]
            + [c for name, s in self._secret for c in ((f"{name}_enc", f"{name}_bidx") if s else (f"{name}_enc",))]
        )
        # key parts are taken from the encoded plain value (times as epoch ms) or, for
        # encrypted fields, from the clear text, so the digest never depends on a nonce
        self._key_fields = category.key
        self._key_purpose = f"key:{category.name}"

    def _plain_value(self, name: str, ftype: str, value: object) -> object:
        if value is None:
            return None
        if ftype == "datetime":
            return to_epoch_ms(value)  # type: ignore[arg-type]
        if ftype == "date":
            return value.isoformat()  # type: ignore[attr-defined]
        return value

    def dedup_key(self, values: Mapping[str, object]) -> bytes:
        """Keyed digest of the category's key fields (keyed: keys contain personal data)."""
        parts = []
        for k in self._key_fields:
            v = values.get(k)
            if v is None:
                parts.append("")
            elif k in self._times:
                parts.append(str(to_epoch_ms(v)))  # type: ignore[arg-type]
            else:
                parts.append(_text(v))
        return self.blind.digest(self._key_purpose, "\x1f".join(parts))

    def encode(self, values_list: Sequence[Mapping[str, object]]) -> list[list[Any]]:
        """Rows as lists in ``columns`` order."""
        plain = self._plain
        rows: list[list[Any]] = []
        for values in values_list:
            row: list[Any] = []
            for name, ftype in plain:
                v = values.get(name)
                if v is not None and (ftype == "datetime" or ftype == "date"):
                    v = self._plain_value(name, ftype, v)
                row.append(v)
            rows.append(row)
        for name, searchable in self._secret:
            texts = [None if (v := values.get(name)) is None else _text(v) for values in values_list]
            blobs = self.cipher.encrypt_many(name, texts)
            digests = self.blind.digest_many(name, texts) if searchable else None
            for i, row in enumerate(rows):
                row.append(blobs[i])
                if digests is not None:
                    row.append(digests[i])
        return rows

    def decode(self, row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, object]:
        """Standard values from a stored row (decrypting what this process may decrypt)."""
        out: dict[str, object] = {}
        for name, _ in self._plain:
            v = row.get(name)
            if v is not None and name in self._times:
                v = from_epoch_ms(int(v), tz)
            out[name] = v
        for name, _ in self._secret:
            blob = row.get(f"{name}_enc")
            out[name] = None if blob is None else self.cipher.decrypt(name, bytes(blob))
        return out
