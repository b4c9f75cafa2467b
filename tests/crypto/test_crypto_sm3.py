"""SM3 / HMAC-SM3 known answers, cross-checked against gmssl's independent pure-Python SM3."""

from __future__ import annotations

import pytest
from gmssl import sm3 as gm_sm3
from hypothesis import given
from hypothesis import strategies as st

from lianfang.crypto import hmac_sm3, hmac_sm3_keyed, sm3_digest


def _gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3.sm3_hash(list(data)))


def _reference_hmac(key: bytes, data: bytes) -> bytes:
    # RFC 2104 by hand over gmssl's SM3 (block size 64): independent of OpenSSL.
    if len(key) > 64:
        key = _gm_sm3(key)
    key = key.ljust(64, b"\0")
    inner = _gm_sm3(bytes(b ^ 0x36 for b in key) + data)
    return _gm_sm3(bytes(b ^ 0x5C for b in key) + inner)


def test_sm3_known_answers() -> None:
    # GB/T 32905-2016 appendix A examples 1 and 2.
    assert sm3_digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert sm3_digest(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


@given(st.binary(max_size=300))
def test_sm3_matches_gmssl(data: bytes) -> None:
    assert sm3_digest(data) == _gm_sm3(data)


@given(st.binary(min_size=1, max_size=100), st.binary(max_size=200))
def test_hmac_sm3_matches_rfc2104_reference(key: bytes, data: bytes) -> None:
    assert hmac_sm3(key, data) == _reference_hmac(key, data)


def test_hmac_sm3_rejects_empty_key() -> None:
    with pytest.raises(ValueError, match="empty"):
        hmac_sm3(b"", b"data")


@given(st.binary(min_size=1, max_size=100), st.lists(st.binary(max_size=200), min_size=1, max_size=4))
def test_keyed_hmac_sm3_matches_the_reference_for_every_message(key: bytes, messages: list[bytes]) -> None:
    mac = hmac_sm3_keyed(key)
    assert [mac(m) for m in messages] == [_reference_hmac(key, m) for m in messages]


def test_the_cryptography_fallback_gives_the_same_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where hashlib's OpenSSL lacks SM3, the ``cryptography`` contexts are used: same answers."""
    import lianfang.crypto.sm3 as sm3_module

    monkeypatch.setattr(sm3_module, "_openssl_sm3", lambda: None)
    assert sm3_module.sm3_hasher()(b"abc") == _gm_sm3(b"abc")
    assert sm3_module.hmac_sm3_keyed(b"k" * 70)(b"data") == _reference_hmac(b"k" * 70, b"data")
