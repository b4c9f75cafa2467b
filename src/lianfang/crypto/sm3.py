"""SM3 hashing and HMAC-SM3 (GB/T 32905 / GM/T 0004).

This module owns the two SM3 primitives the rest of the crypto layer builds on:
a plain digest (used for SM2's Z_A / e preprocessing) and HMAC-SM3 (used for
blind indexes).  Both delegate to OpenSSL through ``cryptography`` rather than a
pure-Python SM3, because the blind index sits on the ingestion hot path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

__all__ = ["SM3_DIGEST_SIZE", "hmac_sm3", "hmac_sm3_keyed", "sm3_digest", "sm3_hasher"]

#: Size of an SM3 digest in bytes (256 bits).
SM3_DIGEST_SIZE = 32


def sm3_digest(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data``."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _openssl_sm3() -> Any:
    """hashlib's SM3 context (OpenSSL EVP, lighter per call than ``cryptography``'s), if this OpenSSL has it."""
    try:
        return hashlib.new("sm3")
    except ValueError:
        return None


def sm3_hasher() -> Callable[[bytes], bytes]:
    """A function returning the SM3 digest of its argument, for hashing many values.

    It copies one fresh hash context per call instead of building one, which
    halves the cost (~0.8 us instead of ~1.4 us per short record). Both paths are
    OpenSSL's SM3; ``hashlib`` is used where its OpenSSL provides SM3. One hasher
    must be used by one thread at a time.
    """
    base = _openssl_sm3()
    if base is not None:
        fast_copy = base.copy

        def fast(data: bytes) -> bytes:
            h = fast_copy()
            h.update(data)
            return bytes(h.digest())

        return fast
    copy = hashes.Hash(hashes.SM3()).copy

    def digest(data: bytes) -> bytes:
        h = copy()
        h.update(data)
        return h.finalize()

    return digest


_BLOCK = 64  # SM3 block size in bytes


def hmac_sm3_keyed(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SM3 under a fixed ``key``, for many messages (RFC 2104 with the pads hashed once).

    Each call copies the two pre-fed contexts instead of re-keying: about half the
    cost of :func:`hmac_sm3` per short message. One function per thread.
    """
    if not key:
        raise ValueError("HMAC-SM3 key must not be empty")
    if len(key) > _BLOCK:
        key = sm3_digest(key)
    key = key.ljust(_BLOCK, b"\0")
    base = _openssl_sm3()
    if base is not None:
        fast_inner, fast_outer = base.copy(), base.copy()
        fast_inner.update(bytes(b ^ 0x36 for b in key))
        fast_outer.update(bytes(b ^ 0x5C for b in key))
        ic, oc = fast_inner.copy, fast_outer.copy

        def fast(data: bytes) -> bytes:
            i = ic()
            i.update(data)
            o = oc()
            o.update(i.digest())
            return bytes(o.digest())

        return fast
    inner = hashes.Hash(hashes.SM3())
    inner.update(bytes(b ^ 0x36 for b in key))
    outer = hashes.Hash(hashes.SM3())
    outer.update(bytes(b ^ 0x5C for b in key))
    inner_copy, outer_copy = inner.copy, outer.copy

    def mac(data: bytes) -> bytes:
        i = inner_copy()
        i.update(data)
        o = outer_copy()
        o.update(i.finalize())
        return o.finalize()

    return mac


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return the 32-byte HMAC-SM3 (RFC 2104 construction) of ``data`` under ``key``."""
    # An empty key is legal HMAC but is always a bug here: every caller should
    # pass a derived secret, so fail loudly rather than silently "hash" data.
    if not key:
        raise ValueError("HMAC-SM3 key must not be empty")
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()
