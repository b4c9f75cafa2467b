"""Turn standard values into table rows and back: time encoding, SM4 fields, blind indexes.

Encoding is on the ingestion hot path, so it produces positional tuples in a fixed
column order (``columns``) that go straight to the driver's ``executemany``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lianfang.crypto import BLIND_INDEX_BYTES, BlindIndex, FieldCipher
from lianfang.standard import Category
from lianfang.standard.phonetic import phonetic_key


def to_epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


#: Bytes of the minute that lead the dedup key of a category keyed by a time (see :func:`minute_prefix`).
KEY_MINUTE_BYTES = 5
_KEY_SEP = "\x1f"
_LAST_MINUTE = (1 << (8 * KEY_MINUTE_BYTES)) - 1


def minute_prefix(epoch_ms_text: str) -> bytes:
    """The leading bytes of a time-keyed dedup key: the key time's minute since 1970, big-endian.

    A keyed digest alone puts the keys of consecutive passes anywhere in the unique key
    index: loading a million sightings so dirtied nearly every leaf page of that index
    in every transaction (4 s of the writer's 10, before revision 0013). With the minute
    first, keys of records that arrive in time order — as checkpoint exports do — go to
    the same few pages (``bench/writer_floor.py``). The time is stored in clear beside
    the key, so the prefix tells nothing new. Times before 1970 or missing count as 0.
    """
    return minute_bytes(int(epoch_ms_text) // 60_000 if epoch_ms_text else 0)


def minute_bytes(minute: int) -> bytes:
    """The key's leading bytes for a minute since the epoch (clamped to what they can hold)."""
    return min(max(minute, 0), _LAST_MINUTE).to_bytes(KEY_MINUTE_BYTES, "big")


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
        self._phonetic = frozenset(f.name for f in fields if f.encrypted and f.phonetic)
        self.columns: tuple[str, ...] = tuple(
            [name for name, _ in self._plain]
            + [c for f in fields if f.encrypted for c in self._secret_columns(f.name, f.searchable)]
        )
        # key parts are taken from the encoded plain value (times as epoch ms) or, for
        # encrypted fields, from the clear text, so the digest never depends on a nonce
        self._key_fields = category.key
        self._key_purpose = f"key:{category.name}"
        # the first time among the key fields leads the key (minute_prefix), if there is one
        self._key_time_at = next((i for i, k in enumerate(self._key_fields) if k in self._times), None)

    def _secret_columns(self, name: str, searchable: bool) -> tuple[str, ...]:
        if not searchable:
            return (f"{name}_enc",)
        return (f"{name}_enc", f"{name}_bidx", *((f"{name}_pybidx",) if name in self._phonetic else ()))

    @staticmethod
    def phonetic_purpose(name: str) -> str:
        """Blind-index purpose of a phonetic field's sound key (apart from its exact index)."""
        return f"{name}:phonetic"

    # What a compiled ingestion row builder (lianfang.ingest.rows) must reproduce exactly.
    @property
    def plain_fields(self) -> list[tuple[str, str]]:
        """(name, type) of the unencrypted fields, in ``columns`` order."""
        return list(self._plain)

    @property
    def secret_fields(self) -> list[tuple[str, bool]]:
        """(name, searchable) of the encrypted fields, in ``columns`` order after the plain ones."""
        return list(self._secret)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(self._key_fields)

    @property
    def key_purpose(self) -> str:
        """Blind-index purpose the dedup key is digested under."""
        return self._key_purpose

    def is_plain_time(self, name: str) -> bool:
        """Whether ``name`` is stored (and keyed) as epoch milliseconds."""
        return name in self._times

    @staticmethod
    def key_text(value: object) -> str:
        """Key part of a non-time value (a time field's part is its epoch ms)."""
        return _text(value)

    def _plain_value(self, name: str, ftype: str, value: object) -> object:
        if value is None:
            return None
        if ftype == "datetime":
            return to_epoch_ms(value)  # type: ignore[arg-type]
        if ftype == "date":
            return value.isoformat()  # type: ignore[attr-defined]
        return value

    def dedup_text(self, values: Mapping[str, object]) -> str:
        """The text the dedup key digests: the key parts joined by U+001F."""
        parts = []
        for k in self._key_fields:
            v = values.get(k)
            if v is None:
                parts.append("")
            elif k in self._times:
                parts.append(str(to_epoch_ms(v)))  # type: ignore[arg-type]
            else:
                parts.append(_text(v))
        return "\x1f".join(parts)

    def dedup_key(self, values: Mapping[str, object]) -> bytes:
        """The key of a record: a keyed digest of the key fields (keyed: keys contain personal data),
        led by the minute of its time if the category is keyed by one (:func:`minute_prefix`)."""
        return self.key_maker()(self.dedup_text(values))

    def key_parts(self) -> tuple[Callable[[str], bytes], int | None]:
        """:meth:`key_maker` in pieces, for generated code: the digest of the key text, and the
        position among :attr:`key_fields` of the time whose minute leads the key (None: no minute;
        the key is the digest alone). With a minute, the key is ``minute_bytes(ms // 60_000)``
        (``0`` for no time) followed by the digest."""
        at = self._key_time_at
        if at is None:
            return self.blind.digester(self._key_purpose), None
        return self.blind.digester(self._key_purpose, BLIND_INDEX_BYTES - KEY_MINUTE_BYTES), at

    def key_maker(self) -> Callable[[str], bytes]:
        """A function from :meth:`dedup_text` to :meth:`dedup_key`, for hot loops (one per thread)."""
        digest, at = self.key_parts()
        if at is None:
            return digest
        sep, parts = _KEY_SEP, at + 1
        # consecutive records mostly share their minute (None: no minute yet; a time before 1970 is minute -1)
        last_minute: int | None = None
        last_prefix = b""

        def key(text: str) -> bytes:
            nonlocal last_minute, last_prefix
            part = text.split(sep, parts)[at]
            minute = int(part) // 60_000 if part else 0
            if minute != last_minute:
                last_minute, last_prefix = minute, minute_bytes(minute)
            return last_prefix + digest(text)

        return key

    def plain_row(self, values: Mapping[str, object]) -> list[Any]:
        """The unencrypted cells of one row, in ``columns`` order."""
        row: list[Any] = []
        for name, ftype in self._plain:
            v = values.get(name)
            if v is not None and (ftype == "datetime" or ftype == "date"):
                v = self._plain_value(name, ftype, v)
            row.append(v)
        return row

    def secret_texts(self, values: Mapping[str, object]) -> tuple[str | None, ...]:
        """The clear texts of the encrypted fields, in ``columns`` order."""
        return tuple(
            None if (v := values.get(name)) is None else _text(v) for name, _ in self._secret
        )

    def secret_cells(self, texts: Sequence[Sequence[str | None]]) -> list[tuple[Any, ...]]:
        """Encrypted cells (blob, and blind index if searchable) per row, from ``secret_texts``.

        Built column by column and zipped into rows; a column with no value at all (a
        sighting without a matched person, say) is a column of NULLs, with nothing to
        encrypt or digest.
        """
        n = len(texts)
        columns: list[Sequence[Any]] = []
        for j, (name, searchable) in enumerate(self._secret):
            column = [t[j] for t in texts]
            phonetic = name in self._phonetic
            if not any(t is not None for t in column):
                columns += [[None] * n] * ((2 + phonetic) if searchable else 1)
                continue
            columns.append(self.cipher.encrypt_many(name, column))
            if searchable:
                columns.append(self.blind.digest_many(name, column))
            if phonetic:
                columns.append(self.sound_digests(name, column))
        return list(zip(*columns, strict=True)) if columns else [() for _ in texts]

    def sound_digests(self, name: str, texts: Sequence[str | None]) -> list[bytes | None]:
        """Blind indexes of the names' toneless pinyin (None where there is no name or no sound)."""
        keys = [None if t is None else (phonetic_key(t) or None) for t in texts]
        return self.blind.digest_many(self.phonetic_purpose(name), keys)

    def encode(self, values_list: Sequence[Mapping[str, object]]) -> list[list[Any]]:
        """Rows as lists in ``columns`` order."""
        rows = [self.plain_row(values) for values in values_list]
        if self._secret:
            cells = self.secret_cells([self.secret_texts(values) for values in values_list])
            for row, extra in zip(rows, cells, strict=True):
                row += extra
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
