"""National-cryptography (SM2/SM3/SM4) layer for personal data at rest.

Owns key management (:mod:`.keys`, :mod:`.keyring`), field encryption
(:mod:`.field_cipher`), blind indexes for exact-match search
(:mod:`.blind_index`), SM3 hashing (:mod:`.sm3`) and SM2 signatures
(:mod:`.sm2_sign`).  Everything else in lianfang should import from here.
"""

from lianfang.crypto.blind_index import BLIND_INDEX_BYTES, BlindIndex
from lianfang.crypto.field_cipher import DecryptError, FieldCipher, key_version_of
from lianfang.crypto.keyring import KeyRing, UnknownKeyVersionError
from lianfang.crypto.keys import (
    KEY_FILE_FORMAT,
    KeyFileError,
    KeyFileMissing,
    KeyFilePermissionWarning,
    add_key_version,
    create_key_file,
    load_key_file,
)
from lianfang.crypto.sm2_sign import (
    DEFAULT_USER_ID,
    Sm2KeyPair,
    public_key_from_hex,
    public_key_to_hex,
    sm2_za,
    verify,
)
from lianfang.crypto.sm3 import hmac_sm3, hmac_sm3_keyed, hmac_sm3_pads, sm3_base, sm3_digest, sm3_hasher

__all__ = [
    "BLIND_INDEX_BYTES",
    "DEFAULT_USER_ID",
    "KEY_FILE_FORMAT",
    "BlindIndex",
    "DecryptError",
    "FieldCipher",
    "KeyFileError",
    "KeyFileMissing",
    "KeyFilePermissionWarning",
    "KeyRing",
    "Sm2KeyPair",
    "UnknownKeyVersionError",
    "add_key_version",
    "create_key_file",
    "hmac_sm3",
    "hmac_sm3_keyed",
    "hmac_sm3_pads",
    "key_version_of",
    "load_key_file",
    "public_key_from_hex",
    "public_key_to_hex",
    "sm2_za",
    "sm3_base",
    "sm3_digest",
    "sm3_hasher",
    "verify",
]
