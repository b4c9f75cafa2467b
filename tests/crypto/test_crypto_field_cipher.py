"""FieldCipher: SM4-GCM field encryption, tamper detection, field binding, rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianfang.crypto import (
    DecryptError,
    FieldCipher,
    KeyRing,
    add_key_version,
    create_key_file,
    key_version_of,
    load_key_file,
)

RING = KeyRing(current=1, masters={1: bytes(range(32))})
CIPHER = FieldCipher(RING)
ID_NUMBER = "110101199003077777"  # 公民身份号码 (test value)

names = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)),  # 汉字
)


@given(names)
def test_round_trip(value: str) -> None:
    blob = CIPHER.encrypt("name", value)
    assert CIPHER.decrypt("name", blob) == value
    # 1 format byte + 2 version bytes + 12 nonce + ciphertext + 16 tag
    assert len(blob) == 31 + len(value.encode("utf-8"))
    assert blob[:3] == b"\x01\x00\x01"
    assert key_version_of(blob) == 1


def test_round_trip_chinese() -> None:
    assert CIPHER.decrypt("name", CIPHER.encrypt("name", "欧阳娜娜")) == "欧阳娜娜"


def test_same_value_encrypts_differently() -> None:
    # Random nonces: equal plaintexts must not be linkable through the ciphertext.
    blobs = {CIPHER.encrypt("id_number", ID_NUMBER) for _ in range(100)}
    assert len(blobs) == 100


def test_every_byte_is_authenticated() -> None:
    blob = CIPHER.encrypt("id_number", ID_NUMBER)
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= flip
            with pytest.raises(DecryptError) as info:
                CIPHER.decrypt("id_number", bytes(tampered))
            assert ID_NUMBER not in str(info.value)


def test_truncated_or_extended_blob_fails() -> None:
    blob = CIPHER.encrypt("id_number", ID_NUMBER)
    for bad in (blob[:-1], blob + b"\0", blob[:30], b""):
        with pytest.raises(DecryptError):
            CIPHER.decrypt("id_number", bad)


def test_value_moved_to_another_field_fails() -> None:
    blob = CIPHER.encrypt("id_number", ID_NUMBER)
    with pytest.raises(DecryptError, match="failed authentication"):
        CIPHER.decrypt("phone", blob)


def test_other_master_key_fails() -> None:
    other = FieldCipher(KeyRing(current=1, masters={1: bytes(32)}))
    with pytest.raises(DecryptError):
        other.decrypt("name", CIPHER.encrypt("name", "张三"))


def test_rotation(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    old_cipher = FieldCipher(create_key_file(path))
    old_blob = old_cipher.encrypt("name", "张三")
    new_cipher = FieldCipher(add_key_version(path))
    assert new_cipher.decrypt("name", old_blob) == "张三"
    new_blob = new_cipher.encrypt("name", "李四")
    assert key_version_of(old_blob) == 1 and key_version_of(new_blob) == 2
    assert FieldCipher(load_key_file(path)).decrypt("name", new_blob) == "李四"
    # A process still holding the old ring cannot read version-2 values.
    with pytest.raises(DecryptError, match="key version 2"):
        old_cipher.decrypt("name", new_blob)


def test_encrypt_many() -> None:
    values = ["张三", None, "", "李四", None]
    blobs = CIPHER.encrypt_many("name", values)
    assert [b is None for b in blobs] == [v is None for v in values]
    assert [None if b is None else CIPHER.decrypt("name", b) for b in blobs] == values
    present = [b for b in blobs if b is not None]
    assert len({b[3:15] for b in present}) == len(present)  # distinct nonces
    assert CIPHER.encrypt_many("name", []) == []


def test_key_version_of_rejects_garbage() -> None:
    with pytest.raises(DecryptError, match="too short"):
        key_version_of(b"\x01\x00\x01")
    with pytest.raises(DecryptError, match="format"):
        key_version_of(b"\x02" + bytes(40))


def test_unencodable_plaintext_message_hides_value() -> None:
    with pytest.raises(ValueError) as info:
        CIPHER.encrypt("name", "secret\ud800")
    assert "secret" not in str(info.value) and "ud800" not in str(info.value)
