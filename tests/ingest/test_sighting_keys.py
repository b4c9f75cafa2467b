"""Sighting dedup keys lead with the pass's minute (revision 0013), on both backends."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from lianfang.ingest.pipeline import Ingestor
from lianfang.store.codec import KEY_MINUTE_BYTES, minute_prefix
from lianfang.store.engine import alembic_config, migrate

from .conftest import sighting_csv

_STORED = "SELECT id, kind, device_id, passed_at, plate_no, face_id, dedup_key FROM rec_sighting ORDER BY position"


def _digest(ingestor: Ingestor, row: tuple[object, ...]) -> bytes:
    """The keyed digest of a stored sighting's key fields, as the codec forms the key text."""
    kind, device, passed_at, plate, face = row[1:6]
    key_text = "\x1f".join("" if v is None else str(v) for v in (kind, device, passed_at, plate, face))
    return ingestor.blind.digest("key:sighting", key_text)


def _stored(ingestor: Ingestor) -> list[tuple[object, ...]]:
    with ingestor.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(_STORED))]


def test_keys_lead_with_the_minute_and_the_upgrade_rekeys_older_rows(ingestor: Ingestor, tmp_path: Path) -> None:
    assert ingestor.ingest([sighting_csv(tmp_path / "kk_1.csv", 300)]).files[0].accepted == 300
    rows = _stored(ingestor)
    expected = {r[0]: minute_prefix(str(r[3])) + _digest(ingestor, r)[: 16 - KEY_MINUTE_BYTES] for r in rows}
    assert {r[0]: bytes(r[6]) for r in rows} == expected
    prefixes = [bytes(r[6])[:KEY_MINUTE_BYTES] for r in rows]
    assert prefixes == sorted(prefixes) and len(set(prefixes)) == 5  # one a second for five minutes

    # the keys as ingestion stored them before revision 0013: the digest alone
    with ingestor.engine.begin() as conn:
        for r in rows:
            conn.execute(text("UPDATE rec_sighting SET dedup_key = :k WHERE id = :i"),
                         {"k": _digest(ingestor, r), "i": r[0]})
    url = ingestor.engine.url.render_as_string(hide_password=False)
    cfg = alembic_config(url)
    with ingestor.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "0012")
    migrate(ingestor.engine)
    assert {r[0]: bytes(r[6]) for r in _stored(ingestor)} == expected

    # records sent again after the upgrade are still known: only the new one is stored
    again = ingestor.ingest([sighting_csv(tmp_path / "kk_2.csv", 301)]).files[0]
    assert (again.read, again.accepted, again.duplicates) == (301, 1, 300)


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=-(10**15), max_value=10**15))
def test_minute_prefixes_order_as_their_times(a: int, b: int) -> None:
    pa, pb = minute_prefix(str(a)), minute_prefix(str(b))
    assert len(pa) == len(pb) == KEY_MINUTE_BYTES
    assert int.from_bytes(pa, "big") == max(a // 60_000, 0)
    if a <= b:
        assert pa <= pb


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**13), min_size=1, max_size=6))
def test_every_key_leads_with_its_minute_whatever_came_before(times: list[int]) -> None:
    """One key maker over a run of records: each key is its own minute's prefix and the digest (a first
    time in the minute before 1970 once got no prefix at all)."""
    from lianfang.crypto import BlindIndex, FieldCipher, KeyRing
    from lianfang.standard import load_standard
    from lianfang.store.codec import RecordCodec

    keyring = KeyRing(current=1, masters={1: b"k" * 32})
    codec = RecordCodec(load_standard().category("sighting"), FieldCipher(keyring), BlindIndex(keyring))
    key = codec.key_maker()
    for ms in times:
        text = f"vehicle\x1f36020000001210000001\x1f{ms}\x1f赣B12345\x1f"
        expected = minute_prefix(str(ms)) + BlindIndex(keyring).digest("key:sighting", text)[: 16 - KEY_MINUTE_BYTES]
        assert key(text) == expected
