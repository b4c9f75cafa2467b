"""BlindIndex: deterministic, keyed per field and per key version."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianfang.crypto import BlindIndex, KeyRing, UnknownKeyVersionError, hmac_sm3

RING = KeyRing(current=2, masters={1: bytes(range(32)), 2: bytes(range(32, 64))})
ID_NUMBER = "110101199003077777"


def test_digest_definition() -> None:
    index = BlindIndex(RING)
    expected = hmac_sm3(RING.derive("bidx:id_number", 2), ID_NUMBER.encode())[:16]
    assert index.digest("id_number", ID_NUMBER) == expected


@given(st.text())
def test_deterministic(value: str) -> None:
    a, b = BlindIndex(RING), BlindIndex(RING)
    assert a.digest("name", value) == b.digest("name", value) == a.digest("name", value)
    assert len(a.digest("name", value)) == 16


def test_differs_per_field_and_value() -> None:
    index = BlindIndex(RING)
    assert index.digest("id_number", ID_NUMBER) != index.digest("phone", ID_NUMBER)
    assert index.digest("name", "张三") != index.digest("name", "张三丰")


def test_version_is_fixed_and_exposed() -> None:
    current, old = BlindIndex(RING), BlindIndex(RING, version=1)
    assert current.version == 2 and old.version == 1
    assert current.digest("name", "张三") != old.digest("name", "张三")
    # A search built later from a rotated ring still matches what was stored under v1.
    rotated = KeyRing(current=3, masters={**RING.masters, 3: bytes(32)})
    assert BlindIndex(rotated, version=1).digest("name", "张三") == old.digest("name", "张三")


def test_unknown_version_fails_at_construction() -> None:
    with pytest.raises(UnknownKeyVersionError):
        BlindIndex(RING, version=9)


def test_digest_many() -> None:
    index = BlindIndex(RING)
    values = ["张三", None, "李四"]
    assert index.digest_many("name", values) == [
        index.digest("name", "张三"),
        None,
        index.digest("name", "李四"),
    ]
