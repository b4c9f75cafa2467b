"""Authenticated encryption of personal fields at rest: SM4-GCM with per-field keys.

This module owns the ciphertext format of encrypted columns.  Blob layout::

    1 byte format (=1) | 2 bytes key version (big-endian) | 12-byte nonce | ciphertext | 16-byte tag

* Each field gets its own key, ``keyring.derive("field:" + field, version)``.
* The associated data is the 3-byte header followed by the UTF-8 field name, so
  a value copied into another column, or a header edited to point at another
  key version, fails authentication instead of decrypting.
* Nonces are 96 random bits.  With random nonces GCM should stay below 2**32
  encryptions per key (NIST SP 800-38D); keys are per field and per version, so
  that is 2**32 values of one field under one version - rotate well before.
* Ciphertext length equals plaintext length: lengths (for example of names) leak.

Performance (CPython 3.11, cryptography 50.0.2 / OpenSSL 4.0.3, one core, 24-byte
value, timeit best of 5): ``encrypt`` ~5.0 us, ``decrypt`` ~5.0 us, ``encrypt_many``
~4.4 us per value (~225k values/s).  About 3.3 us of every call is building
``Cipher(...).encryptor()``/``decryptor()``: ``cryptography`` has a reusable
one-shot AEAD object only for AES/ChaCha20 (``AESGCM`` takes ~0.8 us), none for
SM4-GCM, so a fresh cipher context per value is the floor; SM4 itself is ~0.3 us.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lianfang.crypto.keyring import KeyRing, UnknownKeyVersionError

__all__ = ["FORMAT_VERSION", "DecryptError", "FieldCipher", "key_version_of"]

FORMAT_VERSION = 1
_HEADER = struct.Struct(">BH")  # format version, key version
_NONCE_BYTES = 12
_TAG_BYTES = 16
_MIN_BLOB = _HEADER.size + _NONCE_BYTES + _TAG_BYTES


class DecryptError(Exception):
    """A blob could not be decrypted.  Messages never contain plaintext or keys."""


def key_version_of(blob: bytes) -> int:
    """Return the master-key version ``blob`` was encrypted under (for rotation jobs)."""
    if len(blob) < _MIN_BLOB:
        raise DecryptError(f"ciphertext too short ({len(blob)} bytes)")
    fmt, version = _HEADER.unpack_from(blob)
    if fmt != FORMAT_VERSION:
        raise DecryptError(f"unknown ciphertext format {fmt}")
    return int(version)


class FieldCipher:
    """Encrypts and decrypts field values; new values use the ring's current version."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._version = keyring.current
        # SM4 objects per (field, version): saves the derive lookup + key check per value.
        self._algs: dict[tuple[str, int], algorithms.SM4] = {}

    @property
    def version(self) -> int:
        """Key version new ciphertexts are written under."""
        return self._version

    def _alg(self, field: str, version: int) -> algorithms.SM4:
        alg = self._algs.get((field, version))
        if alg is None:
            alg = algorithms.SM4(self._keyring.derive("field:" + field, version))
            self._algs[(field, version)] = alg
        return alg

    def _writer(self, field: str) -> tuple[algorithms.SM4, bytes, bytes]:
        # Key, header and associated data are fixed per field for new values.
        header = _HEADER.pack(FORMAT_VERSION, self._version)
        return self._alg(field, self._version), header, header + field.encode("utf-8")

    def encrypt(self, field: str, plaintext: str) -> bytes:
        """Encrypt ``plaintext`` for column ``field``."""
        return _seal(*self._writer(field), field, plaintext, os.urandom(_NONCE_BYTES))

    def encrypt_many(self, field: str, values: Sequence[str | None]) -> list[bytes | None]:
        """Encrypt a batch for one column; ``None`` (SQL NULL) passes through."""
        alg, header, aad = self._writer(field)
        # One getrandom() call for the whole batch instead of one per value.
        nonces = os.urandom(_NONCE_BYTES * len(values))
        return [
            None
            if value is None
            else _seal(
                alg, header, aad, field, value, nonces[i * _NONCE_BYTES : (i + 1) * _NONCE_BYTES]
            )
            for i, value in enumerate(values)
        ]

    def decrypt(self, field: str, blob: bytes) -> str:
        """Decrypt a blob written for column ``field``; raises :class:`DecryptError`."""
        version = key_version_of(blob)
        try:
            alg = self._alg(field, version)
        except UnknownKeyVersionError:
            raise DecryptError(f"ciphertext uses key version {version}, not in key ring") from None
        nonce = blob[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        dec = Cipher(alg, modes.GCM(nonce, blob[-_TAG_BYTES:])).decryptor()
        dec.authenticate_additional_data(blob[: _HEADER.size] + field.encode("utf-8"))
        try:
            data = dec.update(blob[_HEADER.size + _NONCE_BYTES : -_TAG_BYTES]) + dec.finalize()
        except InvalidTag:
            # Tampering, a value from another column, or a corrupted key file all land here.
            raise DecryptError(f"ciphertext for {field!r} failed authentication") from None
        # Authenticated data was produced by _seal from a str, so it is valid UTF-8.
        return data.decode("utf-8")


def _seal(
    alg: algorithms.SM4, header: bytes, aad: bytes, field: str, plaintext: str, nonce: bytes
) -> bytes:
    try:
        data = plaintext.encode("utf-8")
    except UnicodeEncodeError:
        # The default message would quote the offending character of the plaintext.
        raise ValueError(f"value for {field!r} is not encodable as UTF-8") from None
    enc = Cipher(alg, modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(data) + enc.finalize()
    return header + nonce + body + enc.tag
