"""SM4 known answers (GB/T 32907-2016 appendix A, RFC 8998 appendix A) via `cryptography`."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_sm4_ecb_single_block() -> None:
    enc = Cipher(algorithms.SM4(KEY), modes.ECB()).encryptor()
    assert enc.update(KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_ecb_one_million_iterations() -> None:
    # Example 2: the plaintext encrypted 1,000,000 times under the same key (~0.3 s).
    enc = Cipher(algorithms.SM4(KEY), modes.ECB()).encryptor()
    block = KEY
    for _ in range(1_000_000):
        block = enc.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc8998_vector() -> None:
    # The mode FieldCipher uses, checked against the TLS ShangMi RFC's vector.
    nonce = bytes.fromhex("00001234567800000000abcd")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    plaintext = bytes.fromhex(
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
        "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
    )
    enc = Cipher(algorithms.SM4(KEY), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    ciphertext = enc.update(plaintext) + enc.finalize()
    assert ciphertext.hex() == (
        "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
        "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
    )
    assert enc.tag.hex() == "83de3541e4c2b58177e065a9bf7b62ec"
