"""The in-memory key ring: master-key versions and the per-purpose keys derived from them.

This module owns :class:`KeyRing` and key derivation.  Reading and writing the
key file that a ring is loaded from is :mod:`lianfang.crypto.keys`' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "DERIVED_KEY_BYTES",
    "MASTER_KEY_BYTES",
    "MAX_KEY_VERSION",
    "KeyRing",
    "UnknownKeyVersionError",
]

MASTER_KEY_BYTES = 32
DERIVED_KEY_BYTES = 16  # SM4 key size
MAX_KEY_VERSION = 0xFFFF  # ciphertexts store the key version in 2 bytes


class UnknownKeyVersionError(LookupError):
    """A key version was requested that the key ring does not hold."""


@dataclass(frozen=True)
class KeyRing:
    """All master-key versions; ``current`` is the one new data is written under."""

    current: int
    # repr=False: a KeyRing must never print its secrets into logs or tracebacks.
    masters: Mapping[int, bytes] = field(repr=False)
    # Derivation is on the hot path (one HKDF costs several SM4-GCM encryptions).
    _cache: dict[tuple[str, int], bytes] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for version, key in self.masters.items():
            if not 1 <= version <= MAX_KEY_VERSION:
                raise ValueError(f"key version {version} outside 1..{MAX_KEY_VERSION}")
            if len(key) != MASTER_KEY_BYTES:
                raise ValueError(f"master key version {version} must be {MASTER_KEY_BYTES} bytes")
        if self.current not in self.masters:
            raise ValueError(f"current key version {self.current} is not in the key ring")
        # Snapshot so later mutation of the caller's dict cannot change the ring.
        object.__setattr__(self, "masters", MappingProxyType(dict(self.masters)))

    def __reduce__(self) -> tuple[type[KeyRing], tuple[int, dict[int, bytes]]]:
        """Pickles as its versions (for ingestion's worker processes, over a local pipe)."""
        return KeyRing, (self.current, dict(self.masters))

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        """Return the 16-byte key for ``purpose`` under master ``version`` (default current).

        HKDF-SM3 (RFC 5869 with SM3, no salt) with ``info = b"lianfang/" + purpose``:
        each purpose (for example ``"field:id_number"``) gets an independent key,
        so one derived key leaking says nothing about the others or the master.
        Raises :class:`UnknownKeyVersionError` for a version the ring lacks.
        """
        if not purpose:
            raise ValueError("key purpose must not be empty")
        v = self.current if version is None else version
        cached = self._cache.get((purpose, v))
        if cached is not None:
            return cached
        master = self.masters.get(v)
        if master is None:
            raise UnknownKeyVersionError(f"key version {v} is not in the key ring")
        hkdf = HKDF(
            algorithm=hashes.SM3(),
            length=DERIVED_KEY_BYTES,
            salt=None,
            info=b"lianfang/" + purpose.encode("utf-8"),
        )
        key = hkdf.derive(master)
        # Unlocked on purpose: a race between threads only derives the same value twice.
        self._cache[(purpose, v)] = key
        return key
