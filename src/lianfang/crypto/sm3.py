"""SM3 hashing and HMAC-SM3 (GB/T 32905 / GM/T 0004).

This module owns the two SM3 primitives the rest of the crypto layer builds on:
a plain digest (used for SM2's Z_A / e preprocessing) and HMAC-SM3 (used for
blind indexes).  Both delegate to OpenSSL through ``cryptography`` rather than a
pure-Python SM3, because the blind index sits on the ingestion hot path.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac

__all__ = ["SM3_DIGEST_SIZE", "hmac_sm3", "sm3_digest"]

#: Size of an SM3 digest in bytes (256 bits).
SM3_DIGEST_SIZE = 32


def sm3_digest(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data``."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return the 32-byte HMAC-SM3 (RFC 2104 construction) of ``data`` under ``key``."""
    # An empty key is legal HMAC but is always a bug here: every caller should
    # pass a derived secret, so fail loudly rather than silently "hash" data.
    if not key:
        raise ValueError("HMAC-SM3 key must not be empty")
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()
