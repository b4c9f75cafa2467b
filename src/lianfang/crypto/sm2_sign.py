"""SM2 digital signatures (GM/T 0003.2) on the recommended curve sm2p256v1 (GM/T 0003.5).

This module owns signing keys, the signature format (64 bytes ``r || s``, both
big-endian) and the user-ID preprocessing.  ``gmssl`` supplies the curve
arithmetic and the core sign/verify equations; everything around them is here
because gmssl gets it wrong or unsafe:

* ``CryptSM2.sign`` signs a precomputed digest ``e`` with a caller-supplied
  ``k``.  gmssl's own ``random_hex`` draws ``k`` from :mod:`random` (Mersenne
  Twister), which is predictable and so leaks the private key; ``k`` is drawn
  here with :mod:`secrets`.
* ``sign_with_sm3`` hard-codes the user ID ``1234567812345678``, so
  ``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` is computed here
  for any ID, and ``e = SM3(Z_A || M)``.
* ``CryptSM2.__init__`` strips a ``"04"`` prefix with ``str.lstrip``, which also
  eats leading ``0``/``4`` digits of x; the public key is set afterwards.
* ``verify`` does not range-check ``r``/``s`` and can crash on degenerate
  points; both are handled here.

Caveats: gmssl is pure Python (sign ~4.5 ms, verify ~9 ms) and its
scalar multiplication is not constant time, so timing of many signatures could
leak key bits.  Keep signing keys where an attacker cannot time signing closely;
a certified hardware module is the production answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from gmssl.sm2 import CryptSM2, default_ecc_table

from lianfang.crypto.sm3 import sm3_digest

__all__ = [
    "DEFAULT_USER_ID",
    "SIGNATURE_BYTES",
    "Sm2KeyPair",
    "public_key_from_hex",
    "public_key_to_hex",
    "sm2_za",
    "verify",
]

DEFAULT_USER_ID = b"1234567812345678"  # GM/T 0009 default signer ID
SIGNATURE_BYTES = 64

_P = int(default_ecc_table["p"], 16)
_A = int(default_ecc_table["a"], 16)
_B = int(default_ecc_table["b"], 16)
_N = int(default_ecc_table["n"], 16)
_G_HEX: str = default_ecc_table["g"]
_CURVE_BYTES = bytes.fromhex(default_ecc_table["a"] + default_ecc_table["b"] + _G_HEX)


def public_key_from_hex(text: str) -> bytes:
    """Parse ``04 || x || y`` (130 hex chars) or ``x || y`` (128) into a 64-byte key."""
    return _check_public_key(bytes.fromhex(text))


def public_key_to_hex(public_key: bytes) -> str:
    """Serialise as uncompressed SEC1 ``04 || x || y`` hex, as OpenSSL and GmSSL expect."""
    return "04" + _check_public_key(public_key).hex()


def sm2_za(public_key: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """Return ``Z_A``, the SM3 hash binding a signer's ID and public key to the curve."""
    pub = _check_public_key(public_key)
    if len(user_id) >= 8192:  # ENTL is the ID length in *bits*, in two bytes
        raise ValueError("SM2 user ID must be shorter than 8192 bytes")
    entl = (8 * len(user_id)).to_bytes(2, "big")
    return sm3_digest(entl + user_id + _CURVE_BYTES + pub)


@dataclass(frozen=True)
class Sm2KeyPair:
    """An SM2 private key and its public key (64 bytes ``x || y``)."""

    private_key: int = field(repr=False)  # never in logs or tracebacks
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        # d = n - 1 is excluded because signing needs (1 + d)^-1 mod n.
        if not 1 <= self.private_key <= _N - 2:
            raise ValueError("SM2 private key out of range")
        point = _crypt()._kg(self.private_key, _G_HEX)  # d·G
        object.__setattr__(self, "public_key", bytes.fromhex(str(point)))

    @classmethod
    def generate(cls) -> Sm2KeyPair:
        """Return a fresh key pair from the OS CSPRNG."""
        return cls(secrets.randbelow(_N - 2) + 1)

    @classmethod
    def from_seed(cls, seed: bytes) -> Sm2KeyPair:
        """A key pair derived deterministically from >= 32 secret bytes (e.g. HKDF output)."""
        if len(seed) < 32:
            raise ValueError("an SM2 key seed needs at least 32 bytes")
        return cls(int.from_bytes(seed, "big") % (_N - 2) + 1)

    @classmethod
    def from_private_key_hex(cls, text: str) -> Sm2KeyPair:
        """Load a private key saved with :meth:`private_key_hex`."""
        if len(text) != 64:
            raise ValueError("SM2 private key hex must be 64 characters")
        return cls(int(text, 16))

    def private_key_hex(self) -> str:
        """Return the private key as 64 hex characters (keep it secret)."""
        return f"{self.private_key:064x}"

    def public_key_hex(self) -> str:
        """Return the public key as ``04 || x || y`` hex."""
        return public_key_to_hex(self.public_key)

    def sign(self, message: bytes, *, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        """Sign ``message`` (SM3 with Z_A preprocessing); returns 64 bytes ``r || s``."""
        e = sm3_digest(sm2_za(self.public_key, user_id) + message)
        while True:  # retries only on the ~2**-256 degenerate k values
            signature = self._sign_digest(e, secrets.randbelow(_N - 1) + 1)
            if signature is not None:
                return signature

    def _sign_digest(self, e: bytes, k: int) -> bytes | None:
        # Separate from sign() so the standard's fixed-k known answer can be tested;
        # never call it with a k that is not fresh and secret.
        crypt = _crypt(private_key=self.private_key)
        result: object = crypt.sign(e, f"{k:064x}")
        return bytes.fromhex(result) if isinstance(result, str) else None


def verify(
    message: bytes, signature: bytes, public_key: bytes, *, user_id: bytes = DEFAULT_USER_ID
) -> bool:
    """Check an ``r || s`` signature; ``ValueError`` only if ``public_key`` is malformed."""
    pub = _check_public_key(public_key)
    if len(signature) != SIGNATURE_BYTES:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < _N and 1 <= s < _N):  # GM/T 0003.2 B1/B2; gmssl skips them
        return False
    e = sm3_digest(sm2_za(pub, user_id) + message)
    try:
        result: object = _crypt(public_key=pub).verify(signature.hex(), e)
    except (TypeError, ValueError):
        # gmssl returns None internally for the point at infinity and then fails
        # to slice it; that only happens for invalid signatures.
        return False
    return result is True


def _crypt(*, private_key: int = 0, public_key: bytes = b"") -> CryptSM2:
    crypt = CryptSM2(private_key=f"{private_key:064x}", public_key="")
    crypt.public_key = public_key.hex()  # bypass the lstrip("04") bug in __init__
    return crypt


def _check_public_key(public_key: bytes) -> bytes:
    if len(public_key) == 65 and public_key[0] == 0x04:
        public_key = public_key[1:]
    if len(public_key) != 64:
        raise ValueError("SM2 public key must be 64 bytes x||y or 65 bytes 04||x||y")
    x = int.from_bytes(public_key[:32], "big")
    y = int.from_bytes(public_key[32:], "big")
    # Cofactor 1: a point on the curve is in the prime-order group (not infinity,
    # which has no affine encoding).  Off-curve keys enable invalid-curve attacks.
    if x >= _P or y >= _P or (y * y - (x * x * x + _A * x + _B)) % _P != 0:
        raise ValueError("SM2 public key is not a point on sm2p256v1")
    return public_key
