"""SM2 signatures: GM/T 0003.5 known answer, round trips, rejection of forgeries."""

from __future__ import annotations

import pytest

from lianfang.crypto import (
    DEFAULT_USER_ID,
    Sm2KeyPair,
    public_key_from_hex,
    public_key_to_hex,
    sm2_za,
    sm3_digest,
    verify,
)

# sm2p256v1, the recommended curve (GM/T 0003.5 section 5), typed in from the
# standard rather than taken from gmssl so the known answer checks gmssl too.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)

# GM/T 0003.5-2012 appendix A.2 (signature example on the recommended curve).
D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
XA = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
YA = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
MESSAGE = b"message digest"


def _mul(k: int, point: tuple[int, int]) -> tuple[int, int]:
    # Textbook affine double-and-add, independent of gmssl's Jacobian code.
    result: tuple[int, int] | None = None
    addend = point
    while k:
        if k & 1:
            result = addend if result is None else _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    assert result is not None
    return result


def _add(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    if p == q:
        slope = (3 * p[0] * p[0] + A) * pow(2 * p[1], -1, P)
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, P)
    x = (slope * slope - p[0] - q[0]) % P
    return x, (slope * (p[0] - x) - p[1]) % P


def test_standard_example_curve_arithmetic() -> None:
    # Recompute the A.2 example from the curve equations alone.
    assert _mul(D, G) == (XA, YA)
    e = int(E, 16)
    r = (e + _mul(K, G)[0]) % N
    s = pow(1 + D, -1, N) * (K - r * D) % N
    assert (r, s) == (R, S)


def test_standard_example_known_answer() -> None:
    pair = Sm2KeyPair.from_private_key_hex(f"{D:064X}")
    assert pair.public_key == XA.to_bytes(32, "big") + YA.to_bytes(32, "big")
    assert sm2_za(pair.public_key, DEFAULT_USER_ID).hex() == ZA
    e = sm3_digest(bytes.fromhex(ZA) + MESSAGE)
    assert e.hex() == E
    signature = pair._sign_digest(e, K)
    assert signature == R.to_bytes(32, "big") + S.to_bytes(32, "big")
    assert verify(MESSAGE, signature, pair.public_key)
    # xA starts with 0x09, so "04"+hex starts "0409": the string gmssl's lstrip bug mangles.
    assert verify(MESSAGE, signature, public_key_from_hex(pair.public_key_hex()))


def test_round_trip_and_tamper() -> None:
    pair = Sm2KeyPair.generate()
    message = "人口信息共享 批次 2024-0001".encode()
    signature = pair.sign(message)
    assert len(signature) == 64
    assert verify(message, signature, pair.public_key)
    assert not verify(message + b".", signature, pair.public_key)
    assert not verify(message, signature, pair.public_key, user_id=b"other-signer")
    assert not verify(message, signature, Sm2KeyPair.generate().public_key)
    for i in (0, 31, 32, 63):
        bad = bytearray(signature)
        bad[i] ^= 1
        assert not verify(message, bytes(bad), pair.public_key)


def test_custom_user_id() -> None:
    pair = Sm2KeyPair.generate()
    signature = pair.sign(b"m", user_id=b"zhongxin@gat.gov.cn")
    assert verify(b"m", signature, pair.public_key, user_id=b"zhongxin@gat.gov.cn")
    assert not verify(b"m", signature, pair.public_key)


def test_signatures_use_fresh_k() -> None:
    pair = Sm2KeyPair.generate()
    assert pair.sign(b"m") != pair.sign(b"m")


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        bytes(63),
        bytes(65),
        bytes(64),  # r = s = 0
        N.to_bytes(32, "big") + (1).to_bytes(32, "big"),  # r = n
        (1).to_bytes(32, "big") + N.to_bytes(32, "big"),  # s = n
        b"\xff" * 64,
    ],
)
def test_malformed_signatures_are_rejected(signature: bytes) -> None:
    pair = Sm2KeyPair.generate()
    assert verify(b"m", signature, pair.public_key) is False


def test_key_serialisation() -> None:
    pair = Sm2KeyPair.generate()
    restored = Sm2KeyPair.from_private_key_hex(pair.private_key_hex())
    assert restored == pair
    assert len(pair.private_key_hex()) == 64
    text = pair.public_key_hex()
    assert text.startswith("04") and len(text) == 130
    assert public_key_from_hex(text) == pair.public_key == public_key_from_hex(text[2:])
    assert public_key_to_hex(pair.public_key) == text
    assert pair.private_key_hex() not in repr(pair)


def test_invalid_keys() -> None:
    with pytest.raises(ValueError):
        Sm2KeyPair(0)
    with pytest.raises(ValueError):
        Sm2KeyPair(N - 1)
    with pytest.raises(ValueError):
        Sm2KeyPair.from_private_key_hex("abcd")
    off_curve = (XA.to_bytes(32, "big") + (YA + 1).to_bytes(32, "big")).hex()
    with pytest.raises(ValueError, match="not a point"):
        public_key_from_hex(off_curve)
    with pytest.raises(ValueError):
        verify(b"m", bytes(64), bytes(64))
    with pytest.raises(ValueError):
        public_key_from_hex("05" + off_curve)
