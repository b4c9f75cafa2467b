"""Fill sound keys (``<name>_pybidx``) for rows stored before a field became phonetic.

New rows get theirs at ingestion (:class:`~lianfang.store.codec.RecordCodec`); this
walks the rows still missing one in id order, a batch per transaction, decrypting
each name only in memory. Safe to interrupt and run again: it resumes where the
NULLs are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Engine, MetaData, bindparam, func, select

from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.standard import Standard
from lianfang.store.codec import RecordCodec
from lianfang.store.schema import record_table_name


def phonetic_fields(standard: Standard) -> Iterator[tuple[str, str]]:
    """(category, field) of every phonetic field in the standard."""
    for cat in standard.categories.values():
        for fld in cat.fields.values():
            if fld.phonetic:
                yield cat.name, fld.name


def missing_sound_keys(engine: Engine, metadata: MetaData, standard: Standard) -> int:
    total = 0
    with engine.connect() as conn:
        for category, name in phonetic_fields(standard):
            t = metadata.tables[record_table_name(category)]
            total += conn.execute(select(func.count()).select_from(t).where(
                t.c[f"{name}_pybidx"].is_(None), t.c[f"{name}_enc"].is_not(None))).scalar_one()
    return total


def reindex_phonetic(engine: Engine, metadata: MetaData, standard: Standard, cipher: FieldCipher,
                     blind: BlindIndex, *, batch: int = 2000,
                     progress: Callable[[int], None] | None = None) -> int:
    """Compute missing sound keys; returns how many rows were filled."""
    done = 0
    for category, name in phonetic_fields(standard):
        t = metadata.tables[record_table_name(category)]
        codec = RecordCodec(standard.category(category), cipher, blind)
        enc, sound = t.c[f"{name}_enc"], t.c[f"{name}_pybidx"]
        update = t.update().where(t.c.id == bindparam("rid")).values({sound.name: bindparam("sound")})
        after = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(select(t.c.id, enc).where(sound.is_(None), enc.is_not(None), t.c.id > after)
                                    .order_by(t.c.id).limit(batch)).all()
                if not rows:
                    break
                names = [cipher.decrypt(name, bytes(r[1])) for r in rows]
                digests = codec.sound_digests(name, [str(n) if n is not None else None for n in names])
                params = [{"rid": r[0], "sound": d} for r, d in zip(rows, digests, strict=True) if d is not None]
                if params:
                    conn.execute(update, params)
            after = int(rows[-1][0])
            done += len(rows)
            if progress is not None:
                progress(len(rows))
    return done


__all__ = ["missing_sound_keys", "phonetic_fields", "reindex_phonetic"]
